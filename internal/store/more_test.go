package store

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

// The SQLite file is owner-only in an owner-only directory, with its WAL and
// shared-memory files.
func TestSQLiteFilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "new", "dir", "iamaudit.db")
	s := open(t, path)
	if _, err := s.Write(context.Background(), evaluate(world{accounts: 1, users: 2}.inventory("20260105_090000", t0), t0, nil), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Dir(path), filepath.Dir(filepath.Dir(path))} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v", p, fi.Mode(), err)
		}
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", p, fi.Mode(), err)
		}
	}
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "none.db"), Options{MustExist: true}); err == nil || !strings.Contains(err.Error(), "iamaudit run") {
		t.Errorf("MustExist: %v", err)
	}
}

// A PostgreSQL DSN's password is never in a message: not in the store's name, not
// in a connection error, not in a bad password's error.
func TestDSNPasswordNeverPrinted(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:s3cr%21t@db.example:5432/iamaudit?sslmode=require", "postgres://u:xxxxx@db.example:5432/iamaudit?sslmode=require"},
		{"postgresql://u@h/d?password=s3cr!t&sslmode=disable", "postgresql://u@h/d?password=xxxxx&sslmode=disable"},
		{"/var/lib/iamaudit.db", "/var/lib/iamaudit.db"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	b := backends[1]
	dsn := b.target(t)
	good := open(t, dsn)
	if strings.Contains(good.Name(), pg.password) {
		t.Errorf("name %q holds the password", good.Name())
	}
	ctx := context.Background()
	wrong := strings.Replace(dsn, pg.password, "Wr0ngPassw0rd", 1)
	_, err := Open(ctx, wrong, Options{})
	if err == nil || strings.Contains(err.Error(), "Wr0ngPassw0rd") || !strings.Contains(err.Error(), "xxxxx") {
		t.Errorf("bad password: %v", err)
	}
	closed := strings.Replace(dsn, ":"+itoaPort(dsn), ":1", 1)
	_, err = Open(ctx, closed, Options{})
	if err == nil || strings.Contains(err.Error(), pg.password) {
		t.Errorf("closed port: %v", err)
	}
	t.Logf("bad password: %v", err)
}

func itoaPort(dsn string) string {
	rest := dsn[strings.LastIndex(dsn, "@127.0.0.1:")+len("@127.0.0.1:"):]
	return rest[:strings.Index(rest, "/")]
}

// The two backends have the same tables and columns: one schema, documented once.
func TestSchemasMatch(t *testing.T) {
	cols := func(b backend) map[string][]string {
		s := open(t, b.target(t))
		q := `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'`
		if b.name == SQLite {
			q = `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`
		}
		rows, err := s.DB().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string][]string{}
		for rows.Next() {
			var table, col string
			if err := rows.Scan(&table, &col); err != nil {
				t.Fatal(err)
			}
			out[table] = append(out[table], col)
		}
		for k := range out {
			sort.Strings(out[k])
		}
		return out
	}
	lite, pgs := cols(backends[0]), cols(backends[1])
	if len(lite) < 12 {
		t.Fatalf("sqlite tables: %v", lite)
	}
	for table, c := range lite {
		if !slices.Equal(c, pgs[table]) {
			t.Errorf("%s: sqlite %v, postgres %v", table, c, pgs[table])
		}
	}
	for table := range pgs {
		if _, ok := lite[table]; !ok {
			t.Errorf("%s only in postgres", table)
		}
	}
}

