package store

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/checks"
)

// A store opened read-only reads every run and refuses every write, whatever the
// statement; it never creates a SQLite file nor migrates a store.
func TestReadOnly(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		ctx := context.Background()
		target := b.target(t)
		rw := open(t, target)
		recorder{h: rw}.run(t, world{accounts: 2, users: 4}, "20260105_090000", t0)
		if b.name == SQLite {
			rw.Close() // the last connection: SQLite removes the -wal and -shm files
		}
		ro, err := Open(ctx, target, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		if !ro.ReadOnly() {
			t.Error("ReadOnly() is false")
		}
		if _, err := ro.Load(ctx, "20260105_090000"); err != nil {
			t.Fatalf("load: %v", err)
		}
		if runs, err := ro.Runs(ctx, RunFilter{}); err != nil || len(runs) != 1 {
			t.Fatalf("runs: %v %v", runs, err)
		}
		for _, stmt := range []string{
			`DELETE FROM runs`,
			`UPDATE runs SET tool_version = 'x'`,
			`CREATE TABLE intruder (x INTEGER)`,
			`INSERT INTO schema_migrations (version_id, is_applied) VALUES (99, TRUE)`,
		} {
			if _, err := ro.DB().ExecContext(ctx, stmt); err == nil {
				t.Errorf("%s: accepted by a read-only store", stmt)
			} else if !readOnlyError(err) {
				t.Errorf("%s: %v, want a read-only refusal", stmt, err)
			}
		}
		o, err := ro.Load(ctx, "20260105_090000")
		if err != nil {
			t.Fatal(err)
		}
		o.Inventory.RunID = "20260106_090000"
		if _, err := ro.Write(ctx, o, WriteOptions{}); err == nil {
			t.Error("Write succeeded on a read-only store")
		}
		if runs, _ := ro.Runs(ctx, RunFilter{}); len(runs) != 1 {
			t.Errorf("%d runs after refused writes, want 1", len(runs))
		}
	})
}

func readOnlyError(err error) bool {
	m := strings.ToLower(err.Error())
	return strings.Contains(m, "readonly") || strings.Contains(m, "read-only") || strings.Contains(m, "read only") || strings.Contains(m, "query_only")
}

// Read-only, a SQLite file that does not exist is not created, and a store of an
// older schema version is refused untouched (a read-only store cannot migrate).
func TestReadOnlyRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "none", "iamaudit.db")
	if _, err := Open(ctx, missing, Options{ReadOnly: true}); !errors.Is(err, ErrNoStore) {
		t.Errorf("missing file: %v, want ErrNoStore", err)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("its directory was created: %v", err)
	}
	path := filepath.Join(t.TempDir(), "old.db")
	s := open(t, path)
	if _, err := s.DB().Exec(`DELETE FROM schema_migrations WHERE version_id = (SELECT MAX(version_id) FROM schema_migrations)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(ctx, path, Options{ReadOnly: true})
	if !errors.Is(err, ErrReadOnlyVersion) || !strings.Contains(err.Error(), "iamaudit history") {
		t.Errorf("older schema: %v", err)
	}
	empty := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, empty, Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "holds no iamaudit store") {
		t.Errorf("empty file: %v", err)
	}
	if fi, _ := os.Stat(empty); fi.Size() != 0 {
		t.Errorf("the empty file was written (%d bytes)", fi.Size())
	}
}

// FindingHistory lists a finding in every run that had it, with the states and
// lifecycle each gave it, and its finding_lifecycle row.
func TestFindingHistory(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		st := open(t, b.target(t))
		r := recorder{h: st}
		acct := acctID(0)
		plain := world{accounts: 1, users: 4}
		fixed := world{accounts: 1, users: 4, fixed: map[string]bool{acct + "/user000": true}}
		r.run(t, plain, "20260105_090000", day(0))
		o := r.run(t, fixed, "20260204_090000", day(30))
		r.run(t, plain, "20260306_090000", day(60))
		var id string
		for _, f := range o.Resolved {
			if f.User == "user000" && f.CheckID == "console_without_mfa" {
				id = f.ID
			}
		}
		if id == "" {
			t.Fatal("no resolved finding")
		}
		l, runs, err := st.FindingHistory(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, fr := range runs {
			got = append(got, fr.RunID+" "+fr.State)
		}
		want := []string{"20260105_090000 new", "20260204_090000 resolved", "20260306_090000 new"}
		if !slices.Equal(got, want) {
			t.Errorf("runs %v, want %v", got, want)
		}
		if !runs[1].ResolvedAt.Equal(day(30)) || !runs[2].Reopened || !runs[2].FirstSeen.Equal(day(0)) {
			t.Errorf("lifecycle per run: %+v", runs)
		}
		if l.Status != "open" || !l.Reopened || !l.FirstSeen.Equal(day(0)) || !l.LastSeen.Equal(day(60)) ||
			l.UpdatedRunID != "20260306_090000" || l.CheckID != "console_without_mfa" || l.Severity != checks.Critical && l.Severity != checks.High {
			t.Errorf("lifecycle row %+v", l)
		}
		if _, _, err := st.FindingHistory(context.Background(), "0000000000000000"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown finding: %v", err)
		}
	})
}

// Metrics with NoKeyAges are the same figures without the median key ages.
func TestMetricsNoKeyAges(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		st := open(t, b.target(t))
		r := recorder{h: st}
		w := world{accounts: 2, users: 6}
		r.run(t, w, "20260105_090000", day(0))
		r.run(t, w, "20260204_090000", day(30))
		ctx := context.Background()
		for _, accts := range [][]string{nil, {acctID(1)}} {
			full, err := st.Metrics(ctx, MetricsQuery{Accounts: accts})
			if err != nil {
				t.Fatal(err)
			}
			lean, err := st.Metrics(ctx, MetricsQuery{Accounts: accts, NoKeyAges: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(full) != 2 || len(lean) != 2 || full[0].Organization.MedianActiveKeyAgeDays == nil {
				t.Fatalf("metrics: %d, %d runs", len(full), len(lean))
			}
			for i := range full {
				f, l := full[i], lean[i]
				if l.Organization.MedianActiveKeyAgeDays != nil || len(l.Accounts) != len(f.Accounts) {
					t.Errorf("run %d: lean metrics have key ages or other accounts", i)
				}
				f.Organization.MedianActiveKeyAgeDays = nil
				for j := range f.Accounts {
					if l.Accounts[j].MedianActiveKeyAgeDays != nil {
						t.Errorf("run %d, account %d: a key age", i, j)
					}
					f.Accounts[j].MedianActiveKeyAgeDays = nil
				}
				a, _ := json.Marshal(f)
				c, _ := json.Marshal(l)
				if string(a) != string(c) {
					t.Errorf("run %d differs:\n%s\n%s", i, a, c)
				}
			}
		}
	})
}
