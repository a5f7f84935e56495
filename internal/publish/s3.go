package publish

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/time/rate"

	"github.com/iamaudit/iamaudit/internal/permissions"
)

// S3 uploads every output file of the run under a dated prefix,
// s3://BUCKET/PREFIX/YYYY/MM/DD/RUNID/FILE, encrypted at rest with SSE-S3 (AES256), or
// SSE-KMS with KMSKey, and sent with x-amz-expected-bucket-owner, so that a bucket
// that changed hands (deleted and re-created by another account) is refused, not
// written to (docs/aws-facts.md "S3").
type S3 struct {
	Config aws.Config
	// URL is s3://bucket/prefix.
	URL string
	// KMSKey is the KMS key (ARN, id or alias) for SSE-KMS; empty: SSE-S3.
	KMSKey string
	// ExpectedOwner is the account the bucket must belong to (default: the caller's).
	ExpectedOwner string
	Retry         Retry
}

// Name implements Destination.
func (s *S3) Name() string { return s.URL }

// Key is the object key of a file of the run.
func (s *S3) Key(prefix, runID, file string) string {
	day := runTime(runID)
	dated := "undated"
	if !day.IsZero() {
		dated = day.Format("2006/01/02")
	}
	return prefix + path.Join(dated, runID, filepath.Base(file))
}

// Publish implements Destination.
func (s *S3) Publish(ctx context.Context, run Run) Result {
	var res Result
	bucket, prefix, err := permissions.ParseS3URL(s.URL)
	if err != nil {
		res.Failures = append(res.Failures, Failure{Item: s.URL, Message: err.Error()})
		return res
	}
	inv := run.Outcome.Inventory
	owner := s.ExpectedOwner
	if owner == "" && inv.Caller != nil {
		owner = inv.Caller.AccountID
	}
	lim := rate.NewLimiter(50, 10) // S3 takes 3,500 PUTs/s per prefix; one run writes a handful
	client := s3.NewFromConfig(s.Config, func(o *s3.Options) {
		o.Retryer, o.RetryMaxAttempts = s.Retry.retryer(), 0
		o.APIOptions = append(o.APIOptions, pace(lim))
		// A custom endpoint (AWS_ENDPOINT_URL: moto, the sandbox, a VPC endpoint by
		// IP) has no per-bucket host names.
		o.UsePathStyle = s.Config.BaseEndpoint != nil
	})
	where := "s3://" + bucket + "/" + path.Dir(s.Key(prefix, inv.RunID, "file")) + "/"
	for _, file := range run.Files {
		body, err := os.ReadFile(file)
		if err != nil {
			res.Failures = append(res.Failures, Failure{Item: file, Message: "cannot read the file: " + err.Error()})
			continue
		}
		key := s.Key(prefix, inv.RunID, file)
		in := &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
			ContentType:          aws.String(contentType(file)),
			ServerSideEncryption: s3types.ServerSideEncryptionAes256,
		}
		if owner != "" {
			in.ExpectedBucketOwner = aws.String(owner)
		}
		if s.KMSKey != "" {
			in.ServerSideEncryption, in.SSEKMSKeyId = s3types.ServerSideEncryptionAwsKms, aws.String(s.KMSKey)
		}
		if _, err := client.PutObject(ctx, in); err != nil {
			msg := errorMessage(err)
			if errorCode(err) == "AccessDenied" && owner != "" {
				msg += fmt.Sprintf(" (the bucket must belong to account %s, and the caller needs s3:PutObject on it: iamaudit policy management --s3 %s)", owner, s.URL)
			}
			res.Failures = append(res.Failures, Failure{Item: file, Code: errorCode(err), Message: msg})
			continue
		}
		res.Sent++
	}
	enc := "SSE-S3"
	if s.KMSKey != "" {
		enc = "SSE-KMS " + s.KMSKey
	}
	res.Summary = fmt.Sprintf("%d of %d files uploaded to %s (%s)", res.Sent, len(run.Files), where, enc)
	return res
}

func contentType(file string) string {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".csv":
		return "text/csv; charset=utf-8"
	case ".json":
		return "application/json"
	case ".md":
		return "text/markdown; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	}
	return "application/octet-stream"
}
