package store

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Entries are appended with their own seq, read back whole and in order, selected
// across journals; an unknown journal is ErrNoJournal.
func TestJournalAppendAndRead(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		s := open(t, b.target(t))
		ctx := context.Background()
		at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
		var got []JournalEntry
		for i, e := range []JournalEntry{
			{JournalID: "j1", Kind: "begin", Phase: "apply", Detail: json.RawMessage(`{"plan":"p1"}`)},
			{JournalID: "j1", Kind: "before", Phase: "apply", Item: 1, Action: 1, AccountID: "111122223333", UserName: "bob",
				AccessKeyID: "AKIAEXAMPLE000000001", API: "iam:UpdateAccessKey", Message: "deactivate"},
			{JournalID: "j2", Kind: "begin", Phase: "apply"},
			{JournalID: "j1", Kind: "after", Phase: "apply", Item: 1, Action: 1, AccountID: "111122223333", UserName: "bob",
				AccessKeyID: "AKIAEXAMPLE000000001", API: "iam:UpdateAccessKey", Status: "ok", Detail: json.RawMessage(`{"a": [1, 2]}`)},
		} {
			e.RecordedAt = at.Add(time.Duration(i) * time.Minute)
			w, err := s.AppendJournal(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, w)
		}
		if got[0].Seq != 1 || got[1].Seq != 2 || got[2].Seq != 1 || got[3].Seq != 3 {
			t.Errorf("seqs %d %d %d %d", got[0].Seq, got[1].Seq, got[2].Seq, got[3].Seq)
		}
		j1, err := s.Journal(ctx, "j1")
		if err != nil || len(j1) != 3 {
			t.Fatalf("j1: %v %v", j1, err)
		}
		if e := j1[2]; e.Kind != "after" || e.Status != "ok" || e.AccessKeyID != "AKIAEXAMPLE000000001" || e.API != "iam:UpdateAccessKey" ||
			e.Item != 1 || e.Action != 1 || !e.RecordedAt.Equal(at.Add(3*time.Minute).Truncate(time.Microsecond)) {
			t.Errorf("entry read back %+v", e)
		}
		var detail struct{ A []int }
		if err := json.Unmarshal(j1[2].Detail, &detail); err != nil || len(detail.A) != 2 {
			t.Errorf("detail %s: %v", j1[2].Detail, err)
		}
		if string(j1[1].Detail) != "{}" {
			t.Errorf("empty detail stored as %s", j1[1].Detail)
		}
		if _, err := s.Journal(ctx, "nope"); !errors.Is(err, ErrNoJournal) {
			t.Errorf("unknown journal: %v", err)
		}
		sel, err := s.JournalEntries(ctx, JournalFilter{AccessKeyID: "AKIAEXAMPLE000000001", Kind: "after"})
		if err != nil || len(sel) != 1 || sel[0].Seq != 3 {
			t.Errorf("filter: %+v %v", sel, err)
		}
		list, err := s.Journals(ctx)
		if err != nil || len(list) != 2 || list[0].JournalID != "j1" || list[0].Entries != 3 || list[1].Entries != 1 {
			t.Errorf("journals %+v %v", list, err)
		}
		if _, err := s.AppendJournal(ctx, JournalEntry{JournalID: "j1", Kind: "x", Detail: json.RawMessage(`{not json`)}); err == nil {
			t.Error("a detail that is not JSON was stored")
		}
	})
}

// The journal is append-only: the database itself refuses to update or delete an
// entry (or, in PostgreSQL, to truncate the table), and pruning runs leaves it whole.
func TestJournalIsAppendOnly(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		s := open(t, b.target(t))
		ctx := context.Background()
		if _, err := s.AppendJournal(ctx, JournalEntry{JournalID: "j1", Kind: "before", Phase: "apply", Message: "first"}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`UPDATE remediation_journal SET message = 'rewritten'`,
			`UPDATE remediation_journal SET status = 'ok' WHERE seq = 1`,
			`DELETE FROM remediation_journal`,
			`DELETE FROM remediation_journal WHERE seq = 1`,
		} {
			if _, err := s.DB().Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v", q, err)
			}
		}
		if b.name == Postgres {
			if _, err := s.DB().Exec(`TRUNCATE remediation_journal`); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("truncate: %v", err)
			}
		}
		r := recorder{h: s}
		r.run(t, world{accounts: 1, users: 2}, "20260105_090000", day(0))
		r.run(t, world{accounts: 1, users: 2}, "20260204_090000", day(30))
		if _, err := s.Prune(ctx, PruneOptions{Keep: 1}); err != nil {
			t.Fatal(err)
		}
		j, err := s.Journal(ctx, "j1")
		if err != nil || len(j) != 1 || j[0].Message != "first" {
			t.Errorf("journal after the refused changes and a prune: %+v %v", j, err)
		}
	})
}

// No statement of the package's code updates or deletes journal rows.
func TestNoJournalRewriteInCode(t *testing.T) {
	t.Parallel()
	bad := regexp.MustCompile(`(?is)(UPDATE|DELETE\s+FROM|TRUNCATE|REPLACE\s+INTO|INSERT\s+OR\s+REPLACE\s+INTO)\s+(TABLE\s+)?remediation_journal`)
	files, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		name := f.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if m := bad.Find(b); m != nil {
			t.Errorf("%s: %q rewrites the append-only journal", name, m)
		}
	}
	if n == 0 {
		t.Fatal("no source files read")
	}
	for _, name := range []string{"migrations/sqlite/00004_remediation_journal.sql", "migrations/postgres/00004_remediation_journal.sql"} {
		b, err := migrations.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		up := string(b)[:strings.Index(string(b), "-- +goose Down")]
		if m := bad.FindString(up); m != "" {
			t.Errorf("%s: %q", name, m)
		}
	}
}
