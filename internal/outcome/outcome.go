// Package outcome holds the one value that describes what a run produced (its
// inventory, findings with their states, scores, expired suppressions and the
// baseline it was compared with) and the one evaluation path that builds it. `run`,
// `demo` and `analyze` all go through Evaluate; every output format, the console
// summary and the history read an Outcome.
package outcome

import (
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/score"
	"github.com/iamaudit/iamaudit/internal/suppress"
)

// Commands that produce an outcome. Only a run is the baseline of the next run.
const (
	CommandRun     = "run"
	CommandAnalyze = "analyze"
)

// Outcome is what one run (or one analysis) produced.
type Outcome struct {
	// Command is CommandRun (also for `demo`) or CommandAnalyze.
	Command   string
	Inventory *inventory.Inventory
	// Now is the reference time the checks measured ages from.
	Now      time.Time
	Findings []checks.Finding
	Scores   score.Scores
	// Expired are the suppression rules whose expiry date has passed.
	Expired []suppress.Rule
	// Baseline is the earlier run the finding states were compared with (nil: none).
	Baseline *Baseline
	// Resolved are the baseline's findings no longer found (state "resolved"), only
	// for accounts fully audited in both runs.
	Resolved []checks.Finding
	// Files are the output files written, in the order written; Unwritten the ones
	// that could not be (with why).
	Files []string
}

// Baseline is what a run needs of the run before it.
type Baseline struct {
	// Ref names the earlier run: its JSON file's base name for a directory history.
	Ref      string
	RunID    string
	Findings []checks.Finding
	// FullyAudited: the accounts fully audited (inventory.Account.FullyAudited) in that run.
	FullyAudited map[string]bool
}

// Settings are how findings are judged.
type Settings struct {
	Checks       checks.Config
	Suppressions suppress.Rules
	// FailOn: an unsuppressed finding at or above it makes FailOnHit true. Nil: never.
	FailOn *checks.Severity
}

// Evaluate runs the checks on inv at now, applies the suppressions, gives findings
// their states and scores. It is pure. A run's findings get their states across
// runs against baseline: with no earlier run (nil) every finding of a run is new. An
// analysis compares with nothing: its findings are open (or suppressed).
func Evaluate(command string, inv *inventory.Inventory, now time.Time, s Settings, baseline *Baseline) *Outcome {
	findings := checks.Run(inv, now, s.Checks)
	expired := suppress.Apply(findings, s.Suppressions, now)
	o := &Outcome{Command: command, Inventory: inv, Now: now, Findings: findings, Expired: expired, Resolved: []checks.Finding{}}
	if command == CommandRun {
		var before []checks.Finding
		fully := map[string]bool{}
		if baseline != nil {
			before, fully = baseline.Findings, baseline.FullyAudited
		}
		var resolved []checks.Finding
		o.Findings, resolved = checks.CompareRuns(before, findings)
		o.Resolved = comparable(resolved, fully, inv)
		o.Baseline = baseline
	}
	o.Scores = score.Compute(inv, o.Findings, now, s.Checks)
	return o
}

// comparable keeps the resolved findings of accounts fully audited in both runs:
// a finding is resolved only when both runs could see it. An account left out of
// this run (--accounts), not audited, or with gaps resolves nothing.
func comparable(resolved []checks.Finding, before map[string]bool, inv *inventory.Inventory) []checks.Finding {
	now := map[string]bool{}
	for _, a := range inv.Accounts {
		now[a.ID] = a.FullyAudited()
	}
	out := []checks.Finding{}
	for _, f := range resolved {
		if now[f.AccountID] && before[f.AccountID] {
			out = append(out, f)
		}
	}
	return out
}

// Incomplete tells whether some account or section could not be audited.
func (o *Outcome) Incomplete() bool { return !o.Inventory.Complete() }

// FailOnHit tells whether an unsuppressed finding is at or above failOn (nil: never).
func (o *Outcome) FailOnHit(failOn *checks.Severity) bool {
	if failOn == nil {
		return false
	}
	for _, f := range o.Findings {
		if !f.Suppressed && f.Severity >= *failOn {
			return true
		}
	}
	return false
}

// Interrupted tells whether the run was cut short (a gap of section "run").
func Interrupted(inv *inventory.Inventory) bool {
	for _, g := range inv.Gaps {
		if g.Section == inventory.SectionRun {
			return true
		}
	}
	return false
}
