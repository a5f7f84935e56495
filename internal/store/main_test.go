package store

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the testdata fixtures")

// The PostgreSQL server of this test binary, started on first use.
var (
	pgOnce sync.Once
	pg     *pgServer
	pgErr  error
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(child(mode))
	}
	code := m.Run()
	if pg != nil {
		pg.stop()
	}
	os.Exit(code)
}

// backend is a way to get a fresh, empty store target of one kind.
type backend struct {
	name string
	// target returns a fresh store target (a file path or a DSN).
	target func(t testing.TB) string
}

var backends = []backend{
	{name: SQLite, target: func(t testing.TB) string { return filepath.Join(t.TempDir(), "state", "iamaudit.db") }},
	{name: Postgres, target: func(t testing.TB) string {
		pgOnce.Do(func() { pg, pgErr = startPostgres() })
		if pgErr != nil {
			if os.Getenv("IAMAUDIT_TEST_DISALLOW_SKIP") == "1" {
				t.Fatalf("PostgreSQL is needed and IAMAUDIT_TEST_DISALLOW_SKIP=1: %v", pgErr)
			}
			t.Skipf("PostgreSQL not available: %v", pgErr)
		}
		dsn, err := pg.database()
		if err != nil {
			t.Fatal(err)
		}
		return dsn
	}},
}

// eachBackend runs the same test against every backend: one suite for both.
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

func open(t testing.TB, target string) *Store {
	t.Helper()
	s, err := Open(context.Background(), target, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Child processes: the test binary re-executed to write to a store, so that a test
// can run writers at once or kill one mid-write.
const childEnv = "IAMAUDIT_STORE_TEST_CHILD"

// inTransaction is what a "hang" child prints once its write is under way.
const inTransaction = "IN-TRANSACTION"

// child writes one run of a world (IAMAUDIT_STORE_TEST_TARGET, _RUN, _ACCOUNTS,
// _USERS) and exits 0; in mode "hang" it stops inside the write's transaction,
// after the first batch, says so on stdout and waits to be killed.
func child(mode string) int {
	target := os.Getenv("IAMAUDIT_STORE_TEST_TARGET")
	runID := os.Getenv("IAMAUDIT_STORE_TEST_RUN")
	accounts, _ := strconv.Atoi(os.Getenv("IAMAUDIT_STORE_TEST_ACCOUNTS"))
	users, _ := strconv.Atoi(os.Getenv("IAMAUDIT_STORE_TEST_USERS"))
	ctx := context.Background()
	s, err := Open(ctx, target, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	defer s.Close()
	stamp, _ := time.Parse("20060102_150405", runID[:15])
	inv := world{accounts: accounts, users: users}.inventory(runID, stamp)
	base, err := s.Baseline(ctx, inv, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		return 1
	}
	o := evaluate(inv, stamp, base)
	if mode == "hang" {
		var once sync.Once
		s.hook = func() {
			once.Do(func() {
				fmt.Println(inTransaction)
				os.Stdout.Sync()
				select {} // killed here, inside the transaction
			})
		}
	}
	got, err := s.Write(ctx, o, WriteOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "write:", err)
		return 1
	}
	fmt.Println("RECORDED " + got)
	return 0
}

func childEnviron(mode, target, runID string, accounts, users int) []string {
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "IAMAUDIT_STORE_TEST_") {
			env = append(env, e)
		}
	}
	return append(env, childEnv+"="+mode, "IAMAUDIT_STORE_TEST_TARGET="+target, "IAMAUDIT_STORE_TEST_RUN="+runID,
		"IAMAUDIT_STORE_TEST_ACCOUNTS="+strconv.Itoa(accounts), "IAMAUDIT_STORE_TEST_USERS="+strconv.Itoa(users))
}