// Prune deletes whole runs in one transaction and says which; what --keep and
// --older-than keep stays.
func TestPrune(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		s := open(t, b.target(t))
		r := recorder{h: s}
		fixed := world{accounts: 2, users: 4, fixed: map[string]bool{acctID(0) + "/user000": true}}
		plain := world{accounts: 2, users: 4}
		ids := []string{"20260105_090000", "20260204_090000", "20260306_090000", "20260405_090000"}
		for i, id := range ids {
			w := plain
			if i == 1 {
				w = fixed
			}
			r.run(t, w, id, day(30*i))
		}
		ctx := context.Background()
		if _, err := s.Prune(ctx, PruneOptions{}); err == nil {
			t.Error("a prune without --keep or --older-than was accepted")
		}
		dry, err := s.Prune(ctx, PruneOptions{Keep: 1, DryRun: true})
		if err != nil || !slices.Equal(dry.Deleted, ids[:3]) || dry.Kept != 1 {
			t.Fatalf("dry run %+v %v", dry, err)
		}
		if n := rowCounts(t, s)["runs"]; n != 4 {
			t.Fatalf("a dry run deleted runs: %d left", n)
		}
		// Keep the newest two, or anything from day 45 on: runs 3 and 4 stay (2 by both).
		res, err := s.Prune(ctx, PruneOptions{Keep: 1, Before: day(45)})
		if err != nil || !slices.Equal(res.Deleted, ids[:2]) || res.Kept != 2 {
			t.Fatalf("prune %+v %v", res, err)
		}
		if res.Rows["runs"] != 2 || res.Rows["users"] != 2*2*4 || res.Rows["findings"] == 0 || res.Rows["run_documents"] != 2 {
			t.Errorf("rows deleted %v", res.Rows)
		}
		counts := rowCounts(t, s)
		if counts["runs"] != 2 || counts["users"] != 2*2*4 || counts["accounts"] != 4 {
			t.Errorf("left %v", counts)
		}
		runs, _ := s.Runs(ctx, RunFilter{})
		if len(runs) != 2 || runs[0].RunID != ids[2] {
			t.Errorf("runs left %+v", runs)
		}
		// The finding resolved by a deleted run (run 2), seen again in run 3, is
		// open; the lifecycle of still-open findings keeps its first_seen.
		var first tsScan
		if err := s.DB().QueryRow(`SELECT MIN(first_seen) FROM finding_lifecycle`).Scan(&first); err != nil || !first.T.Equal(day(0)) {
			t.Errorf("first_seen after prune %v %v", first.T, err)
		}
	})
}

// The run listing and the trend's figures: per run, the Organization's and each
// account's score and median key age; events counted once across overlapping runs.
func TestRunsAndMetrics(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		s := open(t, b.target(t))
		r := recorder{h: s}
		w := world{accounts: 3, users: 6, partial: acctID(2)}
		r.run(t, w, "20260105_090000", day(0))
		r.run(t, w, "20260204_090000", day(30))
		ctx := context.Background()
		runs, err := s.Runs(ctx, RunFilter{Since: day(10)})
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs since day 10: %+v %v", runs, err)
		}
		run := runs[0]
		if run.Accounts != (AccountCounts{Total: 3, Audited: 2, Partial: 1}) || run.Complete || run.BaselineRunID != "20260105_090000" ||
			run.Risk.Formula != "iamaudit-risk/2" || run.Findings.Total() == 0 || run.OrganizationID != "o-test123456" {
			t.Errorf("summary %+v", run)
		}
		o, err := s.Load(ctx, run.RunID)
		if err != nil {
			t.Fatal(err)
		}
		if run.Findings != o.Scores.Organization.Findings {
			t.Errorf("listed findings %+v, scores %+v", run.Findings, o.Scores.Organization.Findings)
		}
		m, err := s.Metrics(ctx, MetricsQuery{Accounts: []string{acctID(1)}})
		if err != nil || len(m) != 2 {
			t.Fatalf("metrics %d %v", len(m), err)
		}
		last := m[1]
		if len(last.Accounts) != 1 || last.Accounts[0].AccountID != acctID(1) || last.Organization.Score.Users != 18 ||
			last.Organization.RiskFormula != "iamaudit-risk/2" {
			t.Fatalf("metrics %+v", last)
		}
		// Active keys of the world: users with ui%3 keys, ages 30+200k+ui days.
		var ages []float64
		for ui := 0; ui < 6; ui++ {
			for k := 0; k < ui%3; k++ {
				ages = append(ages, float64(30+200*k+ui))
			}
		}
		want := *median(ages)
		if got := last.Accounts[0].MedianActiveKeyAgeDays; got == nil || *got != want {
			t.Errorf("median key age %v, want %v", got, want)
		}
		if got := last.Organization.MedianActiveKeyAgeDays; got == nil || *got != want {
			t.Errorf("organization median key age %v, want %v", got, want)
		}
		// Overlapping windows: an event both runs saw is counted once; failed calls
		// are not counted.
		distinct, seen := map[string]bool{}, 0
		for _, at := range []time.Time{day(0), day(30)} {
			for _, e := range w.inventory("20260105_090000", at).Accounts[0].Events {
				if e.Name == "CreateAccessKey" && e.ErrorCode == "" {
					distinct[e.ID] = true
					seen++
				}
			}
		}
		if seen == len(distinct) {
			t.Fatal("the runs' windows share no event: the test proves nothing")
		}
		counts, err := s.EventCounts(ctx, EventQuery{Names: []string{"CreateAccessKey"}, Accounts: []string{acctID(0)}})
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, c := range counts {
			total += c.Count
			if c.Name != "CreateAccessKey" || c.AccountID != acctID(0) || len(c.Month) != 7 {
				t.Errorf("count %+v", c)
			}
		}
		if total != len(distinct) || total == 0 {
			t.Errorf("CreateAccessKey events %d, want %d (%+v)", total, len(distinct), counts)
		}
	})
}

