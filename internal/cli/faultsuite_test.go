package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/audit"
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// The fault-injection suite (issue 13; SECURITY.md "Faults and bad inputs tried"):
// the whole audit, through the AWS SDK over HTTP against the sandbox, under each fault
// a real Organization can throw at it. For each fault: the audit finishes, or stops
// cleanly, within a bound; every gap is named in the outputs (the JSON and the
// console); the outputs are owner-only and hold no secret of the sandbox; and a
// comparison with a clean run of the same Organization at the same clock
// (compareRuns) proves nothing else was lost: every report row, finding and event of
// the clean run is in the faulted run or explained by what the faulted run says it
// could not collect. The signals, the full disk and the unwritable directory run the
// real command in a child process (faultchild_test.go).
//
// IAMAUDIT_FAULT_TABLE=FILE writes the suite's table (fault, outcome, time, what was
// lost) there as Markdown, the table of SECURITY.md.

// Accounts of the demo Organization (internal/scenario/demo.yaml).
const (
	demoManagement = "210987654321"
	demoProduction = "345678901234"
	demoStaging    = "567890123456"
	// activeAccounts is how many roles a run assumes once each: the ACTIVE accounts
	// (the management account's is tried, then its own credentials used).
	activeAccounts = 5
)

// faultCase is one fault and what the audit must do under it.
type faultCase struct {
	name  string
	fault string // the fault, as the sandbox's --fault flags or in words, for the table
	// knobs are added to the suite's sandbox knobs (faults, session duration, report time).
	knobs    *scenario.Knobs
	scenario func() *scenario.Scenario // nil: the demo Organization
	tune     func(*audit.Options)
	// endpoint, when set, replaces the sandbox's endpoint (a listener that never answers).
	endpoint func(t *testing.T) string
	// cancelAfter interrupts the run (the context a signal cancels) after this long.
	cancelAfter time.Duration
	fresh       bool // compare with the clean run with --fresh-key-usage
	wantCode    int
	wantMsg     string // for a run that produces nothing: what the error must say
	// absorbed: the fault is retried away: the run must equal the clean run.
	absorbed bool
	// sameFindings: the run must have every finding of the clean run (the fault hides
	// only details that decide none).
	sameFindings bool
	// named: a gap with this operation (and, when set, error code) must be in the run
	// whenever the sandbox injected the fault at least once (faultOp). A case with one
	// fault that never fired must equal the clean run.
	namedOp, namedCode string
	faultOp            string // "iam:GetAccountPasswordPolicy" as the sandbox counts it
	check              func(t *testing.T, r runResult)
	bound              time.Duration // default 60 s
	order              int           // its row's place in the table
}

// runResult is one audit of the suite.
type runResult struct {
	data    runData // nil inventory when the run produced nothing
	code    int
	err     error
	out     string // stdout (the console report)
	errOut  string // stderr
	dir     string
	stats   sandbox.Stats
	secrets []string
	took    time.Duration
	ownKey  string // the caller's access key id
}

// faultRow is one line of the suite's table.
type faultRow struct {
	order                      int // issue 13's order of the faults
	name, fault, outcome, lost string
	took                       time.Duration
}

// suite holds the clean runs every faulted run is compared with, and the table.
type suite struct {
	base time.Time // the sandboxes' and the audits' clock starts here (same scenario dates)
	mu   sync.Mutex
	// clean runs, by --fresh-key-usage
	clean map[bool]*runResult
	rows  []faultRow
}

func newSuite() *suite {
	return &suite{base: time.Now().UTC().Truncate(time.Second), clean: map[bool]*runResult{}}
}

// clock advances in real time from the suite's base: every run resolves the
// scenario's relative dates alike.
func (s *suite) clock() func() time.Time {
	start := time.Now()
	return func() time.Time { return s.base.Add(time.Since(start)) }
}

func (s *suite) record(r faultRow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows = append(s.rows, r)
}

// table renders the rows as Markdown.
func (s *suite) table() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows := append([]faultRow(nil), s.rows...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].order < rows[j].order })
	var b strings.Builder
	b.WriteString("| fault | injected as | outcome | time | what was lost |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %.1f s | %s |\n", r.name, r.fault, r.outcome, r.took.Seconds(), r.lost)
	}
	return b.String()
}

