package cli

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/scenario"
	"github.com/iamaudit/iamaudit/internal/store"
)

// storeCounts is the number of rows of the store's main tables.
func storeCounts(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, table := range []string{"runs", "accounts", "findings"} {
		var c int
		if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&c); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		n[table] = c
	}
	return n
}

// Fault suite (issue 13), a locked store: another process holds the SQLite
// store's write lock for longer than the busy timeout. The run waits no longer
// than that timeout (shortened here; 30 s by default), writes every output file,
// prints the findings, names the store failure and what to do, exits 1, and leaves
// the store as it was: no half-recorded run. Its run JSON records it afterwards.
func TestRunLockedStoreDB(t *testing.T) {
	sandboxEnv(t, scenario.Demo())
	dbPath := filepath.Join(t.TempDir(), "runs.db")
	if code, stdout, stderr := runCLI(t, "run", "--role", "IAMAuditRole", "--db", dbPath, "--output-dir", t.TempDir(), "--no-progress"); code != ExitIncomplete {
		t.Fatalf("first run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	other, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	before := storeCounts(t, other)

	ctx := context.Background()
	lock, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	locked := true
	release := func() {
		if locked {
			locked = false
			if _, err := lock.ExecContext(ctx, "ROLLBACK"); err != nil {
				t.Error(err)
			}
			lock.Close()
		}
	}
	defer release()

	dir := t.TempDir()
	var o, e bytes.Buffer
	f := testFactory(IO{In: strings.NewReader(""), Out: &o, Err: &e})
	f.History = openHistory(f.IO, store.Options{BusyTimeout: 100 * time.Millisecond})
	// A run id of its own (not the first run's second): import tells runs apart by it.
	f.Clock = func() time.Time { return time.Now().Add(time.Minute) }
	code := RunWith(ctx, []string{"run", "--role", "IAMAuditRole", "--db", dbPath, "--output-dir", dir, "--no-progress"}, f)
	stdout, stderr := o.String(), e.String()
	release()

	if code != ExitError {
		t.Errorf("exit %d, want %d (the run is not recorded)", code, ExitError)
	}
	for _, want := range []string{"could not be recorded in the store " + dbPath, "database is locked", "iamaudit import", dir} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "Accounts not audited: 1") {
		t.Errorf("findings summary not printed:\n%s", stdout)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != len(report.Formats()) {
		t.Errorf("output files %v, want %d", files, len(report.Formats()))
	}
	if after := storeCounts(t, other); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("store rows %v after the failed record, want %v as before", after, before)
	}
	var check string
	if err := other.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check %q, %v", check, err)
	}

	// What the message says to do works: the run JSON records the run.
	runJSON, _ := filepath.Glob(filepath.Join(dir, "iamaudit_2*.json"))
	if len(runJSON) != 1 {
		t.Fatalf("run JSON: %v", runJSON)
	}
	code, importOut, stderr := runCLI(t, "import", "--db", dbPath, runJSON[0])
	if code != ExitOK {
		t.Fatalf("import: exit %d\n%s\n%s", code, importOut, stderr)
	}
	if after := storeCounts(t, other); after["runs"] != before["runs"]+1 || after["findings"] <= before["findings"] {
		t.Errorf("after import: %v, before %v\n%s", after, before, importOut)
	}
}

// Fault suite (issue 13), an unreachable PostgreSQL store: the run stops before
// any AWS call, says what to do (--db, --no-db) and never prints the password.
func TestRunUnreachablePostgresStoreDB(t *testing.T) {
	srv := sandboxEnv(t, scenario.Demo())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	const secret = "Pg-s3cret-Pw"
	for _, dsn := range []string{
		fmt.Sprintf("postgres://audit:%s@127.0.0.1:%d/iamaudit?connect_timeout=5", secret, port),
		fmt.Sprintf("postgresql://audit@127.0.0.1:%d/iamaudit?password=%s&connect_timeout=5", port, secret),
	} {
		dir := filepath.Join(t.TempDir(), "reports")
		code, stdout, stderr := runCLI(t, "run", "--role", "IAMAuditRole", "--db", dsn, "--output-dir", dir, "--no-progress")
		if code != ExitError {
			t.Errorf("exit %d, want %d\n%s\n%s", code, ExitError, stdout, stderr)
		}
		for _, want := range []string{"cannot connect to the store postgres", "127.0.0.1:" + fmt.Sprint(port), "--db", "--no-db"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("the password is printed:\n%s\n%s", stdout, stderr)
		}
		if strings.Contains(stdout, "Auditing account") {
			t.Errorf("audit started: %s", stdout)
		}
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("%d AWS requests made before finding the store unreachable", n)
	}
}
