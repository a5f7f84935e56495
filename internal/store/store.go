// Package store keeps every run in a database: its inventory, findings with their
// states and lifecycle, gaps, scores, settings and tool version, each run written in
// one transaction. It is the history of runs (it implements history.History: the
// baseline of a run's finding states and its record) and what `iamaudit history`,
// and later diff, trend and the dashboard, read.
//
// Two backends behind one type: an embedded SQLite file (pure Go, modernc.org/sqlite,
// WAL mode) by default, and PostgreSQL (pgx) for a team sharing one history. The
// schema is relational and versioned by migrations applied on open
// (docs/store-schema.md); users query it with sqlite3 or psql directly.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

// EnvDB names the store when --db is not given.
const EnvDB = "IAMAUDIT_DB"

// Backend names.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Store is an open store of runs. It is safe for concurrent use, and several
// processes may use one store at once.
type Store struct {
	db   *sql.DB
	d    *dialect
	name string // where, for messages: a path, or a DSN without its password
	// Warn receives what a write had to do differently (a run id taken by another
	// run in the same second). Nil: discarded.
	Warn func(string)
	// hook, in tests, is called inside a write's transaction after each batch of rows.
	hook func()
	// clock stamps recorded_at (tests inject it).
	clock func() time.Time
	// readOnly: opened with Options.ReadOnly.
	readOnly bool
}

// Options tune Open.
type Options struct {
	// MustExist refuses to create a SQLite file that does not exist (a command that
	// only reads the history must not create an empty one).
	MustExist bool
	// BusyTimeout is how long a SQLite write waits for another writer (default 30 s).
	BusyTimeout time.Duration
	// ReadOnly opens the store for reading only (the dashboard): SQLite in mode=ro
	// with query_only set, PostgreSQL sessions with default_transaction_read_only,
	// no migration (a store of another schema version is refused), and a SQLite file
	// that does not exist is never created (MustExist). Any write fails.
	ReadOnly bool
}

// ErrNotFound is returned for a run id the store does not hold.
var ErrNotFound = errors.New("no such run in the store")

// ErrNoStore is returned by Open with MustExist for a SQLite file that does not exist.
var ErrNoStore = errors.New("no store there yet: `iamaudit run` and `iamaudit demo` create it")

// SchemaTooNewError: the database was migrated by a newer iamaudit than this one.
type SchemaTooNewError struct {
	Store           string
	Version, Newest int64
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("the store %s has schema version %d, newer than this iamaudit knows (%d): it was written by a newer iamaudit; upgrade iamaudit, or give another --db", e.Store, e.Version, e.Newest)
}

