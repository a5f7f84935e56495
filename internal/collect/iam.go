package collect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"golang.org/x/sync/errgroup"

	"github.com/iamaudit/iamaudit/internal/credreport"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/policy"
)

// iamParallel bounds concurrent IAM calls within one account. The per-account IAM
// limiter does the pacing; a few calls in flight hide the round trip.
const iamParallel = 4

// forEach calls f(0) … f(n-1) on at most workers goroutines, each taking the next
// index when done: a goroutine per worker, not per item, whose stack has grown once
// for the SDK's deep call chain (a new goroutine per call grew its stack every time).
func forEach(n, workers int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, workers) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(i)
			}
		})
	}
	wg.Wait()
}

// iamMaxItems is the largest page IAM list calls give (MaxItems 1000; default 100,
// docs/aws-facts.md): fewer round trips per account.
const iamMaxItems = 1000

// LastUsedSourceAPI marks key last-use data read with GetAccessKeyLastUsed.
const LastUsedSourceAPI = "GetAccessKeyLastUsed"

// opError is a failed call and the operation it was.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

func opOf(err error, fallback string) string {
	var oe *opError
	if errors.As(err, &oe) {
		return oe.op
	}
	return fallback
}

// iamResult is everything IAM yielded for one account.
type iamResult struct {
	report       *inventory.CredentialReport
	root         *inventory.Root
	policy       *inventory.PasswordPolicy
	policyKnown  bool
	summary      map[string]int32
	users        []inventory.User
	groups       []inventory.Group
	roles        []inventory.Role
	policies     []inventory.ManagedPolicy
	certificates []inventory.ServerCertificate
}

func (r iamResult) apply(a *inventory.Account) {
	a.CredentialReport = r.report
	a.Root = r.root
	a.PasswordPolicy = r.policy
	a.PasswordPolicyKnown = r.policyKnown
	a.Summary = r.summary
	if r.users != nil {
		a.Users = r.users
	}
	if r.groups != nil {
		a.Groups = r.groups
	}
	if r.roles != nil {
		a.Roles = r.roles
	}
	if r.policies != nil {
		a.Policies = r.policies
	}
	if r.certificates != nil {
		a.ServerCertificates = r.certificates
	}
}

// authDetails is the result of GetAccountAuthorizationDetails.
type authDetails struct {
	users    []types.UserDetail
	groups   []types.GroupDetail
	roles    []types.RoleDetail
	policies []types.ManagedPolicyDetail
}

// virtualMFA indexes ListVirtualMFADevices (Assigned).
type virtualMFA struct {
	bySerial map[string]types.VirtualMFADevice
	byUser   map[string][]types.VirtualMFADevice // user ARN → devices
	root     *types.VirtualMFADevice
}

// accountEvents is what the account's CloudTrail lookups found: the events, and the
// event names whose lookup failed.
type accountEvents struct {
	events []inventory.Event
	failed map[string]bool
}

// collectIAM collects the account's IAM data. events waits for the account's
// CloudTrail lookups (run beside IAM): a reused credential report needs them to know
// which users changed since it was generated (staleness.go); it is called only then.
func collectIAM(ctx context.Context, d *deps, opts Options, c iamAPI, accountID string, gaps *gapList, events func() accountEvents, summary func() (*iam.GetAccountSummaryOutput, error)) iamResult {
	var (
		res        iamResult
		rep        *credreport.Report
		repErr     error
		details    *authDetails
		virtual    *virtualMFA
		summaryErr error
	)
	// The independent bulk calls, side by side. The users a virtual MFA device is
	// assigned to have MFA: their ListMFADevices (for hardware and FIDO devices beside
	// it) are asked while the credential report is being generated, when the account's
	// IAM rate is otherwise idle (mfaPrefetch).
	var g errgroup.Group
	g.SetLimit(iamParallel)
	pre := newMFAPrefetch()
	g.Go(func() error {
		defer d.watch.begin(accountID, ReportWait)()
		rep, res.report, repErr = fetchReport(ctx, d, opts, c)
		if repErr != nil {
			gaps.add(failReport.withOp(opOf(repErr, failReport.op)), "", errors.Unwrap(repErr),
				"no credential report: fell back to per-user calls (ListUsers, GetLoginProfile, ListMFADevices, ListAccessKeys, GetAccessKeyLastUsed); root user data is limited to GetAccountSummary")
		}
		return nil
	})
	g.Go(func() error {
		var err error
		if details, err = fetchAuthDetails(ctx, c); err != nil {
			gaps.add(failAuthDetails, "", err,
				"groups, policies, permissions boundaries and tags of users, and all roles, groups and customer managed policies, are missing")
		}
		return nil
	})
	g.Go(func() error {
		var err error
		if virtual, err = fetchVirtualMFA(ctx, c); err != nil {
			gaps.add(failVirtualMFA, "", err, "virtual MFA devices are classified by serial only; the root user's MFA type may be unknown")
			pre.start(ctx, c, nil)
			return nil
		}
		pre.start(ctx, c, virtual)
		return nil
	})
	g.Go(func() error {
		out, err := summary()
		if err != nil {
			summaryErr = err
			gaps.add(failSummary, "", err, "")
			return nil
		}
		res.summary = out.SummaryMap
		return nil
	})
	g.Go(func() error {
		res.policy, res.policyKnown = fetchPasswordPolicy(ctx, c, gaps)
		return nil
	})
	g.Go(func() error {
		var err error
		if res.certificates, err = fetchServerCertificates(ctx, c); err != nil {
			gaps.add(failServerCerts, "", err, "")
		}
		return nil
	})
	_ = g.Wait()
	pre.wait()

	if details != nil {
		res.groups, res.roles, res.policies = convertDetails(details)
	}
	now := opts.Clock().UTC()
	trust, needEvents := trustBeforeEvents(res.report, now, now.Add(-time.Duration(opts.Days)*24*time.Hour))
	reused := res.report != nil && res.report.Reused
	src := userSources{report: rep, reused: reused, details: details, virtual: virtual, mfa: pre.listed}
	res.users, trust = collectUsers(ctx, opts, c, src, trust, needEvents, events, gaps)
	trust.describe(res.report, res.users, gaps.list())
	res.root = buildRoot(d.partition, accountID, rep, reportAge{reused: reused, rootKeyEvents: trust.rootKeys}, res.summary, summaryErr == nil, virtual, gaps)
	if details != nil {
		for _, g := range unreadablePolicies(accountID, res.users, res.groups, res.policies) {
			gaps.addGap(g)
		}
	}
	return res
}

