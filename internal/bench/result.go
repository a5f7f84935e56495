package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// Result is one benchmark run; its JSON field names are stable (docs/bench.md).
type Result struct {
	Run              int    `json:"run"` // 1-based, of --runs
	Accounts         int    `json:"accounts"`
	UsersPerAccount  int    `json:"users_per_account"`
	EventsPerAccount int    `json:"events_per_account"`
	Profile          string `json:"profile"`
	Concurrency      int    `json:"concurrency,omitempty"` // 0: the audit's default
	// AuditedAccounts counts every account of the Organization (the management
	// account included); Users every user in them.
	AuditedAccounts int     `json:"audited_accounts"`
	Users           int     `json:"users"`
	ExitCode        int     `json:"exit_code"` // the audit's: 0, or 3 (incomplete)
	WallSeconds     float64 `json:"wall_seconds"`
	FloorSeconds    float64 `json:"floor_seconds"`
	// Ratio is wall / floor; null when the profile has no floor (fast: nothing to wait for).
	Ratio        *float64   `json:"ratio"`
	Floor        FloorTerms `json:"floor"`
	SetupSeconds float64    `json:"setup_seconds"` // generation + sandbox start
	// CallsPerMinutePerAccount are the audit's calls per account per minute of wall time.
	CallsPerMinutePerAccount float64 `json:"calls_per_minute_per_account"`
	Throttles                int64   `json:"throttles"`
	Retries                  int64   `json:"retries"`
	UncountedRequests        int64   `json:"uncounted_requests"`
	PeakRSSKiB               int64   `json:"peak_rss_kib"`
	CPUSeconds               float64 `json:"cpu_seconds"` // user + system CPU of the audit process
	// SandboxCPUSeconds is the CPU the bench process (the sandbox serving the audit)
	// spent while the audit ran: on a machine of few cores it is taken from the audit.
	SandboxCPUSeconds   float64 `json:"sandbox_cpu_seconds"`
	FailedAccounts      int     `json:"failed_accounts"`
	MicrosecondsPerUser float64 `json:"us_per_user"`
	// Calls by operation ("iam:ListAccessKeys"), over the whole Organization.
	Calls map[string]OpCalls `json:"calls"`
	// Machine is the machine the run was measured on, and what else took its CPU.
	Machine Machine `json:"machine"`
}

// FloorTerms are the floor's parts, in seconds.
type FloorTerms struct {
	Enumeration float64 `json:"enumeration_seconds"`
	IAM         float64 `json:"slowest_account_iam_seconds"`
	Events      float64 `json:"slowest_account_events_seconds"`
	Report      float64 `json:"slowest_account_report_seconds"`
	Chain       float64 `json:"slowest_account_chain_seconds"`
}

// OpCalls are one operation's calls: what the audit counted (its attempts), what the
// sandbox received, the minimum the floor assumes, and the sandbox's throttled answers.
type OpCalls struct {
	Audit     int   `json:"audit"`
	Sandbox   int64 `json:"sandbox"`
	Minimum   int   `json:"minimum"`
	Throttled int64 `json:"throttled,omitempty"`
}

// retryableCodes are the error codes (besides throttling) the SDK retries: the 5xx
// answers the sandbox can give (faults; none in the profiles).
var retryableCodes = []string{"InternalFailure", "InternalError", "ServiceFailure", "ServiceException",
	"InternalServerError", "InternalException", "ServiceUnavailable", "ServiceUnavailableException"}

