package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
)

// dialect is what differs between the backends: types of times, placeholders,
// the migrations, errors.
type dialect struct {
	name  string
	goose goose.Dialect
	// dir of the migrations in the embedded file system.
	dir string
	// maxParams bounds the parameters of one statement.
	maxParams int
	// bulkInsert begins bulk's multi-row inserts: on SQLite OR FAIL, which keeps
	// no statement journal (Store.beginRun), and the transaction fails whole.
	bulkInsert string
}

var (
	sqliteDialect   = &dialect{name: SQLite, goose: goose.DialectSQLite3, dir: "migrations/sqlite", maxParams: 30000, bulkInsert: "INSERT OR FAIL INTO "}
	postgresDialect = &dialect{name: Postgres, goose: goose.DialectPostgres, dir: "migrations/postgres", maxParams: 60000, bulkInsert: "INSERT INTO "}
)

// timeLayout is how SQLite holds a time: RFC 3339 in UTC with microseconds, fixed
// width, so that text order is time order and SQLite's date functions read it.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// q rewrites ? placeholders as $1, $2… for PostgreSQL. The package's queries never
// hold a literal question mark.
func (d *dialect) q(query string) string {
	if d.name != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ts is a time as a parameter: NULL for the zero time. Times are kept to the
// microsecond in UTC on both backends.
func (d *dialect) ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	if d.name == SQLite {
		return t.Format(timeLayout)
	}
	return t
}

// tsp is ts of an optional time.
func (d *dialect) tsp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.ts(*t)
}

// month is the SQL expression of a time column's month, YYYY-MM.
func (d *dialect) month(col string) string {
	if d.name == SQLite {
		return "substr(" + col + ", 1, 7)"
	}
	return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM')"
}

// isUnique tells a unique-constraint violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == 2067 || se.Code() == 1555 // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// tsScan scans a time column of either backend (text in SQLite, timestamptz in
// PostgreSQL); NULL leaves Valid false.
type tsScan struct {
	T     time.Time
	Valid bool
}

func (s *tsScan) Scan(src any) error {
	s.Valid = false
	switch v := src.(type) {
	case nil:
		return nil
	case time.Time:
		s.T, s.Valid = v.UTC(), true
		return nil
	case string:
		return s.parse(v)
	case []byte:
		return s.parse(string(v))
	}
	return fmt.Errorf("cannot read a time from %T", src)
}

func (s *tsScan) parse(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("cannot read the time %q: %w", v, err)
	}
	s.T, s.Valid = t.UTC(), true
	return nil
}

// ptr is the time as an optional time.
func (s tsScan) ptr() *time.Time {
	if !s.Valid {
		return nil
	}
	t := s.T
	return &t
}

// val is the time, zero when NULL.
func (s tsScan) val() time.Time {
	if !s.Valid {
		return time.Time{}
	}
	return s.T
}
