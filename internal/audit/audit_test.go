package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamaudit/iamaudit/internal/audit"
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/sandbox/sandboxtest"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// fastCollect are collection options for a sandboxtest sandbox: the client-side
// limits lifted and a short report poll (the sandbox paces nothing), the demo's
// audit role when none is given. Tests of pacing set their own rates.
func fastCollect(o collect.Options) collect.Options {
	if o.Role == "" {
		o.Role = "IAMAuditRole"
	}
	if o.IAMRate == 0 {
		o.IAMRate = sandboxtest.ClientRate
	}
	if o.EventsRate == 0 {
		o.EventsRate = sandboxtest.ClientRate
	}
	if o.OrgRate == 0 {
		o.OrgRate = sandboxtest.ClientRate
	}
	if o.ReportPoll == 0 {
		o.ReportPoll = sandboxtest.ReportPoll
	}
	return o
}

type demoRun struct {
	res    *outcome.Outcome
	dir    string
	out    string
	stats  sandbox.Stats
	config aws.Config
}

// runDemo audits sc through a fast sandbox (sandboxtest.Knobs under knobs) whose
// clock stands at base, unpaced (fastCollect).
func runDemo(t *testing.T, sc *scenario.Scenario, base time.Time, knobs *scenario.Knobs, lang string) demoRun {
	t.Helper()
	return runDemoWith(t, sc, base, knobs, lang, collect.Options{})
}