// DefaultPath is the SQLite file used when neither --db nor IAMAUDIT_DB is given:
// $XDG_STATE_HOME/iamaudit/iamaudit.db, ~/.local/state/iamaudit/iamaudit.db when
// XDG_STATE_HOME is unset, and %LocalAppData%\iamaudit\iamaudit.db on Windows. The
// XDG base directory specification puts "actions history" in the state directory:
// data that persists across runs but belongs to this user on this machine (not
// configuration to copy around, not a document to share: a team shares a
// PostgreSQL store). It is created owner-only (0700), the file 0600.
func DefaultPath() (string, error) {
	if dir := os.Getenv("XDG_STATE_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "iamaudit", "iamaudit.db"), nil
	}
	if runtime.GOOS == "windows" {
		if dir := os.Getenv("LocalAppData"); dir != "" {
			return filepath.Join(dir, "iamaudit", "iamaudit.db"), nil
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the default store (no home directory: %w): give --db PATH or set %s", err, EnvDB)
	}
	return filepath.Join(home, ".local", "state", "iamaudit", "iamaudit.db"), nil
}

// IsPostgres tells whether a --db value names a PostgreSQL database.
func IsPostgres(target string) bool {
	return strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://")
}

// Redact is target with any password replaced by "xxxxx": a PostgreSQL DSN as
// it may be printed. A path is returned as is.
func Redact(target string) string {
	if !IsPostgres(target) {
		return target
	}
	u, err := url.Parse(target)
	if err != nil {
		return "postgres://(unparsable DSN)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Open opens (creating if needed) the store target names: a PostgreSQL DSN
// (postgres://…) or a SQLite file path. It applies the schema migrations this
// binary has and refuses a store whose schema is newer (SchemaTooNewError).
// Errors never hold a password.
func Open(ctx context.Context, target string, opts Options) (*Store, error) {
	if target == "" {
		return nil, errors.New("no store given")
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 30 * time.Second
	}
	var s *Store
	var err error
	if IsPostgres(target) {
		dsn := target
		if opts.ReadOnly {
			dsn, err = readOnlyDSN(target)
		}
		if err == nil {
			s, err = openPostgres(ctx, dsn)
		}
	} else {
		s, err = openSQLite(ctx, target, opts)
	}
	if err != nil {
		return nil, redactErr(err, target)
	}
	if opts.ReadOnly {
		s.readOnly = true
		if err := s.checkVersion(ctx); err != nil {
			s.db.Close()
			return nil, redactErr(err, target)
		}
		return s, nil
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, redactErr(err, target)
	}
	return s, nil
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	name := Redact(dsn)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", name, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot connect to the store %s: %w", name, err)
	}
	db.SetMaxOpenConns(8)
	return &Store{db: db, d: postgresDialect, name: name, clock: time.Now}, nil
}

func openSQLite(ctx context.Context, path string, opts Options) (*Store, error) {
	if strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("--db %q: give a plain file path (without ?, # or file:)", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := prepareFile(abs, opts.MustExist || opts.ReadOnly); err != nil {
		return nil, err
	}
	if opts.ReadOnly {
		return openSQLiteReadOnly(ctx, abs, opts)
	}
	// WAL: readers never block the writer and a reader sees the last committed run;
	// writes wait for each other up to the busy timeout; BEGIN IMMEDIATE takes the
	// write lock at the start of a write, so two writers queue instead of failing
	// when one upgrades a read lock; synchronous FULL makes a commit durable.
	dsn := abs + "?_busy_timeout=" + fmt.Sprint(opts.BusyTimeout.Milliseconds()) +
		"&_journal_mode=WAL&_foreign_keys=on&_synchronous=FULL&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", abs, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot open the store %s: %w", abs, err)
	}
	// The -wal and -shm files take the database file's permissions (0600).
	return &Store{db: db, d: sqliteDialect, name: abs, clock: time.Now}, nil
}

// prepareFile makes the SQLite file's directory (0700 when it creates it) and the
// file itself (0600) before SQLite opens it, so that it never exists with wider
// permissions.
func prepareFile(path string, mustExist bool) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store %s: %w", path, err)
	}
	if mustExist {
		return fmt.Errorf("store %s: %w", path, ErrNoStore)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the store's directory %s: %w", dir, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil // created by another process meanwhile
	}
	if err != nil {
		return fmt.Errorf("cannot create the store %s: %w", path, err)
	}
	return f.Close()
}

// Name says where the store is: its file, or its DSN without the password.
func (s *Store) Name() string { return "store " + s.name }

// Backend is SQLite or Postgres.
func (s *Store) Backend() string { return s.d.name }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// DB is the database, for tests and for queries the package does not offer.
func (s *Store) DB() *sql.DB { return s.db }

// redactErr replaces a DSN's password in err's message.
func redactErr(err error, target string) error {
	if err == nil || !IsPostgres(target) {
		return err
	}
	u, perr := url.Parse(target)
	if perr != nil {
		return errors.New(strings.ReplaceAll(err.Error(), target, "postgres://(DSN)"))
	}
	var secrets []string
	if p, ok := u.User.Password(); ok && p != "" {
		secrets = append(secrets, p, url.QueryEscape(p), url.PathEscape(p))
	}
	if p := u.Query().Get("password"); p != "" {
		secrets = append(secrets, p, url.QueryEscape(p))
	}
	msg := err.Error()
	leaked := false
	for _, sec := range secrets {
		if strings.Contains(msg, sec) {
			msg, leaked = strings.ReplaceAll(msg, sec, "xxxxx"), true
		}
	}
	if !leaked {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// redactedError prints without the secret. It does not unwrap: the error inside
// would print the secret again.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
