package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/score"
	"github.com/iamaudit/iamaudit/internal/store"
)

// latest is the run id that stands for the newest run in a URL; the dashboard
// redirects it to the run's own, permanent, URL.
const latest = "latest"

// runCtx is the run a page is about.
type runCtx struct {
	sum store.RunSummary
	d   *runData
	// prev and next are the neighbouring runs' ids ("" at either end).
	prev, next string
}

// loadRun reads the run of the request's {run}: "latest" is answered with a
// redirect to the newest run's URL (ok false, no error).
func (s *Server) loadRun(w http.ResponseWriter, r *http.Request) (*runCtx, bool, error) {
	id := r.PathValue("run")
	ctx := r.Context()
	if id == latest {
		newest, err := s.st.Latest(ctx)
		if errors.Is(err, store.ErrNotFound) {
			return nil, false, notFound("the store holds no run yet: iamaudit run records one")
		}
		if err != nil {
			return nil, false, err
		}
		to := runURL(newest) + strings.TrimPrefix(r.URL.EscapedPath(), "/runs/"+latest)
		if r.URL.RawQuery != "" {
			to += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, to, http.StatusFound)
		return nil, false, nil
	}
	runs, err := s.st.Runs(ctx, store.RunFilter{})
	if err != nil {
		return nil, false, err
	}
	i := slices.IndexFunc(runs, func(x store.RunSummary) bool { return x.RunID == id })
	if i < 0 {
		s.cache.forget(id)
		return nil, false, notFound("run %s is not in the store (the runs page lists them)", id)
	}
	d, err := s.cache.get(ctx, id)
	if err != nil {
		return nil, false, err
	}
	rc := &runCtx{sum: runs[i], d: d}
	if i > 0 {
		rc.prev = runs[i-1].RunID
	}
	if i+1 < len(runs) {
		rc.next = runs[i+1].RunID
	}
	return rc, true, nil
}

// neighbours sets the page's links to the same page of the runs before and after.
func (p *page) neighbours(r *http.Request, rc *runCtx) {
	p.Run = &rc.sum
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/runs/"+url.PathEscape(rc.sum.RunID))
	q := r.URL.Query()
	q.Del("page")
	other := func(id string) string {
		if id == "" {
			return ""
		}
		u := runURL(id) + rest
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		return u
	}
	p.Prev, p.Next = other(rc.prev), other(rc.next)
}

// riskText is a stored risk as people read it, with its formula.
func riskText(r store.Risk) string {
	s := fmt.Sprintf("unknown (at least %d)", r.AtLeast)
	if r.Score != nil {
		s = fmt.Sprintf("%d %s", *r.Score, r.Label)
	}
	if r.Formula != "" {
		s += " [" + r.Formula + "]"
	}
	return s
}

func scoreRisk(sc score.Score) store.Risk {
	return store.Risk{Formula: sc.RiskFormula, Score: sc.Risk, AtLeast: sc.RiskAtLeast, Label: sc.RiskLabel}
}

func runStatus(r store.RunSummary) string {
	switch {
	case r.Interrupted:
		return "interrupted"
	case r.Command != outcome.CommandRun:
		return r.Command
	case r.Complete:
		return "complete"
	}
	return "incomplete"
}

// ---------------------------------------------------------------- runs

type runsData struct {
	Runs []store.RunSummary
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request) (*page, error) {
	runs, err := s.st.Runs(r.Context(), store.RunFilter{})
	if err != nil {
		return nil, err
	}
	slices.Reverse(runs) // newest first, on the page and in the downloads
	t := Table{Name: "runs", Header: []string{"run_id", "finished_at", "organization_id", "command", "status", "accounts_audited",
		"accounts_not_audited", "critical", "high", "medium", "low", "suppressed", "risk", "risk_formula", "baseline_run_id"}, Rows: [][]string{}}
	for _, x := range runs {
		t.Rows = append(t.Rows, []string{x.RunID, x.FinishedAt.UTC().Format(time.RFC3339), x.OrganizationID, x.Command, runStatus(x),
			strconv.Itoa(x.Accounts.Audited + x.Accounts.Partial), strconv.Itoa(x.Accounts.NotAudited),
			strconv.Itoa(x.Findings.Critical), strconv.Itoa(x.Findings.High), strconv.Itoa(x.Findings.Medium),
			strconv.Itoa(x.Findings.Low), strconv.Itoa(x.Findings.Suppressed), riskValue(x.Risk), x.Risk.Formula, x.BaselineRunID})
	}
	return &page{Title: "Runs", Body: "runs", Data: runsData{runs}, JSON: runs, Tables: []Table{t}, Name: "iamaudit-runs"}, nil
}

