package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"
)

// A read-only store (Options.ReadOnly) is what `iamaudit serve` opens: nothing it
// does can change the runs, whatever a request asks.
//
//   - SQLite: the file is opened as a URI with mode=ro (SQLite opens it read-only:
//     any write fails with SQLITE_READONLY) and PRAGMA query_only (a second lock:
//     statements that would write are refused before they run). WAL readers still
//     see each committed run; the -shm index is shared with writers as usual.
//   - PostgreSQL: every session starts with default_transaction_read_only=on, so
//     every transaction, explicit or not, is READ ONLY and the server refuses writes.
//   - No migration runs, and a store whose schema version is not this binary's is
//     refused (an older one is migrated by any `iamaudit run` or `iamaudit history`).

// ErrReadOnlyVersion is returned by a read-only Open of a store of another schema
// version than this binary's.
var ErrReadOnlyVersion = errors.New("schema version differs")

func openSQLiteReadOnly(ctx context.Context, abs string, opts Options) (*Store, error) {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("_busy_timeout", fmt.Sprint(opts.BusyTimeout.Milliseconds()))
	q.Set("_query_only", "1")
	q.Set("_txlock", "deferred")
	u.RawQuery = q.Encode()
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", abs, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot open the store %s: %w", abs, err)
	}
	return &Store{db: db, d: sqliteDialect, name: abs, clock: time.Now}, nil
}

// readOnlyDSN is a PostgreSQL DSN whose sessions are read-only: pgx passes
// unknown URL parameters to the server as run-time parameters.
func readOnlyDSN(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("store %s: the DSN cannot be read", Redact(dsn))
	}
	q := u.Query()
	q.Set("default_transaction_read_only", "on")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// checkVersion refuses a store that is not at this binary's schema version,
// without creating or changing anything (goose's own version read would create its
// table in an empty database).
func (s *Store) checkVersion(ctx context.Context) error {
	newest, err := newestVersion(s.d)
	if err != nil {
		return err
	}
	var current sql.NullInt64
	err = s.db.QueryRowContext(ctx, `SELECT MAX(version_id) FROM `+versionTable+` WHERE is_applied`).Scan(&current)
	if err != nil {
		return fmt.Errorf("the %s holds no iamaudit store (%v): `iamaudit run` or `iamaudit demo` creates one", s.Name(), err)
	}
	switch {
	case current.Int64 > newest:
		return &SchemaTooNewError{Store: s.name, Version: current.Int64, Newest: newest}
	case current.Int64 < newest:
		return fmt.Errorf("the %s has schema version %d, older than this iamaudit's (%d), and is opened read-only: migrate it first with `iamaudit history --db …` (it migrates on open): %w",
			s.Name(), current.Int64, newest, ErrReadOnlyVersion)
	}
	return nil
}

// ReadOnly tells whether the store was opened with Options.ReadOnly.
func (s *Store) ReadOnly() bool { return s.readOnly }
