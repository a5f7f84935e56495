// Package collect gathers the IAM inventory of every account of an AWS Organization
// through the AWS SDK for Go v2: it enumerates the accounts with Organizations,
// assumes the audit role once per account, and collects each account in bulk
// (credential report, GetAccountAuthorizationDetails, ListVirtualMFADevices …,
// see docs and docs/aws-facts.md "Bulk approach") with its own rate limits, its own
// retryers and per-call counting. Every failed call becomes an inventory.Gap; an
// error loses only the section it touched.
package collect

import (
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// DefaultEventNames are the CloudTrail events looked up: the seed's (DeleteUser,
// DeleteAccessKey, DeleteLoginProfile, CreateAccessKey, CreateUser, ConsoleLogin) and
// the remediation events users track (docs/seed-contract.md). The first ten are every
// call that changes what a credential report row says (partsByEvent): they name the
// users a reused report must not answer for (docs/checks.md "Credential report
// staleness"); UpdateLoginProfile is there for that alone.
var DefaultEventNames = []string{"CreateUser", "DeleteUser", "CreateAccessKey", "DeleteAccessKey", "UpdateAccessKey",
	"DeleteLoginProfile", "CreateLoginProfile", "UpdateLoginProfile", "EnableMFADevice", "DeactivateMFADevice",
	"PutUserPolicy", "DeleteUserPolicy", "ConsoleLogin"}

// Options configure a collection run.
type Options struct {
	Role            string   // role name to assume in each account
	ExternalID      string   // sts:ExternalId for the AssumeRole call, if the role's trust requires one
	SessionName     string   // default "iamaudit"
	Days            int      // CloudTrail window, default 90
	Accounts        []string // only these account ids (empty: all)
	ExcludeAccounts []string
	OUs             []string // only accounts under these OU ids (recursively)
	Concurrency     int      // accounts in parallel; 0: DefaultConcurrency() (derived, see maxConcurrency)
	// FreshKeyUsage calls GetAccessKeyLastUsed per key instead of trusting the
	// (up to 4 h stale) credential report.
	FreshKeyUsage bool
	EventNames    []string // default: DefaultEventNames
	Clock         func() time.Time
	// window is the run's CloudTrail window, set once by the run so that every
	// account is queried over the window the inventory records.
	window struct{ start, end time.Time }
	// Progress is called from worker goroutines; it must be cheap; may be nil.
	Progress func(ProgressEvent)
	// UsersInFlight bounds the users of the accounts being collected and not yet
	// handed over (default 50,000, about 600 MB: measured at ~12 KB per user in
	// flight); an account waits for its share (GetAccountSummary's Users) before its
	// users are read. Accounts run at once up to Concurrency and this budget.
	UsersInFlight int
	// Started, when set, is called once before the Organization's accounts are
	// listed, with the run's head as it is then (run id, Organization, caller,
	// partition, window; no accounts, no gaps of enumeration; a copy). It lets Stream
	// receive accounts while enumeration goes on: with Started set, each account is
	// handed over as soon as it is collected, before Selected; without it, only once
	// Selected was called.
	Started func(head *inventory.Inventory)
	// Selected, when set, is called once with the run's head (the inventory so far:
	// run id, Organization, caller, partition, window, the gaps of enumeration; no
	// accounts; a copy) and the accounts the run will audit (after enumeration and
	// selection); before the first account is handed to Stream unless Started is set.
	// It is called on the run's goroutine, not Stream's.
	Selected func(head *inventory.Inventory, accounts []inventory.Account)
	// Stream, when set, receives each account as soon as it is collected (after its
	// AccountDone progress event; see Started and Selected for when the first one
	// comes), one at a time on one goroutine, in the order they finish; the account
	// it returns takes its place in the returned Inventory. A streamed run writes the
	// account and returns what it keeps of it (its summary, without users and
	// events), so that memory is bounded by the accounts in flight.
	Stream func(inventory.Account) inventory.Account
	// Limits in requests per second, per account and API family; zero selects the
	// defaults (see withDefaults for where each number comes from).
	IAMRate, EventsRate, OrgRate float64
	// ReportPoll is the interval between GetCredentialReport polls while the report
	// is being generated (default 0.5 s; slower after twenty polls: reportPoll);
	// LimitExceeded backs off from four times it.
	ReportPoll time.Duration

	// Version is the tool version written into the inventory.
	Version string
	// MaxAttempts and MaxBackoff tune the SDK retryer of every client (defaults 10 and
	// 20 s). Tests lower them against endpoints that answer 5xx on purpose.
	MaxAttempts int
	MaxBackoff  time.Duration
	// ReportTimeout bounds the wait for a credential report (default 5 min); past it
	// the account falls back to per-user calls.
	ReportTimeout time.Duration
	// Deadlines (deadline.go, docs/aws-facts.md "Deadlines"): AttemptTimeout bounds one
	// HTTP request and its answer (default 30 s; retried), CallTimeout one call with
	// its retries (default 3 min; then a gap), AccountTimeout the whole audit of one
	// account (default 1 h; then what is missing is a gap of the account).
	AttemptTimeout, CallTimeout, AccountTimeout time.Duration
	// WaitNotice is how long a call or a credential report wait lasts before the
	// progress says the run is waiting for it (default 10 s).
	WaitNotice time.Duration
	// Profile names the AWS profile the credentials come from, for messages ("aws sso
	// login --profile …"); empty: the default chain.
	Profile string
}

// ProgressKind tells what a ProgressEvent reports.
type ProgressKind int

// Progress event kinds.
const (
	AccountStarted ProgressKind = iota + 1
	PhaseStarted
	AccountDone
	// CallWaiting: a call (or a credential report wait) of the account has lasted
	// WaitNotice or more; sent again every tick while it lasts (Waiting.ID is the same).
	CallWaiting
)

func (k ProgressKind) String() string {
	switch k {
	case AccountStarted:
		return "account_started"
	case PhaseStarted:
		return "phase_started"
	case AccountDone:
		return "account_done"
	case CallWaiting:
		return "call_waiting"
	}
	return "unknown"
}

// ProgressEvent reports the progress of one account.
type ProgressEvent struct {
	Kind    ProgressKind
	Account inventory.Account // ID and Name (and, on AccountDone, the whole result)
	Phase   string            // "iam", "cloudtrail" (PhaseStarted)
	// Err is set on AccountDone when the account could not be audited.
	Err error
	// Done and Total count accounts finished so far and accounts to audit.
	Done, Total int
	// Waiting is what the account is waiting for (CallWaiting).
	Waiting *Waiting
}

const (
	// defaultUsersInFlight: 1000 accounts × 50 users run all at once; 1000 × 1000
	// take turns, 50 accounts at a time, within about 600 MB.
	defaultUsersInFlight = 50_000
	defaultSessionName   = "iamaudit"
	defaultDays          = 90 // the most CloudTrail event history holds (docs/aws-facts.md)
	// Peer figure 10–20 requests/s per account for IAM (Steampipe uses 15/s; IAM
	// publishes no rate): docs/aws-facts.md. 18/s, near the top of the range: in an
	// account with many users holding keys or MFA the per-user calls after the
	// credential report are the account's slowest phase, and at 15/s a 100 × 200
	// Organization takes ~1.6 × its floor (docs/bench.md); at exactly the server's
	// 20/s, arrival jitter alone gets calls throttled. IAM's buckets are the
	// account's, shared with whatever else runs in it: a throttled answer is retried
	// with backoff (never a gap), and --iam-rate lowers the pace for a busy account.
	defaultIAMRate = 18
	// LookupEvents: 2 requests/s per account per Region, documented by AWS.
	defaultEventsRate = 2
	// Organizations publishes no rate; its limits are per organization (shared by all
	// our workers), so stay well below the IAM figure.
	defaultOrgRate = 4
	// Report generation takes 5–10 s (peer figure): polls come every half second for
	// the first 10 s, then slower (reportPoll), so a report is read within about half
	// a second of being ready, and each poll still waits for the account's IAM limiter.
	defaultReportPoll  = 500 * time.Millisecond
	defaultMaxAttempts = 10               // peers use 9–25 with ratelimit.None (docs/aws-facts.md)
	defaultMaxBackoff  = 20 * time.Second // the SDK standard retryer's own cap (docs/aws-facts.md)
	// A report takes 5–10 s (peer figure); with many accounts at once LimitExceeded
	// and queueing stretch that to minutes; past 5 min the account falls back to
	// per-user calls rather than holding the run.
	defaultReportWait = 5 * time.Minute
)

func (o Options) withDefaults() Options {
	if o.UsersInFlight <= 0 {
		o.UsersInFlight = defaultUsersInFlight
	}
	if o.SessionName == "" {
		o.SessionName = defaultSessionName
	}
	if o.Days <= 0 {
		o.Days = defaultDays
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency()
	}
	if len(o.EventNames) == 0 {
		o.EventNames = DefaultEventNames
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.IAMRate <= 0 {
		o.IAMRate = defaultIAMRate
	}
	if o.EventsRate <= 0 {
		o.EventsRate = defaultEventsRate
	}
	if o.OrgRate <= 0 {
		o.OrgRate = defaultOrgRate
	}
	if o.ReportPoll <= 0 {
		o.ReportPoll = defaultReportPoll
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = defaultMaxAttempts
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = defaultMaxBackoff
	}
	if o.ReportTimeout <= 0 {
		o.ReportTimeout = defaultReportWait
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = defaultAttemptTimeout
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = defaultCallTimeout
	}
	if o.AccountTimeout <= 0 {
		o.AccountTimeout = defaultAccountTimeout
	}
	if o.WaitNotice <= 0 {
		o.WaitNotice = defaultWaitNotice
	}
	return o
}

func (o Options) progress(e ProgressEvent) {
	if o.Progress != nil {
		o.Progress(e)
	}
}