// unreadablePolicies records, as gaps, the permission policy documents of users,
// groups and customer managed policies that do not parse (internal/policy): what they
// allow is unknown, and a check must not read that as "allows nothing". Roles' and
// trust policies are not read by any check and are left alone.
func unreadablePolicies(accountID string, users []inventory.User, groups []inventory.Group, policies []inventory.ManagedPolicy) []inventory.Gap {
	var out []inventory.Gap
	bad := func(subject, what, whose, doc string) {
		if _, err := policy.Parse(doc); err != nil {
			g := noteGap(accountID, failPolicyDocument.section, failPolicyDocument.unknown,
				fmt.Sprintf("%s does not parse (%v): what it allows is unknown, and so is whether %s full administrative privileges through it", what, err, whose))
			g.Subject, g.Operation = subject, failPolicyDocument.op
			out = append(out, g)
		}
	}
	for _, u := range users {
		for _, p := range u.InlinePolicies {
			bad(u.Name, fmt.Sprintf("inline policy %q of user %s", p.Name, u.Name), u.Name+" has", p.Document)
		}
	}
	for _, g := range groups {
		for _, p := range g.InlinePolicies {
			bad(g.ARN, fmt.Sprintf("inline policy %q of group %s", p.Name, g.Name), "the members of "+g.Name+" have", p.Document)
		}
	}
	for _, p := range policies {
		bad(p.ARN, fmt.Sprintf("the default version of customer managed policy %s", p.Name), "the users and groups it is attached to have", p.Document)
	}
	return out
}

// ---- credential report ----

func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d+1) // uniform in [d/2, 3d/2]
}

// reportPoll is the wait before the n-th GetCredentialReport poll (from 0) while
// the report is generated: every (0.5 s by default) for the first 20 polls (10 s, the
// top of the peer figure for a report), then twice it up to the 40th, then four times
// it (a large account's report can take minutes), each ±10%. A report takes about
// 5 s: the old 2 s base with jitter growing to 8x could read one ready at 5 s seconds
// later; this reads it within about half a second, at about ten polls. Polls are IAM
// calls, so each still waits for the account's IAM limiter (they are 2 of its 15 per
// second while the report is the only IAM work left); the jitter keeps accounts that
// started together from polling in step.
func reportPoll(every time.Duration, n int) time.Duration {
	d := every
	switch {
	case n >= 40:
		d = 4 * every
	case n >= 20:
		d = 2 * every
	}
	return d - d/10 + rand.N(d/5+1)
}

// reportTimes learns, across a run's accounts, how long IAM takes to generate a
// credential report: the shortest time from GenerateCredentialReport to a report
// read. The accounts of an Organization are generated by the same service at about
// the same time, so an account whose report is generating waits for most of that
// (head) before its first poll instead of polling from the start: at the sandbox's
// 5 s a report takes three or four polls instead of ten, each an IAM call taken from
// the account's limit, and it is still read within a poll interval of being ready
// (a report faster than the shortest seen is read at most head late).
type reportTimes struct {
	mu       sync.Mutex
	shortest time.Duration // 0: none seen yet
}

// reportHeadShare is the share of the shortest report time an account waits before
// its first poll (a report read was ready up to a poll interval earlier).
const reportHeadShare = 0.75

// maxReportHead bounds the wait before the first poll.
const maxReportHead = 10 * time.Second

// observe records a report generated in d.
func (r *reportTimes) observe(d time.Duration) {
	if r == nil || d <= 0 {
		return
	}
	r.mu.Lock()
	if r.shortest == 0 || d < r.shortest {
		r.shortest = d
	}
	r.mu.Unlock()
}

// head is how long after GenerateCredentialReport the first poll waits (0 until a
// report of the run was read).
func (r *reportTimes) head() time.Duration {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return min(time.Duration(float64(r.shortest)*reportHeadShare), maxReportHead)
}

// fetchReport generates (or reuses) and reads the credential report. AWS itself
// returns COMPLETE for a report under 4 hours old, which is then reused.
//
// The wait is bounded by opts.ReportTimeout (--report-timeout): past it, the error
// says so (CodeTimeout) and the account falls back to per-user calls.
func fetchReport(ctx context.Context, deps *deps, opts Options, c iamAPI) (*credreport.Report, *inventory.CredentialReport, error) {
	runCtx := ctx
	ctx, cancel := context.WithTimeoutCause(ctx, opts.ReportTimeout,
		&timeoutError{what: "report", op: "the credential report", limit: opts.ReportTimeout, flag: "--report-timeout"})
	defer cancel()
	sleep := func(d time.Duration) error {
		err := deps.sleep(ctx, d)
		if err != nil && runCtx.Err() == nil {
			err = context.Cause(ctx) // the report's own deadline
		}
		return err
	}
	// LimitExceeded: back off, 4x, 8x, 16x, 32x the poll interval (2 s to 16 s by
	// default, with jitter).
	backoff := func(n int) error { return sleep(jitter(4 * opts.ReportPoll << min(n, 3))) }
	poll := func(n int) error { return sleep(reportPoll(opts.ReportPoll, n)) }
	reused, first := false, true
	for regenerate := 0; ; regenerate++ {
		var generating time.Time // when a report generation was started (zero: complete)
		for attempt := 0; ; attempt++ {
			out, err := c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
			if err == nil {
				reused = first && out.State == types.ReportStateTypeComplete
				if out.State != types.ReportStateTypeComplete {
					generating = opts.Clock()
				}
				break
			}
			// LimitExceeded (409): too many accounts generating at once; not retried by the SDK.
			if errorCode(err) != "LimitExceeded" {
				return nil, nil, &opError{"iam:GenerateCredentialReport", reportCause(ctx, runCtx, err)}
			}
			if werr := backoff(attempt); werr != nil {
				return nil, nil, &opError{"iam:GenerateCredentialReport", fmt.Errorf("%w (last error: %v)", werr, err)}
			}
		}
		first = false
		if !generating.IsZero() {
			if w := deps.reports.head() - opts.Clock().Sub(generating); w > 0 {
				if werr := sleep(w); werr != nil {
					return nil, nil, &opError{"iam:GetCredentialReport", werr}
				}
			}
		}
		for attempt := 0; ; attempt++ {
			out, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
			if err == nil {
				if !generating.IsZero() {
					deps.reports.observe(opts.Clock().Sub(generating))
				}
				rep, perr := credreport.Parse(bytes.NewReader(out.Content))
				if perr != nil {
					return nil, nil, &opError{"iam:GetCredentialReport", fmt.Errorf("unreadable credential report: %w", perr)}
				}
				info := &inventory.CredentialReport{Reused: reused, FreshKeyData: opts.FreshKeyUsage}
				if out.GeneratedTime != nil {
					rep.GeneratedAt = out.GeneratedTime.UTC()
					info.GeneratedAt = rep.GeneratedAt
					info.AgeSeconds = int64(opts.Clock().Sub(rep.GeneratedAt) / time.Second)
				}
				return rep, info, nil
			}
			code := errorCode(err)
			if code == "ReportExpired" || (code == "ReportNotPresent" && attempt > 0) {
				// The report expired (or vanished) between generation and reading: generate
				// it again, twice at most, then give up with a gap.
				if regenerate < 2 {
					break // generate again
				}
			}
			if code != "ReportInProgress" && code != "ReportNotPresent" {
				return nil, nil, &opError{"iam:GetCredentialReport", reportCause(ctx, runCtx, err)}
			}
			if werr := poll(attempt); werr != nil {
				return nil, nil, &opError{"iam:GetCredentialReport", fmt.Errorf("%w (last error: %v)", werr, err)}
			}
		}
	}
}

