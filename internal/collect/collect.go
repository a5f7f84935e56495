package collect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// accountClients are the clients that collect one account.
type accountClients struct {
	iam       iamAPI
	trail     trailAPI
	auditedAs string
}

// deps are the collection's connections to AWS; Collect builds the real ones and
// tests inject fakes.
type deps struct {
	org orgAPI
	// budget bounds the users in flight (nil: unbounded).
	budget    *usersBudget
	caller    inventory.Caller
	partition string
	region    string
	// assume assumes the audit role in the account (once) and returns its clients.
	assume func(ctx context.Context, acct inventory.Account, calls *callCounter) (accountClients, error)
	// own returns clients on the caller's own credentials (management account fallback).
	own func(acct inventory.Account, calls *callCounter) accountClients
	// watch records the calls in flight (nil: none are shown as waiting).
	watch *watch
	// sleep waits d or until ctx is done.
	sleep func(ctx context.Context, d time.Duration) error
	// reports learns how long the run's credential reports take (nil: nothing learnt).
	reports *reportTimes
}

// Collect audits the Organization the credentials in cfg belong to. It returns an
// error only when nothing can be collected (no usable credentials, the accounts
// cannot be listed); that error says what to do next. Every other failure becomes
// a Gap in the inventory.
func Collect(ctx context.Context, cfg aws.Config, opts Options) (*inventory.Inventory, error) {
	opts = opts.withDefaults()
	started := opts.Clock().UTC()

	// The caller's partition is not known yet: STS is asked in the configured region,
	// else in the aws partition's home region (credentials of aws-us-gov or aws-cn
	// need a region of their own partition configured).
	idCfg := cfg.Copy()
	regionGuessed := idCfg.Region == ""
	if regionGuessed {
		idCfg.Region = homeRegion("aws")
	}
	// A few attempts only: an unreachable endpoint must not take minutes of backoff
	// to be reported.
	idOpts := opts
	idOpts.MaxAttempts = min(opts.MaxAttempts, identityAttempts)
	ident, err := newSTS(idCfg, idOpts, nil, nil).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, identityError(ctx, err, regionGuessed, opts)
	}
	caller := inventory.Caller{AccountID: aws.ToString(ident.Account), ARN: aws.ToString(ident.Arn)}
	partition := "aws"
	if a, err := arn.Parse(caller.ARN); err == nil && a.Partition != "" {
		partition = a.Partition
	}
	region := homeRegion(partition)
	base := cfg.Copy()
	base.Region = region
	base.HTTPClient = sharedHTTPClient(cfg.HTTPClient, opts.Concurrency)
	stsLimit := newLimiter(stsRate)

	w := newWatch()
	d := &deps{
		budget:    newUsersBudget(opts.UsersInFlight),
		watch:     w,
		org:       newOrganizations(base, opts, newOrgLimiter(opts.OrgRate), newAccountCalls("", w)),
		caller:    caller,
		partition: partition,
		region:    region,
		sleep:     sleepCtx,
		reports:   &reportTimes{},
		own: func(acct inventory.Account, calls *callCounter) accountClients {
			cs := newClients(base, opts, accountLimiters(opts), calls, nil)
			return accountClients{iam: cs.iam, trail: cs.trail, auditedAs: caller.ARN}
		},
		assume: func(ctx context.Context, acct inventory.Account, calls *callCounter) (accountClients, error) {
			roleARN := roleARN(partition, acct.ID, opts.Role)
			prov := stscreds.NewAssumeRoleProvider(newSTS(base, opts, stsLimit, calls), roleARN, func(o *stscreds.AssumeRoleOptions) {
				o.RoleSessionName = opts.SessionName
				if opts.ExternalID != "" {
					o.ExternalID = aws.String(opts.ExternalID)
				}
			})
			// One provider per account, cached: the role is assumed once and the cache
			// refreshes it before expiry on long runs (defect 6; role chaining caps at 1 h).
			// An ExpiredToken answer (the session expired in flight, or AWS said so
			// early) drops the cached session: the call is retried with a new one.
			creds := aws.NewCredentialsCache(prov)
			if _, err := creds.Retrieve(ctx); err != nil {
				return accountClients{}, err
			}
			acfg := base.Copy()
			acfg.Credentials = creds
			cs := newClients(acfg, opts, accountLimiters(opts), calls, creds.Invalidate)
			return accountClients{iam: cs.iam, trail: cs.trail,
				auditedAs: fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", partition, acct.ID, roleName(opts.Role), opts.SessionName)}, nil
		},
	}
	return run(ctx, d, opts, started)
}

