package collect

import (
	"context"
	"errors"
	"maps"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// iamAPI is the part of the IAM client the collection uses.
type iamAPI interface {
	GenerateCredentialReport(context.Context, *iam.GenerateCredentialReportInput, ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(context.Context, *iam.GetCredentialReportInput, ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
	GetAccessKeyLastUsed(context.Context, *iam.GetAccessKeyLastUsedInput, ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	GetAccountSummary(context.Context, *iam.GetAccountSummaryInput, ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)
	GetAccountPasswordPolicy(context.Context, *iam.GetAccountPasswordPolicyInput, ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error)
	GetLoginProfile(context.Context, *iam.GetLoginProfileInput, ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error)
	GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error)
	iam.GetAccountAuthorizationDetailsAPIClient
	iam.ListVirtualMFADevicesAPIClient
	iam.ListMFADevicesAPIClient
	iam.ListAccessKeysAPIClient
	iam.ListServerCertificatesAPIClient
	iam.ListUsersAPIClient
}

// trailAPI is the part of the CloudTrail client the collection uses.
type trailAPI interface {
	cloudtrail.LookupEventsAPIClient
}

// orgAPI is the part of the Organizations client the collection uses.
type orgAPI interface {
	DescribeOrganization(context.Context, *organizations.DescribeOrganizationInput, ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
	organizations.ListAccountsAPIClient
	organizations.ListParentsAPIClient
	organizations.ListOrganizationalUnitsForParentAPIClient
}

// callCounter counts one account's API call attempts per operation
// ("iam:ListAccessKeys"), and records them in the run's watch while they are in
// flight (account and watch may be empty: nothing is watched).
type callCounter struct {
	mu      sync.Mutex
	n       map[string]int
	account string
	watch   *watch
}

func newCallCounter() *callCounter { return &callCounter{n: map[string]int{}} }

// newAccountCalls counts and watches the calls of one account.
func newAccountCalls(accountID string, w *watch) *callCounter {
	c := newCallCounter()
	c.account, c.watch = accountID, w
	return c
}

func (c *callCounter) add(op string) {
	c.mu.Lock()
	c.n[op]++
	c.mu.Unlock()
}

func (c *callCounter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.n) == 0 {
		return nil
	}
	return maps.Clone(c.n)
}

// newRetryer builds a fresh retryer for one client. The SDK's client-side retry
// quota (500 tokens) is shared by everything using one retryer and drains under
// fan-out, after which calls fail without being sent ("retry quota exceeded",
// aws-sdk-go-v2 issues 1665, 3413; docs/aws-facts.md): ratelimit.None turns it off and
// our own per-account limiters do the pacing. Attempts are raised as peers do
// (defaultMaxAttempts). Never share the result between clients.
func newRetryer(maxAttempts int, maxBackoff time.Duration) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.RateLimiter = ratelimit.None
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
	})
}

// limiters are the per-account (or per-organization) token buckets, one per API family.
type limiters struct {
	iam, events *rate.Limiter
}

func newLimiter(perSecond float64) *rate.Limiter {
	burst := int(perSecond / 4) // a short burst, a quarter second's worth
	if burst < 1 {
		burst = 1
	}
	return rate.NewLimiter(rate.Limit(perSecond), burst)
}

// newOrgLimiter paces the run's Organizations calls with a burst of one second's
// worth, two at least: DescribeOrganization and the first ListAccounts pages go
// out together (they are the whole enumeration of a small Organization), as AWS's
// token bucket (burst = rate, docs/bench.md "The floor") lets them; the pages after
// them keep the rate.
func newOrgLimiter(perSecond float64) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(perSecond), max(2, int(math.Ceil(perSecond))))
}