// suiteKnobs are the sandbox knobs of every run: no CloudTrail or IAM rate limit and
// reports ready at once, so a run takes a second (the limits are tested elsewhere);
// the case's knobs are added.
func suiteKnobs(extra *scenario.Knobs) *scenario.Knobs {
	k := &scenario.Knobs{RateLimits: map[string]float64{"cloudtrail": 0, "iam": 0}, ReportGeneration: scenario.Duration{Duration: -1}}
	if extra != nil {
		k.Faults = append(k.Faults, extra.Faults...)
		k.SessionDuration = extra.SessionDuration
		if extra.ReportGeneration.Duration != 0 {
			k.ReportGeneration = extra.ReportGeneration
		}
		for s, l := range extra.Latency {
			if k.Latency == nil {
				k.Latency = map[string]scenario.Latency{}
			}
			k.Latency[s] = l
		}
		for f, r := range extra.RateLimits {
			k.RateLimits[f] = r
		}
	}
	return k
}

// suiteOptions are the audit options of every in-process run: the CLI's defaults but
// for the pace (no rate limit to wait for, short backoff) and deadlines that a
// loaded 2-core machine running the race detector still meets.
func (s *suite) options(dir string, out, errw io.Writer) audit.Options {
	return audit.Options{
		Collect: collect.Options{Role: demoRole, SessionName: "iamaudit-faults", IAMRate: 1000, EventsRate: 1000,
			ReportPoll: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
			AttemptTimeout: 10 * time.Second, CallTimeout: 30 * time.Second, AccountTimeout: 2 * time.Minute, ReportTimeout: 30 * time.Second},
		OutputDir: dir, Lang: "en", Checks: checks.DefaultConfig(), Version: "faults", Out: out, Err: errw,
	}
}

// run audits the case's Organization in process, under the case's fault.
func (s *suite) run(t *testing.T, c faultCase) runResult {
	t.Helper()
	sc := scenario.Demo()
	if c.scenario != nil {
		sc = c.scenario()
	}
	clock := s.clock()
	srv, err := sandbox.Start(sc, sandbox.Options{Clock: clock, Knobs: suiteKnobs(c.knobs)}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := srv.URL()
	if c.endpoint != nil {
		url = c.endpoint(t)
	}
	akid, secret := srv.Credentials()
	cfg, err := sandboxConfig(context.Background(), url, srv.Region(), akid, secret)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out") // created by the run: a run that fails first must not leave it
	var out, errw bytes.Buffer
	aopts := s.options(dir, &out, &errw)
	aopts.Clock = clock
	aopts.Collect.FreshKeyUsage = c.fresh
	if c.tune != nil {
		c.tune(&aopts)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if c.cancelAfter > 0 {
		time.AfterFunc(c.cancelAfter, cancel)
	}
	bound := c.bound
	if bound == 0 {
		bound = time.Minute
	}
	ch := make(chan runResult, 1)
	began := time.Now()
	go func() {
		o, err := audit.Run(ctx, cfg, aopts)
		r := runResult{err: err, code: exitCode(judge(ctx, o, err, aopts)), dir: dir}
		if o != nil {
			r.data = runData{inv: o.Inventory, findings: o.Findings}
		}
		ch <- r
	}()
	var r runResult
	select {
	case r = <-ch:
	case <-time.After(bound):
		t.Fatalf("the audit did not finish within %s under %s", bound, c.fault)
	}
	r.took = time.Since(began)
	r.out, r.errOut = out.String(), errw.String()
	r.stats, r.secrets, r.ownKey = srv.Stats(), srv.Secrets(), akid
	return r
}

// cleanRun is the run every faulted run of the same options is compared with.
func (s *suite) cleanRun(t *testing.T, fresh bool) runResult {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.clean[fresh]; ok {
		return *r
	}
	r := s.run(t, faultCase{name: "clean", fault: "none", fresh: fresh})
	if r.code != ExitIncomplete || r.data.inv == nil {
		t.Fatalf("the clean run of the demo Organization exits %d (%v), want %d (one account lacks the role)\n%s", r.code, r.err, ExitIncomplete, r.errOut)
	}
	s.clean[fresh] = &r
	return r
}

// TestFaultSuite runs every fault of issue 13 (one subtest each) and writes the table.
func TestFaultSuite(t *testing.T) {
	t.Parallel()
	s := newSuite()
	t.Cleanup(func() {
		table := s.table()
		t.Logf("fault suite:\n%s", table)
		if path := os.Getenv("IAMAUDIT_FAULT_TABLE"); path != "" {
			if err := os.WriteFile(path, []byte(table), 0o600); err != nil {
				t.Errorf("write the table: %v", err)
			}
		}
	})
	clean := s.cleanRun(t, false)
	s.checkOutputs(t, faultCase{name: "clean"}, clean)
	s.record(faultRow{name: "none (clean run)", fault: "—", outcome: outcomeOf(clean), took: clean.took, lost: "— (the reference)"})

	for i, c := range faultCases() {
		c.order = i + 1
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := s.run(t, c)
			s.judge(t, c, r)
		})
	}
	t.Run("child process", func(t *testing.T) {
		t.Parallel()
		s.childCases(t)
	})
}