// riskValue is a risk for a CSV cell: the score, or "unknown (>= N)".
func riskValue(r store.Risk) string {
	if r.Score == nil {
		return fmt.Sprintf("unknown (>= %d)", r.AtLeast)
	}
	return strconv.Itoa(*r.Score)
}

// ---------------------------------------------------------------- overview

type overviewData struct {
	Sum      store.RunSummary
	Status   string
	R        *report.HTMLReport
	Accounts []accountRow
	States   []stateCount
	Findings int
	Events   int
}

type stateCount struct {
	State, Label string
	N            int
}

// accountRow is an account in the overview's table.
type accountRow struct {
	Anchor, ID, Name, OU, Status, StatusLabel string
	// Risk is the report's card risk (the "risk" template renders it).
	Risk                   any
	Critical, High, Medium int
	Low, Suppressed        int
	Users, MFA, KeysOver90 string
	Audited                bool
	riskCell               string
}

func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request) (*page, error) {
	rc, ok, err := s.loadRun(w, r)
	if !ok {
		return nil, err
	}
	o := rc.d.o
	rep, err := rc.d.htmlReport(s.msgs)
	if err != nil {
		return nil, err
	}
	data := overviewData{Sum: rc.sum, Status: runStatus(rc.sum), R: rep, Findings: len(rc.d.all)}
	for _, a := range o.Inventory.Accounts {
		data.Events += len(a.Events)
	}
	counts := map[string]int{}
	for _, f := range rc.d.all {
		counts[f.State]++
	}
	for _, st := range []string{checks.StateNew, checks.StateOpen, checks.StateSuppressed, checks.StateResolved} {
		data.States = append(data.States, stateCount{st, stateLabel(st), counts[st]})
	}
	t := Table{Name: "accounts", Header: []string{"account_id", "name", "ou_path", "status", "reason", "risk", "risk_formula",
		"critical", "high", "medium", "low", "suppressed", "users", "mfa_coverage_percent", "keys_over_90_days"}, Rows: [][]string{}}
	type accountJSON struct {
		ID     string       `json:"id"`
		Name   string       `json:"name"`
		Email  string       `json:"email"`
		State  string       `json:"state"`
		OUPath string       `json:"ou_path"`
		Status string       `json:"status"`
		Reason string       `json:"reason,omitempty"`
		Users  *int         `json:"users"` // null: unknown (not audited)
		Gaps   int          `json:"gaps"`
		Score  *score.Score `json:"score"`
	}
	var accts []accountJSON
	for i := range o.Inventory.Accounts {
		a := &o.Inventory.Accounts[i]
		sc, hasScore := o.Scores.Account(a.ID)
		row := accountRowOf(a, sc, hasScore)
		if i < len(rep.Accounts) && rep.Accounts[i].ID == report.Clean(a.ID) {
			row.Anchor, row.Risk = rep.Accounts[i].Anchor, rep.Accounts[i].Risk
		}
		data.Accounts = append(data.Accounts, row)
		t.Rows = append(t.Rows, []string{a.ID, a.Name, a.OUPath, a.Status, a.Reason, row.riskCell, sc.RiskFormula,
			strconv.Itoa(row.Critical), strconv.Itoa(row.High), strconv.Itoa(row.Medium), strconv.Itoa(row.Low),
			strconv.Itoa(row.Suppressed), row.Users, strings.TrimSuffix(row.MFA, "%"), row.KeysOver90})
		aj := accountJSON{ID: a.ID, Name: a.Name, Email: a.Email, State: a.State, OUPath: a.OUPath, Status: a.Status,
			Reason: a.Reason, Gaps: len(a.Gaps)}
		if sc.Audited {
			n := len(a.Users)
			aj.Users = &n
		}
		if hasScore {
			aj.Score = &sc
		}
		accts = append(accts, aj)
	}
	p := &page{Title: "Run " + rc.sum.RunID, Body: "overview", Data: data, Tables: []Table{t}, Name: "iamaudit-overview-" + rc.sum.RunID,
		JSON: map[string]any{"run": rc.sum, "organization": o.Scores.Organization, "accounts": accts, "gaps": o.Inventory.Gaps}}
	p.neighbours(r, rc)
	return p, nil
}

