package dashboard

import (
	"context"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/store"
	"github.com/iamaudit/iamaudit/internal/trend"
)

// The trends are `iamaudit trend`'s (internal/trend), drawn: the same figures,
// the same rule for what is unknown, the same event counts and windows.

// leanSource is the store as the trend package reads it, without median key ages
// (the dashboard does not draw them, and reading every active key of every run is
// most of what Metrics costs on a large store).
type leanSource struct{ *store.Store }

func (l leanSource) Metrics(ctx context.Context, q store.MetricsQuery) ([]store.RunMetrics, error) {
	q.NoKeyAges = true
	return l.Store.Metrics(ctx, q)
}

// chartView is a chart on a page with its notes.
type chartView struct {
	ID, Title string
	SVG       template.HTML
	Notes     []string
}

type trendsData struct {
	Account     string
	AccountName string
	Accounts    []option
	Runs        int
	Charts      []chartView
	Events      []chartView
	Months      []trend.Row
	Names       []string
	Formulas    []string
}

func (s *Server) trendsPage(w http.ResponseWriter, r *http.Request) (*page, error) {
	ctx := r.Context()
	acct := r.URL.Query().Get("account")
	var only []string
	if acct != "" {
		only = []string{acct}
	}
	src := leanSource{s.st}
	byRun, err := trend.Load(ctx, src, trend.Query{By: trend.ByRun, Accounts: only})
	if err != nil {
		return nil, err
	}
	byMonth, err := trend.Load(ctx, src, trend.Query{By: trend.ByMonth, Accounts: only})
	if err != nil {
		return nil, err
	}
	// The scope selector: every account of every run.
	all, err := src.Metrics(ctx, store.MetricsQuery{})
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, m := range all {
		for _, a := range m.Accounts {
			names[a.AccountID] = a.AccountName
		}
	}
	if _, ok := names[acct]; acct != "" && !ok {
		return nil, notFound("account %s is in no stored run", acct)
	}
	data := trendsData{Account: acct, AccountName: accountLabel(names[acct], acct), Runs: len(byRun.Rows), Months: byMonth.Rows,
		Names: byMonth.EventNames}
	for id, n := range names {
		data.Accounts = append(data.Accounts, option{id, accountLabel(n, id)})
	}
	slices.SortFunc(data.Accounts, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	if data.Charts, data.Formulas, err = trendCharts(byRun, acct); err != nil {
		return nil, err
	}
	if data.Events, err = eventCharts(byMonth, acct); err != nil {
		return nil, err
	}

	scope := trend.Organization
	title := "Trends"
	if acct != "" {
		scope, title = acct, "Trends · "+data.AccountName
	}
	runsT := Table{Name: "runs", Header: []string{"run_id", "evaluated_at", "scope", "risk_formula", "risk", "keys_over_90_days",
		"keys_over_1_year", "mfa_coverage_percent", "inactive_users"}, Rows: [][]string{}}
	type runJSON struct {
		RunID          string       `json:"run_id"`
		At             time.Time    `json:"at"`
		Risk           store.Risk   `json:"risk"`
		KeysOver90Days trend.Figure `json:"keys_over_90_days"`
		KeysOver1Year  trend.Figure `json:"keys_over_1_year"`
		MFACoverage    trend.Figure `json:"mfa_coverage_percent"`
		InactiveUsers  trend.Figure `json:"inactive_users"`
	}
	runsJ := []runJSON{}
	for _, x := range byRun.Rows {
		runsT.Rows = append(runsT.Rows, []string{x.RunID, x.At.UTC().Format(time.RFC3339), scope, x.Risk.Formula, riskValue(x.Risk),
			x.KeysOver90Days.Text(""), x.KeysOver1Year.Text(""), x.MFACoverage.Text(""), x.InactiveUsers.Text("")})
		runsJ = append(runsJ, runJSON{x.RunID, x.At, x.Risk, x.KeysOver90Days, x.KeysOver1Year, x.MFACoverage, x.InactiveUsers})
	}
	eventsT := Table{Name: "events", Header: append([]string{"month", "run_id", "from", "to"}, byMonth.EventNames...), Rows: [][]string{}}
	type monthJSON struct {
		Month  string                  `json:"month"`
		RunID  string                  `json:"run_id"`
		From   time.Time               `json:"from"`
		To     time.Time               `json:"to"`
		Events map[string]trend.Figure `json:"events"`
	}
	monthsJ := []monthJSON{}
	for _, m := range byMonth.Rows {
		row := []string{m.Period, m.RunID, m.EventsFrom.UTC().Format(time.RFC3339), m.EventsTo.UTC().Format(time.RFC3339)}
		for _, n := range byMonth.EventNames {
			row = append(row, m.Events[n].Text(""))
		}
		eventsT.Rows = append(eventsT.Rows, row)
		monthsJ = append(monthsJ, monthJSON{m.Period, m.RunID, m.EventsFrom, m.EventsTo, m.Events})
	}
	name := "iamaudit-trends"
	if acct != "" {
		name += "-" + acct
	}
	return &page{Title: title, Body: "trends", Data: data, Tables: []Table{runsT, eventsT}, Name: name,
		JSON: map[string]any{"scope": scope, "runs": runsJ, "months": monthsJ, "event_names": byMonth.EventNames,
			"formula_changes": byRun.FormulaChanges}}, nil
}

// figureBar is a trend figure as a column: a known figure as it is, an unknown
// one as an outline at what is known ("≥ N"), or with nothing ("unknown").
func figureBar(label, href string, f trend.Figure, unit string) report.ChartBar {
	b := report.ChartBar{Label: label, Href: href, Class: "events"}
	switch {
	case f.Unknown && f.AtLeast != nil:
		b.Value, b.Unknown, b.Text = int(math.Round(*f.AtLeast)), true, "≥ "+num(*f.AtLeast)+unit
	case f.Unknown:
		b.Unknown, b.Text = true, "unknown"
	case f.Value == nil:
		b.Text = "—"
	default:
		b.Value, b.Text = int(math.Round(*f.Value)), num(*f.Value)+unit
	}
	return b
}

func num(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.1f", v)
}

var idSafe = regexp.MustCompile(`[^a-z0-9]+`)

func runLabel(x trend.Row) string { return x.At.UTC().Format("2006-01-02 15:04") }

// trendCharts draws seed 004's figures across runs: the risk (one chart per risk
// formula: a change of formula is never drawn as a change of risk), keys older
// than 90 days and than a year, MFA coverage and inactive users. A figure that
// rests on unknown data is an outline at what is known, its text saying so.
func trendCharts(t *trend.Trend, acct string) ([]chartView, []string, error) {
	href := func(x trend.Row) string {
		if acct != "" {
			return accountURL(x.RunID, acct)
		}
		return runURL(x.RunID)
	}
	var out []chartView
	col := func(id, title string, maxV int, bars []report.ChartBar, notes ...string) error {
		svg, err := report.Chart{Kind: report.Columns, ID: id, Title: title, Max: maxV, Bars: bars, Values: true}.SVG()
		if err != nil {
			return err
		}
		out = append(out, chartView{ID: id, Title: title, SVG: svg, Notes: notes})
		return nil
	}
	var formulas []string
	for _, x := range t.Rows {
		if !slices.Contains(formulas, x.Risk.Formula) {
			formulas = append(formulas, x.Risk.Formula)
		}
	}
	for _, f := range formulas {
		var bars []report.ChartBar
		n := 0
		for _, x := range t.Rows {
			if x.Risk.Formula != f {
				continue
			}
			n++
			b := report.ChartBar{Label: runLabel(x), Href: href(x), Class: "risk-unknown", Unknown: true, Value: x.Risk.AtLeast,
				Text: fmt.Sprintf("≥ %d", x.Risk.AtLeast)}
			if x.Risk.Score != nil {
				b = report.ChartBar{Label: runLabel(x), Href: href(x), Class: "risk-" + x.Risk.Label, Value: *x.Risk.Score,
					Text: fmt.Sprint(*x.Risk.Score)}
			}
			bars = append(bars, b)
		}
		name := f
		if name == "" {
			name = "formula not recorded"
		}
		notes := []string{fmt.Sprintf("Formula %s: %d of %d runs.", name, n, len(t.Rows))}
		for _, c := range t.FormulaChanges {
			notes = append(notes, fmt.Sprintf("The formula changes at %s (%s → %s): scores of different formulas are never compared, each has its chart.", c.Period, c.From, c.To))
		}
		if err := col("trend-risk-"+strings.Trim(idSafe.ReplaceAllString(strings.ToLower(name), "-"), "-"), "Risk score ("+name+")", 100, bars, notes...); err != nil {
			return nil, nil, err
		}
	}
	series := []struct {
		id, title, unit string
		max             int
		fig             func(trend.Row) trend.Figure
	}{
		{"trend-keys-90", "Active access keys older than 90 days", "", 0, func(x trend.Row) trend.Figure { return x.KeysOver90Days }},
		{"trend-keys-365", "Active access keys older than one year", "", 0, func(x trend.Row) trend.Figure { return x.KeysOver1Year }},
		{"trend-mfa", "MFA coverage of console users (%)", "%", 100, func(x trend.Row) trend.Figure { return x.MFACoverage }},
		{"trend-inactive", "Inactive users", "", 0, func(x trend.Row) trend.Figure { return x.InactiveUsers }},
	}
	for _, s := range series {
		var bars []report.ChartBar
		unknown := 0
		for _, x := range t.Rows {
			f := s.fig(x)
			if f.Unknown {
				unknown++
			}
			bars = append(bars, figureBar(runLabel(x), href(x), f, s.unit))
		}
		var notes []string
		if unknown > 0 {
			notes = append(notes, fmt.Sprintf("%d of %d runs are outlines: they could not see this whole (an account not audited, a gap); ≥ N is what they saw.", unknown, len(t.Rows)))
		}
		if err := col(s.id, s.title, s.max, bars, notes...); err != nil {
			return nil, nil, err
		}
	}
	return out, formulas, nil
}

// eventCharts draws the CloudTrail events of each name per month (the month's
// last run's row of `iamaudit trend --by month`): a month the runs' windows do not
// cover, or whose events some account's gap hides, is an outline at what was seen.
func eventCharts(t *trend.Trend, acct string) ([]chartView, error) {
	var out []chartView
	for _, n := range t.EventNames {
		var bars []report.ChartBar
		unknown := 0
		for _, m := range t.Rows {
			f := m.Events[n]
			if f.Unknown {
				unknown++
			}
			href := runURL(m.RunID)
			if acct != "" {
				href = accountURL(m.RunID, acct)
			}
			bars = append(bars, figureBar(m.Period, href, f, ""))
		}
		id := "trend-events-" + strings.ToLower(n)
		title := n + " events per month"
		svg, err := report.Chart{Kind: report.Columns, ID: id, Title: title, Bars: bars, Values: true}.SVG()
		if err != nil {
			return nil, err
		}
		v := chartView{ID: id, Title: title, SVG: svg}
		if unknown > 0 {
			v.Notes = append(v.Notes, fmt.Sprintf("%d of %d months are outlines: no run's CloudTrail window covered the whole month for every account (or a gap hid events); ≥ N is what was seen.", unknown, len(t.Rows)))
		}
		out = append(out, v)
	}
	return out, nil
}

// accountRiskCharts is an account page's risk across runs (one chart per formula).
func (s *Server) accountRiskCharts(ctx context.Context, acct string) ([]chartView, string, error) {
	t, err := trend.Load(ctx, leanSource{s.st}, trend.Query{By: trend.ByRun, Accounts: []string{acct}})
	if err != nil {
		return nil, "", err
	}
	charts, formulas, err := trendCharts(t, acct)
	if err != nil {
		return nil, "", err
	}
	note := ""
	if len(formulas) > 1 {
		note = "The stored runs used more than one risk formula: one chart each."
	}
	return charts[:len(formulas)], note, nil
}