// newIAMLimiter paces one account's IAM calls with a burst of one second's worth:
// IAM's throttling is token buckets per API refilled every second (AWS Security
// Blog, "How to monitor and query IAM resources at scale – Part 2",
// https://aws.amazon.com/blogs/security/how-to-monitor-and-query-iam-resources-at-scale-part-2/),
// so a second's calls at once stay within a bucket our pace refills; and the calls
// that follow the credential report (ListAccessKeys, ListMFADevices for the users
// it names) go out together instead of a quarter second's worth at a time.
func newIAMLimiter(perSecond float64) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)))
}

// clientSet builds the clients of one account from an aws.Config whose Credentials
// are that account's.
type clientSet struct {
	iam   *iam.Client
	trail *cloudtrail.Client
}

// newClients builds the IAM and CloudTrail clients of one account, each paced by
// that account's limiter of its API family. Every client gets its own retryer. RetryMaxAttempts is cleared because the SDK
// would otherwise wrap that retryer with the attempts of the shared configuration
// (AWS_MAX_ATTEMPTS, max_attempts in ~/.aws/config), undoing Options.MaxAttempts.
//
// Every call has its deadlines (deadlines, Options.AttemptTimeout and CallTimeout).
// refresh, when not nil, drops the account's cached credentials: an ExpiredToken
// answer is then retried with credentials assumed anew.
func newClients(cfg aws.Config, opts Options, lim limiters, calls *callCounter, refresh func()) clientSet {
	return clientSet{
		iam: iam.NewFromConfig(cfg, func(o *iam.Options) {
			o.Retryer, o.RetryMaxAttempts = newRetryer(opts.MaxAttempts, opts.MaxBackoff), 0
			o.APIOptions = append(o.APIOptions, deadlines("iam", lim.iam, calls, opts, refresh))
		}),
		trail: cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) {
			o.Retryer, o.RetryMaxAttempts = newRetryer(opts.MaxAttempts, opts.MaxBackoff), 0
			o.APIOptions = append(o.APIOptions, deadlines("cloudtrail", lim.events, calls, opts, refresh))
		}),
	}
}

// newSTS is paced by lim, the run's one STS limiter (nil: unpaced): AssumeRole is
// called once per account, and every call counts against the caller's account,
// whose quota STS does not publish (stsRate, docs/aws-facts.md); its retryer still
// backs off on throttling.
func newSTS(cfg aws.Config, opts Options, lim *rate.Limiter, calls *callCounter) *sts.Client {
	return sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.Retryer, o.RetryMaxAttempts = newRetryer(opts.MaxAttempts, opts.MaxBackoff), 0
		o.APIOptions = append(o.APIOptions, deadlines("sts", lim, calls, opts, nil))
	})
}

// newOrganizations is paced by lim, the one Organizations limiter of the run:
// Organizations' limits are per organization, not per account.
// calls (nil: none) watches the Organization's calls while they are in flight.
func newOrganizations(cfg aws.Config, opts Options, lim *rate.Limiter, calls *callCounter) *organizations.Client {
	return organizations.NewFromConfig(cfg, func(o *organizations.Options) {
		o.Retryer, o.RetryMaxAttempts = newRetryer(opts.MaxAttempts, opts.MaxBackoff), 0
		o.APIOptions = append(o.APIOptions, deadlines("organizations", lim, calls, opts, nil))
	})
}

// errorCode returns the AWS error code of err ("" when it is not an API error).
func errorCode(err error) string {
	if isRepeatedToken(err) {
		return codeRepeatedToken
	}
	if isTimeout(err) {
		return CodeTimeout
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isAccessDenied reports whether err is an authorization failure, which retrying
// with the same credentials cannot fix.
func isAccessDenied(err error) bool {
	code := errorCode(err)
	return strings.Contains(code, "AccessDenied") || code == "UnauthorizedOperation" ||
		code == "UnrecognizedClientException" || code == "InvalidClientTokenId" || code == "ExpiredToken"
}

// homeRegion is where IAM, STS sign-in and IAM CloudTrail events live in a partition.
func homeRegion(partition string) string { return inventory.HomeRegion(partition) }