func newResult(o Options, accounts []scenario.Account, shapes []Account, doc *runDoc, st sandbox.Stats, c childRun, setup time.Duration) *Result {
	r := &Result{
		Accounts: o.Accounts, UsersPerAccount: o.Users, EventsPerAccount: o.Events, Profile: o.Profile.Name,
		Concurrency: o.Concurrency, AuditedAccounts: len(accounts), ExitCode: c.exit,
		WallSeconds: c.wall.Seconds(), SetupSeconds: setup.Seconds(), PeakRSSKiB: c.maxRSSKiB, CPUSeconds: c.cpu.Seconds(),
		SandboxCPUSeconds: c.sandboxCPU.Seconds(),
		Throttles:         st.ThrottleTotal, Calls: map[string]OpCalls{},
	}
	for _, a := range shapes {
		r.Users += a.Users
		for op, n := range MinCalls(a, eventNames) {
			oc := r.Calls[op]
			oc.Minimum += n
			r.Calls[op] = oc
		}
	}
	for op, n := range EnumerationCalls(len(shapes)) {
		oc := r.Calls[op]
		oc.Minimum += n
		r.Calls[op] = oc
	}
	f := Organization(shapes, eventNames, o.Profile.Limits())
	r.FloorSeconds = f.Total.Seconds()
	r.Floor = FloorTerms{Enumeration: f.Enumeration.Seconds(), IAM: f.Slowest.IAM.Seconds(),
		Events: f.Slowest.Events.Seconds(), Report: f.Slowest.Report.Seconds(), Chain: f.Slowest.Chain.Seconds()}
	if f.Total > 0 {
		ratio := c.wall.Seconds() / f.Total.Seconds()
		r.Ratio = &ratio
	}
	total := 0
	seen := map[string]bool{}
	for _, a := range doc.Accounts {
		seen[a.ID] = true
		if failed(a.Status) {
			r.FailedAccounts++
		}
		for op, n := range a.APICalls {
			oc := r.Calls[op]
			oc.Audit += n
			r.Calls[op] = oc
			total += n
		}
	}
	for _, a := range accounts { // an account the run does not list was not audited
		if !seen[a.ID] {
			r.FailedAccounts++
		}
	}
	for _, byOp := range st.Calls {
		for op, n := range byOp {
			oc := r.Calls[op]
			oc.Sandbox += n
			r.Calls[op] = oc
		}
	}
	for _, byOp := range st.Throttles {
		for op, n := range byOp {
			oc := r.Calls[op]
			oc.Throttled += n
			r.Calls[op] = oc
		}
	}
	for _, oc := range r.Calls {
		if oc.Audit > 0 {
			r.UncountedRequests += oc.Sandbox - int64(oc.Audit)
		}
	}
	r.Retries = st.ThrottleTotal
	for _, code := range retryableCodes {
		r.Retries += st.Errors[code]
	}
	if minutes := c.wall.Minutes(); minutes > 0 && len(accounts) > 0 {
		r.CallsPerMinutePerAccount = float64(total) / float64(len(accounts)) / minutes
	}
	if r.Users > 0 {
		r.MicrosecondsPerUser = float64(c.wall.Microseconds()) / float64(r.Users)
	}
	return r
}

// Line is the run's one-line summary.
func (r *Result) Line() string {
	ratio := "-"
	if r.Ratio != nil {
		ratio = fmt.Sprintf("%.2f", *r.Ratio)
	}
	incomplete := ""
	if r.ExitCode != 0 {
		incomplete = fmt.Sprintf(" (audit incomplete, exit %d)", r.ExitCode)
	}
	return fmt.Sprintf("%d×%d %s: wall %s floor %s ratio %s, %.0f calls/min/account, %d throttles, %d retries, peak RSS %.1f MB, CPU %s (sandbox %s), %d failed accounts, %.0f µs/user, setup %s%s; machine: %s",
		r.Accounts, r.UsersPerAccount, r.Profile, secs(r.WallSeconds), secs(r.FloorSeconds), ratio,
		r.CallsPerMinutePerAccount, r.Throttles, r.Retries, float64(r.PeakRSSKiB)/1024, secs(r.CPUSeconds), secs(r.SandboxCPUSeconds), r.FailedAccounts,
		r.MicrosecondsPerUser, secs(r.SetupSeconds), incomplete, r.Machine)
}

// CallsTable is the calls by operation against the minimum, one line each.
func (r *Result) CallsTable() string {
	ops := make([]string, 0, len(r.Calls))
	for op := range r.Calls {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var b strings.Builder
	fmt.Fprintf(&b, "  %-38s %8s %8s %8s %9s\n", "operation", "audit", "sandbox", "minimum", "throttled")
	for _, op := range ops {
		c := r.Calls[op]
		fmt.Fprintf(&b, "  %-38s %8d %8d %8d %9d\n", op, c.Audit, c.Sandbox, c.Minimum, c.Throttled)
	}
	return b.String()
}

// WriteJSON writes the run as one JSON object on one line.
func (r *Result) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func secs(s float64) string { return fmt.Sprintf("%.2fs", math.Round(s*100)/100) }
