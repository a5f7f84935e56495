package publish

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"
)

// Retries as the collection sets them (internal/collect/clients.go,
// docs/aws-facts.md "SDK retries"): a fresh standard retryer per client without the
// SDK's shared retry quota (ratelimit.None, which drains under fan-out and then fails
// calls unsent), our own token bucket per account doing the pacing.
const (
	defaultMaxAttempts = 10
	defaultMaxBackoff  = 20 * time.Second
)

// Retry tunes the retryers of a destination's clients (zero: the defaults).
type Retry struct {
	MaxAttempts int
	MaxBackoff  time.Duration
}

func (r Retry) retryer() aws.Retryer {
	attempts, backoff := r.MaxAttempts, r.MaxBackoff
	if attempts <= 0 {
		attempts = defaultMaxAttempts
	}
	if backoff <= 0 {
		backoff = defaultMaxBackoff
	}
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.RateLimiter = ratelimit.None
		o.MaxAttempts = attempts
		o.MaxBackoff = backoff
	})
}

// AuditRole is how the run reached each account: the role it assumed (as --role
// gives it), with the same external id and session name.
type AuditRole struct {
	Role, ExternalID, SessionName string
}

// accountConfig is an aws.Config whose credentials are the audit role's in the
// account, assumed once (a cached provider, refreshed before expiry).
func (a AuditRole) accountConfig(ctx context.Context, base aws.Config, partition, account string, r Retry) (aws.Config, error) {
	arn := fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, strings.TrimPrefix(a.Role, "/"))
	stsClient := sts.NewFromConfig(base, func(o *sts.Options) { o.Retryer, o.RetryMaxAttempts = r.retryer(), 0 })
	session := a.SessionName
	if session == "" {
		session = "iamaudit"
	}
	prov := stscreds.NewAssumeRoleProvider(stsClient, arn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = session
		if a.ExternalID != "" {
			o.ExternalID = aws.String(a.ExternalID)
		}
	})
	creds := aws.NewCredentialsCache(prov)
	if _, err := creds.Retrieve(ctx); err != nil {
		return aws.Config{}, fmt.Errorf("cannot assume %s: %w", arn, err)
	}
	cfg := base.Copy()
	cfg.Credentials = creds
	return cfg, nil
}

// pace waits for the limiter before every attempt (retries included: they cost the
// same quota at AWS).
func pace(lim *rate.Limiter) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Finalize.Insert(middleware.FinalizeMiddlewareFunc("iamaudit.Pace",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if err := lim.Wait(ctx); err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, err
				}
				return next.HandleFinalize(ctx, in)
			}), "Retry", middleware.After)
	}
}

// errorCode is the AWS error code of err ("" when AWS did not answer).
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// errorMessage is err's message without the SDK's operation prefix when AWS answered.
func errorMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorMessage() != "" {
		return ae.ErrorMessage()
	}
	return err.Error()
}