// identityAttempts bounds the first call's attempts (the SDK retries a refused
// connection with backoff; three attempts take seconds, ten take minutes).
const identityAttempts = 3

// identityError explains why the caller's identity could not be learned, in the
// user's terms: the run was interrupted; the endpoint is unreachable or silent; the
// region is not a region; the SSO session is not logged in; or the credentials do
// not work.
func identityError(ctx context.Context, err error, regionGuessed bool, opts Options) error {
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted (%v) before the caller's identity was known (sts:GetCallerIdentity): nothing was collected", context.Cause(ctx))
	}
	if endpoint, ok := unreachable(err); ok {
		if isTimeout(err) {
			return fmt.Errorf("%s did not answer (sts:GetCallerIdentity: %w): check AWS_ENDPOINT_URL, the network or the proxy, then retry (each request waits --attempt-timeout %s)", endpoint, err, opts.AttemptTimeout)
		}
		return fmt.Errorf("cannot reach %s (sts:GetCallerIdentity: %w): check AWS_ENDPOINT_URL, the network or the proxy, then retry", endpoint, err)
	}
	if strings.Contains(err.Error(), "invalid input region") {
		return fmt.Errorf("the AWS region is not valid (sts:GetCallerIdentity: %w): set --region, AWS_REGION or the profile's region to a region name such as us-east-1", err)
	}
	if ssoNotLoggedIn(err) {
		login := "aws sso login"
		if opts.Profile != "" {
			login += " --profile " + opts.Profile
		}
		return fmt.Errorf("the AWS SSO (IAM Identity Center) session is not logged in or has expired (sts:GetCallerIdentity: %w): run `%s`, then retry", err, login)
	}
	hint := ""
	if regionGuessed {
		hint = " (for AWS GovCloud or China, also set AWS_REGION to a region of that partition, e.g. us-gov-west-1 or cn-north-1)"
	}
	return fmt.Errorf("no usable AWS credentials (sts:GetCallerIdentity failed: %w): "+
		"configure credentials for the Organization's management account or a delegated administrator account (--profile, AWS_PROFILE or AWS_ACCESS_KEY_ID)%s and retry", err, hint)
}

// ssoNotLoggedIn: the credentials come from an SSO profile whose cached token is
// missing or expired (the SDK's ssocreds.InvalidTokenError, or the token provider of
// an sso-session profile failing to read its cached token).
func ssoNotLoggedIn(err error) bool {
	var it *ssocreds.InvalidTokenError
	return errors.As(err, &it) || strings.Contains(err.Error(), "cached SSO token")
}

// unreachable tells a network failure (connection refused or reset, DNS, timeout
// dialling, no answer within the deadline) from an answer of AWS, and names the
// endpoint that could not be reached.
func unreachable(err error) (string, bool) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return "", false // AWS (or something speaking its protocol) answered
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if !errors.As(err, &opErr) && !errors.As(err, &dnsErr) && !errors.Is(err, syscall.ECONNREFUSED) && !isTimeout(err) {
		return "", false
	}
	endpoint := "the AWS endpoint"
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			endpoint = u.Scheme + "://" + u.Host
		}
	} else if dnsErr != nil && dnsErr.Name != "" {
		endpoint = dnsErr.Name
	}
	return endpoint, true
}

