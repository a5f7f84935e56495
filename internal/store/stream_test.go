package store

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
)

// ofAccount are the findings of fs in account id, in fs's order.
func ofAccount(fs []checks.Finding, id string) []checks.Finding {
	out := []checks.Finding{}
	for _, f := range fs {
		if f.AccountID == id {
			out = append(out, f)
		}
	}
	return out
}

// summaryOf is o as a streamed run hands it to Finish: its accounts summarised,
// its findings and resolved findings bounded (here: a few of each).
func summaryOf(o *outcome.Outcome) *outcome.Outcome {
	sum := *o
	inv := *o.Inventory
	inv.Accounts = make([]inventory.Account, len(o.Inventory.Accounts))
	for i, a := range o.Inventory.Accounts {
		inv.Accounts[i] = a.Summarised()
	}
	sum.Inventory = &inv
	sum.Findings = o.Findings[:min(3, len(o.Findings))]
	sum.Resolved = o.Resolved[:min(1, len(o.Resolved))]
	return &sum
}

// stream records o as a streamed run would: Begin with the head (no accounts, no
// gaps, no finish time yet), one part per account in the order given, Finish with
// the summary. It returns the run id stored.
func stream(t testing.TB, s *Store, o *outcome.Outcome, order []int) string {
	t.Helper()
	ctx := context.Background()
	head := *o.Inventory
	head.Accounts, head.Gaps, head.FinishedAt = nil, nil, time.Time{}
	rec, err := s.BeginRecording(ctx, &head, o.Settings, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range order {
		a := &o.Inventory.Accounts[i]
		p := outcome.Part{Account: a, Findings: ofAccount(o.Findings, a.ID), Resolved: ofAccount(o.Resolved, a.ID),
			Score: o.Scores.Accounts[i]}
		if err := rec.Account(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// As a streamed run ends: Prepare while the files are ended (it does not read
	// them), then Finish with the files written.
	sum := summaryOf(o)
	pre := *sum
	pre.Files = nil
	if err := rec.Prepare(ctx, &pre); err != nil {
		t.Fatal(err)
	}
	if err := rec.Finish(ctx, sum); err != nil {
		t.Fatal(err)
	}
	return rec.RunID()
}

// Prepare leaves the run's files to Finish: the stored run names the files Finish
// was given.
func TestPreparedRunRecordsItsFiles(t *testing.T) {
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), "s.db"))
	w := world{accounts: 2, users: 3}
	inv := w.inventory("20260105_090000", day(0))
	o := evaluate(inv, day(0), nil)
	o.Files = []string{"/reports/iamaudit_20260105_090000.json", "/reports/iam_audit_report_20260105_090000.csv"}
	if got := stream(t, st, o, []int{1, 0}); got != "20260105_090000" {
		t.Fatalf("streamed as %s", got)
	}
	loaded, err := st.Load(ctx, "20260105_090000")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(loaded.Files, o.Files) {
		t.Errorf("files %v, want %v", loaded.Files, o.Files)
	}
}

func reversed(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = n - 1 - i
	}
	return out
}

// reads is everything the store's read API says of a store after its runs,
// as JSON by name: what a written and a streamed store must agree on.
func reads(t *testing.T, s *Store, runIDs []string, next *inventory.Inventory) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	put := func(name string, v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = string(b)
	}
	ids := map[string]bool{}
	for _, id := range runIDs {
		o, err := s.Load(ctx, id)
		put("load "+id, o, err)
		var doc strings.Builder
		if err == nil {
			err = report.WriteJSON(&doc, report.DocumentOf(o))
		}
		put("document "+id, doc.String(), err)
		inv, err := s.Inventory(ctx, id)
		put("inventory "+id, inv, err)
		sum, err := s.RunSummaryOf(ctx, id)
		put("summary "+id, sum, err)
		for _, f := range slices.Concat(o.Findings, o.Resolved) {
			ids[f.ID] = true
		}
	}
	runs, err := s.Runs(ctx, RunFilter{})
	put("runs", runs, err)
	m, err := s.Metrics(ctx, MetricsQuery{})
	put("metrics", m, err)
	ev, err := s.EventCounts(ctx, EventQuery{Names: []string{"CreateAccessKey", "DeleteAccessKey", "DeleteUser"}})
	put("events", ev, err)
	win, err := s.EventWindows(ctx, RunFilter{})
	put("event windows", win, err)
	for id := range ids {
		l, fr, err := s.FindingHistory(ctx, id)
		put("finding history "+id, []any{l, fr}, err)
	}
	base, err := s.Baseline(ctx, next, nil)
	put("baseline", base, err)
	put("finding_lifecycle", lifecycleTable(t, s), nil)
	return out
}

