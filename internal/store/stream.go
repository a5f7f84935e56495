package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/iamaudit/iamaudit/internal/history"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

var _ history.Streamer = (*Store)(nil)

// Begin implements history.Streamer: it opens the transaction of a streamed run
// (docs/streaming.md) and inserts the run's row from head. The Recording writes
// each account's rows as its part comes and the run-level rows at Finish, which
// commits: the stored run is the one Write would store for the whole outcome.
//
// The transaction lives until Finish or Abort and is bound to ctx (cancelling it
// rolls the run back). On SQLite it holds the store's write lock all that time:
// another process writing to the same file waits for it (up to the busy timeout).
// On PostgreSQL other runs write meanwhile; finding_lifecycle rows are locked only
// at Finish, in finding id order (runWriter.writeLifecycle).
func (s *Store) Begin(ctx context.Context, head *inventory.Inventory, set outcome.Settings) (history.Recording, error) {
	r, err := s.BeginRecording(ctx, head, set, WriteOptions{Source: SourceRun})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// BeginRecording is Begin with the run's source, returning the Recording itself
// (its RunID once finished).
func (s *Store) BeginRecording(ctx context.Context, head *inventory.Inventory, set outcome.Settings, opts WriteOptions) (*Recording, error) {
	if head == nil {
		return nil, errors.New("nothing to record")
	}
	if _, err := RunOrder(head.RunID); err != nil {
		return nil, err
	}
	w, err := s.begin(ctx, head, set, opts)
	if err != nil {
		return nil, fmt.Errorf("cannot begin recording the run %s in the %s: %w", head.RunID, s.Name(), err)
	}
	return &Recording{s: s, w: w, head: head.RunID}, nil
}

// Recording is a streamed run being written in one transaction. It is safe for
// concurrent use (accounts are written one at a time). It keeps nothing of a part
// once Account returns: the rows are written and the bulk inserts flushed.
type Recording struct {
	mu    sync.Mutex
	s     *Store
	w     *runWriter // nil once finished, aborted or failed
	head  string     // the run id of the head, for messages
	runID string     // the run id stored, once finished
	err   error      // why w is nil, when it failed
}

// Account writes one account's part: the account (its users, access keys, MFA
// devices, root keys, events, gaps and inventory document), its findings and the
// resolved findings of the account. A failure rolls the whole run back.
func (r *Recording) Account(ctx context.Context, p outcome.Part) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.usable(); err != nil {
		return err
	}
	if p.Account == nil {
		return errors.New("a part without its account")
	}
	encoded, err := p.AccountJSON()
	if err == nil {
		err = r.w.account(ctx, p.Account, encoded)
	}
	if err == nil {
		err = r.w.findings(ctx, slices.Concat(p.Findings, p.Resolved))
	}
	if err != nil {
		r.fail(fmt.Errorf("cannot record the account %s of the run %s in the %s (nothing of the run was stored): %w", p.Account.ID, r.head, r.s.Name(), err))
		return r.err
	}
	return nil
}

// Prepare implements history.Recording: it writes the run-level rows from the
// run's summary outcome o, claims the run id and brings the finding lifecycle to
// the run, without reading o.Files, so that it can run while the run's files are
// ended; Finish then records the files and commits. A failure rolls the run back.
func (r *Recording) Prepare(ctx context.Context, o *outcome.Outcome) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.usable(); err != nil {
		return err
	}
	if err := r.w.prepare(ctx, o); err != nil {
		r.fail(fmt.Errorf("cannot record the run %s in the %s (nothing of it was stored): %w", runIDOf(o, r.head), r.s.Name(), err))
		return r.err
	}
	r.s.syncLog()
	return nil
}

// syncLog flushes what a SQLite store's write-ahead log holds to disk, so that the
// commit that follows (which syncs the log itself: this is only an earlier start)
// has little left to wait for: a large run's log is a few hundred megabytes, and
// Prepare runs while the run's files are ended. Nothing is done for PostgreSQL, nor
// when the log cannot be opened (the commit's own sync is what counts).
func (s *Store) syncLog() {
	if s.d != sqliteDialect {
		return
	}
	f, err := os.Open(s.name + "-wal")
	if err != nil {
		return
	}
	defer f.Close()
	_ = f.Sync()
}

// runIDOf is o's run id, else head.
func runIDOf(o *outcome.Outcome, head string) string {
	if o != nil && o.Inventory != nil {
		return o.Inventory.RunID
	}
	return head
}

// Finish writes the run-level rows from the run's summary outcome (accounts
// summarised, findings bounded: the parts carried them), unless Prepare did, and
// its files, and commits. The run id
// stored is o's, or its next free _N form (Warn is told; RunID says it).
func (r *Recording) Finish(ctx context.Context, o *outcome.Outcome) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.usable(); err != nil {
		return err
	}
	w := r.w
	r.w = nil
	runID, err := w.finish(ctx, o)
	if err != nil {
		w.rollback()
		r.err = fmt.Errorf("cannot record the run %s in the %s (nothing of it was stored): %w", runIDOf(o, r.head), r.s.Name(), err)
		return r.err
	}
	r.runID = runID
	r.err = errors.New("the run is recorded")
	r.s.warnTaken(o.Inventory.RunID, runID)
	return nil
}

// Abort rolls the run back: nothing of it is stored. After Finish it does nothing.
func (r *Recording) Abort() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w != nil {
		r.fail(errors.New("the recording was aborted"))
	}
}

// RunID is the run id stored, once Finish succeeded ("" before).
func (r *Recording) RunID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runID
}

func (r *Recording) usable() error {
	if r.w == nil {
		return fmt.Errorf("run %s: the recording is over: %w", r.head, r.err)
	}
	return nil
}

func (r *Recording) fail(err error) {
	r.w.rollback()
	r.w, r.err = nil, err
}