// outcomeOf is a run's result for the table.
func outcomeOf(r runResult) string {
	if r.data.inv == nil {
		return fmt.Sprintf("exit %d, stopped cleanly: %s", r.code, firstLine(r.err))
	}
	counts := map[string]int{}
	for _, a := range r.data.inv.Accounts {
		counts[a.Status]++
	}
	parts := []string{fmt.Sprintf("exit %d", r.code)}
	for _, st := range []string{inventory.StatusAudited, inventory.StatusPartial, inventory.StatusNotAudited, inventory.StatusNotReached} {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	return strings.Join(parts, ", ") + fmt.Sprintf(", %d findings", len(r.data.findings))
}

func firstLine(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if len(s) > 140 {
		s = s[:140] + "…"
	}
	return strings.ReplaceAll(s, "|", "/")
}

// judge checks one faulted run against the clean one and records its row.
func (s *suite) judge(t *testing.T, c faultCase, r runResult) {
	t.Helper()
	row := faultRow{order: c.order, name: c.name, fault: c.fault, outcome: outcomeOf(r), took: r.took}
	defer func() { s.record(row) }()
	if r.code != c.wantCode {
		t.Errorf("exit code %d, want %d (err: %v)\nstdout:\n%s\nstderr:\n%s", r.code, c.wantCode, r.err, r.out, r.errOut)
	}
	s.checkOutputs(t, c, r)
	if r.data.inv == nil {
		row.lost = "nothing collected, nothing written (the directory is not left behind)"
		if c.wantMsg != "" && (r.err == nil || !strings.Contains(r.err.Error(), c.wantMsg)) {
			t.Errorf("error %q does not say %q", r.err, c.wantMsg)
		}
		if _, err := os.Lstat(r.dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a run that wrote nothing left its output directory %s behind (%v)", r.dir, err)
		}
		if c.check != nil {
			c.check(t, r)
		}
		return
	}
	clean := s.cleanRun(t, c.fresh)
	cmp := compareRuns(clean.data, r.data, checks.DefaultConfig(), r.ownKey)
	row.lost = cmp.lost()
	for _, l := range cmp.silent {
		t.Errorf("lost silently: %s", l)
	}
	for _, l := range cmp.invented {
		t.Errorf("invented: %s", l)
	}
	if c.sameFindings && (cmp.findingsGone > 0 || len(r.data.findings) != len(clean.data.findings)) {
		t.Errorf("%d findings, the clean run has %d: the fault hides no deciding data, no finding may go (%s)", len(r.data.findings), len(clean.data.findings), cmp.lost())
	}
	if c.absorbed && !cmp.same() {
		t.Errorf("the fault should be retried away, but the run differs from the clean one: %s", cmp.lost())
	}
	if c.faultOp != "" && faulted(r.stats, c.faultOp) > 0 && c.namedOp != "" {
		if !hasGap(r.data.inv, c.namedOp, c.namedCode) {
			t.Errorf("the sandbox injected %s %d times, but no gap names %s %s:\n%s", c.fault, faulted(r.stats, c.faultOp), c.namedOp, c.namedCode, gapSummary(allGaps(r.data.inv)))
		}
	}
	if c.faultOp != "" && faulted(r.stats, c.faultOp) == 0 && c.knobs != nil && len(c.knobs.Faults) == 1 && !cmp.same() {
		t.Errorf("the fault never fired (%s is not called in this run), yet the run differs: %s", c.faultOp, cmp.lost())
	}
	if c.check != nil {
		c.check(t, r)
	}
}

// faulted is how many times the sandbox injected a fault into op ("iam:ListUsers").
func faulted(st sandbox.Stats, op string) int64 {
	var n int64
	for _, ops := range st.Faults {
		n += ops[op]
	}
	return n
}

func called(st sandbox.Stats, op string) int64 {
	var n int64
	for _, ops := range st.Calls {
		n += ops[op]
	}
	return n
}

// hasGap: a gap of the run has operation op ("" any) and error code code ("" any).
func hasGap(inv *inventory.Inventory, op, code string) bool {
	for _, g := range allGaps(inv) {
		if (op == "" || g.Operation == op) && (code == "" || g.ErrorCode == code) {
			return true
		}
	}
	return false
}

// checkOutputs: every gap is named in the JSON and on the console, the files are
// owner-only, and no secret of the sandbox is anywhere the run wrote.
func (s *suite) checkOutputs(t *testing.T, c faultCase, r runResult) {
	t.Helper()
	written := map[string][]byte{}
	if entries, err := os.ReadDir(r.dir); err == nil {
		info, _ := os.Stat(r.dir)
		if perm := info.Mode().Perm(); perm != 0o700 {
			t.Errorf("output directory mode %o, want 700", perm)
		}
		for _, e := range entries {
			path := filepath.Join(r.dir, e.Name())
			fi, _ := e.Info()
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %o, want 600", e.Name(), fi.Mode().Perm())
			}
			if strings.HasPrefix(e.Name(), ".iamaudit-") {
				t.Errorf("a temporary file was left behind: %s", e.Name())
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			written[e.Name()] = b
		}
	}
	texts := map[string]string{"stdout": r.out, "stderr": r.errOut}
	if r.err != nil {
		texts["error"] = r.err.Error()
	}
	for name, b := range written {
		texts[name] = string(b)
	}
	if len(r.secrets) == 0 {
		t.Fatalf("no secret of the sandbox to look for: the scan would prove nothing")
	}
	for _, secret := range r.secrets {
		for name, text := range texts {
			if strings.Contains(text, secret) {
				t.Errorf("a secret of the sandbox (%s…) is in %s", secret[:4], name)
			}
		}
	}
	if r.data.inv == nil {
		return
	}
	gaps := allGaps(r.data.inv)
	if len(gaps) > 0 && !strings.Contains(r.out, fmt.Sprintf("Incomplete data (%d gaps", len(gaps))) {
		t.Errorf("the console does not name the %d gaps:\n%s", len(gaps), r.out)
	}
	for _, a := range r.data.inv.NotAudited() {
		if !strings.Contains(r.out, a.Name+" ("+a.ID+")") {
			t.Errorf("the console does not name the account not audited %s", a.Name)
		}
	}
	for name, b := range written {
		if !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, "iamaudit_ocsf_") {
			continue // the run's JSON document (the OCSF file is a list of events)
		}
		var doc report.Document
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := len(allGaps(doc.Inventory)); got != len(gaps) {
			t.Errorf("%s names %d gaps, the run had %d", name, got, len(gaps))
		}
	}
}

