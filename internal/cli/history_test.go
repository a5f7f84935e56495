package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/scenario"
	"github.com/iamaudit/iamaudit/internal/store"
)

// Flag parsing of `history`, `history show` and `history prune`, apart from the work.
func TestHistoryFlags(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
		what     string
		check    func(*HistoryOptions) bool
	}{
		{args: []string{"history"}, what: "list"},
		{args: []string{"history", "--db", "x.db", "--format", "json"}, what: "list", check: func(o *HistoryOptions) bool { return o.DB == "x.db" && o.Format == "json" }},
		{args: []string{"history", "show", "20260301_120000", "--format", "plain"}, what: "show", check: func(o *HistoryOptions) bool { return o.RunID == "20260301_120000" && o.Format == "plain" }},
		{args: []string{"history", "show"}, wantCode: ExitUsage, wantErr: "takes one run id"},
		{args: []string{"history", "prune"}, wantCode: ExitUsage, wantErr: "--keep N"},
		{args: []string{"history", "prune", "--keep", "-1"}, wantCode: ExitUsage, wantErr: "--keep -1"},
		{args: []string{"history", "prune", "--older-than", "soon"}, wantCode: ExitUsage, wantErr: "--older-than"},
		{args: []string{"history", "prune", "--older-than", "90d", "--keep", "3", "--dry-run"}, what: "prune",
			check: func(o *HistoryOptions) bool { return o.OlderThan == "90d" && o.Keep == 3 && o.DryRun }},
		{args: []string{"history", "extra"}, wantCode: ExitUsage, wantErr: "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var got *HistoryOptions
			var gotWhat string
			f := NewFactory("test", IO{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}})
			root := NewRootCmd(f)
			for _, c := range root.Commands() {
				if c.Name() == "history" {
					root.RemoveCommand(c)
				}
			}
			root.AddCommand(newHistoryCmd(f, func(_ context.Context, what string, o *HistoryOptions) error {
				got, gotWhat = o, what
				return nil
			}))
			root.SetArgs(tt.args)
			_, err := root.ExecuteC()
			code := exitCode(err)
			if isFlagError(err) {
				code = ExitUsage
			}
			if code != tt.wantCode || (tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr))) {
				t.Fatalf("exit %d err %v, want %d %q", code, err, tt.wantCode, tt.wantErr)
			}
			if tt.what != "" && gotWhat != tt.what {
				t.Errorf("ran %q, want %q", gotWhat, tt.what)
			}
			if tt.check != nil && !tt.check(got) {
				t.Errorf("options %+v", got)
			}
			if _, err := parseAge("12w"); err != nil {
				t.Error(err)
			}
		})
	}
}

