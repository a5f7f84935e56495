package dashboard

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/diff"
	"github.com/iamaudit/iamaudit/internal/store"
)

// ---------------------------------------------------------------- diff

type pickerData struct {
	Runs     []store.RunSummary
	From, To string
}

// diffPicker chooses two runs (a form of two selects); with both given, it
// redirects to their diff's permanent URL.
func (s *Server) diffPicker(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	runs, err := s.st.Runs(r.Context(), store.RunFilter{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	from, to := q.Get("from"), q.Get("to")
	if from != "" || to != "" {
		for _, id := range []string{from, to} {
			if !slices.ContainsFunc(runs, func(x store.RunSummary) bool { return x.RunID == id }) {
				s.fail(w, r, notFound("run %q is not in the store (the runs page lists them)", id))
				return
			}
		}
		http.Redirect(w, r, diffURL(from, to), http.StatusFound)
		return
	}
	d := pickerData{Runs: slices.Clone(runs)}
	slices.Reverse(d.Runs)
	if len(d.Runs) >= 2 {
		d.From, d.To = d.Runs[1].RunID, d.Runs[0].RunID
	}
	s.writePage(w, r, &page{Title: "Compare two runs", Body: "diff-picker", Data: d}, http.StatusOK)
}

type diffData struct {
	R        diff.Result
	From, To store.RunSummary
	// RiskFrom and RiskTo are the Organization's risks; SameFormula says whether
	// they can be compared.
	RiskFrom, RiskTo store.Risk
	SameFormula      bool
	Kinds            []kindCount
	// Rows are the first diffRowsShown changes; More says how many the page
	// leaves to the CSV download.
	Rows []diffRow
	More int
	Swap string
}

type kindCount struct {
	Kind, Label string
	N           int
}

type diffRow struct {
	diff.Change
	Label, AccountURL, UserURL, FindingURL string
}

// kindLabel is a change's kind in words ("key_rotated": "key rotated").
func kindLabel(k diff.Kind) string {
	switch k {
	case diff.AccountAuditable:
		return "account audited now"
	case diff.AccountNotAuditable:
		return "account no longer audited"
	case diff.FindingSeverity:
		return "finding severity changed"
	case diff.Unknown:
		return "unknown (a run could not see it)"
	}
	return strings.ReplaceAll(string(k), "_", " ")
}

// diffRowsShown caps the changes table of a diff page: between runs far apart
// thousands of things may change; the CSV download has them all.
const diffRowsShown = 1000

// diffPage is what changed between two runs, as `iamaudit diff` says it (the
// diff package: unknown is never a change).
func (s *Server) diffPage(w http.ResponseWriter, r *http.Request) (*page, error) {
	ctx := r.Context()
	fromID, toID := r.PathValue("from"), r.PathValue("to")
	var sums [2]store.RunSummary
	var data [2]*runData
	for i, id := range []string{fromID, toID} {
		sum, err := s.st.RunSummaryOf(ctx, id)
		if err != nil {
			s.cache.forget(id)
			return nil, err
		}
		d, err := s.cache.get(ctx, id)
		if err != nil {
			return nil, err
		}
		sums[i], data[i] = sum, d
	}
	res := s.diffs.get(fromID+"\x00"+toID, func() diff.Result { return diff.Runs(data[0].o, data[1].o) })
	dd := diffData{R: res, From: sums[0], To: sums[1], Swap: diffURL(toID, fromID),
		RiskFrom: scoreRisk(data[0].o.Scores.Organization), RiskTo: scoreRisk(data[1].o.Scores.Organization)}
	dd.SameFormula = dd.RiskFrom.Formula == dd.RiskTo.Formula
	for _, k := range diff.Kinds() {
		dd.Kinds = append(dd.Kinds, kindCount{string(k), kindLabel(k), res.Counts[k]})
	}
	for i, c := range res.Changes {
		if i >= diffRowsShown {
			dd.More++
			continue
		}
		row := diffRow{Change: c, Label: kindLabel(c.Kind)}
		// Links go to the run that has the thing: the later one, else the earlier.
		for _, x := range []struct {
			id string
			d  *runData
		}{{toID, data[1]}, {fromID, data[0]}} {
			if _, ok := x.d.account(c.AccountID); ok && row.AccountURL == "" {
				row.AccountURL = accountURL(x.id, c.AccountID)
			}
			if _, _, ok := x.d.user(c.AccountID, c.User); ok && c.User != "" && row.UserURL == "" {
				row.UserURL = userURL(x.id, c.AccountID, c.User)
			}
		}
		if c.FindingID != "" {
			row.FindingURL = findingURL(c.FindingID)
		}
		dd.Rows = append(dd.Rows, row)
	}
	t := Table{Name: "changes", Header: []string{"kind", "account_id", "account_name", "user", "key", "new_key", "finding_id",
		"check_id", "resource", "before", "after", "side", "items", "detail"},
		rows: func() [][]string {
			rows := make([][]string, 0, len(res.Changes))
			for _, c := range res.Changes {
				rows = append(rows, []string{string(c.Kind), c.AccountID, c.AccountName, c.User, c.Key, c.NewKey, c.FindingID,
					c.CheckID, c.Resource, c.Before, c.After, c.Side, strings.Join(c.Items, " "), c.Detail})
			}
			return rows
		}}
	return &page{Title: "Diff " + fromID + " → " + toID, Body: "diff", Data: dd, JSON: res, Tables: []Table{t},
		Name: "iamaudit-diff-" + fromID + "-" + toID}, nil
}

// ---------------------------------------------------------------- finding

type findingData struct {
	L    store.Lifecycle
	Runs []findingRunRow
	// F is the finding as the newest run that had it holds it (title, evidence, fix).
	F        *checks.Finding
	FRun     string
	Account  string
	URL      string
	Commands []string
}

type findingRunRow struct {
	store.FindingRun
	URL, StateLabel string
}

func (s *Server) findingPage(w http.ResponseWriter, r *http.Request) (*page, error) {
	ctx := r.Context()
	id := r.PathValue("id")
	l, runs, err := s.st.FindingHistory(ctx, id)
	if err != nil {
		return nil, err
	}
	data := findingData{L: l, Account: l.AccountID}
	t := Table{Name: "runs", Header: []string{"run_id", "evaluated_at", "state", "severity", "message", "first_seen", "last_seen", "resolved_at", "reopened"}, Rows: [][]string{}}
	for _, fr := range runs {
		u := findingsURL(fr.RunID, "account", l.AccountID, "check", l.CheckID)
		data.Runs = append(data.Runs, findingRunRow{FindingRun: fr, URL: u, StateLabel: stateLabel(fr.State)})
		t.Rows = append(t.Rows, []string{fr.RunID, fr.EvaluatedAt.UTC().Format(time.RFC3339), fr.State, fr.Severity.String(), fr.Message,
			rfc(fr.FirstSeen), rfc(fr.LastSeen), rfc(fr.ResolvedAt), strconv.FormatBool(fr.Reopened)})
	}
	if len(runs) > 0 {
		newest := runs[len(runs)-1].RunID
		d, err := s.cache.get(ctx, newest)
		if err != nil {
			return nil, err
		}
		if i, ok := d.byID[id]; ok {
			f := d.all[i]
			data.F, data.FRun = &f, newest
			data.Account = accountLabel(f.AccountName, f.AccountID)
			data.Commands = f.Remediation.Commands
			if _, ok := d.account(f.AccountID); ok {
				data.URL = accountURL(newest, f.AccountID)
			}
		}
	}
	return &page{Title: "Finding " + id, Body: "finding", Data: data, Tables: []Table{t}, Name: "iamaudit-finding-" + id,
		JSON: map[string]any{"lifecycle": l, "runs": runs, "finding": data.F}}, nil
}

// diffCache keeps the last few diffs computed (runs never change once stored):
// a diff of two large runs takes a while, and its page is asked for again for
// its downloads.
type diffCache struct {
	mu    sync.Mutex
	order []string
	items map[string]diff.Result
}

const diffsKept = 4

func (c *diffCache) get(key string, compute func() diff.Result) diff.Result {
	c.mu.Lock()
	if d, ok := c.items[key]; ok {
		c.mu.Unlock()
		return d
	}
	c.mu.Unlock()
	d := compute()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil {
		c.items = map[string]diff.Result{}
	}
	if _, ok := c.items[key]; !ok {
		c.items[key] = d
		c.order = append(c.order, key)
		for len(c.order) > diffsKept {
			delete(c.items, c.order[0])
			c.order = c.order[1:]
		}
	}
	return d
}