// accessDenied is the fault "AccessDenied on op", alone or with other faults.
func accessDenied(service, op string, also ...scenario.Fault) *scenario.Knobs {
	return &scenario.Knobs{Faults: append([]scenario.Fault{{Service: service, Operation: op, Error: "AccessDenied", Rate: 1}}, also...)}
}

// everywhere is the fault on every call to IAM, CloudTrail and Organizations, and on
// AssumeRole (not GetCallerIdentity: the first call has 3 attempts, and a run that
// cannot learn who it is stops before anything, which its own cases test).
func everywhere(f scenario.Fault) *scenario.Knobs {
	var out []scenario.Fault
	for _, svc := range []string{"iam", "cloudtrail", "organizations"} {
		g := f
		g.Service = svc
		out = append(out, g)
	}
	g := f
	g.Service, g.Operation = "sts", "AssumeRole"
	return &scenario.Knobs{Faults: append(out, g)}
}

// faultCases are the in-process cases, in the order of issue 13's list.
func faultCases() []faultCase {
	var cases []faultCase
	add := func(c faultCase) {
		if c.wantCode == 0 {
			c.wantCode = ExitIncomplete // the demo Organization has an account without the role
		}
		cases = append(cases, c)
	}
	add(faultCase{name: "throttling storm", fault: "error=Throttling,rate=0.5 on every call", knobs: everywhere(scenario.Fault{Error: "Throttling", Rate: 0.5})})
	add(faultCase{name: "5xx errors", fault: "error=InternalFailure,rate=0.3 and error=ServiceUnavailable,rate=0.2 on every call",
		knobs: &scenario.Knobs{Faults: append(everywhere(scenario.Fault{Error: "InternalFailure", Rate: 0.3}).Faults,
			everywhere(scenario.Fault{Error: "ServiceUnavailable", Rate: 0.2}).Faults...)}})
	add(faultCase{name: "dropped connections", fault: "error=drop,rate=0.3 on every call", knobs: everywhere(scenario.Fault{Error: "drop", Rate: 0.3})})
	add(faultCase{name: "slow response past the deadlines", fault: "error=slow,delay=1h,operation=GetAccountPasswordPolicy,account=Production; --attempt-timeout 400ms --call-timeout 2s",
		knobs: &scenario.Knobs{Faults: []scenario.Fault{{Account: demoProduction, Service: "iam", Operation: "GetAccountPasswordPolicy", Error: "slow", Delay: scenario.Duration{Duration: time.Hour}}}},
		tune: func(o *audit.Options) {
			o.Collect.AttemptTimeout, o.Collect.CallTimeout, o.Collect.WaitNotice = 400*time.Millisecond, 2*time.Second, 300*time.Millisecond
		},
		faultOp: "iam:GetAccountPasswordPolicy", namedOp: "iam:GetAccountPasswordPolicy", namedCode: collect.CodeTimeout, bound: 30 * time.Second,
		check: func(t *testing.T, r runResult) {
			if !strings.Contains(r.out, "Still waiting in account Production ("+demoProduction+"): iam:GetAccountPasswordPolicy") {
				t.Errorf("the console does not say what the run is waiting for:\n%s", r.out)
			}
		}})
	add(faultCase{name: "an account whose IAM endpoint hangs", fault: "error=slow,delay=1h,service=iam,account=Staging; --call-timeout 1s --account-timeout 3s",
		knobs: &scenario.Knobs{Faults: []scenario.Fault{{Account: demoStaging, Service: "iam", Error: "slow", Delay: scenario.Duration{Duration: time.Hour}}}},
		tune: func(o *audit.Options) {
			o.Collect.AttemptTimeout, o.Collect.CallTimeout, o.Collect.AccountTimeout = 500*time.Millisecond, time.Second, 3*time.Second
		},
		bound: 30 * time.Second,
		check: func(t *testing.T, r runResult) {
			a := accountOf(r.data.inv, demoStaging)
			if a == nil || a.Status != inventory.StatusPartial || !hasGap(r.data.inv, "", collect.CodeTimeout) {
				t.Errorf("Staging should be partial with Timeout gaps: %+v", a)
			}
		}})
	add(faultCase{name: "a listener that never answers", fault: "an endpoint that accepts connections and never answers; --attempt-timeout 300ms",
		endpoint: silentListener, tune: func(o *audit.Options) { o.Collect.AttemptTimeout = 300 * time.Millisecond },
		wantCode: ExitError, wantMsg: "did not answer", bound: 30 * time.Second})
	add(faultCase{name: "a listener that never answers, then Ctrl-C", fault: "the same, interrupted after 500ms (default deadlines)",
		endpoint: silentListener, cancelAfter: 500 * time.Millisecond,
		tune: func(o *audit.Options) {
			o.Collect.AttemptTimeout, o.Collect.CallTimeout = 30*time.Second, 3*time.Minute
		},
		wantCode: ExitError, wantMsg: "interrupted", bound: 30 * time.Second,
		check: func(t *testing.T, r runResult) {
			if strings.Contains(r.err.Error(), "credentials") {
				t.Errorf("an interruption is blamed on the credentials: %v", r.err)
			}
		}})

	// AccessDenied on each API in turn.
	for _, api := range []struct{ service, op string }{
		{"organizations", "DescribeOrganization"},
		{"sts", "AssumeRole"},
		{"iam", "GenerateCredentialReport"}, {"iam", "GetCredentialReport"}, {"iam", "GetAccountAuthorizationDetails"},
		{"iam", "ListVirtualMFADevices"}, {"iam", "GetAccountSummary"}, {"iam", "GetAccountPasswordPolicy"},
		{"iam", "ListServerCertificates"}, {"iam", "ListMFADevices"}, {"iam", "ListAccessKeys"}, {"iam", "GetAccessKeyLastUsed"},
		{"iam", "ListUsers"}, {"iam", "GetLoginProfile"}, {"iam", "GetUser"},
		{"cloudtrail", "LookupEvents"},
	} {
		op := api.service + ":" + api.op
		c := faultCase{name: "AccessDenied on " + op, fault: "error=AccessDenied,service=" + api.service + ",operation=" + api.op,
			knobs: accessDenied(api.service, api.op), faultOp: op, namedOp: op, namedCode: "AccessDenied"}
		if api.op == "AssumeRole" {
			c.namedOp = "" // the member accounts are not audited, named as such (not a gap)
			c.check = func(t *testing.T, r runResult) {
				if n := len(r.data.inv.NotAudited()); n != 4 {
					t.Errorf("%d accounts not audited, want 4 (every member account; the management account is audited with the caller's own credentials)", n)
				}
			}
		}
		if api.op == "GenerateCredentialReport" || api.op == "GetCredentialReport" {
			c.namedOp = "iam:" + api.op
		}
		add(c)
	}
	// The per-user calls are made only without a credential report: denied with it.
	for _, op := range []string{"ListUsers", "GetLoginProfile", "GetUser", "ListAccessKeys"} {
		c := faultCase{name: "AccessDenied on iam:" + op + " without a credential report",
			fault: "error=AccessDenied,operation=GetCredentialReport and error=AccessDenied,operation=" + op,
			knobs: accessDenied("iam", op, scenario.Fault{Service: "iam", Operation: "GetCredentialReport", Error: "AccessDenied", Rate: 1}),
			// compared with the clean run: what only the report tells is unknown, and said so
			faultOp: "iam:" + op, namedOp: "iam:" + op, namedCode: "AccessDenied"}
		if op == "ListUsers" {
			// GetAccountAuthorizationDetails lists the users, and GetUser answers each
			// one's last sign-in: nothing is unknown, so no gap (compareRuns proves it).
			c.namedOp = ""
		}
		add(c)
	}
	add(faultCase{name: "AccessDenied on iam:GetUser and iam:ListUsers without a credential report",
		fault: "error=AccessDenied on GetCredentialReport, ListUsers and GetUser (password and MFA known, last sign-in not)",
		knobs: accessDenied("iam", "GetUser", scenario.Fault{Service: "iam", Operation: "GetCredentialReport", Error: "AccessDenied", Rate: 1},
			scenario.Fault{Service: "iam", Operation: "ListUsers", Error: "AccessDenied", Rate: 1}),
		faultOp: "iam:GetUser", namedOp: "iam:GetUser", namedCode: "AccessDenied",
		check: func(t *testing.T, r runResult) {
			n := 0
			for _, f := range r.data.findings {
				if f.CheckID == "console_without_mfa" {
					n++
					if f.Evidence["password_last_used"] != "unknown" || f.Severity != checks.High {
						t.Errorf("console_without_mfa %s: severity %s, last sign-in %q, want high and unknown", f.User, f.Severity, f.Evidence["password_last_used"])
					}
				}
			}
			if n != 4 {
				t.Errorf("%d console_without_mfa findings, want the clean run's 4 (defect 2)", n)
			}
		}})
	add(faultCase{name: "AccessDenied on iam:GetAccessKeyLastUsed with --fresh-key-usage", fault: "error=AccessDenied,operation=GetAccessKeyLastUsed; --fresh-key-usage",
		knobs: accessDenied("iam", "GetAccessKeyLastUsed"), fresh: true, sameFindings: true, // the report answers
		faultOp: "iam:GetAccessKeyLastUsed", namedOp: "iam:GetAccessKeyLastUsed", namedCode: "AccessDenied"})

	add(faultCase{name: "a missing role", fault: "Production's IAMAuditRole deleted (scenario)",
		scenario: func() *scenario.Scenario {
			sc := scenario.Demo()
			for i := range sc.Accounts {
				if sc.Accounts[i].ID == demoProduction {
					sc.Accounts[i].AuditRoles = map[string]string{demoRole: scenario.RoleMissing}
				}
			}
			return sc
		},
		check: func(t *testing.T, r runResult) {
			if a := accountOf(r.data.inv, demoProduction); a == nil || a.Status != inventory.StatusNotAudited || !strings.Contains(a.Reason, "deploy the role") {
				t.Errorf("Production should be not audited, with what to do: %+v", a)
			}
		}})
	add(faultCase{name: "ExpiredToken mid-run", fault: "error=ExpiredToken,service=iam,account=Production,count=6 (a session AWS calls expired early)",
		knobs:    &scenario.Knobs{Faults: []scenario.Fault{{Account: demoProduction, Service: "iam", Error: "ExpiredToken", Rate: 1, Count: 6}}},
		absorbed: true,
		check: func(t *testing.T, r runResult) {
			if r.stats.FaultTotal != 6 {
				t.Errorf("the sandbox injected %d ExpiredToken, want 6", r.stats.FaultTotal)
			}
			if called(r.stats, "sts:AssumeRole") <= activeAccounts {
				t.Errorf("AssumeRole called %d times: the expired session was not assumed again", called(r.stats, "sts:AssumeRole"))
			}
		}})
	add(faultCase{name: "a session that expires mid-run", fault: "--session-duration 1s, 150 ms per IAM call",
		knobs: &scenario.Knobs{SessionDuration: scenario.Duration{Duration: time.Second},
			Latency: map[string]scenario.Latency{"iam": {Mean: scenario.Duration{Duration: 150 * time.Millisecond}}}},
		absorbed: true,
		check: func(t *testing.T, r runResult) {
			if called(r.stats, "sts:AssumeRole") <= activeAccounts {
				t.Errorf("AssumeRole called %d times: no session was renewed", called(r.stats, "sts:AssumeRole"))
			}
		}})
	add(faultCase{name: "credential report stays in progress", fault: "report generation 1h; --report-timeout 1.5s",
		knobs: &scenario.Knobs{ReportGeneration: scenario.Duration{Duration: time.Hour}},
		tune: func(o *audit.Options) {
			o.Collect.ReportTimeout, o.Collect.WaitNotice = 1500*time.Millisecond, 300*time.Millisecond
		},
		check: func(t *testing.T, r runResult) {
			if !hasGap(r.data.inv, "iam:GetCredentialReport", collect.CodeTimeout) {
				t.Errorf("no gap says the report was not ready in time: %s", gapSummary(allGaps(r.data.inv)))
			}
			if !strings.Contains(r.out, "the credential report being generated for") || !strings.Contains(r.out, "--report-timeout 1.5s") {
				t.Errorf("the console does not say it is waiting for the credential report, and until when:\n%s", r.out)
			}
		}})
	add(faultCase{name: "credential report LimitExceeded", fault: "error=LimitExceeded,operation=GenerateCredentialReport; --report-timeout 1s",
		knobs: faultOn("LimitExceeded", "GenerateCredentialReport"), tune: func(o *audit.Options) { o.Collect.ReportTimeout = time.Second },
		faultOp: "iam:GenerateCredentialReport", namedOp: "iam:GenerateCredentialReport", namedCode: collect.CodeTimeout})
	add(faultCase{name: "AccessDenied on sts:GetCallerIdentity", fault: "error=AccessDenied,service=sts,operation=GetCallerIdentity",
		knobs: accessDenied("sts", "GetCallerIdentity"), wantCode: ExitError, wantMsg: "sts:GetCallerIdentity"})
	add(faultCase{name: "AccessDenied on organizations:ListAccounts", fault: "error=AccessDenied,service=organizations,operation=ListAccounts",
		knobs: accessDenied("organizations", "ListAccounts"), wantCode: ExitError, wantMsg: "organizations:ListAccounts was denied"})
	return cases
}

// faultOn is the fault code on every IAM op call.
func faultOn(code, op string) *scenario.Knobs {
	return &scenario.Knobs{Faults: []scenario.Fault{{Service: "iam", Operation: op, Error: code, Rate: 1}}}
}

// silentListener is an endpoint that accepts connections and never answers: it reads
// what it is sent and holds the connection open until the test ends.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}