func accountRowOf(a *inventory.Account, sc score.Score, hasScore bool) accountRow {
	row := accountRow{ID: a.ID, Name: a.Name, OU: a.OUPath, Status: a.Status, StatusLabel: statusLabel(a.Status), Audited: sc.Audited}
	row.Critical, row.High, row.Medium, row.Low, row.Suppressed = sc.Findings.Critical, sc.Findings.High, sc.Findings.Medium, sc.Findings.Low, sc.Findings.Suppressed
	switch {
	case !hasScore:
		row.Users, row.MFA, row.KeysOver90, row.riskCell = "—", "—", "—", "—"
	case !sc.Audited:
		row.Users, row.MFA, row.KeysOver90, row.riskCell = "unknown", "unknown", "unknown", "unknown (not audited)"
	default:
		row.riskCell = riskValue(scoreRisk(sc))
		row.Users = strconv.Itoa(sc.Users)
		if !knownFields(sc, inventory.FieldUsers) {
			row.Users = "≥ " + row.Users
		}
		row.MFA = "unknown"
		if sc.MFACoverage != nil {
			row.MFA = fmt.Sprintf("%.0f%%", *sc.MFACoverage)
		}
		k := sc.KeyAges
		row.KeysOver90 = strconv.Itoa(k.Days91To180 + k.Days181To365 + k.Over365)
		if !sc.Phase2.Known {
			row.KeysOver90 = "≥ " + row.KeysOver90 + " (unknown)"
		}
	}
	return row
}

// knownFields: none of fields is unknown in the score (and it was audited).
func knownFields(sc score.Score, fields ...inventory.Field) bool {
	for _, u := range sc.UnknownSections {
		if u == inventory.Field(inventory.StatusNotAudited) || slices.Contains(fields, u) {
			return false
		}
	}
	return true
}

func statusLabel(s string) string {
	switch s {
	case inventory.StatusAudited:
		return "audited"
	case inventory.StatusPartial:
		return "partly audited"
	case inventory.StatusNotAudited:
		return "not audited"
	case inventory.StatusSkipped:
		return "skipped (not active)"
	case inventory.StatusNotReached:
		return "not reached"
	}
	return s
}

func stateLabel(s string) string {
	switch s {
	case checks.StateNew:
		return "new"
	case checks.StateOpen:
		return "open"
	case checks.StateSuppressed:
		return "suppressed"
	case checks.StateResolved:
		return "resolved"
	}
	return s
}

// ---------------------------------------------------------------- findings

// findingsPerPage is how many rows one page of the explorer shows; the downloads
// hold every row the filters select.
const findingsPerPage = 100

// findingFilter is the explorer's query: each field empty means all.
type findingFilter struct {
	Severity, Account, Check, State, User, Query, Sort string
	Reopened                                           bool
}

