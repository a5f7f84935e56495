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
	"github.com/iamaudit/iamaudit/internal/sandbox/sandboxtest"
	"github.com/iamaudit/iamaudit/internal/scenario"
	"github.com/iamaudit/iamaudit/internal/store"
)

// update retakes the README's screenshots of the dashboard (docs/dashboard*.png).
var update = flag.Bool("update", false, "retake docs/dashboard.png and docs/dashboard-trends.png")

// demoEnd is the clock of the newest run of the demo history.
var demoEnd = time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC)

// demoMonths is how many monthly runs the demo history holds: `iamaudit demo
// --months 6`, whose timeline (internal/scenario/demo.yaml) makes MFA enabled, keys
// rotated and deleted, users removed and, from month 5, the account without the
// audit role audited.
const demoMonths = 6

// removeUser deletes a user's block of a scenario's YAML, up to the next
// user's; it panics when the YAML has no such block (the fixture must follow it).
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
		panic(fmt.Sprintf("scenario YAML: no user block %s before %s", user, next))
	}
	return y[:start] + y[end:]
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

// demoHistory is `iamaudit demo --months 6` recorded in a SQLite store: the
// built-in demo Organization in one sandbox whose clock stands at each month's
// time while that month is audited (the timeline's changes are made as the clock
// reaches them), as the demo does; built once per test binary.
var demoHistory = sync.OnceValues(func() (*history, error) {
	dir, err := os.MkdirTemp("", "iamaudit-dashboard-")
	if err != nil {
		return nil, err
	}
	tempDirs.Store(dir, true)
	path := filepath.Join(dir, "iamaudit.db")
	st, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var months []time.Time
	for i := demoMonths - 1; i >= 0; i-- {
		months = append(months, demoEnd.AddDate(0, -i, 0))
	}
	clk := sandboxtest.NewClock(months[0])
	srv, err := sandbox.Start(scenario.Demo(), sandbox.Options{Clock: clk.Now, Knobs: sandboxtest.Knobs(nil)}, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	h := &history{path: path}
	for _, m := range months {
		clk.Advance(m.Sub(clk.Now()))
		o, err := auditOnce(srv, filepath.Join(dir, "out"), st, clk.Now)
		if err != nil {
			return nil, err
		}
		if errs := srv.Stats().TimelineErrors; len(errs) > 0 {
			return nil, fmt.Errorf("the demo's timeline failed: %v", errs)
		}
		h.outs = append(h.outs, o)
	}
	return h, nil
})

// recordHistory audits each scenario through its own sandbox at its clock,
// recording every run in the store dir/iamaudit.db.
func recordHistory(dir string, yamls []string, clock func(i int) time.Time) (*history, error) {
	path := filepath.Join(dir, "iamaudit.db")
	st, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	h := &history{path: path}
	for i, y := range yamls {
		sc, err := scenario.Parse("month.yaml", []byte(y))
		if err != nil {
			return nil, err
		}
		clk := sandboxtest.NewClock(clock(i))
		srv, err := sandbox.Start(sc, sandbox.Options{Clock: clk.Now, Knobs: sandboxtest.Knobs(nil)}, "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		o, err := auditOnce(srv, filepath.Join(dir, "out"), st, clk.Now)
		srv.Close()
		if err != nil {
			return nil, err
		}
		h.outs = append(h.outs, o)
	}
	return h, nil
}

// auditOnce is one run of `iamaudit run` against the sandbox, recorded in st:
// its JSON file only (the history is the subject, not the files).
func auditOnce(srv *sandbox.Server, out string, st *store.Store, clock func() time.Time) (*outcome.Outcome, error) {
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
	var formats []report.Format
	for _, f := range report.Formats() {
		if f.Name == "json" {
			formats = append(formats, f)
		}
	}
	var o, e bytes.Buffer
	return audit.Run(context.Background(), cfg, audit.Options{
		Collect: collect.Options{Role: "IAMAuditRole", Days: 90, Concurrency: 8, ReportPoll: sandboxtest.ReportPoll,
			IAMRate: sandboxtest.ClientRate, EventsRate: sandboxtest.ClientRate, OrgRate: sandboxtest.ClientRate},
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
