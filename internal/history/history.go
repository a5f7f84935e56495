// Package history remembers runs: where a run finds the run before it (the baseline
// of its finding states) and where it is recorded. Dir, the run JSON files of an
// output directory, is the first implementation; a database store sits beside it
// behind the same interface.
package history

import (
	"context"

	"github.com/iamaudit/iamaudit/internal/outcome"
)

// History is a record of runs.
type History interface {
	// Baseline returns the newest complete earlier `run` before runID that can be
	// compared with (nil, nil when there is none). runID is the id the run asks for
	// before it claims one, so a run recorded with the same time is an earlier one. Earlier runs it had to pass over
	// (unreadable, another schema, interrupted) are reported through warn.
	Baseline(ctx context.Context, runID string, warn func(string)) (*outcome.Baseline, error)
	// Record stores a run's outcome once its outputs are written.
	Record(ctx context.Context, o *outcome.Outcome) error
	// Name says where the history is, for messages ("directory reports/").
	Name() string
}