func parseFindingFilter(q url.Values) (findingFilter, error) {
	f := findingFilter{Severity: q.Get("severity"), Account: q.Get("account"), Check: q.Get("check"), State: q.Get("state"),
		User: q.Get("user"), Query: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"), Reopened: q.Get("reopened") == "1"}
	if f.Severity != "" {
		if _, err := checks.ParseSeverity(f.Severity); err != nil {
			return f, badRequest("severity %q: use critical, high, medium or low", f.Severity)
		}
	}
	switch f.State {
	case "", checks.StateNew, checks.StateOpen, checks.StateSuppressed, checks.StateResolved:
	default:
		return f, badRequest("state %q: use new, open, suppressed or resolved", f.State)
	}
	switch f.Sort {
	case "", "severity", "first_seen", "last_seen", "account":
	default:
		return f, badRequest("sort %q: use severity, first_seen, last_seen or account", f.Sort)
	}
	return f, nil
}

func (f findingFilter) match(x checks.Finding) bool {
	switch {
	case f.Severity != "" && x.Severity.String() != f.Severity,
		f.Account != "" && x.AccountID != f.Account,
		f.Check != "" && x.CheckID != f.Check,
		f.State != "" && x.State != f.State,
		f.User != "" && x.User != f.User,
		f.Reopened && !x.Reopened:
		return false
	}
	if f.Query == "" {
		return true
	}
	q := strings.ToLower(f.Query)
	for _, s := range []string{x.Message, x.User, x.Resource, x.CheckID, x.Title, x.AccountName, x.AccountID} {
		if strings.Contains(strings.ToLower(s), q) {
			return true
		}
	}
	return false
}

type findingsData struct {
	RunID                 string
	F                     findingFilter
	Rows                  []findingRow
	Total, Matched, Shown int
	Page, Pages           int
	PrevURL, NextURL      string
	Severities, States    []option
	Accounts, Checks      []option
	Sorts                 []option
}

type option struct{ Value, Label string }

type findingRow struct {
	ID, URL, Severity, AccountID, AccountName, AccountURL string
	Subject, UserURL, CheckID, Title, Message, State      string
	FirstSeen, LastSeen, ResolvedAt                       string
	Reopened                                              bool
	Suppression                                           string
}

func (s *Server) findingsPage(w http.ResponseWriter, r *http.Request) (*page, error) {
	rc, ok, err := s.loadRun(w, r)
	if !ok {
		return nil, err
	}
	q := r.URL.Query()
	f, err := parseFindingFilter(q)
	if err != nil {
		return nil, err
	}
	d := rc.d
	var matched []checks.Finding
	for _, x := range d.all {
		if f.match(x) {
			matched = append(matched, x)
		}
	}
	sortFindings(matched, f.Sort)
	data := findingsData{RunID: rc.sum.RunID, F: f, Total: len(d.all), Matched: len(matched)}
	data.Pages = max(1, (len(matched)+findingsPerPage-1)/findingsPerPage)
	data.Page = 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > data.Pages {
			return nil, badRequest("page %q: the filters select %d pages", v, data.Pages)
		}
		data.Page = n
	}
	from := (data.Page - 1) * findingsPerPage
	shown := matched[from:min(len(matched), from+findingsPerPage)]
	data.Shown = len(shown)
	pageURL := func(n int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(n))
		return runURL(rc.sum.RunID) + "/findings?" + v.Encode()
	}
	if data.Page > 1 {
		data.PrevURL = pageURL(data.Page - 1)
	}
	if data.Page < data.Pages {
		data.NextURL = pageURL(data.Page + 1)
	}
	for _, x := range shown {
		data.Rows = append(data.Rows, s.findingRowOf(rc.sum.RunID, d, x))
	}
	for _, sev := range []checks.Severity{checks.Critical, checks.High, checks.Medium, checks.Low} {
		data.Severities = append(data.Severities, option{sev.String(), sev.String()})
	}
	states, checkSeen := map[string]bool{}, map[string]bool{}
	for _, x := range d.all {
		states[x.State] = true
		if !checkSeen[x.CheckID] {
			checkSeen[x.CheckID] = true
			data.Checks = append(data.Checks, option{x.CheckID, x.CheckID})
		}
	}
	slices.SortFunc(data.Checks, func(a, b option) int { return strings.Compare(a.Value, b.Value) })
	for _, st := range []string{checks.StateNew, checks.StateOpen, checks.StateSuppressed, checks.StateResolved} {
		if states[st] {
			data.States = append(data.States, option{st, stateLabel(st)})
		}
	}
	for _, a := range d.o.Inventory.Accounts {
		data.Accounts = append(data.Accounts, option{a.ID, accountLabel(a.Name, a.ID)})
	}
	slices.SortStableFunc(data.Accounts, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	data.Sorts = []option{{"severity", "most severe first"}, {"first_seen", "oldest first seen first"},
		{"last_seen", "last seen longest ago first"}, {"account", "by account"}}

	t := Table{Name: "findings", Header: []string{"finding_id", "severity", "account_id", "account_name", "check_id", "title",
		"resource", "user", "message", "state", "first_seen", "last_seen", "resolved_at", "reopened", "suppression_reason"},
		rows: func() [][]string {
			rows := make([][]string, 0, len(matched))
			for _, x := range matched {
				rows = append(rows, []string{x.ID, x.Severity.String(), x.AccountID, x.AccountName, x.CheckID, x.Title, x.Resource,
					x.User, x.Message, x.State, rfc(x.FirstSeen), rfc(x.LastSeen), rfc(x.ResolvedAt), strconv.FormatBool(x.Reopened), x.SuppressionReason})
			}
			return rows
		}}
	title := "Findings"
	p := &page{Title: title + " · run " + rc.sum.RunID, Body: "dash-findings", Data: data, Tables: []Table{t},
		Name: "iamaudit-findings-" + rc.sum.RunID, JSON: map[string]any{"run": rc.sum, "filters": f.json(), "total": len(d.all),
			"matched": len(matched), "findings": nonNil(matched)}}
	p.neighbours(r, rc)
	return p, nil
}

