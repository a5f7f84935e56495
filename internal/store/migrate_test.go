package store

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/report"
)

// migrateTo applies this binary's migrations up to version v only, as an older
// iamaudit would have.
func migrateTo(t *testing.T, db *sql.DB, d *dialect, v int64) {
	t.Helper()
	sub, _ := fs.Sub(migrations, d.dir)
	p, err := goose.NewProvider(d.goose, db, sub, goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), v); err != nil {
		t.Fatal(err)
	}
}

func execScript(t *testing.T, db *sql.DB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range strings.Split(string(b), ";\n") {
		lines := []string{}
		for _, l := range strings.Split(stmt, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "--") {
				lines = append(lines, l)
			}
		}
		if q := strings.TrimSpace(strings.Join(lines, "\n")); q != "" {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v\n%s", path, err, q)
			}
		}
	}
}

// v1Fixture is a store written by schema version 1 only: testdata/store-v1.db for
// SQLite (rewritten from testdata/v1.sql with -update), the same script on a
// PostgreSQL database migrated to version 1.
func v1Fixture(t *testing.T, b backend) string {
	target := b.target(t)
	if b.name == SQLite {
		fixture := filepath.Join("testdata", "store-v1.db")
		if *update {
			os.Remove(fixture)
			db, err := sql.Open("sqlite", fixture)
			if err != nil {
				t.Fatal(err)
			}
			migrateTo(t, db, sqliteDialect, 1)
			execScript(t, db, filepath.Join("testdata", "v1.sql"))
			db.Close()
		}
		os.MkdirAll(filepath.Dir(target), 0o700)
		copyFile(t, fixture, target)
		return target
	}
	db, err := sql.Open("pgx", target)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	migrateTo(t, db, postgresDialect, 1)
	execScript(t, db, filepath.Join("testdata", "v1.sql"))
	return target
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	out.Close()
}

// A store created by schema version 1 is migrated on open: its runs are kept,
// its findings get a lifecycle derived from the runs, its gaps the unknown fields a
// gap of their kind meant then (inventory.LegacyUnknown), its findings keep their
// remediation text (no actions), and the next run compares with it, keeping a
// finding's first_seen from before the migration.
func TestMigrateFromVersion1(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		target := v1Fixture(t, b)
		s := open(t, target)
		ctx := context.Background()
		if v, err := s.Version(ctx); err != nil || v != SchemaVersion() || v < 2 {
			t.Fatalf("version %d (%v), want %d", v, err, SchemaVersion())
		}
		runs, err := s.Runs(ctx, RunFilter{})
		if err != nil || len(runs) != 2 || runs[1].BaselineRunID != "20251201_090000" {
			t.Fatalf("runs %+v %v", runs, err)
		}
		dec1 := time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)
		jan1 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
		o, err := s.Load(ctx, "20260101_090000")
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Findings) != 1 || len(o.Resolved) != 1 {
			t.Fatalf("findings %d resolved %d", len(o.Findings), len(o.Resolved))
		}
		if f := o.Findings[0]; !f.FirstSeen.Equal(dec1) || !f.LastSeen.Equal(jan1) {
			t.Errorf("open finding: first %v last %v", f.FirstSeen, f.LastSeen)
		}
		if r := o.Resolved[0]; !r.FirstSeen.Equal(dec1) || !r.LastSeen.Equal(dec1) || !r.ResolvedAt.Equal(jan1) {
			t.Errorf("resolved finding: first %v last %v resolved %v", r.FirstSeen, r.LastSeen, r.ResolvedAt)
		}
		if g := o.Inventory.Gaps; len(g) != 1 || !slices.Equal(g[0].Unknown, []inventory.Field{inventory.FieldOUNames}) {
			t.Errorf("gaps of version 1: %+v", g)
		}
		cmds := []string{"aws iam list-mfa-devices --user-name user000"}
		if f := o.Findings[0]; f.Remediation.Actions != nil || !slices.Equal(report.Commands(f), cmds) {
			t.Errorf("remediation of version 1: actions %v, commands %q", f.Remediation.Actions, report.Commands(f))
		}
		var n int
		var status string
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM finding_lifecycle`).Scan(&n); err != nil || n != 2 {
			t.Errorf("lifecycle rows %d %v", n, err)
		}
		if err := s.DB().QueryRow(`SELECT status FROM finding_lifecycle WHERE finding_id = 'f86fa3be1d2e7a28'`).Scan(&status); err != nil || status != "resolved" {
			t.Errorf("resolved lifecycle: %q %v", status, err)
		}

		// The next run: user000 still has a console password without MFA.
		feb1 := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
		inv := world{accounts: 1, users: 1}.inventory("20260201_090000", feb1)
		base, err := s.Baseline(ctx, inv, nil)
		if err != nil || base == nil || base.RunID != "20260101_090000" {
			t.Fatalf("baseline %+v %v", base, err)
		}
		next := evaluate(inv, feb1, base)
		found := false
		for _, f := range next.Findings {
			if f.CheckID == "console_without_mfa" {
				found = true
				if f.ID != "d7a518b6004fd481" || f.State != checks.StateOpen || !f.FirstSeen.Equal(dec1) {
					t.Errorf("after migration: %s %s first %v", f.ID, f.State, f.FirstSeen)
				}
			}
		}
		if !found {
			t.Fatal("no console_without_mfa finding")
		}
		if _, err := s.Write(ctx, next, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

// A store migrated by a newer iamaudit is refused with a message that says what to
// do, and left untouched.
func TestNewerSchemaRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		target := b.target(t)
		s := open(t, target)
		newer := SchemaVersion() + 1
		if _, err := s.DB().Exec(s.d.q(`INSERT INTO `+versionTable+` (version_id, is_applied) VALUES (?, TRUE)`), newer); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err := Open(context.Background(), target, Options{})
		var tooNew *SchemaTooNewError
		if !errors.As(err, &tooNew) || tooNew.Version != newer || tooNew.Newest != SchemaVersion() {
			t.Fatalf("open: %v", err)
		}
		if msg := err.Error(); !strings.Contains(msg, "newer iamaudit") || !strings.Contains(msg, "upgrade iamaudit") {
			t.Errorf("message %q", msg)
		}
		driver := "sqlite"
		if b.name == Postgres {
			driver = "pgx"
		}
		db, err := sql.Open(driver, target)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var v int64
		if err := db.QueryRow(`SELECT MAX(version_id) FROM ` + versionTable).Scan(&v); err != nil || v != newer {
			t.Errorf("version after the refusal: %d %v", v, err)
		}
	})
}
