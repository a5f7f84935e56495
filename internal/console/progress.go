// Package console is what a person watching a run sees: the seed's per-account lines
// and a live progress line while accounts are collected, then the run's report (the
// seed's totals and exported files, the findings summary, the accounts not audited
// and the gaps).
package console

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/report"
)

// Progress prints the seed's per-account console lines as accounts progress and,
// on a terminal, a live progress line (accounts done / total, current phase) on
// the error stream. Collection workers call Event concurrently.
type Progress struct {
	mu   sync.Mutex
	out  io.Writer
	msgs report.Messages
	bar  *progressbar.ProgressBar // nil when not a terminal
	// names are the accounts' names by id (from AccountStarted events).
	names map[string]string
	// waited is, per waiting call (Waiting.ID), how long it had waited when last
	// printed (without a terminal, a line at first notice, then every minute).
	waited map[int]time.Duration
}

// rewaitLine is how often, without a terminal, a call still waiting is printed again.
const rewaitLine = time.Minute

// NewProgress writes the lines to out and, when live, the progress line to errw.
func NewProgress(out, errw io.Writer, live bool, msgs report.Messages) *Progress {
	d := &Progress{out: out, msgs: msgs, names: map[string]string{}, waited: map[int]time.Duration{}}
	if live {
		d.bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(errw),
			progressbar.OptionSetDescription("listing accounts"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString("accounts"),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionThrottle(0),
		)
	}
	return d
}

func (d *Progress) println(format string, args ...any) {
	if d.bar != nil {
		_ = d.bar.Clear()
	}
	fmt.Fprintln(d.out, report.Printable(fmt.Sprintf(format, args...)))
	if d.bar != nil {
		_ = d.bar.RenderBlank()
	}
}

// Event shows one collection event.
func (d *Progress) Event(e collect.ProgressEvent) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bar != nil && e.Total > 0 && d.bar.GetMax() != e.Total {
		d.bar.ChangeMax(e.Total)
	}
	if e.Account.Name != "" {
		d.names[e.Account.ID] = e.Account.Name
	}
	switch e.Kind {
	case collect.CallWaiting:
		d.waiting(e)
		return
	case collect.AccountStarted:
		d.println(d.msgs.AuditingAccount, e.Account.Name, e.Account.ID)
	case collect.PhaseStarted:
		if e.Phase == "cloudtrail" {
			d.println(d.msgs.QueryingTrail, e.Account.Name, e.Account.ID)
		}
	case collect.AccountDone:
		if e.Err != nil && e.Account.Status == inventory.StatusNotAudited {
			d.println(d.msgs.ErrorInAccount, e.Account.Name, e.Err.Error())
		}
	}
	if d.bar != nil {
		if e.Kind == collect.AccountDone {
			_ = d.bar.Set(e.Done) // only AccountDone events carry the count
		}
		d.bar.Describe(report.Printable(fmt.Sprintf("%s: %s", e.Account.Name, phaseOf(e))))
	}
}

// waiting shows what the run is waiting for: on the progress line, and, without a
// terminal, as a console line when first noticed and then every minute, so a log
// shows why a run has not finished.
func (d *Progress) waiting(e collect.ProgressEvent) {
	w := e.Waiting
	if w == nil {
		return
	}
	name := d.names[w.AccountID]
	if name == "" {
		name = w.AccountID
	}
	if w.AccountID == "" {
		name = "organization"
	}
	what := w.What
	if what == collect.ReportWait {
		what = d.msgs.WaitingReport
	}
	desc := fmt.Sprintf("%s for %s (gives up after %s)", what, w.For, w.Limit)
	if d.bar != nil {
		d.bar.Describe(report.Printable(fmt.Sprintf("waiting for %s: %s", name, desc)))
		return
	}
	last, seen := d.waited[w.ID]
	if seen && w.For-last < rewaitLine {
		return
	}
	d.waited[w.ID] = w.For
	if w.AccountID == "" {
		d.println(d.msgs.WaitingOrg, desc)
		return
	}
	d.println(d.msgs.Waiting, name, w.AccountID, desc)
}

func phaseOf(e collect.ProgressEvent) string {
	switch e.Kind {
	case collect.AccountDone:
		return "done"
	case collect.PhaseStarted:
		return e.Phase
	}
	return "starting"
}

// Finish removes the progress line.
func (d *Progress) Finish() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bar != nil {
		_ = d.bar.Finish()
		_ = d.bar.Clear()
	}
}