func (f findingFilter) json() map[string]any {
	return map[string]any{"severity": f.Severity, "account": f.Account, "check": f.Check, "state": f.State, "user": f.User,
		"q": f.Query, "reopened": f.Reopened, "sort": f.Sort}
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func rfc(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func sortFindings(fs []checks.Finding, by string) {
	at := func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	}
	switch by {
	case "first_seen":
		slices.SortStableFunc(fs, func(a, b checks.Finding) int { return at(a.FirstSeen).Compare(at(b.FirstSeen)) })
	case "last_seen":
		slices.SortStableFunc(fs, func(a, b checks.Finding) int { return at(a.LastSeen).Compare(at(b.LastSeen)) })
	case "account":
		slices.SortStableFunc(fs, func(a, b checks.Finding) int {
			return strings.Compare(accountLabel(a.AccountName, a.AccountID), accountLabel(b.AccountName, b.AccountID))
		})
	}
}

func accountLabel(name, id string) string {
	if name == "" || name == id {
		return id
	}
	return name + " (" + id + ")"
}

func (s *Server) findingRowOf(run string, d *runData, x checks.Finding) findingRow {
	row := findingRow{ID: x.ID, URL: findingURL(x.ID), Severity: x.Severity.String(), AccountID: x.AccountID,
		AccountName: accountLabel(x.AccountName, x.AccountID), CheckID: x.CheckID, Title: x.Title, Message: x.Message,
		State: x.State, FirstSeen: tm(x.FirstSeen), LastSeen: tm(x.LastSeen), ResolvedAt: tm(x.ResolvedAt), Reopened: x.Reopened,
		Suppression: x.SuppressionReason}
	if _, ok := d.account(x.AccountID); ok {
		row.AccountURL = accountURL(run, x.AccountID)
	}
	row.Subject = x.Resource
	if x.User != "" {
		row.Subject = x.User
		if _, _, ok := d.user(x.AccountID, x.User); ok {
			row.UserURL = userURL(run, x.AccountID, x.User)
		}
	}
	return row
}

// ---------------------------------------------------------------- account

type accountData struct {
	RunID     string
	A         *inventory.Account
	Card      any // the HTML report's account card
	Users     []userRow
	Timeline  any
	RiskChart any
	RiskNote  string
	States    []stateCount
	Findings  int
	Score     score.Score
	HasScore  bool
}

type userRow struct {
	Name, URL, Console, LastSignIn, MFA, Keys, OldestKey string
	Worst, WorstLabel, FindingsText                      string
}

// accountReport is the HTML report of one account with the given users (every
// user gets a detail): the report's cards and user details, with their rules for
// what is unknown, for one account's pages.
func (s *Server) accountReport(d *runData, a *inventory.Account, users []inventory.User, only string) (*report.HTMLReport, error) {
	sub := *a
	sub.Users = users
	inv := *d.o.Inventory
	inv.Accounts = []inventory.Account{sub}
	pick := func(fs []checks.Finding) []checks.Finding {
		out := []checks.Finding{}
		for _, f := range fs {
			if f.AccountID == a.ID && (only == "" || f.User == only) {
				out = append(out, f)
			}
		}
		return out
	}
	o := *d.o
	o.Inventory, o.Findings, o.Resolved = &inv, pick(d.o.Findings), pick(d.o.Resolved)
	return report.NewHTMLReport(&o, s.msgs, report.HTMLOptions{MaxFindings: 1, MaxUserDetails: len(users) + 1, MaxEvents: 200, MaxGaps: 200})
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) (*page, error) {
	rc, ok, err := s.loadRun(w, r)
	if !ok {
		return nil, err
	}
	id := r.PathValue("account")
	a, ok := rc.d.account(id)
	if !ok {
		return nil, notFound("account %s is not in run %s", id, rc.sum.RunID)
	}
	users := slices.Clone(a.Users)
	slices.SortStableFunc(users, func(x, y inventory.User) int { return strings.Compare(x.Name, y.Name) })
	rep, err := s.accountReport(rc.d, a, users, "")
	if err != nil {
		return nil, err
	}
	card := rep.Accounts[0]
	if len(card.Users) != len(users) {
		return nil, fmt.Errorf("account %s: %d user details for %d users", id, len(card.Users), len(users))
	}
	sc, hasScore := rc.d.o.Scores.Account(id)
	data := accountData{RunID: rc.sum.RunID, A: a, Card: card, Timeline: rep, Score: sc, HasScore: hasScore}
	t := Table{Name: "users", Header: []string{"user", "arn", "console", "last_sign_in", "mfa", "active_keys", "oldest_active_key_days",
		"open_findings", "worst_severity"}, Rows: [][]string{}}
	for i, u := range users {
		h := card.Users[i]
		if h.Name != report.Clean(u.Name) {
			return nil, fmt.Errorf("account %s: user details out of order (%q, %q)", id, h.Name, u.Name)
		}
		keys, oldest := activeKeys(rc.d.o.Now, a, u)
		row := userRow{Name: u.Name, URL: userURL(rc.sum.RunID, id, u.Name), Console: h.Console, LastSignIn: h.LastSignIn,
			MFA: h.MFA, Keys: keys, OldestKey: oldest, Worst: h.Worst, WorstLabel: h.WorstLabel, FindingsText: h.FindingsText}
		data.Users = append(data.Users, row)
		open := 0
		for _, f := range rc.d.all {
			if f.AccountID == id && f.User == u.Name && !f.Suppressed && f.State != checks.StateResolved {
				open++
			}
		}
		worst := h.Worst
		if worst == "none" {
			worst = ""
		}
		t.Rows = append(t.Rows, []string{u.Name, u.ARN, h.Console, h.LastSignIn, h.MFA, keys, oldest, strconv.Itoa(open), worst})
	}
	counts := map[string]int{}
	var fs []checks.Finding
	for _, f := range rc.d.all {
		if f.AccountID == id {
			counts[f.State]++
			fs = append(fs, f)
		}
	}
	data.Findings = len(fs)
	for _, st := range []string{checks.StateNew, checks.StateOpen, checks.StateSuppressed, checks.StateResolved} {
		data.States = append(data.States, stateCount{st, stateLabel(st), counts[st]})
	}
	charts, note, err := s.accountRiskCharts(r.Context(), id)
	if err != nil {
		return nil, err
	}
	data.RiskChart, data.RiskNote = charts, note
	var js *score.Score
	if hasScore {
		js = &sc
	}
	p := &page{Title: accountLabel(a.Name, a.ID) + " · run " + rc.sum.RunID, Body: "dash-account", Data: data, Tables: []Table{t},
		Name: "iamaudit-account-" + id + "-" + rc.sum.RunID, JSON: map[string]any{"run": rc.sum, "account": a, "score": js, "findings": nonNil(fs)}}
	p.neighbours(r, rc)
	return p, nil
}

// activeKeys is a user's number of active access keys and the oldest one's age in
// days ("—" without any), "unknown" when a gap leaves the keys unknown.
func activeKeys(now time.Time, a *inventory.Account, u inventory.User) (string, string) {
	if _, gap := checks.UserGap(a, u.Name, inventory.FieldUsers, inventory.FieldAccessKeys); gap {
		return "unknown", "unknown"
	}
	n, oldest, anyAge, unknownAge := 0, 0, false, false
	for _, k := range u.AccessKeys {
		if !checks.ActiveKey(k) {
			continue
		}
		n++
		if k.CreatedAt.IsZero() {
			unknownAge = true
			continue
		}
		oldest, anyAge = max(oldest, checks.AgeDays(now, k.CreatedAt)), true
	}
	switch {
	case n == 0:
		return "0", "—"
	case unknownAge && !anyAge:
		return strconv.Itoa(n), "unknown"
	case unknownAge:
		return strconv.Itoa(n), "≥ " + strconv.Itoa(oldest)
	}
	return strconv.Itoa(n), strconv.Itoa(oldest)
}

// ---------------------------------------------------------------- user

type userData struct {
	RunID, AccountID, Account, AccountURL string
	// Anchor is the account's element id (the events table's links point at it).
	Anchor string
	// U is the HTML report's user detail, W its words.
	U, W     any
	Findings []findingRow
	AllURL   string
}

func (s *Server) userPage(w http.ResponseWriter, r *http.Request) (*page, error) {
	rc, ok, err := s.loadRun(w, r)
	if !ok {
		return nil, err
	}
	acct, name := r.PathValue("account"), r.PathValue("user")
	a, u, ok := rc.d.user(acct, name)
	if a == nil {
		return nil, notFound("account %s is not in run %s", acct, rc.sum.RunID)
	}
	if !ok {
		return nil, notFound("user %q is not in account %s in run %s", name, acct, rc.sum.RunID)
	}
	rep, err := s.accountReport(rc.d, a, []inventory.User{*u}, u.Name)
	if err != nil {
		return nil, err
	}
	if len(rep.Accounts) != 1 || len(rep.Accounts[0].Users) != 1 {
		return nil, fmt.Errorf("user %s/%s: no user detail", acct, name)
	}
	h := rep.Accounts[0].Users[0]
	data := userData{RunID: rc.sum.RunID, AccountID: a.ID, Account: accountLabel(a.Name, a.ID), AccountURL: accountURL(rc.sum.RunID, a.ID),
		Anchor: rep.Accounts[0].Anchor, U: h, W: rep.W, AllURL: findingsURL(rc.sum.RunID, "account", a.ID, "user", u.Name)}
	var fs []checks.Finding
	for _, f := range rc.d.all {
		if f.AccountID == a.ID && f.User == u.Name {
			fs = append(fs, f)
			data.Findings = append(data.Findings, s.findingRowOf(rc.sum.RunID, rc.d, f))
		}
	}
	t := Table{Name: "user", Header: []string{"section", "name", "value"}, Rows: [][]string{
		{"user", "name", u.Name}, {"user", "arn", u.ARN}, {"user", "created", h.Created}, {"user", "console", h.Console},
		{"user", "last_sign_in", h.LastSignIn}, {"user", "mfa", h.MFA}, {"user", "groups", h.Groups}, {"user", "policies", h.Policies},
	}}
	if len(h.Tags) == 0 {
		t.Rows = append(t.Rows, []string{"tags", "", h.TagsUnknown})
	}
	for _, kv := range h.Tags {
		t.Rows = append(t.Rows, []string{"tag", kv.K, kv.V})
	}
	for _, k := range h.Keys {
		t.Rows = append(t.Rows, []string{"access_key", k.ID, fmt.Sprintf("%s, created %s (%s), last used %s, service %s, region %s",
			k.Status, k.Created, k.Age, k.LastUsed, k.Service, k.Region)})
	}
	if len(h.Keys) == 0 {
		t.Rows = append(t.Rows, []string{"access_keys", "", h.KeysNote})
	}
	for _, f := range fs {
		t.Rows = append(t.Rows, []string{"finding", f.CheckID, fmt.Sprintf("%s %s: %s (first seen %s, last seen %s, resolved %s, reopened %v)",
			f.Severity, f.State, f.Message, tm(f.FirstSeen), tm(f.LastSeen), tm(f.ResolvedAt), f.Reopened)})
	}
	for _, e := range h.Events {
		t.Rows = append(t.Rows, []string{"event", e.Name, fmt.Sprintf("%s by %s on %s %s", e.Time, e.By, e.Resources, e.Error)})
	}
	p := &page{Title: u.Name + " · " + accountLabel(a.Name, a.ID) + " · run " + rc.sum.RunID, Body: "dash-user", Data: data,
		Tables: []Table{t}, Name: "iamaudit-user-" + a.ID + "-" + u.Name + "-" + rc.sum.RunID,
		JSON: map[string]any{"run": rc.sum, "account_id": a.ID, "user": u, "findings": nonNil(fs)}}
	p.neighbours(r, rc)
	return p, nil
}
