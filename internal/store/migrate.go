package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// The schema's migrations, one directory per backend with the same versions
// (a test keeps the two schemas equal). goose (github.com/pressly/goose/v3) applies
// them: each in its own transaction, so a failed migration leaves the previous
// version whole (both backends have transactional DDL); migrations come from this
// embedded file system and run on our own *sql.DB; PostgreSQL opens take an
// advisory lock so that two processes never migrate at once.
//
//go:embed migrations
var migrations embed.FS

// versionTable is goose's table of applied versions.
const versionTable = "schema_migrations"

// SchemaVersion is the newest schema version this binary knows.
func SchemaVersion() int64 {
	v, err := newestVersion(sqliteDialect)
	if err != nil {
		panic(err) // the embedded migrations are part of the binary
	}
	return v
}

func newestVersion(d *dialect) (int64, error) {
	entries, err := migrations.ReadDir(d.dir)
	if err != nil {
		return 0, err
	}
	var newest int64
	for _, e := range entries {
		v, err := goose.NumericComponent(e.Name())
		if err != nil {
			return 0, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		newest = max(newest, v)
	}
	return newest, nil
}

// provider is goose's provider for this store.
func (s *Store) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, s.d.dir)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true)}
	if s.d.name == Postgres {
		// Another process migrating holds the lock for a moment: look again every
		// second, for up to five minutes.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(s.d.goose, s.db, sub, opts...)
}

// migrate brings the schema to this binary's version, or refuses a newer one.
// Two SQLite processes opening a new store at once may race on a migration: the
// loser's transaction fails and it looks again (the winner's version is then there).
func (s *Store) migrate(ctx context.Context) error {
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		p, err := s.provider()
		if err != nil {
			return err
		}
		current, err := p.GetDBVersion(ctx)
		if err != nil {
			last = err
			sleep(ctx, attempt)
			continue
		}
		newest := p.ListSources()[len(p.ListSources())-1].Version
		if current > newest {
			return &SchemaTooNewError{Store: s.name, Version: current, Newest: newest}
		}
		if current == newest {
			return nil
		}
		if _, err := p.Up(ctx); err != nil {
			last = err
			sleep(ctx, attempt)
			continue
		}
		return nil
	}
	var partial *goose.PartialError
	if errors.As(last, &partial) && partial.Failed != nil {
		return fmt.Errorf("cannot migrate the %s to schema version %d: %w", s.Name(), partial.Failed.Source.Version, partial.Err)
	}
	return fmt.Errorf("cannot migrate the %s: %w", s.Name(), last)
}

func sleep(ctx context.Context, attempt int) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
	}
}

// Version is the store's schema version.
func (s *Store) Version(ctx context.Context) (int64, error) {
	p, err := s.provider()
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}