// lifecycleTable is finding_lifecycle, row by row.
func lifecycleTable(t *testing.T, s *Store) []string {
	rows, err := s.DB().Query(`SELECT finding_id, account_id, check_id, resource, severity, status, first_seen, last_seen,
		resolved_at, reopened, updated_run_id, updated_run_order FROM finding_lifecycle ORDER BY finding_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, acct, check, res, sev, status, run string
		var first, last, resolved tsScan
		var reopened bool
		var order int64
		if err := rows.Scan(&id, &acct, &check, &res, &sev, &status, &first, &last, &resolved, &reopened, &run, &order); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(id, acct, check, res, sev, status, first.val(), last.val(), resolved.val(), reopened, run, order))
	}
	return out
}

// A run streamed account by account (in another order than the Organization's,
// with a summary whose findings are bounded) is the same stored run as Write
// stores for the whole outcome: every read of the store says the same of both
// (the loaded runs, their JSON documents, the inventories, summaries, metrics,
// event counts and windows, each finding's history, finding_lifecycle and the
// next run's baseline), over three runs of which the later ones compare with the
// earlier; and a loaded streamed run is the outcome that was streamed.
func TestStreamedRunIsTheWrittenRun(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		ctx := context.Background()
		clock := func() time.Time { return t0 }
		written, streamed := open(t, b.target(t)), open(t, b.target(t))
		written.clock, streamed.clock = clock, clock
		w := world{accounts: 4, users: 9, partial: acctID(2)}
		ids := []string{"20260105_090000", "20260204_090000", "20260306_090000"}
		var last *outcome.Outcome
		for i, id := range ids {
			if i == 1 {
				w.fixed = map[string]bool{acctID(1) + "/user002": true, acctID(3) + "/user004": true}
				w.newKey = acctID(0) + "/user003"
			}
			if i == 2 {
				w.partial = ""
			}
			now := day(30 * i)
			var outs [2]*outcome.Outcome
			for j, s := range []*Store{written, streamed} {
				inv := w.inventory(id, now)
				base, err := s.Baseline(ctx, inv, nil)
				if err != nil {
					t.Fatal(err)
				}
				outs[j] = evaluate(inv, now, base)
			}
			a, _ := json.Marshal(outs[0])
			c, _ := json.Marshal(outs[1])
			if string(a) != string(c) {
				t.Fatalf("run %s: the two stores' baselines give different outcomes:\n%s", id, diffAt(string(a), string(c)))
			}
			if i == 1 && (len(outs[1].Resolved) == 0 || len(outs[1].Findings) < 4) {
				t.Fatalf("run %s: %d findings, %d resolved: the test needs both", id, len(outs[1].Findings), len(outs[1].Resolved))
			}
			if got, err := written.Write(ctx, outs[0], WriteOptions{}); err != nil || got != id {
				t.Fatalf("write: %s %v", got, err)
			}
			if got := stream(t, streamed, outs[1], reversed(len(outs[1].Inventory.Accounts))); got != id {
				t.Fatalf("streamed as %s", got)
			}
			last = outs[1]
		}
		next := w.inventory("20260405_090000", day(90))
		want, got := reads(t, written, ids, next), reads(t, streamed, ids, next)
		if len(want) != len(got) {
			t.Fatalf("%d reads written, %d streamed", len(want), len(got))
		}
		for name, v := range want {
			if got[name] != v {
				t.Errorf("%s differs:\n%s", name, diffAt(v, got[name]))
			}
		}
		// And the streamed run loads as the outcome that was streamed.
		o, err := streamed.Load(ctx, ids[2])
		if err != nil {
			t.Fatal(err)
		}
		var have, was strings.Builder
		report.WriteJSON(&was, report.DocumentOf(last))
		report.WriteJSON(&have, report.DocumentOf(o))
		if was.String() != have.String() {
			t.Errorf("loaded streamed run differs from the outcome:\n%s", firstDiff(was.String(), have.String()))
		}
		var docs int
		if err := streamed.DB().QueryRow(`SELECT COUNT(*) FROM run_account_documents`).Scan(&docs); err != nil || docs != 3*4 {
			t.Errorf("%d account documents (%v), want 12", docs, err)
		}
	})
}

// A streamed run whose id another run took meanwhile gets the next _N id, as a
// written one does; an aborted one, or one whose part fails, leaves nothing.
func TestStreamedRunIDAndAbort(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		ctx := context.Background()
		s := open(t, b.target(t))
		var warned []string
		s.Warn = func(m string) { warned = append(warned, m) }
		w := world{accounts: 2, users: 3}
		id := "20260105_090000"
		o := evaluate(w.inventory(id, t0), t0, nil)

		head := *o.Inventory
		head.Accounts = nil
		rec, err := s.Begin(ctx, &head, o.Settings)
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.Account(ctx, outcome.Part{Account: &o.Inventory.Accounts[0], Findings: ofAccount(o.Findings, acctID(0))}); err != nil {
			t.Fatal(err)
		}
		// Another run takes the id while this one is streaming (PostgreSQL: at once;
		// SQLite, whose writers queue: the streamed run holds the write lock, so the
		// other run is written first by claiming the id before the streamed run begins).
		if b.name == Postgres {
			if _, err := s.Write(ctx, o, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
		} else {
			rec.Abort()
			if err := rec.Account(ctx, outcome.Part{Account: &o.Inventory.Accounts[1]}); err == nil {
				t.Error("an aborted recording took an account")
			}
			if runs, err := s.Runs(ctx, RunFilter{}); err != nil || len(runs) != 0 {
				t.Fatalf("after abort: %+v %v", runs, err)
			}
			if _, err := s.Write(ctx, o, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			if rec, err = s.Begin(ctx, &head, o.Settings); err != nil {
				t.Fatal(err)
			}
			if err := rec.Account(ctx, outcome.Part{Account: &o.Inventory.Accounts[0], Findings: ofAccount(o.Findings, acctID(0))}); err != nil {
				t.Fatal(err)
			}
		}
		if err := rec.Account(ctx, outcome.Part{Account: &o.Inventory.Accounts[1], Findings: ofAccount(o.Findings, acctID(1))}); err != nil {
			t.Fatal(err)
		}
		if err := rec.Finish(ctx, summaryOf(o)); err != nil {
			t.Fatal(err)
		}
		if got := rec.(*Recording).RunID(); got != id+"_2" {
			t.Errorf("streamed run stored as %s, want %s_2", got, id)
		}
		if len(warned) != 1 || !strings.Contains(warned[0], id+"_2") {
			t.Errorf("warnings %q", warned)
		}
		var owner string
		if err := s.DB().QueryRow(`SELECT updated_run_id FROM finding_lifecycle LIMIT 1`).Scan(&owner); err != nil || owner != id+"_2" {
			t.Errorf("lifecycle updated by %q (%v), want the later run %s_2", owner, err, id)
		}
		if err := rec.Finish(ctx, summaryOf(o)); err == nil {
			t.Error("a finished recording finished again")
		}

		// A summary omitting an account's users whose part never came: refused,
		// nothing stored.
		rec, err = s.Begin(ctx, &head, o.Settings)
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.Account(ctx, outcome.Part{Account: &o.Inventory.Accounts[0]}); err != nil {
			t.Fatal(err)
		}
		sum := summaryOf(o)
		sum.Inventory.RunID = "20260105_090001"
		if err := rec.Finish(ctx, sum); err == nil || !strings.Contains(err.Error(), "never recorded") {
			t.Errorf("finish without a part: %v", err)
		}
		if _, err := s.Load(ctx, "20260105_090001"); err == nil {
			t.Error("a failed recording was stored")
		}
		var pending int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM runs WHERE run_id LIKE 'pending-%'`).Scan(&pending); err != nil || pending != 0 {
			t.Errorf("%d provisional runs left (%v)", pending, err)
		}

		// The run id is the summary's, claimed at the end (the audit may have moved
		// it on, …_3, since Begin).
		rec, err = s.Begin(ctx, &head, o.Settings)
		if err != nil {
			t.Fatal(err)
		}
		for i := range o.Inventory.Accounts {
			a := &o.Inventory.Accounts[i]
			if err := rec.Account(ctx, outcome.Part{Account: a, Findings: ofAccount(o.Findings, a.ID)}); err != nil {
				t.Fatal(err)
			}
		}
		sum = summaryOf(o)
		sum.Inventory.RunID = id + "_3"
		if err := rec.Finish(ctx, sum); err != nil {
			t.Fatal(err)
		}
		if got := rec.(*Recording).RunID(); got != id+"_3" {
			t.Errorf("stored as %s, want %s_3", got, id)
		}
		if inv, err := s.Inventory(ctx, id+"_3"); err != nil || inv.RunID != id+"_3" || len(inv.Accounts) != 2 {
			t.Errorf("inventory of %s_3: %v", id, err)
		}
	})
}