func accountLimiters(opts Options) limiters {
	return limiters{iam: newIAMLimiter(opts.IAMRate), events: newLimiter(opts.EventsRate)}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// run is Collect after the caller is known.
func run(ctx context.Context, d *deps, opts Options, started time.Time) (*inventory.Inventory, error) {
	opts = opts.withDefaults()
	opts.window.start, opts.window.end = started.Add(-time.Duration(opts.Days)*24*time.Hour), started
	inv := &inventory.Inventory{
		Schema:           inventory.Schema,
		Tool:             "iamaudit",
		Version:          opts.Version,
		RunID:            inventory.RunID(started),
		StartedAt:        started,
		Partition:        d.partition,
		Region:           d.region,
		EventWindowStart: opts.window.start,
		EventWindowEnd:   opts.window.end,
		EventNames:       append([]string(nil), opts.EventNames...),
		Caller:           &d.caller,
		Accounts:         []inventory.Account{},
		Gaps:             []inventory.Gap{},
	}
	if d.watch != nil && opts.Progress != nil {
		stop := make(chan struct{})
		defer close(stop)
		go watchCalls(d.watch, opts, stop)
	}

	org, gap := describeOrganization(ctx, d.org)
	if gap != nil {
		inv.Gaps = append(inv.Gaps, *gap)
	}
	inv.Organization = org
	mgmt := ""
	if org != nil {
		mgmt = org.ManagementAccountID
	}

	// Accounts are audited as ListAccounts pages arrive (filtered by --accounts and
	// --exclude-accounts page by page), unless --ou needs the tree first; the results
	// are handed over (AccountDone, Stream) as they finish when Started is set, else
	// only after Selected.
	if opts.Started != nil {
		head := *inv
		head.Accounts, head.Gaps = nil, []inventory.Gap{}
		opts.Started(&head)
	}
	s := startScheduler(ctx, d, opts)
	var perPage func([]inventory.Account)
	if len(opts.OUs) == 0 {
		perPage = func(page []inventory.Account) {
			markManagement(page, mgmt)
			s.add(pickedByID(page, opts)...)
		}
	}
	accounts, err := listAccounts(ctx, d.org, perPage)
	if err != nil {
		if len(accounts) == 0 {
			s.selection()
			s.wait()
			if ctx.Err() != nil {
				return nil, fmt.Errorf("interrupted (%v) while listing the Organization's accounts: nothing was collected", context.Cause(ctx))
			}
			return nil, listAccountsError(err, d.caller)
		}
		inv.Gaps = append(inv.Gaps, gapFrom("", failListAccounts, "", err,
			"the account list is incomplete: listing stopped part way"))
	}
	markManagement(accounts, mgmt)
	if len(opts.OUs) == 0 {
		inv.Gaps = append(inv.Gaps, missingAccounts(accounts, opts)...)
	} else {
		selected, gaps := selectAccounts(ctx, d.org, accounts, opts)
		inv.Gaps = append(inv.Gaps, gaps...)
		s.add(selected...)
	}
	selected := s.selection()
	if opts.Selected != nil {
		head := *inv
		head.Gaps = append([]inventory.Gap(nil), inv.Gaps...)
		opts.Selected(&head, selected)
	}

	inv.Accounts = s.wait()
	inv.FinishedAt = opts.Clock().UTC()
	return inv, nil
}

func markManagement(accounts []inventory.Account, mgmt string) {
	for i := range accounts {
		accounts[i].IsManagement = accounts[i].ID == mgmt
	}
}

// listAccountsError explains, for the user, why the Organization cannot be listed.
func listAccountsError(err error, caller inventory.Caller) error {
	switch code := errorCode(err); {
	case code == "AWSOrganizationsNotInUseException":
		return fmt.Errorf("account %s (%s) is not in an AWS Organization (%w): run iamaudit with the credentials of an Organization's management account (--profile)",
			caller.AccountID, caller.ARN, err)
	case isAccessDenied(err):
		return fmt.Errorf("organizations:ListAccounts was denied for %s (%w): run iamaudit with the credentials of the management account or of a delegated administrator account (--profile), and grant organizations:ListAccounts (docs/permissions.md)",
			caller.ARN, err)
	case isTimeout(err):
		return fmt.Errorf("no answer from AWS Organizations (organizations:ListAccounts: %w): check the network, the proxy or AWS_ENDPOINT_URL, then retry", err)
	default:
		return fmt.Errorf("cannot list the Organization's accounts as %s (organizations:ListAccounts: %w): check the network and credentials, then retry",
			caller.ARN, err)
	}
}
