package outcome

import (
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/score"
	"github.com/iamaudit/iamaudit/internal/suppress"
)

// DefaultKept is how many findings (and resolved findings) a streamed run's summary
// outcome keeps, the most severe first: as many as the HTML report's findings table
// shows (report.DefaultHTMLMaxFindings); the files and the store hold them all.
const DefaultKept = 2000

// Evaluator evaluates a run account by account, as each account is collected
// (docs/streaming.md). Each account's Part is what Evaluate gives that account in a
// whole run: the same checks, suppressions, states and lifecycle against the same
// baseline, and the same score. Finish builds the run's summary outcome. Not safe
// for concurrent use (a streamed run calls it from one goroutine).
type Evaluator struct {
	head     *inventory.Inventory
	now      time.Time
	settings Settings
	baseline *Baseline
	prev     map[string]checks.Finding   // baseline findings by id
	before   map[string][]checks.Finding // baseline findings by account
	// Kept bounds the findings the summary keeps (DefaultKept when 0; negative: all
	// of them, and the summary is not Bounded).
	Kept int

	scores   map[string]score.Score
	findings []checks.Finding // the most severe, at most 2·Kept between trims
	resolved []checks.Finding
	bounded  Bounded
	expired  []suppress.Rule
}

// NewEvaluator starts a streamed evaluation of the run head (its RunID, partition,
// window …; its accounts are not read) at now against baseline (nil: none).
func NewEvaluator(head *inventory.Inventory, now time.Time, s Settings, baseline *Baseline) *Evaluator {
	e := &Evaluator{head: head, now: now, settings: s, baseline: baseline, prev: baselineIndex(baseline),
		before: map[string][]checks.Finding{}, scores: map[string]score.Score{}}
	if baseline != nil {
		for _, f := range baseline.Findings {
			e.before[f.AccountID] = append(e.before[f.AccountID], f)
		}
	}
	e.expired = suppress.Apply(nil, s.Suppressions, now)
	return e
}

// Account evaluates one collected account (whole: with its users and events).
func (e *Evaluator) Account(a *inventory.Account) Part {
	one := *e.head
	one.Accounts = []inventory.Account{*a}
	findings := checks.Run(&one, e.now, e.settings.Checks)
	suppress.Apply(findings, e.settings.Suppressions, e.now)
	var fully map[string]bool
	if e.baseline != nil {
		fully = e.baseline.FullyAudited
	}
	current, resolved := checks.CompareRuns(e.before[a.ID], findings)
	resolved = comparable(resolved, fully, &one)
	lifecycle(current, resolved, e.baseline, e.prev, e.now)
	p := Part{Account: a, Findings: current, Resolved: resolved, encoded: &encodedAccount{},
		commands: &commandMemo{m: map[actionsKey][]string{}}}
	if a.Status != inventory.StatusSkipped {
		p.Score = score.AccountScore(a, current, e.now, e.settings.Checks)
		e.scores[a.ID] = p.Score
	}
	e.bounded.Findings += len(current)
	e.bounded.Resolved += len(resolved)
	for _, f := range current {
		if !f.Suppressed && (!e.bounded.Open || f.Severity > e.bounded.MaxOpen) {
			e.bounded.Open, e.bounded.MaxOpen = true, f.Severity
		}
	}
	e.findings = e.keep(append(e.findings, current...))
	e.resolved = e.keep(append(e.resolved, resolved...))
	return p
}

// NarrowBaseline narrows the baseline to the accounts ids (Baseline.Narrow): a
// streamed run that read the baseline of every account before its selection was
// known (history.History.BaselineOfAll) calls it with the selection before Finish.
// The accounts already evaluated were compared with their own baseline, which
// narrowing does not change.
func (e *Evaluator) NarrowBaseline(ids []string) {
	e.baseline = e.baseline.Narrow(ids)
}

// keep trims fs to the Kept most severe once it holds twice as many.
func (e *Evaluator) keep(fs []checks.Finding) []checks.Finding {
	n := e.Kept
	if n == 0 {
		n = DefaultKept
	}
	if n < 0 || len(fs) <= 2*n {
		return fs
	}
	checks.Sort(fs)
	clear(fs[n:]) // the array is kept for the next accounts' findings (Clip made each copy it)
	return fs[:n]
}

// Finish is the run's summary outcome: inv is the run's inventory, its accounts in
// the Organization's order (summarised: inventory.Account.Summarised), each one
// given to Account before. Findings and Resolved keep the most severe (Bounded says
// how many there are); the scores are complete.
func (e *Evaluator) Finish(inv *inventory.Inventory) *Outcome {
	n := e.Kept
	if n == 0 {
		n = DefaultKept
	}
	checks.Sort(e.findings)
	checks.Sort(e.resolved)
	findings, resolved := e.findings, e.resolved
	if n > 0 && len(findings) > n {
		findings = findings[:n]
	}
	if n > 0 && len(resolved) > n {
		resolved = resolved[:n]
	}
	accounts := []score.Score{}
	for i := range inv.Accounts {
		a := &inv.Accounts[i]
		if a.Status == inventory.StatusSkipped {
			continue
		}
		s, ok := e.scores[a.ID]
		if !ok { // not handed to Account (it should have been): scored from what is kept
			s = score.AccountScore(a, nil, e.now, e.settings.Checks)
		}
		accounts = append(accounts, s)
	}
	var b *Bounded
	if n > 0 {
		b = &Bounded{}
		*b = e.bounded
	}
	return &Outcome{Command: CommandRun, Inventory: inv, Now: e.now, Findings: findings, Resolved: resolved,
		Expired: e.expired, Baseline: e.baseline, Settings: e.settings, Bounded: b,
		Scores: score.Aggregate(accounts, e.settings.Checks)}
}