// reportCause is err, or the report's deadline when that is what stopped the call.
func reportCause(ctx, runCtx context.Context, err error) error {
	if ctx.Err() != nil && runCtx.Err() == nil {
		return fmt.Errorf("%w (last error: %v)", context.Cause(ctx), err)
	}
	return err
}

// ---- bulk lists ----

func fetchAuthDetails(ctx context.Context, c iamAPI) (*authDetails, error) {
	out := &authDetails{}
	p := iam.NewGetAccountAuthorizationDetailsPaginator(c, &iam.GetAccountAuthorizationDetailsInput{
		Filter: []types.EntityType{types.EntityTypeUser, types.EntityTypeGroup, types.EntityTypeRole, types.EntityTypeLocalManagedPolicy},
	}, func(o *iam.GetAccountAuthorizationDetailsPaginatorOptions) {
		o.Limit = iamMaxItems
		o.StopOnDuplicateToken = true
	})
	tk := newTokens(failAuthDetails.op)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err == nil {
			err = tk.next(page.Marker)
		}
		if err != nil {
			return nil, err // a partial user list would look complete: drop it all
		}
		out.users = append(out.users, page.UserDetailList...)
		out.groups = append(out.groups, page.GroupDetailList...)
		out.roles = append(out.roles, page.RoleDetailList...)
		out.policies = append(out.policies, page.Policies...)
	}
	return out, nil
}

func fetchVirtualMFA(ctx context.Context, c iamAPI) (*virtualMFA, error) {
	v := &virtualMFA{bySerial: map[string]types.VirtualMFADevice{}, byUser: map[string][]types.VirtualMFADevice{}}
	p := iam.NewListVirtualMFADevicesPaginator(c, &iam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeAssigned},
		func(o *iam.ListVirtualMFADevicesPaginatorOptions) {
			o.Limit = iamMaxItems
			o.StopOnDuplicateToken = true
		})
	tk := newTokens(failVirtualMFA.op)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err == nil {
			err = tk.next(page.Marker)
		}
		if err != nil {
			return nil, err
		}
		for _, dev := range page.VirtualMFADevices {
			serial := aws.ToString(dev.SerialNumber)
			v.bySerial[serial] = dev
			userARN := ""
			if dev.User != nil {
				userARN = aws.ToString(dev.User.Arn)
			}
			if strings.HasSuffix(serial, ":mfa/root-account-mfa-device") || strings.HasSuffix(userARN, ":root") {
				dev := dev
				v.root = &dev
				continue
			}
			if userARN != "" {
				v.byUser[userARN] = append(v.byUser[userARN], dev)
			}
		}
	}
	return v, nil
}

func fetchPasswordPolicy(ctx context.Context, c iamAPI, gaps *gapList) (*inventory.PasswordPolicy, bool) {
	out, err := c.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	if err != nil {
		if errorCode(err) == "NoSuchEntity" {
			return nil, true // the account has no password policy
		}
		gaps.add(failPasswordPolicy, "", err, "")
		return nil, false
	}
	p := out.PasswordPolicy
	if p == nil {
		return nil, true
	}
	return &inventory.PasswordPolicy{
		MinimumPasswordLength:      int(aws.ToInt32(p.MinimumPasswordLength)),
		RequireSymbols:             p.RequireSymbols,
		RequireNumbers:             p.RequireNumbers,
		RequireUppercaseCharacters: p.RequireUppercaseCharacters,
		RequireLowercaseCharacters: p.RequireLowercaseCharacters,
		AllowUsersToChangePassword: p.AllowUsersToChangePassword,
		ExpirePasswords:            p.ExpirePasswords,
		MaxPasswordAge:             int(aws.ToInt32(p.MaxPasswordAge)),
		PasswordReusePrevention:    int(aws.ToInt32(p.PasswordReusePrevention)),
		HardExpiry:                 aws.ToBool(p.HardExpiry),
	}, true
}

