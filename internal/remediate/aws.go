package remediate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/iamaudit/iamaudit/internal/collect"
)

// Connector opens the AWS sessions of a remediation: who the tool is signed in as,
// and in each account a session of the remediation role (never the audit role).
type Connector struct {
	// Base is the caller's configuration (the standard chain).
	Base aws.Config
	// Role is the remediation role's name, with its path if it has one.
	Role        string
	ExternalID  string
	SessionName string
	// Partition and Region are the plan's (IAM's home region).
	Partition, Region string
	// OwnCredentials acts in the caller's own account with the caller's credentials
	// when the role cannot be assumed there (the management account often has none).
	OwnCredentials bool

	mu       sync.Mutex
	sessions map[string]*Session
	calls    map[string]int
}

// Caller is the principal the tool is signed in with.
type Caller struct {
	AccountID   string `json:"account_id"`
	ARN         string `json:"arn"`
	AccessKeyID string `json:"access_key_id"`
	// UserName is set when the caller is an IAM user; RoleName when a role session.
	UserName string `json:"user_name,omitempty"`
	RoleName string `json:"role_name,omitempty"`
}

// Session is one account's clients.
type Session struct {
	AccountID string
	// ARN is who the session acts as; AccessKeyID its key (what CloudTrail records as
	// userIdentity.accessKeyId); Own tells that it is the caller's own credentials.
	ARN         string
	AccessKeyID string
	Own         bool
	// RoleName is the role the session is of ("" for Own).
	RoleName string
	// read retries as the SDK does; write retries only throttling, which AWS refused
	// before acting (a retried CreateAccessKey after a lost answer would make a
	// second key).
	read, write *iam.Client
	trail       *cloudtrail.Client
}

// Calls are the API calls made so far ("iam:UpdateAccessKey" → attempts).
func (c *Connector) Calls() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.calls))
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

func (c *Connector) count(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[op]++
}

// counting counts every attempt of a client's calls as "<service>:<Operation>".
func (c *Connector) counting(service string) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("iamaudit.CountCalls",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				c.count(service + ":" + awsmiddleware.GetOperationName(ctx))
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	}
}

// readRetryer is the SDK's standard retryer without its shared retry quota
// (docs/aws-facts.md): a remediation makes few calls, one at a time.
func readRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.RateLimiter = ratelimit.None
		o.MaxAttempts = 5
		o.MaxBackoff = 5 * time.Second
	})
}

// writeRetryer retries only throttling answers: AWS did not act on a throttled
// request; any other failure of a change may have been applied, and is not repeated.
func writeRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.RateLimiter = ratelimit.None
		o.MaxAttempts = 5
		o.MaxBackoff = 5 * time.Second
		o.Retryables = []retry.IsErrorRetryable{retry.RetryableErrorCode{Codes: retry.DefaultThrottleErrorCodes}}
	})
}

func (c *Connector) sts(cfg aws.Config) *sts.Client {
	cfg = cfg.Copy()
	if c.Region != "" {
		cfg.Region = c.Region
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // before the partition is known: the aws partition's home region
	}
	return sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.Retryer = readRetryer()
		o.APIOptions = append(o.APIOptions, c.counting("sts"))
	})
}

// Caller asks STS who the tool is signed in as, and the key it signs with.
func (c *Connector) Caller(ctx context.Context) (Caller, error) {
	id, err := c.sts(c.Base).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Caller{}, fmt.Errorf("no usable AWS credentials (sts:GetCallerIdentity: %w): configure the credentials of the management account (--profile) and retry", err)
	}
	out := Caller{AccountID: aws.ToString(id.Account), ARN: aws.ToString(id.Arn)}
	if c.Base.Credentials != nil {
		if cr, err := c.Base.Credentials.Retrieve(ctx); err == nil {
			out.AccessKeyID = cr.AccessKeyID
		}
	}
	if a, err := arn.Parse(out.ARN); err == nil {
		switch {
		case strings.HasPrefix(a.Resource, "user/"):
			out.UserName = a.Resource[strings.LastIndex(a.Resource, "/")+1:]
		case strings.HasPrefix(a.Resource, "assumed-role/"):
			out.RoleName = strings.Split(a.Resource, "/")[1]
		}
	}
	return out, nil
}

// RoleARN is the remediation role's ARN in an account.
func (c *Connector) RoleARN(account string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", c.Partition, account, collect.RoleResource(c.Role))
}

// Account is the session in an account (assumed once, cached).
func (c *Connector) Account(ctx context.Context, account string, caller Caller) (*Session, error) {
	c.mu.Lock()
	if s, ok := c.sessions[account]; ok {
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()
	s, err := c.open(ctx, account, caller)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sessions == nil {
		c.sessions = map[string]*Session{}
	}
	c.sessions[account] = s
	return s, nil
}

func (c *Connector) open(ctx context.Context, account string, caller Caller) (*Session, error) {
	_, roleName, err := collect.ParseRole(c.Role)
	if err != nil {
		return nil, err
	}
	cfg := c.Base.Copy()
	cfg.Region = c.Region
	roleARN := c.RoleARN(account)
	prov := stscreds.NewAssumeRoleProvider(c.sts(c.Base), roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = c.SessionName
		if c.ExternalID != "" {
			o.ExternalID = aws.String(c.ExternalID)
		}
	})
	creds := aws.NewCredentialsCache(prov)
	s := &Session{AccountID: account, RoleName: roleName}
	got, err := creds.Retrieve(ctx)
	switch {
	case err == nil:
		cfg.Credentials = creds
		s.AccessKeyID = got.AccessKeyID
		s.ARN = fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", c.Partition, account, roleName, c.SessionName)
	case account == caller.AccountID && c.OwnCredentials:
		s.Own, s.RoleName, s.ARN, s.AccessKeyID = true, "", caller.ARN, caller.AccessKeyID
	default:
		hint := ""
		if account == caller.AccountID {
			hint = "; or act with your own credentials in your own account: --own-credentials"
		}
		return nil, fmt.Errorf("cannot assume the remediation role %s: %s; deploy it to account %s, trusting the account iamaudit runs from (docs/remediation.md)%s",
			roleARN, shortError(err), account, hint)
	}
	s.read = iam.NewFromConfig(cfg, func(o *iam.Options) {
		o.Retryer = readRetryer()
		o.APIOptions = append(o.APIOptions, c.counting("iam"))
	})
	s.write = iam.NewFromConfig(cfg, func(o *iam.Options) {
		o.Retryer = writeRetryer()
		o.APIOptions = append(o.APIOptions, c.counting("iam"))
	})
	s.trail = cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) {
		o.Retryer = readRetryer()
		o.APIOptions = append(o.APIOptions, c.counting("cloudtrail"))
	})
	return s, nil
}

// Aliases are the account's IAM aliases (for the typed confirmation).
func (s *Session) Aliases(ctx context.Context) ([]string, error) {
	out, err := s.read.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
	if err != nil {
		return nil, err
	}
	return out.AccountAliases, nil
}

// shortError is "Code: message" for an AWS error, without the SDK's wrapping.
func shortError(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// errorCode is an AWS error's code ("" for another error).
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isNotFound tells an AWS "no such entity" answer.
func isNotFound(err error) bool {
	return slices.Contains([]string{"NoSuchEntity", "NoSuchEntityException"}, errorCode(err))
}
