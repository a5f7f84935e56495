package dashboard

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/score"
	"github.com/iamaudit/iamaudit/internal/store"
)

// RemediationEvents are the CloudTrail events counted as remediation per month
// (seed 004's "remediation events per month"; docs/dashboard.md): a key deleted
// or deactivated, a console password removed, a user deleted, MFA enabled, an
// inline policy removed. UpdateAccessKey also counts a key made active again:
// CloudTrail's request parameters say which (the events table keeps them).
var RemediationEvents = []string{"DeleteAccessKey", "UpdateAccessKey", "DeleteLoginProfile", "DeleteUser", "EnableMFADevice", "DeleteUserPolicy"}

// trendPoint is one run's figures for one scope (the Organization or an account).
type trendPoint struct {
	RunID string
	At    time.Time
	Label string
	URL   string
	Score score.Score
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
	Events      chartView
	Months      []monthRow
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
	// The scores alone: median key ages are not among seed 004's figures, and
	// reading every key of every run is most of what Metrics costs.
	metrics, err := s.st.Metrics(ctx, store.MetricsQuery{Accounts: only, NoKeyAges: true})
	if err != nil {
		return nil, err
	}
	all := metrics
	if acct != "" { // the account list of the selector: every account of every run
		if all, err = s.st.Metrics(ctx, store.MetricsQuery{NoKeyAges: true}); err != nil {
			return nil, err
		}
	}
	names := map[string]string{}
	for _, m := range all {
		for _, a := range m.Accounts {
			names[a.AccountID] = a.AccountName
		}
	}
	data := trendsData{Account: acct, AccountName: accountLabel(names[acct], acct)}
	for id, n := range names {
		data.Accounts = append(data.Accounts, option{id, accountLabel(n, id)})
	}
	slices.SortFunc(data.Accounts, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	if acct != "" {
		if _, ok := names[acct]; !ok {
			return nil, notFound("account %s is in no stored run", acct)
		}
	}
	points := trendPoints(metrics, acct)
	data.Runs = len(points)
	if data.Charts, data.Formulas, err = trendCharts(points, acct != ""); err != nil {
		return nil, err
	}
	cov, err := s.st.EventCoverage(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := s.st.EventCounts(ctx, store.EventQuery{Names: RemediationEvents, Accounts: only})
	if err != nil {
		return nil, err
	}
	data.Months = eventMonths(cov, counts, acct)
	data.Names = RemediationEvents
	if data.Events, err = eventsChart(data.Months, names); err != nil {
		return nil, err
	}
	scope := "organization"
	title := "Trends"
	if acct != "" {
		scope, title = acct, "Trends · "+data.AccountName
	}
	runsT := Table{Name: "runs", Header: []string{"run_id", "evaluated_at", "scope", "risk_formula", "risk", "risk_at_least",
		"seed_risk_formula", "seed_risk", "keys_over_90_days", "keys_over_365_days", "keys_known", "mfa_coverage_percent",
		"console_users", "console_users_with_mfa", "inactive_users", "inactive_users_known"}, Rows: [][]string{}}
	type runJSON struct {
		RunID       string      `json:"run_id"`
		EvaluatedAt time.Time   `json:"evaluated_at"`
		Score       score.Score `json:"score"`
	}
	runsJ := []runJSON{}
	for _, p := range points {
		sc := p.Score
		over90, over365 := keysOver(sc)
		mfa := "unknown"
		if sc.MFACoverage != nil {
			mfa = strconv.FormatFloat(*sc.MFACoverage, 'f', 1, 64)
		}
		seed := "unknown"
		if sc.SeedRisk.Score != nil {
			seed = strconv.Itoa(*sc.SeedRisk.Score)
		}
		runsT.Rows = append(runsT.Rows, []string{p.RunID, p.At.UTC().Format(time.RFC3339), scope, sc.RiskFormula,
			riskValue(scoreRisk(sc)), strconv.Itoa(sc.RiskAtLeast), sc.SeedRisk.Formula, seed, strconv.Itoa(over90), strconv.Itoa(over365),
			strconv.FormatBool(sc.Phase2.Known), mfa, strconv.Itoa(sc.ConsoleUsers), strconv.Itoa(sc.ConsoleUsersWithMFA),
			strconv.Itoa(sc.InactiveUsers), strconv.FormatBool(inactiveKnown(sc))})
		runsJ = append(runsJ, runJSON{p.RunID, p.At, sc})
	}
	eventsT := Table{Name: "events", Header: append([]string{"month", "remediation_events", "coverage", "accounts_unknown"}, RemediationEvents...), Rows: [][]string{}}
	for _, m := range data.Months {
		row := []string{m.Month, strconv.Itoa(m.Count), m.Status, strings.Join(m.Unknown, " ")}
		for _, n := range RemediationEvents {
			row = append(row, strconv.Itoa(m.ByName[n]))
		}
		eventsT.Rows = append(eventsT.Rows, row)
	}
	name := "iamaudit-trends"
	if acct != "" {
		name += "-" + acct
	}
	return &page{Title: title, Body: "trends", Data: data, Tables: []Table{runsT, eventsT}, Name: name,
		JSON: map[string]any{"scope": scope, "risk_formulas": data.Formulas, "runs": runsJ, "remediation_event_names": RemediationEvents,
			"months": nonNil(data.Months)}}, nil
}

// trendPoints picks each run's score of the scope: the Organization's, or the
// account's (a run that did not look at the account has no point: absent, not zero).
func trendPoints(metrics []store.RunMetrics, acct string) []trendPoint {
	var out []trendPoint
	seen := map[string]bool{}
	for _, m := range metrics {
		p := trendPoint{RunID: m.Run.RunID, At: m.Run.EvaluatedAt, URL: runURL(m.Run.RunID), Score: m.Organization.Score}
		if acct != "" {
			i := slices.IndexFunc(m.Accounts, func(a store.Metrics) bool { return a.AccountID == acct })
			if i < 0 {
				continue
			}
			p.Score, p.URL = m.Accounts[i].Score, accountURL(m.Run.RunID, acct)
		}
		p.Label = p.At.UTC().Format("2006-01-02 15:04")
		if seen[p.Label] {
			p.Label = p.RunID
		}
		seen[p.Label] = true
		out = append(out, p)
	}
	return out
}

func keysOver(sc score.Score) (over90, over365 int) {
	k := sc.KeyAges
	return k.Days91To180 + k.Days181To365 + k.Over365, k.Over365
}

// inactiveKnown: the inactive-user count rests on known data (users, console
// sign-ins and key use).
func inactiveKnown(sc score.Score) bool {
	return sc.Audited && knownFields(sc, inventory.FieldUsers, inventory.FieldPassword, inventory.FieldPasswordLastUsed,
		inventory.FieldAccessKeys, inventory.FieldKeyLastUse)
}

var idSafe = regexp.MustCompile(`[^a-z0-9]+`)

// trendCharts draws seed 004's figures across runs: the risk (one chart per risk
// formula: a change of formula is never drawn as a change of risk), keys older
// than 90 days and than a year, MFA coverage and inactive users. A figure that
// rests on unknown data is drawn as an outline at what is known, with its text
// saying so.
func trendCharts(points []trendPoint, oneAccount bool) ([]chartView, []string, error) {
	var formulas []string
	for _, p := range points {
		if !slices.Contains(formulas, p.Score.RiskFormula) {
			formulas = append(formulas, p.Score.RiskFormula)
		}
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
	bar := func(p trendPoint, v int, known bool, text string) report.ChartBar {
		b := report.ChartBar{Label: p.Label, Value: v, Href: p.URL, Class: "events"}
		if !known {
			b.Unknown = true
		}
		if text != "" {
			b.Text = text
		}
		return b
	}
	for _, f := range formulas {
		var bars []report.ChartBar
		var runs []string
		for _, p := range points {
			sc := p.Score
			if sc.RiskFormula != f {
				continue
			}
			runs = append(runs, p.RunID)
			if !sc.Audited {
				bars = append(bars, report.ChartBar{Label: p.Label, Href: p.URL, Unknown: true, Text: "unknown", Class: "risk-unknown"})
				continue
			}
			if sc.Risk != nil {
				bars = append(bars, report.ChartBar{Label: p.Label, Value: *sc.Risk, Href: p.URL, Class: "risk-" + sc.RiskLabel,
					Text: strconv.Itoa(*sc.Risk)})
				continue
			}
			bars = append(bars, report.ChartBar{Label: p.Label, Value: sc.RiskAtLeast, Href: p.URL, Unknown: true, Class: "risk-unknown",
				Text: fmt.Sprintf("≥ %d", sc.RiskAtLeast)})
		}
		name := f
		if name == "" {
			name = "formula not recorded"
		}
		notes := []string{fmt.Sprintf("Formula %s: %d of %d runs.", name, len(runs), len(points))}
		if len(formulas) > 1 {
			notes = append(notes, "The stored runs used more than one risk formula: each has its own chart, and scores of different formulas are never compared.")
		}
		if err := col("trend-risk-"+strings.Trim(idSafe.ReplaceAllString(strings.ToLower(name), "-"), "-"), "Risk score ("+name+")", 100, bars, notes...); err != nil {
			return nil, nil, err
		}
	}
	var k90, k365, mfa, inactive []report.ChartBar
	unknownKeys, unknownMFA, unknownInactive := 0, 0, 0
	for _, p := range points {
		sc := p.Score
		o90, o365 := keysOver(sc)
		if !sc.Audited {
			for _, list := range []*[]report.ChartBar{&k90, &k365, &mfa, &inactive} {
				*list = append(*list, report.ChartBar{Label: p.Label, Href: p.URL, Unknown: true, Text: "unknown", Class: "events"})
			}
			unknownKeys, unknownMFA, unknownInactive = unknownKeys+1, unknownMFA+1, unknownInactive+1
			continue
		}
		keysKnown := sc.Phase2.Known
		if !keysKnown {
			unknownKeys++
			k90 = append(k90, bar(p, o90, false, fmt.Sprintf("≥ %d", o90)))
			k365 = append(k365, bar(p, o365, false, fmt.Sprintf("≥ %d", o365)))
		} else {
			k90 = append(k90, bar(p, o90, true, ""))
			k365 = append(k365, bar(p, o365, true, ""))
		}
		if sc.MFACoverage != nil {
			v := int(math.Round(*sc.MFACoverage))
			mfa = append(mfa, bar(p, v, true, fmt.Sprintf("%d%%", v)))
		} else {
			unknownMFA++
			// The coverage of what was audited: not a bound of the whole (the
			// accounts not seen may be better or worse), so the text says both.
			v := 0
			if sc.ConsoleUsers > 0 {
				v = int(math.Round(float64(sc.ConsoleUsersWithMFA) * 100 / float64(sc.ConsoleUsers)))
			}
			mfa = append(mfa, bar(p, v, false, fmt.Sprintf("%d%% seen", v)))
		}
		if inactiveKnown(sc) {
			inactive = append(inactive, bar(p, sc.InactiveUsers, true, ""))
		} else {
			unknownInactive++
			inactive = append(inactive, bar(p, sc.InactiveUsers, false, fmt.Sprintf("≥ %d", sc.InactiveUsers)))
		}
	}
	outline := func(n int, what string) []string {
		if n == 0 {
			return nil
		}
		scope := "some accounts"
		if oneAccount {
			scope = "the account"
		}
		return []string{fmt.Sprintf("%d of %d runs are drawn as outlines: %s of %s could not be read whole (a gap, or an account not audited), so the figure is what was seen (≥: at least).",
			n, len(points), what, scope)}
	}
	if err := col("trend-keys-90", "Active access keys older than 90 days", 0, k90, outline(unknownKeys, "the access keys")...); err != nil {
		return nil, nil, err
	}
	if err := col("trend-keys-365", "Active access keys older than one year", 0, k365, outline(unknownKeys, "the access keys")...); err != nil {
		return nil, nil, err
	}
	mfaNotes := outline(unknownMFA, "console passwords or MFA")
	if unknownMFA > 0 {
		mfaNotes = append(mfaNotes, "“seen”: the coverage of the console users that were seen, which is not a bound of the whole: the accounts not seen may do better or worse.")
	}
	if err := col("trend-mfa", "MFA coverage of console users (%)", 100, mfa, mfaNotes...); err != nil {
		return nil, nil, err
	}
	if err := col("trend-inactive", "Inactive users", 0, inactive, outline(unknownInactive, "sign-ins or key use")...); err != nil {
		return nil, nil, err
	}
	return out, formulas, nil
}

// accountRiskCharts is an account page's risk across runs (one chart per formula).
func accountRiskCharts(metrics []store.RunMetrics, acct string) ([]chartView, string, error) {
	charts, formulas, err := trendCharts(trendPoints(metrics, acct), true)
	if err != nil {
		return nil, "", err
	}
	note := ""
	if len(formulas) > 1 {
		note = "The stored runs used more than one risk formula: one chart each."
	}
	return charts[:len(formulas)], note, nil
}

// monthRow is one month of remediation events.
type monthRow struct {
	Month  string         `json:"month"` // YYYY-MM
	Count  int            `json:"count"`
	ByName map[string]int `json:"by_name"`
	// Status: complete (every account's CloudTrail of the whole month was read by
	// some run), partial (Count is a lower bound: the runs' windows begin after
	// the month's start (From) or end before its end (Through), or no run read
	// the events of the accounts in Unknown over the part of it they cover) or
	// unknown (no run's window reached it).
	Status  string   `json:"coverage"`
	Unknown []string `json:"accounts_unknown"`
	From    string   `json:"from,omitempty"`    // seen from this day (the oldest run's window)
	Through string   `json:"through,omitempty"` // seen up to this day (the newest run's window)
}

type span struct{ from, to time.Time }

// covered tells whether the union of spans covers [from, to).
func covered(spans []span, from, to time.Time) bool {
	sort.Slice(spans, func(i, j int) bool { return spans[i].from.Before(spans[j].from) })
	at := from
	for _, s := range spans {
		if s.from.After(at) {
			break
		}
		if s.to.After(at) {
			at = s.to
		}
	}
	return !at.Before(to)
}

// eventMonths counts remediation events per month across every run, and says
// how much of each month the runs' CloudTrail windows saw (docs/dashboard.md):
// months from the oldest window's start to the newest window's end; in each, the
// accounts the runs covering it looked at, each known when the windows of the runs
// that read its events whole cover the part of the month any run saw.
func eventMonths(cov []store.RunEvents, counts []store.EventCount, acct string) []monthRow {
	var first, last time.Time
	known := map[string][]span{} // account → windows of runs that read its events whole
	type run struct {
		w        span
		accounts []string
	}
	var runs []run
	for _, r := range cov {
		if r.Start.IsZero() || r.End.IsZero() || !r.End.After(r.Start) {
			continue
		}
		accounts := r.Accounts
		if acct != "" {
			if !slices.Contains(accounts, acct) {
				continue
			}
			accounts = []string{acct}
		}
		w := span{r.Start.UTC(), r.End.UTC()}
		runs = append(runs, run{w, accounts})
		for _, a := range accounts {
			if !slices.Contains(r.Unknown, a) {
				known[a] = append(known[a], w)
			}
		}
		if first.IsZero() || w.from.Before(first) {
			first = w.from
		}
		if w.to.After(last) {
			last = w.to
		}
	}
	if first.IsZero() {
		return nil
	}
	var out []monthRow
	index := map[string]int{}
	for m := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(last); m = m.AddDate(0, 1, 0) {
		row := monthRow{Month: m.Format("2006-01"), ByName: map[string]int{}, Status: "complete", Unknown: []string{}}
		from, to := m, m.AddDate(0, 1, 0)
		if first.After(from) {
			from = first
			row.From = first.Format("2006-01-02")
		}
		if last.Before(to) {
			to = last
			row.Through = last.Format("2006-01-02")
		}
		var accounts []string
		for _, r := range runs {
			if r.w.from.Before(to) && r.w.to.After(from) {
				for _, a := range r.accounts {
					if !slices.Contains(accounts, a) {
						accounts = append(accounts, a)
					}
				}
			}
		}
		if len(accounts) == 0 {
			row.Status = "unknown"
		} else {
			for _, a := range accounts {
				if !covered(slices.Clone(known[a]), from, to) {
					row.Unknown = append(row.Unknown, a)
				}
			}
			sort.Strings(row.Unknown)
			if len(row.Unknown) > 0 || row.From != "" || row.Through != "" {
				row.Status = "partial"
			}
		}
		index[row.Month] = len(out)
		out = append(out, row)
	}
	for _, c := range counts {
		if acct != "" && c.AccountID != acct {
			continue
		}
		if i, ok := index[c.Month]; ok {
			out[i].Count += c.Count
			out[i].ByName[c.Name] += c.Count
		}
	}
	return out
}

func eventsChart(months []monthRow, names map[string]string) (chartView, error) {
	var bars []report.ChartBar
	unknownAccts := map[string]bool{}
	partial := 0
	for _, m := range months {
		b := report.ChartBar{Label: m.Month, Value: m.Count, Class: "events"}
		switch m.Status {
		case "unknown":
			b.Unknown, b.Text = true, "unknown"
		case "partial":
			partial++
			b.Unknown, b.Text = true, fmt.Sprintf("≥ %d", m.Count)
			for _, a := range m.Unknown {
				unknownAccts[a] = true
			}
		}
		bars = append(bars, b)
	}
	title := "Remediation events per month"
	svg, err := report.Chart{Kind: report.Columns, ID: "trend-events", Title: title, Bars: bars, Values: true}.SVG()
	if err != nil {
		return chartView{}, err
	}
	v := chartView{ID: "trend-events", Title: title, SVG: svg,
		Notes: []string{"Counted: " + strings.Join(RemediationEvents, ", ") + " (successful calls, each event once however many runs saw it)."}}
	if partial > 0 {
		var list []string
		for a := range unknownAccts {
			list = append(list, report.Clean(accountLabel(names[a], a)))
		}
		sort.Strings(list)
		more := ""
		if len(list) > 5 {
			more = fmt.Sprintf(" and %d more", len(list)-5)
			list = list[:5]
		}
		note := fmt.Sprintf("%d months are drawn as outlines: their counts are lower bounds", partial)
		if f := months[0]; f.From != "" {
			note += "; " + f.Month + " is seen from " + f.From + ", the start of the oldest run's window"
		}
		if l := months[len(months)-1]; l.Through != "" {
			note += "; " + l.Month + " is seen up to " + l.Through + ", the end of the newest run's"
		}
		if len(list) > 0 {
			note += "; no run read the CloudTrail of " + strings.Join(list, ", ") + more + " over the whole of some months (the table names them)"
		}
		v.Notes = append(v.Notes, note+".")
	}
	return v, nil
}