// `run` records into the store by default (the user's state directory), into
// --db when given, and nowhere with --no-db; the second run's finding states and
// first_seen come from the store; history, show and prune read it.
func TestRunRecordsInStoreAndHistoryReadsIt(t *testing.T) {
	sandboxEnv(t, scenario.Demo())
	args := func(extra ...string) []string {
		return append([]string{"run", "--role", "IAMAuditRole", "--accounts", "567890123456", "--no-progress", "--output-dir", t.TempDir()}, extra...)
	}
	def, err := store.DefaultPath()
	if err != nil || !strings.HasPrefix(def, os.Getenv("XDG_STATE_HOME")) {
		t.Fatalf("default store %q (%v) is not under the test's XDG_STATE_HOME", def, err)
	}
	if code, _, stderr := runCLI(t, args("--no-db")...); code != ExitOK {
		t.Fatalf("--no-db: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(def); !os.IsNotExist(err) {
		t.Fatalf("--no-db created the default store: %v", err)
	}
	if code, _, stderr := runCLI(t, args()...); code != ExitOK || !strings.Contains(stderr, "recorded in the store "+def) {
		t.Fatalf("default store: exit %d\n%s", code, stderr)
	}
	if fi, err := os.Stat(def); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("default store: %v %v", fi, err)
	}

	db := filepath.Join(t.TempDir(), "team.db")
	var dirs []string
	for i := 0; i < 2; i++ {
		dir := t.TempDir()
		dirs = append(dirs, dir)
		if code, stdout, stderr := runCLI(t, "run", "--role", "IAMAuditRole", "--accounts", "567890123456", "--no-progress", "--output-dir", dir, "--db", db); code != ExitOK {
			t.Fatalf("run %d: exit %d\n%s\n%s", i, code, stdout, stderr)
		}
	}
	// The second run's JSON: its findings are open, first seen at the first run.
	files, _ := filepath.Glob(filepath.Join(dirs[1], "iamaudit_2*.json"))
	if len(files) != 1 {
		t.Fatalf("json files %v", files)
	}
	raw, _ := os.ReadFile(files[0])
	var doc struct {
		PreviousRun string           `json:"previous_run"`
		StartedAt   time.Time        `json:"started_at"`
		Findings    []checks.Finding `json:"findings"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || len(doc.Findings) == 0 || doc.PreviousRun == "" {
		t.Fatalf("second run's JSON: %v, %d findings, previous %q", err, len(doc.Findings), doc.PreviousRun)
	}
	for _, f := range doc.Findings {
		if f.State != checks.StateOpen || f.FirstSeen == nil || f.LastSeen == nil || !f.FirstSeen.Before(*f.LastSeen) {
			t.Errorf("%s: %s first %v last %v", f.CheckID, f.State, f.FirstSeen, f.LastSeen)
		}
	}

	code, stdout, stderr := runCLI(t, "history", "--db", db, "--format", "json")
	var runs []store.RunSummary
	if code != ExitOK || json.Unmarshal([]byte(stdout), &runs) != nil || len(runs) != 2 || runs[1].BaselineRunID != runs[0].RunID {
		t.Fatalf("history: exit %d %s %s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "history", "--db", db)
	if code != ExitOK || !strings.HasPrefix(stdout, "RUN\tFINISHED (UTC)\t") || strings.Count(stdout, "\n") != 3 || !strings.Contains(stdout, runs[1].RunID+"\t") {
		t.Errorf("plain history:\n%s", stdout)
	}
	code, stdout, _ = runCLI(t, "history", "--db", db, "show", "latest", "--format", "table")
	if code != ExitOK || !strings.Contains(stdout, "Compared with  "+runs[0].RunID) || !strings.Contains(stdout, "567890123456  Staging") {
		t.Errorf("show:\n%s", stdout)
	}
	code, _, stderr = runCLI(t, "history", "--db", db, "show", "20200101_000000")
	if code != ExitUsage || !strings.Contains(stderr, "no such run") {
		t.Errorf("show of a missing run: exit %d %s", code, stderr)
	}
	code, stdout, _ = runCLI(t, "history", "--db", db, "prune", "--keep", "1")
	if code != ExitOK || !strings.Contains(stdout, "Deleted 1 runs") || !strings.Contains(stdout, runs[0].RunID) {
		t.Errorf("prune:\n%s", stdout)
	}
	code, stdout, _ = runCLI(t, "history", "--db", db, "--format", "json")
	if code != ExitOK || json.Unmarshal([]byte(stdout), &runs) != nil || len(runs) != 1 {
		t.Errorf("after prune: %s", stdout)
	}
	code, _, stderr = runCLI(t, "history", "--db", filepath.Join(t.TempDir(), "none.db"))
	if code != ExitError || !strings.Contains(stderr, "iamaudit run") {
		t.Errorf("missing store: exit %d %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, args("--db", db, "--no-db")...); code != ExitUsage || !strings.Contains(stderr, "not both") {
		t.Errorf("--db with --no-db: exit %d %s", code, stderr)
	}
}

// The demo keeps its own store in its output directory and never reads
// IAMAUDIT_DB: a demo's runs never land in a real history.
func TestDemoStoreIsItsOwn(t *testing.T) {
	t.Setenv(store.EnvDB, filepath.Join(t.TempDir(), "real.db"))
	dir := filepath.Join(t.TempDir(), "demo-out")
	f := NewFactory("test", IO{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}})
	var got *DemoOptions
	cmd := newDemoCmd(f, func(_ context.Context, o *DemoOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--output-dir", dir})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	aopts, err := got.auditOptions(f)
	if err != nil {
		t.Fatal(err)
	}
	defer closeHistory(aopts.History)
	s, ok := aopts.History.(*store.Store)
	if !ok || s.Name() != "store "+filepath.Join(dir, "iamaudit.db") {
		t.Fatalf("demo history %T %v", aopts.History, aopts.History.Name())
	}
	if _, err := os.Stat(os.Getenv(store.EnvDB)); !os.IsNotExist(err) {
		t.Errorf("the demo touched IAMAUDIT_DB: %v", err)
	}
}

// `history show` lists a stored run's gaps with what each leaves unknown, in the table
// and in the JSON, as the run recorded them.
func TestHistoryShowGapsUnknown(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "iamaudit.db")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	acct := "111122223333"
	mfa := inventory.NewGap(acct, inventory.SectionMFA, []inventory.Field{inventory.FieldMFA}, "rate exceeded")
	mfa.Subject, mfa.Operation, mfa.ErrorCode = "alice", "iam:ListMFADevices", "Throttling"
	doc := inventory.NewGap(acct, inventory.SectionPolicies, []inventory.Field{inventory.FieldPolicyDocuments, inventory.FieldManagedPolicies}, "malformed document")
	ou := inventory.NewGap("", inventory.SectionOrganization, []inventory.Field{inventory.FieldOUNames}, "OU names could not be read")
	inv := &inventory.Inventory{Schema: inventory.Schema, Tool: "iamaudit", Version: "test", RunID: inventory.RunID(now),
		StartedAt: now, FinishedAt: now, Partition: "aws", Region: "us-east-1",
		Accounts: []inventory.Account{{ID: acct, Name: "Prod", State: "ACTIVE", Status: inventory.StatusPartial, CollectedAt: now,
			Users: []inventory.User{{Name: "alice", ARN: "arn:aws:iam::" + acct + ":user/alice", CreatedAt: now.AddDate(-1, 0, 0)}},
			Gaps:  []inventory.Gap{mfa, doc}}},
		Gaps: []inventory.Gap{ou}}
	s, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := outcome.Evaluate(outcome.CommandRun, inv, now, outcome.Settings{Checks: checks.DefaultConfig()}, nil)
	if err := s.Record(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	s.Close()

	code, stdout, stderr := runCLI(t, "history", "--db", db, "show", inv.RunID, "--format", "plain")
	if code != ExitOK {
		t.Fatalf("show: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"GAP ACCOUNT\tSECTION\tUNKNOWN\tSUBJECT\tOPERATION\tERROR\tMESSAGE\n",
		"-\torganization\tou_names\t-\t-\t-\tOU names could not be read\n",
		acct + "\tmfa\tmfa\talice\tiam:ListMFADevices\tThrottling\trate exceeded\n",
		acct + "\tpolicies\tpolicy_documents, managed_policies\t-\t-\t-\tmalformed document\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("show lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = runCLI(t, "history", "--db", db, "show", "latest", "--format", "json")
	var d struct {
		Gaps []inventory.Gap `json:"gaps"`
	}
	if code != ExitOK || json.Unmarshal([]byte(stdout), &d) != nil || len(d.Gaps) != 3 {
		t.Fatalf("show --format json: exit %d\n%s", code, stdout)
	}
	if !strings.Contains(stdout, `"unknown": [`) || !slices.Equal(d.Gaps[2].Unknown, doc.Unknown) {
		t.Errorf("json gaps %+v", d.Gaps)
	}
}

// A run id the store does not hold is a usage error naming the run and the way to
// list them, as `diff` does, not a failure of the store.
func TestHistoryShowUnknownRun(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "iamaudit.db")
	s, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	code, _, stderr := runCLI(t, "history", "--db", db, "show", "20990101_000000")
	if code != ExitUsage || !strings.Contains(stderr, "run 20990101_000000: no such run") || !strings.Contains(stderr, "iamaudit history lists") {
		t.Errorf("exit %d, stderr %q: want %d and the run named", code, stderr, ExitUsage)
	}
}
