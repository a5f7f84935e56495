package dashboard

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
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
	D        Diff
	From, To store.RunSummary
	// Findings are the first diffRowsShown changes (most telling first); More
	// says how many the page leaves to the CSV.
	Findings []diffFindingRow
	More     int
	// Users and Keys are the first diffRowsShown of each; the CSVs have them all.
	Users               []UserChange
	Keys                []KeyChange
	UsersMore, KeysMore int
	Swap                string
	// SameFormula: the Organization's risks can be compared.
	SameFormula bool
}

type diffFindingRow struct {
	FindingChange
	URL, AccountURL, UserURL, Label string
}

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
	diff := s.diffs.get(fromID+"\x00"+toID, func() Diff { return s.differ(data[0].o, data[1].o) })
	dd := diffData{D: diff, From: sums[0], To: sums[1], Swap: diffURL(toID, fromID),
		SameFormula: diff.From.Org.RiskFormula == diff.To.Org.RiskFormula}
	labels := map[string]string{
		ChangeAdded: "appeared", ChangeRemoved: "resolved", ChangeNotSeen: "not seen (account not audited whole)", ChangeChanged: "changed"}
	t := Table{Name: "findings", Header: []string{"change", "uncertain", "finding_id", "severity", "account_id", "account_name",
		"check_id", "user", "resource", "message", "before", "after"},
		rows: func() [][]string {
			rows := make([][]string, 0, len(diff.Findings))
			for _, f := range diff.Findings {
				rows = append(rows, []string{f.Kind, strconv.FormatBool(f.Uncertain), f.ID, f.Severity.String(), f.AccountID, f.Account,
					f.CheckID, f.User, f.Resource, f.Message, f.Before, f.After})
			}
			return rows
		}}
	for i, f := range diff.Findings {
		if i >= diffRowsShown {
			dd.More++
			continue
		}
		row := diffFindingRow{FindingChange: f, URL: findingURL(f.ID), Label: labels[f.Kind]}
		// Links go to the run that has the finding.
		run, d := toID, data[1]
		if f.Kind == ChangeRemoved || f.Kind == ChangeNotSeen {
			run, d = fromID, data[0]
		}
		if _, ok := d.account(f.AccountID); ok {
			row.AccountURL = accountURL(run, f.AccountID)
		}
		if _, _, ok := d.user(f.AccountID, f.User); ok && f.User != "" {
			row.UserURL = userURL(run, f.AccountID, f.User)
		}
		dd.Findings = append(dd.Findings, row)
	}
	at := Table{Name: "accounts", Header: []string{"change", "account_id", "name", "status_from", "status_to", "risk_from", "risk_to", "same_formula"}, Rows: [][]string{}}
	for _, a := range diff.Accounts {
		at.Rows = append(at.Rows, []string{a.Kind, a.AccountID, a.Name, a.StatusFrom, a.StatusTo, riskCell(a.RiskFrom), riskCell(a.RiskTo), strconv.FormatBool(a.SameFormula)})
	}
	dd.Users, dd.UsersMore = diff.Users[:min(len(diff.Users), diffRowsShown)], max(0, len(diff.Users)-diffRowsShown)
	dd.Keys, dd.KeysMore = diff.Keys[:min(len(diff.Keys), diffRowsShown)], max(0, len(diff.Keys)-diffRowsShown)
	ut := Table{Name: "users", Header: []string{"change", "account_id", "user"}, Rows: [][]string{}}
	for _, u := range diff.Users {
		ut.Rows = append(ut.Rows, []string{u.Kind, u.AccountID, u.User})
	}
	kt := Table{Name: "access_keys", Header: []string{"change", "account_id", "user", "access_key_id", "before", "after"}, Rows: [][]string{}}
	for _, k := range diff.Keys {
		kt.Rows = append(kt.Rows, []string{k.Kind, k.AccountID, k.User, k.KeyID, k.Before, k.After})
	}
	return &page{Title: "Diff " + fromID + " → " + toID, Body: "diff", Data: dd, JSON: diff, Tables: []Table{t, at, ut, kt},
		Name: "iamaudit-diff-" + fromID + "-" + toID}, nil
}

// diffRowsShown caps the findings table of a diff page: between runs far apart
// tens of thousands of findings may change; the CSV download has them all.
const diffRowsShown = 1000

func riskCell(r *RiskValue) string {
	if r == nil {
		return "unknown (not audited)"
	}
	v := fmt.Sprintf("unknown (>= %d)", r.AtLeast)
	if r.Score != nil {
		v = strconv.Itoa(*r.Score)
	}
	return v + " [" + r.Formula + "]"
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
	items map[string]Diff
}

const diffsKept = 4

func (c *diffCache) get(key string, compute func() Diff) Diff {
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
		c.items = map[string]Diff{}
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