// runDemoWith is runDemo with collection options (fastCollect fills what is zero).
func runDemoWith(t *testing.T, sc *scenario.Scenario, base time.Time, knobs *scenario.Knobs, lang string, copts collect.Options) demoRun {
	t.Helper()
	clock := sandboxtest.NewClock(base).Now
	srv := sandboxtest.Start(t, sc, sandbox.Options{Clock: clock, Knobs: knobs})
	cfg := sandboxtest.Config(t, srv)
	dir := t.TempDir()
	var out, errw bytes.Buffer
	copts.Days, copts.Concurrency = 90, 8
	res, err := audit.Run(context.Background(), cfg, audit.Options{
		Collect:   fastCollect(copts),
		OutputDir: dir,
		Lang:      lang,
		Checks:    checks.DefaultConfig(),
		Clock:     clock,
		Version:   "test",
		Out:       &out,
		Err:       &errw,
	})
	if err != nil {
		t.Fatalf("audit.Run: %v\n%s", err, errw.String())
	}
	return demoRun{res: res, dir: dir, out: out.String(), stats: srv.Stats(), config: cfg}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDemoAudit(t *testing.T) {
	t.Parallel()
	base := time.Now().UTC().Truncate(time.Second)
	r := runDemo(t, scenario.Demo(), base, nil, "en")
	inv := r.res.Inventory

	// Every output file is there, owner-only.
	if len(r.res.Files) != len(report.Formats()) {
		t.Fatalf("files: %v", r.res.Files)
	}
	for _, f := range r.res.Files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	iamCSV := readFile(t, r.res.Files[0])
	if !strings.HasPrefix(iamCSV, strings.Join(report.IAMReportHeader, ",")+"\n") {
		t.Errorf("IAM report header: %q", strings.SplitN(iamCSV, "\n", 2)[0])
	}
	if !strings.Contains(iamCSV, ",2018-06-15 10:20:30,") {
		t.Errorf("the 2018 key is not in the report:\n%s", iamCSV)
	}
	// The console follows the seed's contract.
	for _, want := range []string{"Auditing account: Production (", "  Querying CloudTrail in account: Production (",
		"Error in account Development-Sandbox: ", "Total Access Keys found: ", "Report exported: ",
		"Total CloudTrail events found: ", "CloudTrail events report exported: ", "Accounts not audited: "} {
		if !strings.Contains(r.out, want) {
			t.Errorf("console lacks %q:\n%s", want, r.out)
		}
	}

	// The account without the role is not audited, says why, and the run is incomplete.
	var sandboxAcct *inventory.Account
	for i := range inv.Accounts {
		if inv.Accounts[i].Name == "Development-Sandbox" {
			sandboxAcct = &inv.Accounts[i]
		}
	}
	if sandboxAcct == nil || sandboxAcct.Status != inventory.StatusNotAudited || !strings.Contains(sandboxAcct.Reason, "AccessDenied") {
		t.Errorf("Development-Sandbox: %+v", sandboxAcct)
	}
	if !r.res.Incomplete() {
		t.Error("the demo audit should be incomplete (an account lacks the role)")
	}

	// The JSON file is the inventory plus findings, readable back as an inventory.
	var back inventory.Inventory
	if err := json.Unmarshal([]byte(readFile(t, r.res.Files[2])), &back); err != nil {
		t.Fatal(err)
	}
	if back.Schema != inventory.Schema || len(back.Accounts) != len(inv.Accounts) {
		t.Errorf("JSON inventory: schema %q, %d accounts", back.Schema, len(back.Accounts))
	}

	// A SUSPENDED account is out of scope: skipped, listed apart, no finding.
	for _, f := range r.res.Findings {
		if f.AccountName == "Legacy-Archive" {
			t.Errorf("finding on the SUSPENDED account: %s %s", f.CheckID, f.Message)
		}
	}
	if len(inv.Skipped()) != 1 || !strings.Contains(r.out, "Accounts skipped (not ACTIVE): 1") {
		t.Errorf("skipped accounts: %v\n%s", inv.Skipped(), r.out)
	}

	// The demo Organization fires every check at least once.
	fired := map[string]int{}
	for _, f := range r.res.Findings {
		fired[f.CheckID]++
	}
	for _, c := range checks.All() {
		if fired[c.ID] == 0 {
			t.Errorf("check %s never fires on the demo Organization", c.ID)
		}
	}
	t.Logf("demo: %d accounts, %d findings, %d keys, %d events", len(inv.Accounts), len(r.res.Findings), report.KeyCount(inv), report.EventCount(inv))
}

func TestCleanOrganizationFiresNothing(t *testing.T) {
	t.Parallel()
	r := runDemo(t, scenario.Clean(), time.Now().UTC().Truncate(time.Second), nil, "en")
	for _, f := range r.res.Findings {
		t.Errorf("clean Organization fired %s on %s: %s", f.CheckID, f.Resource, f.Message)
	}
	if r.res.Incomplete() {
		t.Errorf("clean Organization audit incomplete: %+v", r.res.Inventory.Gaps)
		for _, a := range r.res.Inventory.Accounts {
			if len(a.Gaps) > 0 || a.Status != inventory.StatusAudited {
				t.Errorf("%s: %s %s %+v", a.Name, a.Status, a.Reason, a.Gaps)
			}
		}
	}
}

// With the page cap at 1 and tight rate limits (throttling on), the reports are
// identical to a run without them.
//
// A test of pacing: the sandbox's rate limits are on, below what the client sends
// (it is barely limited), so calls are throttled and retried whatever the speed of
// the machine: with the page cap, Production alone makes about 60 IAM calls (4 at a
// time) against a bucket of 20 at 20/s, 22 LookupEvents one after the other against
// 10 at 10/s, and the run 7 Organizations calls against 4 at 4/s. Retries wait a
// fixed 50 ms (a MaxBackoff under a second is not jittered) and up to 50 attempts
// are allowed, as 4 calls in flight may contend for each IAM token; the run takes
// about 3 s instead of a minute at AWS's own rates.
func TestPageCapAndThrottlingChangeNothing(t *testing.T) {
	t.Parallel()
	base := time.Now().UTC().Truncate(time.Second)
	plain := runDemo(t, scenario.Demo(), base, nil, "es")
	hard := runDemoWith(t, scenario.Demo(), base,
		&scenario.Knobs{PageCap: 1, RateLimits: map[string]float64{"iam": 20, "cloudtrail": 10, "organizations": 4}}, "es",
		collect.Options{IAMRate: 200, EventsRate: 100, OrgRate: 50, MaxAttempts: 50, MaxBackoff: 50 * time.Millisecond})
	for i := 0; i < 2; i++ { // the two seed CSV files
		a, b := readFile(t, plain.res.Files[i]), readFile(t, hard.res.Files[i])
		// The audit's own key (the management account's caller) is used by the audit
		// itself, so its last-use time depends on how long the run took.
		a, b = maskCallerUse(a), maskCallerUse(b)
		if a != b {
			t.Errorf("%s differs with page cap 1 and throttling:\n%s", filepath.Base(plain.res.Files[i]), lineDiff(a, b))
		}
	}
	if len(plain.res.Findings) != len(hard.res.Findings) {
		t.Errorf("findings: %d without caps, %d with", len(plain.res.Findings), len(hard.res.Findings))
	}
	if hard.res.Incomplete() != plain.res.Incomplete() {
		t.Errorf("incomplete: %v vs %v", plain.res.Incomplete(), hard.res.Incomplete())
	}
	b, _ := json.Marshal(hard.stats)
	t.Logf("capped run stats: %s", b)
	// Both knobs were in force: calls were throttled (and retried: the reports match)
	// and pages held one item.
	if hard.stats.ThrottleTotal == 0 {
		t.Errorf("no call was throttled: the test did not test throttling")
	}
	if hard.stats.Requests <= plain.stats.Requests {
		t.Errorf("%d requests with page cap 1, %d without: the cap did not apply", hard.stats.Requests, plain.stats.Requests)
	}
}

// lineDiff lists the lines only in a (-) or only in b (+).
func lineDiff(a, b string) string {
	in := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if ma[l] > mb[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if mb[l] > ma[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// maskCallerUse blanks the last_used_date of the sandbox caller's own key.
func maskCallerUse(csv string) string {
	lines := strings.Split(csv, "\n")
	for i, l := range lines {
		if f := strings.Split(l, ","); len(f) == 11 && f[2] == "audit-runner" {
			f[8] = "(the audit's own use)"
			lines[i] = strings.Join(f, ",")
		}
	}
	return strings.Join(lines, "\n")
}

// clockFrom returns a clock that starts at base and advances in real time, for the
// tests whose sandbox keeps its own realistic timings (a credential report that
// takes its generation time on the sandbox's clock).
func clockFrom(base time.Time) func() time.Time {
	start := time.Now()
	return func() time.Time { return base.Add(time.Since(start)) }
}
