// Package console is what a person watching a run sees: the seed's per-account lines
// and a live progress line while accounts are collected, then the run's report (the
// seed's totals and exported files, the findings summary, the accounts not audited
// and the gaps).
package console

import (
	"fmt"
	"io"
	"sync"

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
}

// NewProgress writes the lines to out and, when live, the progress line to errw.
func NewProgress(out, errw io.Writer, live bool, msgs report.Messages) *Progress {
	d := &Progress{out: out, msgs: msgs}
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
	fmt.Fprintf(d.out, format+"\n", args...)
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
	switch e.Kind {
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
		d.bar.Describe(fmt.Sprintf("%s: %s", e.Account.Name, phaseOf(e)))
	}
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