func fetchServerCertificates(ctx context.Context, c iamAPI) ([]inventory.ServerCertificate, error) {
	out := []inventory.ServerCertificate{}
	p := iam.NewListServerCertificatesPaginator(c, &iam.ListServerCertificatesInput{},
		func(o *iam.ListServerCertificatesPaginatorOptions) {
			o.Limit = iamMaxItems
			o.StopOnDuplicateToken = true
		})
	tk := newTokens(failServerCerts.op)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err == nil {
			err = tk.next(page.Marker)
		}
		if err != nil {
			return nil, err
		}
		for _, m := range page.ServerCertificateMetadataList {
			out = append(out, inventory.ServerCertificate{
				Name:       aws.ToString(m.ServerCertificateName),
				ARN:        aws.ToString(m.Arn),
				UploadedAt: utc(m.UploadDate),
				Expiration: utc(m.Expiration),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// decodeDocument URL-decodes a policy document as IAM returns it.
func decodeDocument(s *string) string {
	raw := aws.ToString(s)
	if dec, err := url.QueryUnescape(raw); err == nil {
		return dec
	}
	return raw
}

func attached(in []types.AttachedPolicy) []inventory.AttachedPolicy {
	out := make([]inventory.AttachedPolicy, 0, len(in))
	for _, p := range in {
		out = append(out, inventory.AttachedPolicy{Name: aws.ToString(p.PolicyName), ARN: aws.ToString(p.PolicyArn)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out
}

func inline(in []types.PolicyDetail) []inventory.InlinePolicy {
	out := make([]inventory.InlinePolicy, 0, len(in))
	for _, p := range in {
		out = append(out, inventory.InlinePolicy{Name: aws.ToString(p.PolicyName), Document: decodeDocument(p.PolicyDocument)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func convertDetails(d *authDetails) ([]inventory.Group, []inventory.Role, []inventory.ManagedPolicy) {
	groups := make([]inventory.Group, 0, len(d.groups))
	for _, g := range d.groups {
		groups = append(groups, inventory.Group{
			Name: aws.ToString(g.GroupName), ARN: aws.ToString(g.Arn),
			AttachedPolicies: attached(g.AttachedManagedPolicies), InlinePolicies: inline(g.GroupPolicyList),
		})
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	roles := make([]inventory.Role, 0, len(d.roles))
	for _, r := range d.roles {
		role := inventory.Role{
			Name: aws.ToString(r.RoleName), ARN: aws.ToString(r.Arn), Path: aws.ToString(r.Path),
			CreatedAt:        utc(r.CreateDate),
			ServiceLinked:    strings.HasPrefix(aws.ToString(r.Path), "/aws-service-role/"),
			AttachedPolicies: attached(r.AttachedManagedPolicies), InlinePolicies: inline(r.RolePolicyList),
			TrustPolicy: decodeDocument(r.AssumeRolePolicyDocument),
		}
		if r.RoleLastUsed != nil {
			role.LastUsedAt = utcPtr(r.RoleLastUsed.LastUsedDate)
			role.LastUsedRegion = aws.ToString(r.RoleLastUsed.Region)
		}
		roles = append(roles, role)
	}
	sort.Slice(roles, func(i, j int) bool { return roles[i].Name < roles[j].Name })
	policies := make([]inventory.ManagedPolicy, 0, len(d.policies))
	for _, p := range d.policies {
		mp := inventory.ManagedPolicy{Name: aws.ToString(p.PolicyName), ARN: aws.ToString(p.Arn), AttachmentCount: int(aws.ToInt32(p.AttachmentCount))}
		if mp.Name == "" { // some endpoints leave it out; the ARN ends with it
			mp.Name = mp.ARN[strings.LastIndex(mp.ARN, "/")+1:]
		}
		for _, v := range p.PolicyVersionList {
			if v.IsDefaultVersion || aws.ToString(v.VersionId) == aws.ToString(p.DefaultVersionId) {
				mp.Document = decodeDocument(v.Document)
				break
			}
		}
		policies = append(policies, mp)
	}
	sort.Slice(policies, func(i, j int) bool { return policies[i].ARN < policies[j].ARN })
	return groups, roles, policies
}

// ---- users ----

type userSources struct {
	report  *credreport.Report // nil when the credential report failed
	reused  bool               // the report was reused: it may be up to 4 hours old
	details *authDetails       // nil when GetAccountAuthorizationDetails failed
	virtual *virtualMFA        // nil when ListVirtualMFADevices failed
	// mfa are the ListMFADevices answers asked before the report was read, by user
	// name (mfaPrefetch); used by the first pass only.
	mfa map[string]mfaListing
}

// mfaListing is one ListMFADevices answer.
type mfaListing struct {
	devices []types.MFADevice
	err     error
}

// mfaPrefetch asks ListMFADevices for the users of the assigned virtual MFA devices
// while the other bulk calls and the credential report's generation run: those users
// have MFA, so the report's row would ask for it anyway (userMFA), and the calls
// then fill the seconds the report takes instead of following them.
type mfaPrefetch struct {
	scheduled chan struct{} // closed when every listing is done
	mu        sync.Mutex
	listed    map[string]mfaListing
}

func newMFAPrefetch() *mfaPrefetch {
	return &mfaPrefetch{scheduled: make(chan struct{}), listed: map[string]mfaListing{}}
}

// start lists the devices of virtual's users (none when virtual is nil); call once.
func (p *mfaPrefetch) start(ctx context.Context, c iamAPI, virtual *virtualMFA) {
	var names []string
	if virtual != nil {
		seen := map[string]bool{}
		for _, dev := range virtual.bySerial {
			if name := assignedUser(dev); name != "" && !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
		sort.Strings(names)
	}
	go func() {
		defer close(p.scheduled)
		forEach(len(names), iamParallel, func(i int) {
			devices, err := listMFADevices(ctx, c, names[i])
			p.mu.Lock()
			p.listed[names[i]] = mfaListing{devices: devices, err: err}
			p.mu.Unlock()
		})
	}()
}

// assignedUser is the name of the IAM user a virtual MFA device is assigned to: its
// UserName, else the last part of its user ARN (arn:…:user/path/name); "" for the root
// user or none.
func assignedUser(dev types.VirtualMFADevice) string {
	if dev.User == nil {
		return ""
	}
	if n := aws.ToString(dev.User.UserName); n != "" {
		return n
	}
	a := aws.ToString(dev.User.Arn)
	i := strings.Index(a, ":user/")
	if i < 0 {
		return ""
	}
	return a[strings.LastIndex(a, "/")+1:]
}

// wait waits for every listing started.
func (p *mfaPrefetch) wait() { <-p.scheduled }

// reportUsers are the users of the report's rows.
func reportUsers(rep *credreport.Report) []inventory.User {
	var users []inventory.User
	for _, row := range rep.Users() {
		u := credreport.UserFromRow(row)
		u.AccessKeys = []inventory.AccessKey{}
		users = append(users, u)
	}
	return users
}

// baseUsers returns the account's users with what the bulk calls know of them. Without
// a credential report, or with a reused one, it also calls ListUsers: the list, if the
// details failed too, and each user's PasswordLastUsed, current (a reused report's may
// be hours old); lastUseKnown names the users whose PasswordLastUsed it read.
func baseUsers(ctx context.Context, c iamAPI, src userSources, gaps *gapList) (users []inventory.User, lastUseKnown map[string]bool) {
	lastUseKnown = map[string]bool{}
	switch {
	case src.details != nil:
		for _, u := range src.details.users {
			users = append(users, userFromDetail(u))
		}
	case src.report != nil && !src.reused:
		users = reportUsers(src.report)
	}
	if src.report != nil && !src.reused {
		return users, lastUseKnown
	}
	listed := map[string]types.User{}
	p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{}, func(o *iam.ListUsersPaginatorOptions) { o.Limit = iamMaxItems; o.StopOnDuplicateToken = true })
	tk := newTokens(failListUsers.op)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err == nil {
			err = tk.next(page.Marker)
		}
		if err != nil {
			switch {
			case src.details == nil && src.report != nil:
				// The reused report's rows are the only user list: users created or
				// deleted since it was generated may be missing or listed.
				gaps.add(failListUsers, "", err, "the user list comes from a reused credential report: users created or deleted since it was generated may be missing or still listed")
				return reportUsers(src.report), lastUseKnown
			case src.details == nil:
				gaps.add(failListUsers, "", err, "no user list could be read: every user is missing")
			}
			// With the details, each user's last sign-in is the report's, or is asked
			// with GetUser (or becomes a "password" gap of that user).
			return users, lastUseKnown
		}
		for _, u := range page.Users {
			listed[aws.ToString(u.UserName)] = u
		}
	}
	if src.details == nil {
		for _, u := range listed {
			users = append(users, inventory.User{Name: aws.ToString(u.UserName), ARN: aws.ToString(u.Arn), UserID: aws.ToString(u.UserId),
				Path: aws.ToString(u.Path), CreatedAt: utc(u.CreateDate), MFADevices: []inventory.MFADevice{}, AccessKeys: []inventory.AccessKey{},
				Groups: []string{}, AttachedPolicies: []inventory.AttachedPolicy{}, InlinePolicies: []inventory.InlinePolicy{}})
		}
	}
	for i := range users {
		if u, ok := listed[users[i].Name]; ok {
			users[i].PasswordLastUsed = utcPtr(u.PasswordLastUsed)
			lastUseKnown[users[i].Name] = true
		}
	}
	return users, lastUseKnown
}

func userFromDetail(u types.UserDetail) inventory.User {
	out := inventory.User{
		Name: aws.ToString(u.UserName), ARN: aws.ToString(u.Arn), UserID: aws.ToString(u.UserId), Path: aws.ToString(u.Path),
		CreatedAt:  utc(u.CreateDate),
		MFADevices: []inventory.MFADevice{}, AccessKeys: []inventory.AccessKey{},
		Groups:           append([]string{}, u.GroupList...),
		AttachedPolicies: attached(u.AttachedManagedPolicies), InlinePolicies: inline(u.UserPolicyList),
	}
	sort.Strings(out.Groups)
	if len(u.Tags) > 0 {
		out.Tags = make(map[string]string, len(u.Tags))
		for _, t := range u.Tags {
			out.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	if u.PermissionsBoundary != nil {
		out.PermissionsBoundary = aws.ToString(u.PermissionsBoundary.PermissionsBoundaryArn)
	}
	return out
}

// collectUsers completes each user with password, MFA and keys, calling per user
// only what the credential report cannot answer, or must not (trust): first with what
// trust decided before the CloudTrail events; then, when needEvents, with the events
// (waiting for them), reading again the parts of the users they name that the first
// pass did not read. It returns the users and the final trust.
func collectUsers(ctx context.Context, opts Options, c iamAPI, src userSources, trust reportTrust, needEvents bool,
	events func() accountEvents, gaps *gapList) ([]inventory.User, reportTrust) {
	users, lastUseKnown := baseUsers(ctx, c, src, gaps)
	rows := make([]*credreport.Row, len(users))
	fresh := make([]reportPart, len(users)) // parts read with per-user calls
	for i := range users {
		rows[i] = rowOf(src.report, users[i])
	}
	firstPass := false
	each := func(f func(i int)) {
		forEach(len(users), iamParallel, f) // each call owns users[i], rows[i], fresh[i]
	}
	input := func(i int) userInputs {
		in := userInputs{row: rows[i], virtual: src.virtual, lastUseKnown: lastUseKnown[users[i].Name], staleReport: src.report != nil}
		if l, ok := src.mfa[users[i].Name]; ok && firstPass {
			in.mfa = &l
		}
		if t, ok := trust.passwordSet[users[i].Name]; ok {
			in.passwordSetAt = &t
		}
		return in
	}
	firstPass = true
	each(func(i int) {
		users[i], fresh[i] = completeUser(ctx, opts, c, users[i], input(i), trust.reread(users[i].Name), 0, gaps)
	})
	// The second pass reads what CloudTrail shows changed: after the listings asked
	// before the report, maybe.
	firstPass = false
	if needEvents {
		ev := events()
		trust = trust.trustFromEvents(ev.events, opts.EventNames, ev.failed)
		each(func(i int) {
			want, done := trust.reread(users[i].Name), fresh[i]
			if want&partUser != 0 && rows[i] != nil {
				// Created (or deleted and created again) since the report: its row is
				// another user's.
				rows[i], want, done = nil, partsCredentials, 0
			}
			if want&^done&partsCredentials == 0 {
				return
			}
			// A part whose call failed in the first pass kept the row's data: it is
			// read again, and its first outcome replaced.
			for _, s := range (want &^ done & partsCredentials).sections() {
				gaps.drop(inventory.Section(s), users[i].Name)
			}
			users[i], fresh[i] = completeUser(ctx, opts, c, users[i], input(i), want, done, gaps)
		})
	}
	sort.SliceStable(users, func(i, j int) bool { return users[i].Name < users[j].Name })
	if users == nil {
		users = []inventory.User{}
	}
	return users, trust
}

// rowOf is the user's credential report row: nil when the report has none, or when
// the row's user_creation_time is not the user's creation date (the row is of a user
// of the same name deleted since).
func rowOf(rep *credreport.Report, u inventory.User) *credreport.Row {
	if rep == nil {
		return nil
	}
	r, ok := rep.User(u.Name)
	if !ok {
		return nil
	}
	if !u.CreatedAt.IsZero() && !r.UserCreationTime.IsZero() &&
		!u.CreatedAt.Truncate(time.Second).Equal(r.UserCreationTime.Truncate(time.Second)) {
		return nil
	}
	return &r
}

// userInputs is what the bulk calls know of one user.
type userInputs struct {
	row          *credreport.Row // the user's credential report row; nil when none
	virtual      *virtualMFA     // nil when ListVirtualMFADevices failed
	lastUseKnown bool            // PasswordLastUsed was read with ListUsers
	staleReport  bool            // there is a report, but without the user (newer than it)
	mfa          *mfaListing     // the user's ListMFADevices asked already (mfaPrefetch); nil: none
	// passwordSetAt is the last CreateLoginProfile / UpdateLoginProfile CloudTrail shows
	// for the user after a reused report; nil when none.
	passwordSetAt *time.Time
}

// completeUser fills in the user's password, MFA and keys: from the report row where
// it answers and reread does not name the part, else with per-user calls; the parts
// in done were read with per-user calls already and are kept. It returns the user and
// the parts now read with per-user calls. Every part it cannot learn becomes a Gap
// with Subject = the user's name, in the sections SectionPassword, SectionMFA and
// SectionAccessKeys.
func completeUser(ctx context.Context, opts Options, c iamAPI, u inventory.User, in userInputs, reread, done reportPart, gaps *gapList) (inventory.User, reportPart) {
	fresh := done
	if in.row != nil && u.CreatedAt.IsZero() {
		u.CreatedAt = in.row.UserCreationTime
	}
	if done&partPassword == 0 {
		var read bool
		u, read = userPassword(ctx, c, u, in, reread&partPassword != 0, gaps)
		if read {
			fresh |= partPassword
		}
	}
	if done&partMFA == 0 {
		var read bool
		u, read = userMFA(ctx, c, u, in, reread&partMFA != 0, gaps)
		if read {
			fresh |= partMFA
		}
	}
	if done&partKeys == 0 {
		var read bool
		u, read = userKeys(ctx, opts, c, u, in, reread&partKeys != 0, gaps)
		if read {
			fresh |= partKeys
		}
	}
	return u, fresh
}

// userPassword fills the console password: from the row, unless there is none or
// reread; read tells that GetLoginProfile was asked.
func userPassword(ctx context.Context, c iamAPI, u inventory.User, in userInputs, reread bool, gaps *gapList) (_ inventory.User, read bool) {
	row := in.row
	if row != nil && !reread {
		u.PasswordEnabled = row.PasswordEnabled
		if !in.lastUseKnown { // ListUsers' (current) last use is kept
			u.PasswordLastUsed = row.PasswordLastUsed
		}
		u.PasswordLastChanged = row.PasswordLastChanged
		return u, false
	}
	u.PasswordEnabled, u.PasswordLastChanged = false, nil
	return passwordWithoutReport(ctx, c, u, in, gaps), true
}

// userMFA fills the MFA devices: the virtual ones from the bulk list, and
// ListMFADevices when the row says MFA is on (to learn hardware and FIDO devices),
// there is no row, or reread. A device list read now decides whether MFA is on; the
// row's mfa_active counts only when the list could not be read and the row is
// trusted. listed tells that ListMFADevices answered.
func userMFA(ctx context.Context, c iamAPI, u inventory.User, in userInputs, reread bool, gaps *gapList) (_ inventory.User, listed bool) {
	row, virtual := in.row, in.virtual
	var devices []inventory.MFADevice
	seen := map[string]bool{}
	if virtual != nil {
		for _, dev := range virtual.byUser[u.ARN] {
			serial := aws.ToString(dev.SerialNumber)
			seen[serial] = true
			devices = append(devices, inventory.MFADevice{Serial: serial, Type: inventory.MFAVirtual, EnabledAt: utcPtr(dev.EnableDate)})
		}
	}
	listFailed := false
	if row == nil || row.MFAActive || reread {
		var got []types.MFADevice
		var err error
		if in.mfa != nil {
			got, err = in.mfa.devices, in.mfa.err
		} else {
			got, err = listMFADevices(ctx, c, u.Name)
		}
		if err != nil {
			listFailed = true
			note := "the user's MFA devices are unknown"
			if reread && row != nil {
				note = "the user's MFA devices are unknown: they changed after the credential report, which is not used for them"
			}
			gaps.add(failListMFA, u.Name, err, note)
		}
		for _, dev := range got {
			serial := aws.ToString(dev.SerialNumber)
			if seen[serial] {
				continue
			}
			seen[serial] = true
			devices = append(devices, inventory.MFADevice{Serial: serial, Type: classifyMFA(serial, virtual), EnabledAt: utcPtr(dev.EnableDate)})
		}
		listed = err == nil
	}
	sort.Slice(devices, func(i, j int) bool { return devices[i].Serial < devices[j].Serial })
	u.MFADevices = append([]inventory.MFADevice{}, devices...)
	u.MFAActive = len(devices) > 0 || (listFailed && !reread && row != nil && row.MFAActive)
	return u, listed
}

// userKeys fills the access keys: ListAccessKeys when the row shows a key, there is
// no row, or reread. listed tells that ListAccessKeys answered.
func userKeys(ctx context.Context, opts Options, c iamAPI, u inventory.User, in userInputs, reread bool, gaps *gapList) (_ inventory.User, listed bool) {
	name, row := u.Name, in.row
	u.AccessKeys = []inventory.AccessKey{}
	if row != nil && !reread && !row.AccessKeys[0].Present() && !row.AccessKeys[1].Present() {
		return u, false
	}
	keys, err := listAccessKeys(ctx, c, name)
	if err != nil {
		f, note := failListKeys, "the user's access keys are missing"
		switch {
		case reread && row != nil:
			// The report's key slots are what changed: they are not kept.
			note = "the user's access keys are unknown: they changed after the credential report, which is not used for them"
		default:
			u.AccessKeys = keysFromReport(row)
			if len(u.AccessKeys) > 0 {
				f, note = failListKeyIDs, "the user's access key ids are unknown: the credential report's key slots (status, creation, last use) are kept"
			}
		}
		gaps.add(f, name, err, note)
		return u, false
	}
	for _, m := range matchKeys(keys, row) {
		ak := inventory.AccessKey{ID: aws.ToString(m.meta.AccessKeyId), Status: string(m.meta.Status), CreatedAt: utc(m.meta.CreateDate), Slot: m.slotNo}
		// The report's slot answers, unless --fresh-key-usage, or the slot says the key was
		// used but not with which service (seen with emulators; AWS fills both): then
		// GetAccessKeyLastUsed is asked, so the service column is never silently N/A.
		reportComplete := m.slot != nil && (m.slot.LastUsedDate == nil || m.slot.LastUsedService != "")
		if reportComplete && !opts.FreshKeyUsage {
			ak.LastUsedAt = m.slot.LastUsedDate
			ak.LastUsedService = m.slot.LastUsedService
			ak.LastUsedRegion = m.slot.LastUsedRegion
			ak.LastUsedSource = credreport.LastUsedSourceReport
		} else {
			out, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: m.meta.AccessKeyId})
			switch {
			case err == nil && out.AccessKeyLastUsed != nil:
				lu := out.AccessKeyLastUsed
				ak.LastUsedAt = utcPtr(lu.LastUsedDate)
				ak.LastUsedService = sentinelToEmpty(aws.ToString(lu.ServiceName))
				ak.LastUsedRegion = sentinelToEmpty(aws.ToString(lu.Region))
				ak.LastUsedSource = LastUsedSourceAPI
			case err == nil:
				ak.LastUsedSource = LastUsedSourceAPI
			case m.slot != nil: // fresh data failed: the report's is better than none
				ak.LastUsedAt = m.slot.LastUsedDate
				ak.LastUsedService = m.slot.LastUsedService
				ak.LastUsedRegion = m.slot.LastUsedRegion
				ak.LastUsedSource = credreport.LastUsedSourceReport
				gaps.add(failKeyLastUsedFresh, name, err, "fresh last use of key "+maskKey(ak.ID)+" is missing; the credential report's is used")
			default:
				// LastUsedSource stays "": last use unknown (not "never used").
				gaps.add(failKeyLastUsed, name, err, "last use of key "+maskKey(ak.ID)+" is unknown")
			}
		}
		u.AccessKeys = append(u.AccessKeys, ak)
	}
	sort.SliceStable(u.AccessKeys, func(i, j int) bool {
		a, b := u.AccessKeys[i], u.AccessKeys[j]
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.ID < b.ID
	})
	return u, true
}

// passwordWithoutReport learns the console password of a user the credential report
// does not answer for (no report, a reused report older than the user, or a password
// changed since a reused report): GetLoginProfile says whether there is one and when
// it was created, and GetUser its last use when ListUsers did not. What stays unknown
// is a SectionPassword gap of the user: a nil PasswordLastUsed would otherwise read as
// "never signed in".
func passwordWithoutReport(ctx context.Context, c iamAPI, u inventory.User, in userInputs, gaps *gapList) inventory.User {
	name := u.Name
	out, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(name)})
	switch {
	case err == nil:
		u.PasswordEnabled = true
		u.PasswordLastChanged = passwordChanged(in, out.LoginProfile)
	case errorCode(err) == "NoSuchEntity":
		u.PasswordEnabled = false
		return u // no password: no last use to learn
	default:
		note := "whether the user has a console password, and its last sign-in, are unknown"
		if in.row != nil {
			note += ": it changed after the credential report, which is not used for it"
		}
		gaps.add(failLoginProfile, name, err, note)
		return u
	}
	if in.lastUseKnown {
		return u
	}
	got, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
	if err == nil && got.User != nil {
		u.PasswordLastUsed = utcPtr(got.User.PasswordLastUsed)
		return u
	}
	note := "last console sign-in unknown"
	if in.staleReport && in.row == nil {
		note = "last console sign-in unknown: the user is newer than the credential report"
	}
	if err == nil {
		err = errors.New("GetUser returned no user")
	}
	gaps.add(failGetUser, name, err, note)
	return u
}

// passwordChanged is when the user's password was last set, as far as the audit can
// tell without a current report: the latest of the row's password_last_changed (when
// the row had a password), the login profile's creation and the last
// CreateLoginProfile / UpdateLoginProfile event CloudTrail shows after the report.
// nil when none is known.
func passwordChanged(in userInputs, lp *types.LoginProfile) *time.Time {
	var latest *time.Time
	consider := func(t *time.Time) {
		if t != nil && !t.IsZero() && (latest == nil || t.After(*latest)) {
			v := t.UTC()
			latest = &v
		}
	}
	if in.row != nil && in.row.PasswordEnabled {
		consider(in.row.PasswordLastChanged)
	}
	if lp != nil {
		consider(lp.CreateDate)
	}
	consider(in.passwordSetAt)
	return latest
}

// keysFromReport describes the keys of the row's present slots, without ids (the
// report has none), when ListAccessKeys could not: the report's status, creation and
// last use are better than no keys at all (which would read as "a user without keys").
func keysFromReport(row *credreport.Row) []inventory.AccessKey {
	keys := []inventory.AccessKey{}
	if row == nil {
		return keys
	}
	for i, slot := range row.AccessKeys {
		if slot.Present() {
			keys = append(keys, credreport.KeyFromSlot(slot, i+1, ""))
		}
	}
	return keys
}

// maskKey shows a key id's first 4 and last 4 characters, for messages.
func maskKey(id string) string {
	if len(id) <= 8 {
		return id
	}
	return id[:4] + "…" + id[len(id)-4:]
}

func sentinelToEmpty(s string) string {
	switch s {
	case "N/A", "no_information", "not_supported":
		return ""
	}
	return s
}

func listMFADevices(ctx context.Context, c iamAPI, user string) ([]types.MFADevice, error) {
	var out []types.MFADevice
	p := iam.NewListMFADevicesPaginator(c, &iam.ListMFADevicesInput{UserName: aws.String(user)},
		func(o *iam.ListMFADevicesPaginatorOptions) { o.StopOnDuplicateToken = true })
	tk := newTokens(failListMFA.op)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err == nil {
			err = tk.next(page.Marker)
		}
		if err != nil {
			return out, err
		}
		out = append(out, page.MFADevices...)
	}
	return out, nil
}

func listAccessKeys(ctx context.Context, c iamAPI, user string) ([]types.AccessKeyMetadata, error) {
	var out []types.AccessKeyMetadata
	p := iam.NewListAccessKeysPaginator(c, &iam.ListAccessKeysInput{UserName: aws.String(user)},
		func(o *iam.ListAccessKeysPaginatorOptions) { o.StopOnDuplicateToken = true })
	tk := newTokens(failListKeys.op)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err == nil {
			err = tk.next(page.Marker)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, page.AccessKeyMetadata...)
	}
	return out, nil
}

// classifyMFA implements seed-contract defect 2: a device listed by
// ListVirtualMFADevices, or with an ":mfa/" ARN serial, is Virtual; a FIDO key
// (":u2f/" serial), a hardware TOTP token (plain serial like GAHT12345678), or
// anything else is Hardware.
func classifyMFA(serial string, virtual *virtualMFA) string {
	if virtual != nil {
		if _, ok := virtual.bySerial[serial]; ok {
			return inventory.MFAVirtual
		}
	}
	if strings.HasPrefix(serial, "arn:") && strings.Contains(serial, ":mfa/") {
		return inventory.MFAVirtual
	}
	return inventory.MFAHardware
}

// keyMatch pairs a listed key with its credential report slot (nil when none) and
// that slot's number (1 or 2; 0 when none).
type keyMatch struct {
	meta   types.AccessKeyMetadata
	slot   *credreport.KeySlot
	slotNo int
}

// matchKeys matches each key to the report slot whose last_rotated equals the key's
// CreateDate to the second, keeping the slot's number (a user whose key 1 was
// deleted has its key in slot 2). A slot without last_rotated (AWS leaves it N/A for
// some inactive keys) is matched by elimination: when exactly one such slot and
// exactly one inactive listed key remain. Other keys (created after the report, or
// rotated) get a nil slot.
func matchKeys(keys []types.AccessKeyMetadata, row *credreport.Row) []keyMatch {
	out := make([]keyMatch, 0, len(keys))
	used := [2]bool{} // the report has two key slots per user
	for _, k := range keys {
		m := keyMatch{meta: k}
		if row != nil && k.CreateDate != nil {
			created := k.CreateDate.UTC().Truncate(time.Second)
			for i := range row.AccessKeys {
				s := row.AccessKeys[i]
				if used[i] || s.LastRotated == nil || !s.LastRotated.Truncate(time.Second).Equal(created) {
					continue
				}
				used[i] = true
				slot := s
				m.slot, m.slotNo = &slot, i+1
				break
			}
		}
		out = append(out, m)
	}
	if row == nil {
		return out
	}
	undated, inactive := -1, -1
	for i, s := range row.AccessKeys {
		if !used[i] && s.Present() && s.LastRotated == nil && !s.Active {
			if undated >= 0 {
				return out // two such slots: no way to tell them apart
			}
			undated = i
		}
	}
	for j, m := range out {
		if m.slot == nil && m.meta.Status != types.StatusTypeActive {
			if inactive >= 0 {
				return out
			}
			inactive = j
		}
	}
	if undated >= 0 && inactive >= 0 {
		slot := row.AccessKeys[undated]
		out[inactive].slot, out[inactive].slotNo = &slot, undated+1
	}
	return out
}

// ---- root ----

// buildRoot describes the root user from the report's <root_account> row, the
// account summary and the virtual MFA list. Root MFA type: Virtual when a root
// virtual device is listed, else Hardware when MFA is on, else None. With a reused
// report, the account summary (read now) decides whether root MFA is on and whether
// root keys exist: the row's may predate a change.
func buildRoot(partition, accountID string, rep *credreport.Report, age reportAge, summary map[string]int32, summaryOK bool, virtual *virtualMFA, gaps *gapList) *inventory.Root {
	reused := age.reused
	var root *inventory.Root
	var row credreport.Row
	haveRow := false
	if rep != nil {
		row, haveRow = rep.Root()
	}
	switch {
	case haveRow:
		root = credreport.RootFromRow(row)
		switch {
		case reused && len(age.rootKeyEvents) > 0:
			root.AccessKeys = rootKeysChanged(summary, summaryOK, accountID, age.rootKeyEvents, gaps)
		case reused && summaryOK:
			root.AccessKeys = currentRootKeys(root.AccessKeys, summary["AccountAccessKeysPresent"] > 0, accountID, gaps)
		}
	case summaryOK:
		// Without the report's row, whether the root has a password is unknown: the
		// summary tells MFA and access keys only.
		root = &inventory.Root{ARN: fmt.Sprintf("arn:%s:iam::%s:root", partition, accountID), AccessKeys: []inventory.RootKey{},
			Credentials: inventory.RootCredentialsUnknown}
		note := "no <root_account> row in the credential report: root password and key last use are unknown"
		if summary["AccountAccessKeysPresent"] > 0 {
			// Reported as an active key: the summary says one exists but not its status.
			root.AccessKeys = append(root.AccessKeys, inventory.RootKey{Slot: 1, Active: true})
			root.Credentials = inventory.RootCredentialsPresent
			note += "; GetAccountSummary says the root user has an access key, whose status is unknown (counted as active)"
		}
		gaps.addGap(noteGap(accountID, inventory.SectionRoot, []inventory.Field{inventory.FieldRoot}, note))
	default:
		gaps.addGap(noteGap(accountID, inventory.SectionRoot, []inventory.Field{inventory.FieldRoot}, "neither the credential report nor GetAccountSummary could be read: the root user is unknown"))
		return nil
	}
	mfaOn := (haveRow && row.MFAActive) || (summaryOK && summary["AccountMFAEnabled"] > 0)
	if reused && summaryOK {
		mfaOn = summary["AccountMFAEnabled"] > 0
	}
	switch {
	case virtual != nil && virtual.root != nil:
		root.MFAActive, root.MFAType = true, inventory.MFAVirtual
	case mfaOn && virtual != nil:
		root.MFAActive, root.MFAType = true, inventory.MFAHardware
	case mfaOn:
		root.MFAActive, root.MFAType = true, "" // type unknown: ListVirtualMFADevices failed (gap recorded)
	default:
		root.MFAActive, root.MFAType = false, inventory.MFANone
	}
	if root.MFAActive {
		root.Credentials = inventory.RootCredentialsPresent // an MFA device is a root credential
	}
	return root
}

// reportAge is what buildRoot needs to know of a report's age: whether it was reused,
// and the CloudTrail events since it of the root user changing its own keys.
type reportAge struct {
	reused        bool
	rootKeyEvents []string
}

// currentRootKeys reconciles a reused report's root key slots with GetAccountSummary's
// AccountAccessKeysPresent (read now): slots of keys deleted since are dropped; a key
// created since (none in the report) is counted as active, its status unknown, as
// when there is no report row.
func currentRootKeys(keys []inventory.RootKey, present bool, accountID string, gaps *gapList) []inventory.RootKey {
	switch {
	case !present:
		return []inventory.RootKey{}
	case len(keys) == 0:
		gaps.addGap(noteGap(accountID, inventory.SectionRoot, []inventory.Field{inventory.FieldRoot},
			"GetAccountSummary says the root user has an access key the reused credential report does not show (created since): its status is unknown (counted as active)"))
		return []inventory.RootKey{{Slot: 1, Active: true}}
	}
	return keys
}

// rootKeysChanged replaces a reused report's root key slots when CloudTrail shows the
// root user changed its own keys since (events): the slots are not used; the account
// summary says whether a key exists (counted as active, its status unknown), and the
// root gap sends the root checks to it.
func rootKeysChanged(summary map[string]int32, summaryOK bool, accountID string, events []string, gaps *gapList) []inventory.RootKey {
	note := "the root user's access keys changed after the reused credential report (" + strings.Join(events, ", ") + "): its key slots are not used"
	keys := []inventory.RootKey{}
	switch {
	case !summaryOK:
		note += "; GetAccountSummary failed: the root user's keys are unknown"
	case summary["AccountAccessKeysPresent"] > 0:
		keys = append(keys, inventory.RootKey{Slot: 1, Active: true})
		note += "; GetAccountSummary says the root user has an access key, whose status is unknown (counted as active)"
	default:
		note += "; GetAccountSummary says the root user has no access key"
	}
	gaps.addGap(noteGap(accountID, inventory.SectionRoot, []inventory.Field{inventory.FieldRoot}, note))
	return keys
}
