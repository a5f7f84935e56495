// Package history remembers runs: where a run finds the run before it (the baseline
// of its finding states) and where it is recorded. Dir, the run JSON files of an
// output directory, is the first implementation; a database store sits beside it
// behind the same interface.
package history

import (
	"context"

	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

// History is a record of runs.
type History interface {
	// Baseline returns what the run inv (its RunID and accounts; findings not yet
	// evaluated) is compared with: the newest complete earlier `run` before inv.RunID
	// (nil, nil when there is none), with what the history knows of each finding's
	// lifecycle. A store picks that run per account (docs/store-schema.md). Earlier
	// runs it had to pass over (unreadable, another schema) are reported through warn.
	Baseline(ctx context.Context, inv *inventory.Inventory, warn func(string)) (*outcome.Baseline, error)
	// BaselineOfAll is Baseline for every account the history holds, for a run whose
	// accounts are not all known yet (a streamed run evaluates its first accounts
	// while enumeration goes on): narrowed to the run's accounts
	// (outcome.Baseline.Narrow), it is Baseline's for them.
	BaselineOfAll(ctx context.Context, inv *inventory.Inventory, warn func(string)) (*outcome.Baseline, error)
	// Record stores a run's outcome once its outputs are written.
	Record(ctx context.Context, o *outcome.Outcome) error
	// Name says where the history is, for messages ("directory reports/").
	Name() string
}

// Streamer is a History that records a streamed run account by account (a store):
// Begin opens the run's record with its head (the inventory without accounts: run
// id, Organization, caller, window); the Recording takes each account's Part as it
// finishes and Finish completes it with the run's summary outcome (its accounts
// summarised, its findings possibly bounded: the parts hold them all). Either the
// whole run is recorded or nothing is (Abort, or a Finish that fails).
type Streamer interface {
	History
	Begin(ctx context.Context, head *inventory.Inventory, s outcome.Settings) (Recording, error)
}

// Recording is a streamed run being recorded.
type Recording interface {
	Account(ctx context.Context, p outcome.Part) error
	// Prepare does what Finish does that needs no o.Files (the run-level rows, the
	// run id claimed), so that it can run while the run's files are written;
	// Finish, with the same outcome and its files, then completes it. Optional:
	// Finish alone does it all.
	Prepare(ctx context.Context, o *outcome.Outcome) error
	Finish(ctx context.Context, o *outcome.Outcome) error
	Abort()
}