// Two runs given the same run id (two output directories, the same second): the
// second is recorded as _2, and Warn says so.
func TestRunIDTakenGetsSuffix(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		s := open(t, b.target(t))
		var warned []string
		s.Warn = func(w string) { warned = append(warned, w) }
		ctx := context.Background()
		for i := 0; i < 2; i++ {
			got, err := s.Write(ctx, evaluate(world{accounts: 1, users: 1}.inventory("20260105_090000", t0), t0, nil), WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"20260105_090000", "20260105_090000_2"}[i]; got != want {
				t.Errorf("write %d: %s, want %s", i, got, want)
			}
		}
		if len(warned) != 1 || !strings.Contains(warned[0], "recorded there as 20260105_090000_2") {
			t.Errorf("warnings %v", warned)
		}
	})
}

// TestRunConnectionForeignKeys: a SQLite run is written on a connection whose
// foreign keys are off for its transaction (Store.beginRun); the connection goes
// back to the pool with them on, after a commit and after a rollback, so a later
// prune still cascades.
func TestRunConnectionForeignKeys(t *testing.T) {
	s := open(t, backends[0].target(t))
	s.DB().SetMaxIdleConns(1) // the connection a run released is the one handed out next
	ctx := context.Background()
	foreignKeys := func(when string) {
		t.Helper()
		conn, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var on int
		if err := conn.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&on); err != nil {
			t.Fatal(err)
		}
		if on != 1 {
			t.Fatalf("%s: foreign keys are off on a pooled connection", when)
		}
	}
	o := evaluate(world{accounts: 2, users: 3}.inventory("20260105_090000", t0), t0, nil)
	if _, err := s.Write(ctx, o, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	foreignKeys("after a run was written")
	rec, err := s.BeginRecording(ctx, o.Inventory, outcome.Settings{}, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec.Abort()
	foreignKeys("after a recording was aborted")
	// A write whose context is cancelled mid-way: database/sql may not have rolled the
	// transaction back when Write returns; the connection is discarded rather than
	// given back with its foreign keys off.
	for range 10 {
		cctx, cancel := context.WithCancel(ctx)
		s.hook = cancel
		if _, err := s.Write(cctx, o, WriteOptions{}); err == nil {
			t.Fatal("a cancelled write succeeded")
		}
		s.hook = nil
		foreignKeys("after a cancelled write")
	}
	// The cascade still works: deleting the run deletes its rows.
	if _, err := s.DB().ExecContext(ctx, `DELETE FROM runs`); err != nil {
		t.Fatal(err)
	}
	var users int
	if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&users); err != nil || users != 0 {
		t.Fatalf("after the run was deleted: %d users rows (%v)", users, err)
	}
}

// TestLifecycleChosenRow: of several rows with one finding id in a run, the
// lifecycle is its last open or suppressed one, else its first resolved one, on
// both backends (SQLite sorts the rows and lets the first win, PostgreSQL picks it
// with a window).
func TestLifecycleChosenRow(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		s := open(t, b.target(t))
		ctx := context.Background()
		o := evaluate(world{accounts: 1, users: 3}.inventory("20260105_090000", t0), t0, nil)
		if len(o.Findings) < 2 {
			t.Fatalf("the world has %d findings", len(o.Findings))
		}
		open, gone := o.Findings[0], o.Findings[1]
		with := func(f checks.Finding, sev checks.Severity, state string) checks.Finding {
			f.Severity, f.State = sev, state
			return f
		}
		// open: open (critical), then open again (low), and resolved (high): the last open one.
		// gone: resolved (medium), then resolved (high): the first resolved one.
		o.Findings = append(o.Findings, with(open, checks.Low, checks.StateOpen))
		o.Findings[0] = with(open, checks.Critical, checks.StateOpen)
		o.Findings = slices.Delete(o.Findings, 1, 2)
		o.Resolved = []checks.Finding{with(open, checks.High, checks.StateResolved),
			with(gone, checks.Medium, checks.StateResolved), with(gone, checks.High, checks.StateResolved)}
		if _, err := s.Write(ctx, o, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]string{open.ID: "low open", gone.ID: "medium resolved"} {
			var sev, status string
			if err := s.DB().QueryRowContext(ctx, s.d.q(`SELECT severity, status FROM finding_lifecycle WHERE finding_id = ?`), id).Scan(&sev, &status); err != nil {
				t.Fatal(err)
			}
			if got := sev + " " + status; got != want {
				t.Errorf("finding %s: lifecycle %q, want %q", id, got, want)
			}
		}
	})
}
