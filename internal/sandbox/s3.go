package sandbox

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// S3 speaks REST-XML: PutObject is PUT /BUCKET/KEY (path-style addressing, which
// clients use with a custom endpoint), options in x-amz-* headers, errors as an
// <Error> document. What the sandbox checks, as S3 does (docs/aws-facts.md "S3"): the
// bucket exists (NoSuchBucket); x-amz-expected-bucket-owner, when sent, is the
// bucket's account (403 AccessDenied otherwise); x-amz-server-side-encryption is
// AES256, aws:kms or aws:kms:dsse (InvalidArgument otherwise), with a KMS key the
// bucket can use (KMS.NotFoundException otherwise); objects without it get SSE-S3
// (S3's default encryption since January 2023); the payload matches its signed hash.

// s3Route splits a path-style request path into bucket and key.
func s3Route(r *http.Request) (bucket, key string) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

func (c *call) serveS3(r *http.Request) *apiError {
	bucket, key := s3Route(r)
	c.s3Bucket = bucket
	if c.op != "PutObject" {
		return errf(405, "MethodNotAllowed", "The sandbox serves only PutObject (PUT /bucket/key), not %s %s", r.Method, r.URL.Path)
	}
	d := c.s.dest
	b, ok := d.buckets[bucket]
	if !ok {
		return errf(404, "NoSuchBucket", "The specified bucket does not exist")
	}
	owner := r.Header.Get("X-Amz-Expected-Bucket-Owner")
	if owner != "" && owner != b.Account {
		return errf(403, "AccessDenied", "Access Denied")
	}
	body, err := s3Payload(r, c.body)
	if err != nil {
		return errf(400, "InvalidRequest", "%v", err)
	}
	if h := r.Header.Get("X-Amz-Content-Sha256"); isHexSHA256(h) {
		sum := sha256.Sum256(c.body)
		if hex.EncodeToString(sum[:]) != h {
			return errf(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
	}
	sse, kmsKey := r.Header.Get("X-Amz-Server-Side-Encryption"), r.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")
	switch sse {
	case "":
		if kmsKey != "" {
			return errf(400, "InvalidArgument", "Specifying a KMS key id requires x-amz-server-side-encryption aws:kms")
		}
		sse = "AES256"
	case "AES256":
		if kmsKey != "" {
			return errf(400, "InvalidArgument", "Server Side Encryption with KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms")
		}
	case "aws:kms", "aws:kms:dsse":
		if kmsKey == "" {
			kmsKey = fmt.Sprintf("arn:%s:kms:%s:%s:alias/aws/s3", c.s.org.partition, c.region, b.Account)
		} else if !slices.Contains(b.KMSKeys, kmsKey) {
			return errf(400, "KMS.NotFoundException", "Invalid keyId '%s'", kmsKey)
		}
	default:
		return errf(400, "InvalidArgument", "The encryption method specified is not supported")
	}
	sum := md5.Sum(body)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	d.mu.Lock()
	d.objects[bucket+"/"+key] = Object{Bucket: bucket, Key: key, ContentType: r.Header.Get("Content-Type"), Body: body,
		SSE: sse, KMSKey: kmsKey, ExpectedOwner: owner, Account: c.cred.Account}
	d.mu.Unlock()
	c.status = 200
	c.header("ETag", etag)
	c.header("X-Amz-Server-Side-Encryption", sse)
	if strings.HasPrefix(sse, "aws:kms") {
		c.header("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", kmsKey)
	}
	return nil
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// s3Payload is the object's bytes: the body, or the data of an aws-chunked body
// (what SDKs send with a trailing checksum), whose decoded length must be
// x-amz-decoded-content-length.
func s3Payload(r *http.Request, body []byte) ([]byte, error) {
	if !slices.Contains(strings.Split(r.Header.Get("Content-Encoding"), ","), "aws-chunked") {
		return body, nil
	}
	var out bytes.Buffer
	br := bufio.NewReader(bytes.NewReader(body))
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("aws-chunked body: %w", err)
		}
		sizeHex, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), ";")
		n, err := strconv.ParseInt(sizeHex, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("aws-chunked body: chunk size %q", sizeHex)
		}
		if n == 0 {
			break
		}
		if _, err := io.CopyN(&out, br, n); err != nil {
			return nil, fmt.Errorf("aws-chunked body: %w", err)
		}
		if _, err := br.ReadString('\n'); err != nil {
			return nil, fmt.Errorf("aws-chunked body: %w", err)
		}
	}
	if want := r.Header.Get("X-Amz-Decoded-Content-Length"); want != "" && want != strconv.Itoa(out.Len()) {
		return nil, fmt.Errorf("x-amz-decoded-content-length %s, body of %d bytes", want, out.Len())
	}
	return out.Bytes(), nil
}

// s3Op names a REST-XML request's operation from its method and path.
func s3Op(r *http.Request) string {
	bucket, key := s3Route(r)
	switch {
	case r.Method == http.MethodPut && bucket != "" && key != "" && r.Header.Get("X-Amz-Copy-Source") == "" && !hasSubresource(r.URL.Query()):
		return "PutObject"
	case r.Method == http.MethodGet && key != "":
		return "GetObject"
	case r.Method == http.MethodGet:
		return "ListObjects"
	}
	return r.Method + "Object"
}

func hasSubresource(q url.Values) bool {
	for _, k := range []string{"acl", "tagging", "uploadId", "partNumber", "retention", "legal-hold"} {
		if q.Has(k) {
			return true
		}
	}
	return false
}
