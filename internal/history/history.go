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
	// Record stores a run's outcome once its outputs are written.
	Record(ctx context.Context, o *outcome.Outcome) error
	// Name says where the history is, for messages ("directory reports/").
	Name() string
}
