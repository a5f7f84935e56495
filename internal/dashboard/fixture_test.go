package dashboard

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/iamaudit/iamaudit/internal/audit"
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/scenario"
	"github.com/iamaudit/iamaudit/internal/store"
)

// update retakes the README's screenshots of the dashboard (docs/dashboard*.png).
var update = flag.Bool("update", false, "retake docs/dashboard.png and docs/dashboard-trends.png")

// demoEnd is the clock of the newest run of the demo history.
var demoEnd = time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC)

// demoMonths are the demo Organization month by month, as the history records
// it: each a change of the built-in demo's YAML (what its people fixed or broke
// since the month before), audited through the sandbox at its own clock.
var demoMonths = []struct {
	ago  time.Duration
	edit func(yaml string) string
}{
	// Month 1: the demo as it is.
	{90 * 24 * time.Hour, func(y string) string { return y }},
	// Month 2: carlos.lopez enables MFA (his critical console_without_mfa is
	// resolved); test-user is deleted.
	{60 * 24 * time.Hour, func(y string) string {
		return removeUser(carlosMFA(y), "test-user", "james.brown")
	}},
	// Month 3: carlos.lopez's MFA device is gone again (the finding is reopened);
	// emma.smith enables MFA; a temp-admin user appears with AdministratorAccess.
	{30 * 24 * time.Hour, func(y string) string {
		y = removeUser(emmaMFA(y), "test-user", "james.brown")
		return replaceOnce(y, "      - name: james.brown ", tempAdmin+"      - name: james.brown ")
	}},
	// Month 4: temp-admin is deleted, emma keeps MFA, carlos still has none.
	{0, func(y string) string { return removeUser(emmaMFA(y), "test-user", "james.brown") }},
}

const tempAdmin = `      - name: temp-admin # created for a migration, forgotten
        created_at: -5d
        tags: {Owner: migration@example.com}
        attached_policies: [AdministratorAccess]
        password: {created_at: -5d, last_used: -4d}
        access_keys:
          - id: AKIATEMPADMIN0000001
            created_at: -5d
            last_used: -4d
            service: rds
            region: us-east-1
`

func carlosMFA(y string) string {
	return replaceOnce(y, "        password: {created_at: -500d, last_used: -3d}\n",
		"        password: {created_at: -500d, last_used: -3d}\n        mfa:\n          - type: virtual\n            enabled_at: -20d\n")
}

func emmaMFA(y string) string {
	return replaceOnce(y, "        password: {created_at: -380d, last_used: -45d}\n",
		"        password: {created_at: -380d, last_used: -45d}\n        mfa:\n          - type: hardware\n            serial: GAHT55550001\n            enabled_at: -10d\n")
}

// removeUser deletes a user's block, up to the next user's. The edits panic
// when the demo's YAML no longer has what they change: the fixture must be
// updated with it.
func removeUser(y, user, next string) string {
	at := func(name string) int {
		for _, end := range []string{" ", "\n"} {
			if i := strings.Index(y, "      - name: "+name+end); i >= 0 {
				return i
			}
		}
		return -1
	}
	start, end := at(user), at(next)
	if start < 0 || end < start {
		panic(fmt.Sprintf("demo YAML: no user block %s before %s", user, next))
	}
	return y[:start] + y[end:]
}

func replaceOnce(s, old, repl string) string {
	if n := strings.Count(s, old); n != 1 {
		panic(fmt.Sprintf("demo YAML: %q found %d times, want once", old, n))
	}
	return strings.Replace(s, old, repl, 1)
}

// tempDirs are the directories of fixtures built once per test binary, removed
// by TestMain.
var tempDirs sync.Map

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	tempDirs.Range(func(k, _ any) bool { os.RemoveAll(k.(string)); return true })
	os.Exit(code)
}

// history is a store holding recorded runs, with their outcomes as recorded.
type history struct {
	path string
	outs []*outcome.Outcome
}

// demoHistory is the demo Organization over four monthly runs through the
// sandbox, recorded in a SQLite store; built once per test binary.
var demoHistory = sync.OnceValues(func() (*history, error) {
	dir, err := os.MkdirTemp("", "iamaudit-dashboard-")
	if err != nil {
		return nil, err
	}
	tempDirs.Store(dir, true)
	var yamls []string
	for _, m := range demoMonths {
		yamls = append(yamls, m.edit(string(scenario.DemoYAML())))
	}
	return recordHistory(dir, yamls, func(i int) time.Time { return demoEnd.Add(-demoMonths[i].ago) })
})

// recordHistory audits each scenario through the sandbox at its clock, as
// `iamaudit demo` does, recording every run in the store dir/iamaudit.db.
func recordHistory(dir string, yamls []string, clock func(i int) time.Time) (*history, error) {
	path := filepath.Join(dir, "iamaudit.db")
	st, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	h := &history{path: path}
	var jsonOnly []report.Format
	for _, f := range report.Formats() {
		if f.Name == "json" {
			jsonOnly = append(jsonOnly, f)
		}
	}
	for i, y := range yamls {
		sc, err := scenario.Parse("month.yaml", []byte(y))
		if err != nil {
			return nil, err
		}
		base := clock(i)
		start := time.Now()
		now := func() time.Time { return base.Add(time.Since(start)) }
		o, err := auditOnce(sc, filepath.Join(dir, "out"), st, now, jsonOnly)
		if err != nil {
			return nil, err
		}
		h.outs = append(h.outs, o)
	}
	return h, nil
}

func auditOnce(sc *scenario.Scenario, out string, st *store.Store, clock func() time.Time, formats []report.Format) (*outcome.Outcome, error) {
	// The sandbox's limits off and a fast credential report: the fixture is the
	// history, not a test of collection.
	knobs := &scenario.Knobs{ReportGeneration: scenario.Duration{Duration: 50 * time.Millisecond},
		RateLimits: map[string]float64{"cloudtrail": 0, "iam": 0}}
	srv, err := sandbox.Start(sc, sandbox.Options{Clock: clock, Knobs: knobs}, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	akid, secret := srv.Credentials()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(srv.Region()),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(akid, secret, "")),
		config.WithBaseEndpoint(srv.URL()),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		return nil, err
	}
	var o, e bytes.Buffer
	return audit.Run(context.Background(), cfg, audit.Options{
		Collect: collect.Options{Role: "IAMAuditRole", Days: 90, Concurrency: 8, ReportPoll: 20 * time.Millisecond,
			EventsRate: 50}, // the sandbox does not throttle LookupEvents unless told to: a fast fixture
		OutputDir: out, Lang: "en", Checks: checks.DefaultConfig(), Clock: clock, Version: "test", Out: &o, Err: &e,
		History: st, Formats: formats,
	})
}

// openDemo opens the demo history's store read-only and a dashboard over it.
func openDemo(t testing.TB, opts Options) (*history, *Server) {
	t.Helper()
	h, err := demoHistory()
	if err != nil {
		t.Fatalf("demo history: %v", err)
	}
	st, err := store.Open(context.Background(), h.path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opts.Store = st
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return h, s
}
