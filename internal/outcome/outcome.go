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
	// Settings are how the findings were judged (recorded with the run by a store).
	Settings Settings
	// Files are the output files written, in the order written; Unwritten the ones
	// that could not be (with why).
	Files []string
	// Bounded, for a streamed run (Evaluator), says that Findings and Resolved hold
	// only the most severe ones: the output files and the store hold them all. Nil:
	// they are complete.
	Bounded *Bounded
}

// Bounded counts a streamed run's findings (Outcome.Findings keeps the most severe).
type Bounded struct {
	// Findings and Resolved are the run's totals.
	Findings, Resolved int
	// MaxOpen is the highest severity of an unsuppressed finding (valid when Open).
	MaxOpen checks.Severity
	Open    bool
}

// Baseline is what a run needs of the runs before it.
type Baseline struct {
	// Ref names the earlier run: its JSON file's base name for a directory history,
	// its run id for a store.
	Ref   string
	RunID string
	// At is when that run evaluated its findings (its finished_at); the first_seen of
	// a baseline finding that does not carry one (a file written before lifecycles).
	At       time.Time
	Findings []checks.Finding
	// FullyAudited: the accounts fully audited (inventory.Account.FullyAudited) in the
	// run each account's findings come from.
	FullyAudited map[string]bool
	// AccountRuns, for a store, is the run id each account's findings come from: a
	// store compares each account with the newest earlier complete run that looked at
	// it (docs/store-schema.md, "Baseline"). Nil for a directory history (one run).
	AccountRuns map[string]string
	// Runs, for a store, are the runs AccountRuns names: their place among runs and
	// when each evaluated its findings (Narrow, and the time of a finding that
	// carries none: lifecycle).
	Runs map[string]BaselineRun
	// Earlier is what the history knows of findings not in Findings, by finding id:
	// the ones resolved before (a reappearance is a reopening) and, for a store, the
	// ones seen before and never resolved (a reappearance is still open).
	Earlier map[string]Lifecycle
}

// BaselineRun is one of a store baseline's runs.
type BaselineRun struct {
	// Order sorts runs (store.RunOrder): the newest has the largest.
	Order int64
	At    time.Time
}

// Narrow is the baseline of the accounts ids only, as the history gives it for
// them: a per-account baseline (a store's, AccountRuns set) keeps those accounts'
// findings and runs, and names the newest of their runs (Ref, RunID, At); nil when
// none of them was seen before. A baseline of one earlier run (a directory's) does
// not depend on the accounts and is returned as it is. Earlier is kept whole: it is
// looked up by finding id, which names the account (checks.FindingID). A streamed
// run reads the baseline of every account before its selection is known
// (history.History.BaselineOfAll) and narrows it to the selection.
func (b *Baseline) Narrow(ids []string) *Baseline {
	if b == nil || b.AccountRuns == nil {
		return b
	}
	keep := make(map[string]bool, len(ids))
	for _, id := range ids {
		keep[id] = true
	}
	n := &Baseline{FullyAudited: map[string]bool{}, AccountRuns: map[string]string{}, Runs: map[string]BaselineRun{}, Earlier: b.Earlier}
	var newest BaselineRun
	for acct, run := range b.AccountRuns {
		if !keep[acct] {
			continue
		}
		r := b.Runs[run]
		n.AccountRuns[acct], n.FullyAudited[acct], n.Runs[run] = run, b.FullyAudited[acct], r
		if n.RunID == "" || r.Order > newest.Order {
			n.Ref, n.RunID, n.At, newest = run, run, r.At, r
		}
	}
	if len(n.AccountRuns) == 0 {
		return nil
	}
	for _, f := range b.Findings {
		if keep[f.AccountID] {
			n.Findings = append(n.Findings, f)
		}
	}
	return n
}

// at is when the baseline run of account acct evaluated its findings: its own
// run's for a per-account baseline, else the baseline's.
func (b *Baseline) at(acct string) time.Time {
	if r, ok := b.Runs[b.AccountRuns[acct]]; ok && b.AccountRuns != nil {
		return r.At
	}
	return b.At
}

// Lifecycle is what the history knows of one finding it does not list in Findings.
type Lifecycle struct {
	FirstSeen time.Time
	LastSeen  time.Time
	// ResolvedAt is when a run found it gone; zero when it was never resolved (it
	// vanished while its account could not be seen whole).
	ResolvedAt time.Time
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
	o := &Outcome{Command: command, Inventory: inv, Now: now, Findings: findings, Expired: expired, Resolved: []checks.Finding{}, Settings: s}
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
		lifecycle(o.Findings, o.Resolved, baseline, baselineIndex(baseline), now)
	}
	o.Scores = score.Compute(inv, o.Findings, now, s.Checks)
	return o
}

// lifecycle gives a run's findings their first_seen, last_seen, resolved_at and
// reopened from the baseline (docs/store-schema.md, "Finding lifecycle"):
//   - a finding of the baseline keeps its first_seen (the baseline run's time when it
//     carries none) and its reopened flag;
//   - a finding the history had resolved is reopened, with its first first_seen;
//   - a finding the history saw and never resolved (it vanished while its account
//     had gaps) keeps its first_seen and is open, not new;
//   - any other is first seen now.
//
// Resolved findings keep their first_seen and last_seen and are resolved now.
func lifecycle(current, resolved []checks.Finding, b *Baseline, prev map[string]checks.Finding, now time.Time) {
	var earlier map[string]Lifecycle
	if b != nil {
		earlier = b.Earlier
	}
	// at is the baseline run's time for a finding of account acct.
	at := func(acct string) time.Time {
		if b != nil {
			if t := b.at(acct); !t.IsZero() {
				return t
			}
		}
		return now
	}
	stamp := func(t time.Time) *time.Time { return &t }
	for i := range current {
		f := &current[i]
		first := now
		f.Reopened, f.ResolvedAt = false, nil
		if p, ok := prev[f.ID]; ok {
			first = seen(p, at(p.AccountID))
			f.Reopened = p.Reopened
		} else if e, ok := earlier[f.ID]; ok {
			if !e.FirstSeen.IsZero() {
				first = e.FirstSeen
			}
			if !e.ResolvedAt.IsZero() {
				f.Reopened = true
			} else if f.State == checks.StateNew {
				f.State = checks.StateOpen
			}
		}
		f.FirstSeen, f.LastSeen = stamp(first), stamp(now)
	}
	for i := range resolved {
		r := &resolved[i]
		last := at(r.AccountID)
		if r.LastSeen != nil {
			last = *r.LastSeen
		}
		r.FirstSeen, r.LastSeen, r.ResolvedAt, r.Reopened = stamp(seen(*r, at(r.AccountID))), stamp(last), stamp(now), false
	}
}

// baselineIndex is the baseline's findings by id.
func baselineIndex(b *Baseline) map[string]checks.Finding {
	prev := map[string]checks.Finding{}
	if b != nil {
		for _, f := range b.Findings {
			prev[f.ID] = f
		}
	}
	return prev
}

// seen is a baseline finding's first_seen: its own, else its last_seen, else the
// baseline run's time.
func seen(f checks.Finding, at time.Time) time.Time {
	switch {
	case f.FirstSeen != nil:
		return *f.FirstSeen
	case f.LastSeen != nil:
		return *f.LastSeen
	}
	return at
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
	if o.Bounded != nil {
		return o.Bounded.Open && o.Bounded.MaxOpen >= *failOn
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
