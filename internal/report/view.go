package report

import (
	"io"
	"slices"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

// findingsView is what the HTML and Markdown reports show of a run's findings: the
// most severe of each list (open, suppressed, resolved; each in checks.Sort order)
// and the counts of all of them. Written from a whole outcome it is the outcome's
// lists; in a streamed run (docs/streaming.md) it is gathered from the parts as they
// come (viewStreamer), in memory bounded by the page's caps.
type findingsView struct {
	open, sup, resolved     []checks.Finding
	nOpen, nNew, nSup, nRes int
	countsKnown             bool              // nNew and nRes are known (not a streamed summary written whole)
	accounts                map[string]string // id → name of every account with findings
	checkIDs, states        map[string]bool
	unsorted                bool // lists gathered with a limit, not yet put in order (top)
}

// summarised tells whether inv is a streamed run's summary: its accounts' users and
// events were written to the JSON and CSV files and dropped (inventory.Omitted).
func summarised(inv *inventory.Inventory) bool {
	for _, a := range inv.Accounts {
		if a.Omitted != nil {
			return true
		}
	}
	return false
}

func newView() *findingsView {
	return &findingsView{countsKnown: true, accounts: map[string]string{}, checkIDs: map[string]bool{}, states: map[string]bool{}}
}

// viewOf is the view of an outcome's findings. When the outcome is a streamed run's
// summary written whole (its findings only the most severe), the counts of open
// and suppressed findings are the scores' (which count every finding) and the
// counts of new and resolved ones are unknown.
func viewOf(o *outcome.Outcome) *findingsView {
	v := newView()
	v.add(o.Findings, o.Resolved, -1)
	if summarised(o.Inventory) {
		open, sup := 0, 0
		for _, s := range o.Scores.Accounts {
			open, sup = open+s.Findings.Total(), sup+s.Findings.Suppressed
		}
		v.nOpen, v.nSup = max(v.nOpen, open), max(v.nSup, sup)
		v.countsKnown = false
	}
	return v
}

// add counts findings and resolved and keeps the first limit of each list (all when
// limit < 0).
func (v *findingsView) add(findings, resolved []checks.Finding, limit int) {
	v.note(findings)
	v.note(resolved)
	v.nRes += len(resolved)
	if limit < 0 { // once, from a whole outcome: each list is sorted already
		open, sup := split(findings)
		v.count(open, sup)
		v.open, v.sup, v.resolved = append(v.open, open...), append(v.sup, sup...), append(v.resolved, sortedFindings(resolved)...)
		return
	}
	// A streamed run's part: appended as it comes (no sorted copy of each part),
	// put in order by kept and top.
	o, s := len(v.open), len(v.sup)
	for _, f := range findings {
		if f.Suppressed {
			v.sup = append(v.sup, f)
		} else {
			v.open = append(v.open, f)
		}
	}
	v.count(v.open[o:], v.sup[s:])
	v.resolved = append(v.resolved, resolved...)
	v.open, v.sup, v.resolved = kept(v.open, limit), kept(v.sup, limit), kept(v.resolved, limit)
	v.unsorted = true
}

// count counts open and suppressed findings, and the new ones among the open.
func (v *findingsView) count(open, sup []checks.Finding) {
	for _, f := range open {
		if f.State == checks.StateNew {
			v.nNew++
		}
	}
	v.nOpen, v.nSup = v.nOpen+len(open), v.nSup+len(sup)
}

// note records the accounts, checks and states fs names.
func (v *findingsView) note(fs []checks.Finding) {
	for _, f := range fs {
		if _, ok := v.accounts[f.AccountID]; !ok {
			v.accounts[f.AccountID] = f.AccountName
		}
		v.checkIDs[f.CheckID], v.states[f.State] = true, true
	}
}

// kept trims fs to its first limit findings in checks.Sort order once it holds twice
// as many: a streamed run's parts come one account at a time, and sorting the kept
// findings again for every account would cost the run's accounts × limit. The
// findings cut are cleared and the array kept, for the next parts to be appended to.
func kept(fs []checks.Finding, limit int) []checks.Finding {
	if len(fs) <= 2*limit {
		return fs
	}
	checks.Sort(fs)
	clear(fs[limit:])
	return fs[:limit]
}

// top puts each list of a view gathered with add(…, limit) in checks.Sort order
// and cuts it to limit: what a report shows.
func (v *findingsView) top(limit int) {
	if !v.unsorted {
		return
	}
	v.unsorted = false
	for _, fs := range []*[]checks.Finding{&v.open, &v.sup, &v.resolved} {
		checks.Sort(*fs)
		if len(*fs) > limit {
			*fs = slices.Clip((*fs)[:limit])
		}
	}
}

// viewStreamer streams a format that shows only the most severe findings and the
// counts of all (HTML, Markdown): it gathers the view from the parts and writes the
// file at Close from the run's summary outcome (its accounts summarised: their
// users and events are in the JSON and CSV files, which the page says).
type viewStreamer struct {
	w     io.Writer
	view  *findingsView
	limit int
	write func(w io.Writer, o *outcome.Outcome, v *findingsView) error
}

func (s *viewStreamer) Account(p outcome.Part) error {
	s.view.add(p.Findings, p.Resolved, s.limit)
	return nil
}

func (s *viewStreamer) Close(o *outcome.Outcome) error { return s.Render(s.w, o) }

// Render implements Renderer: the file Close writes, written to w.
func (s *viewStreamer) Render(w io.Writer, o *outcome.Outcome) error {
	s.view.top(s.limit)
	return s.write(w, o, s.view)
}