// A run stored before schema version 5 (its whole inventory in one document) reads
// the same as the run stored per account (Load, Inventory and every other read),
// also after the store went back to version 4 and was migrated again.
func TestRunDocumentOfVersion4Reads(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		ctx := context.Background()
		target := b.target(t)
		s := open(t, target)
		inv := world{accounts: 3, users: 4, partial: acctID(1)}.inventory("20260105_090000", t0)
		o := evaluate(inv, t0, nil)
		if _, err := s.Write(ctx, o, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		before := reads(t, s, []string{"20260105_090000"}, inv)
		// What a version 4 store held: run_documents with the whole inventory, as
		// compressDocument wrote it, and no account documents.
		whole, err := compress(o.Inventory)
		if err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := s.DB().QueryRow(`SELECT id FROM runs WHERE run_id = '20260105_090000'`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		for _, q := range []struct {
			stmt string
			args []any
		}{
			{`DELETE FROM run_account_documents WHERE run = ?`, []any{id}},
			{`UPDATE run_documents SET format = ?, body = ? WHERE run = ?`, []any{DocumentFormat, whole, id}},
		} {
			if _, err := s.DB().Exec(s.d.q(q.stmt), q.args...); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM run_account_documents`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("account documents left: %d %v", n, err)
		}
		// Back to schema version 4 (goose's down migration of 5), then opened by this
		// binary again: migrated to 5 with the old run in it.
		sub, _ := fs.Sub(migrations, s.d.dir)
		p, err := goose.NewProvider(s.d.goose, s.DB(), sub, goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.DownTo(ctx, 4); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Version(ctx); err != nil || v != 4 {
			t.Fatalf("version %d %v", v, err)
		}
		s.Close()
		s = open(t, target)
		if v, err := s.Version(ctx); err != nil || v != SchemaVersion() {
			t.Fatalf("version %d %v after reopening", v, err)
		}
		after := reads(t, s, []string{"20260105_090000"}, inv)
		for name, v := range before {
			if after[name] != v {
				t.Errorf("%s differs:\n%s", name, diffAt(v, after[name]))
			}
		}
	})
}

// diffAt shows where two long one-line texts first differ.
func diffAt(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-150)
	return fmt.Sprintf("at byte %d:\nwant: …%s\nhave: …%s", i, a[from:min(len(a), i+150)], b[from:min(len(b), i+150)])
}

// Two streamed runs of the same Organization at once, their accounts in opposite
// orders, both land: on PostgreSQL they write side by side and lock
// finding_lifecycle only at Finish, in finding id order (no deadlock); on SQLite the
// second Begin waits for the first run's commit. The lifecycle is the later run's.
func TestConcurrentStreamedRuns(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		ctx := context.Background()
		s := open(t, b.target(t))
		w := world{accounts: 3, users: 5}
		ids := []string{"20260105_090000", "20260105_090001"}
		outs := make([]*outcome.Outcome, 2)
		recs := make([]*Recording, 2)
		for i, id := range ids {
			outs[i] = evaluate(w.inventory(id, t0), t0, nil)
		}
		begin := func(i int) {
			head := *outs[i].Inventory
			head.Accounts = nil
			r, err := s.BeginRecording(ctx, &head, outs[i].Settings, WriteOptions{})
			if err != nil {
				t.Error(err)
				return
			}
			recs[i] = r
		}
		part := func(i, ai int) {
			a := &outs[i].Inventory.Accounts[ai]
			if err := recs[i].Account(ctx, outcome.Part{Account: a, Findings: ofAccount(outs[i].Findings, a.ID)}); err != nil {
				t.Error(err)
			}
		}
		finish := func(i int) error { return recs[i].Finish(ctx, summaryOf(outs[i])) }
		if b.name == Postgres {
			begin(0)
			begin(1)
			for k := 0; k < 3; k++ {
				part(0, k)
				part(1, 2-k)
			}
			errs := make(chan error, 2)
			for i := range ids {
				go func() { errs <- finish(i) }()
			}
			for range ids {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
		} else {
			begin(0)
			began := make(chan struct{})
			go func() { begin(1); close(began) }()
			for k := 0; k < 3; k++ {
				part(0, k)
			}
			select {
			case <-began:
				t.Fatal("a second SQLite writer began while the first was streaming")
			case <-time.After(200 * time.Millisecond):
			}
			if err := finish(0); err != nil {
				t.Fatal(err)
			}
			<-began
			if t.Failed() {
				return
			}
			for k := 2; k >= 0; k-- {
				part(1, k)
			}
			if err := finish(1); err != nil {
				t.Fatal(err)
			}
		}
		runs, err := s.Runs(ctx, RunFilter{})
		if err != nil || len(runs) != 2 {
			t.Fatalf("runs %+v %v", runs, err)
		}
		var other int
		if err := s.DB().QueryRow(s.d.q(`SELECT COUNT(*) FROM finding_lifecycle WHERE updated_run_id <> ?`), ids[1]).Scan(&other); err != nil || other != 0 {
			t.Errorf("%d lifecycle rows not of the later run (%v)", other, err)
		}
	})
}
