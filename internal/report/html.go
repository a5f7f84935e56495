package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/score"
)

// HTMLReportName is the run's HTML report file name.
func HTMLReportName(runID string) string { return "iamaudit_report_" + runID + ".html" }

// htmlFormat is one self-contained HTML page per run (README "The HTML report").
var htmlFormat = Format{
	Name:        "html",
	ListsFiles:  true,
	Description: "one self-contained HTML page: summary and charts, accounts, findings, users, CloudTrail timeline, gaps",
	FileName:    HTMLReportName,
	Analyze:     true,
	Write: func(w io.Writer, o *outcome.Outcome, m Messages) error {
		return WriteHTML(w, o, m, HTMLOptions{})
	},
	Stream: func(w io.Writer, _ *outcome.Outcome, m Messages) (Streamer, error) {
		return &viewStreamer{w: w, view: newView(), limit: DefaultHTMLMaxFindings,
			write: func(w io.Writer, o *outcome.Outcome, v *findingsView) error {
				return writeHTML(w, o, m, HTMLOptions{}, v)
			}}, nil
	},
}

// Caps of the HTML report. A page of 1000 accounts × 50 users stays a few megabytes
// and loads in a couple of seconds in Chromium (measured by BenchmarkHTMLReport,
// README "The HTML report"); what is left out is named on the page, with the file of
// the run that holds it all.
const (
	// DefaultHTMLMaxFindings rows of the findings table, most severe first (open,
	// then suppressed, then resolved); the findings CSV has every finding.
	DefaultHTMLMaxFindings = 2000
	// DefaultHTMLMaxUserDetails users get a detail panel (collapsed): every user
	// when the run has no more, else those with the most severe findings. The JSON
	// file has every user.
	DefaultHTMLMaxUserDetails = 500
	// DefaultHTMLMaxEvents rows of the CloudTrail table, most recent first (the
	// chart counts every event); the events CSV has them all.
	DefaultHTMLMaxEvents = 500
	// DefaultHTMLMaxGaps rows of the gaps table; the JSON file has every gap.
	DefaultHTMLMaxGaps = 1000
	// DefaultHTMLMaxRiskBars accounts in the risk chart, highest risk first.
	DefaultHTMLMaxRiskBars = 25
	// htmlUserEvents is how many events a user's panel lists, most recent first.
	htmlUserEvents = 20
)

// HTMLOptions tune the HTML report; zero values take the defaults above.
type HTMLOptions struct {
	MaxFindings, MaxUserDetails, MaxEvents, MaxGaps, MaxRiskBars int
}

func (o HTMLOptions) withDefaults() HTMLOptions {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxFindings, DefaultHTMLMaxFindings)
	def(&o.MaxUserDetails, DefaultHTMLMaxUserDetails)
	def(&o.MaxEvents, DefaultHTMLMaxEvents)
	def(&o.MaxGaps, DefaultHTMLMaxGaps)
	def(&o.MaxRiskBars, DefaultHTMLMaxRiskBars)
	return o
}

// WriteHTML writes the outcome as one self-contained HTML page (HTMLReport,
// rendered by the "page" template of HTMLTemplates).
func WriteHTML(w io.Writer, o *outcome.Outcome, m Messages, opts HTMLOptions) error {
	return writeHTML(w, o, m, opts, viewOf(o))
}

func writeHTML(w io.Writer, o *outcome.Outcome, m Messages, opts HTMLOptions, v *findingsView) error {
	r, err := newHTMLReport(o, m, opts, v)
	if err != nil {
		return err
	}
	if err := htmlTemplates.ExecuteTemplate(w, "page", r); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// HTMLReport is what the HTML templates render: the outcome of a run arranged for
// people, every value from AWS cleaned (clean) and left to html/template to escape.
// The dashboard renders the same sections from the same value.
type HTMLReport struct {
	Lang string
	W    htmlWords
	S    summaryWords
	// CSS and JS are the page's inline style and script; CSP allows exactly them.
	CSS template.CSS
	JS  template.JS
	CSP string

	RunID, Org, Partition, Started, Finished, Tool, Version, Window string
	Files                                                           []string
	FindingsFile, JSONFile, EventsFile                              string

	Summary    htmlSummary
	NotAudited []htmlAccountRow
	Findings   htmlFindings
	Accounts   []htmlAccount
	Timeline   htmlTimeline
	Gaps       htmlGaps
	Footer     string
}

type htmlSummary struct {
	Risk, SeedRisk           htmlRisk
	Formula                  string
	Phase1, Phase2           htmlPhase
	MFA, MFASub              string
	MFAUnknown               bool
	Counts                   []htmlCount
	KeyAges, MFAChart        template.HTML
	SeverityChart, RiskChart template.HTML
	KeysNote, RiskMore       string
	KeysTotal                string
	UnknownNote, Uneval      string
	AuditedN, AccountsN      int
	NotAuditedN, SkippedN    int
	NotReachedN, PartialN    int
	OpenFindings             int
}

// htmlRisk is a risk score: Value is empty when unknown, and Text then says the
// lower bound.
type htmlRisk struct {
	Value, Label, Class, Text string
}

type htmlPhase struct{ Name, State, Class, Detail string }

type htmlCount struct {
	Severity, Label string
	N               int
}

type htmlAccountRow struct {
	Name, ID, Anchor, Status, StatusLabel, Reason string
}

type htmlFindings struct {
	Rows                            []htmlFinding
	Total, Shown, More              int
	Counts, MoreText                string
	Severities, Accounts, Checks    []htmlOption
	States                          []htmlOption
	Open, New, Suppressed, Resolved int
}

type htmlOption struct{ Value, Label string }

type htmlFinding struct {
	ID, Severity, SevLabel, AccountID, Account, AccountAnchor string
	Subject, UserAnchor, CheckID, Title, Message              string
	State, StateLabel, Suppression, Workflow                  string
	SevRank                                                   int
	Evidence                                                  []htmlKV
	Commands                                                  []string
	References                                                string
	// rawAccount and rawUser are the finding's account id and user as collected.
	rawAccount, rawUser string
}

type htmlKV struct{ K, V string }

type htmlAccount struct {
	Anchor, ID, Name, OUPath, Email, Status, StatusLabel, Reason, AuditedAs string
	Risk                                                                    htmlRisk
	Audited                                                                 bool
	Counts                                                                  []htmlCount
	Facts                                                                   []htmlKV
	Unknown, Uneval                                                         string
	Users                                                                   []htmlUser
	UsersTotal                                                              int
	UsersNote                                                               string
}

type htmlUser struct {
	Anchor, Name, ARN, Created, Console, LastSignIn, MFA string
	Worst, WorstLabel, FindingsText                      string
	Groups, Policies, TagsUnknown                        string
	Tags                                                 []htmlKV
	Keys                                                 []htmlKey
	KeysNote                                             string
	Findings                                             []htmlFinding
	Events                                               []htmlEvent
	EventsNote                                           string
}

type htmlKey struct {
	ID, Status, Created, Age, LastUsed, Service, Region string
}

type htmlTimeline struct {
	Chart               template.HTML
	Rows                []htmlEvent
	Total, More         int
	Note, Unknown, None string
}

type htmlEvent struct {
	Time, Account, AccountAnchor, Name, By, Source, Resources, Error string
}

type htmlGaps struct {
	Rows        []htmlGap
	Total, More int
	Note        string
}

type htmlGap struct {
	Account, AccountAnchor, Section, Subject, Operation, Error, Message string
}

// NewHTMLReport arranges an outcome for the HTML templates.
func NewHTMLReport(o *outcome.Outcome, m Messages, opts HTMLOptions) (*HTMLReport, error) {
	return newHTMLReport(o, m, opts, viewOf(o))
}

// newHTMLReport arranges an outcome for the HTML templates with the findings of v
// (a streamed run's summary holds only the most severe; v counts them all).
func newHTMLReport(o *outcome.Outcome, m Messages, opts HTMLOptions, v *findingsView) (*HTMLReport, error) {
	opts = opts.withDefaults()
	inv := o.Inventory
	w, wd := m.html, m.summary
	r := &HTMLReport{
		Lang: m.Lang, W: w, S: wd,
		CSS: template.CSS(htmlCSS), JS: template.JS(htmlJS), CSP: ContentSecurityPolicy([]string{htmlCSS}, []string{htmlJS}),
		RunID: clean(inv.RunID), Partition: clean(inv.Partition), Tool: clean(inv.Tool), Version: clean(inv.Version),
		FindingsFile: FindingsReportName(inv.RunID), JSONFile: JSONReportName(inv.RunID), EventsFile: EventsReportName(inv.RunID),
	}
	r.Org = "—"
	if inv.Organization != nil && inv.Organization.ID != "" {
		r.Org = clean(inv.Organization.ID)
	}
	r.Started, r.Finished = htmlTime(inv.StartedAt, wd.Unknown), htmlTime(inv.FinishedAt, wd.Unknown)
	if !inv.EventWindowStart.IsZero() {
		r.Window = htmlTime(inv.EventWindowStart, wd.Unknown) + " – " + htmlTime(inv.EventWindowEnd, wd.Unknown)
	}
	// The run's files written before this one (a streamed run ends the others first:
	// Format.ListsFiles; a whole run writes the formats in order).
	for _, f := range o.Files {
		r.Files = append(r.Files, clean(filepath.Base(f)))
	}
	r.Footer = fmt.Sprintf(w.Footer, clean(inv.Tool), clean(inv.Version))

	// Sorted once (most severe first): sorting is most of the time a large
	// Organization's page takes to build.
	open, sup := v.open, v.sup
	byUser := findingsByUser(slices.Concat(open, sup))
	details := detailedUsers(inv, byUser, opts.MaxUserDetails)
	var err error
	if r.Summary, err = htmlOrgSummary(o, m, opts); err != nil {
		return nil, err
	}
	r.Summary.OpenFindings = v.nOpen
	r.NotAudited = htmlNotAudited(inv, w)
	r.Findings = htmlFindingsTable(o, v, m, opts)
	r.Accounts = htmlAccounts(o, m, byUser, details)
	// A finding links to its user's detail only when the page has it (not for the
	// root user, nor for users beyond MaxUserDetails).
	for i := range r.Findings.Rows {
		f := &r.Findings.Rows[i]
		if f.UserAnchor != "" && !details[userKey{f.rawAccount, f.rawUser}] {
			f.UserAnchor = ""
		}
	}
	if r.Timeline, err = htmlEvents(inv, w, wd, opts); err != nil {
		return nil, err
	}
	r.Gaps = htmlGapsTable(inv, w, opts)
	return r, nil
}

// clean makes a value from AWS safe to show as text: control characters (line
// breaks and tabs too) become spaces or U+FFFD and bidirectional formatting
// characters (U+202E "right-to-left override" and its kin) U+FFFD, so a name can
// neither hide nor reorder what is written around it. Right-to-left letters stay;
// the templates isolate every value from AWS in a <bdi> so they read in their own
// direction without moving the rest. html/template escapes the result.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029' {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t' || r == '\u2028' || r == '\u2029':
			b.WriteRune(' ')
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Clean is clean for the pages other packages render from values of AWS (the
// dashboard).
func Clean(s string) string { return clean(s) }

// anchor is a stable element id for a thing of the page, whatever its name holds.
func anchor(prefix string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return prefix + "-" + hex.EncodeToString(h[:6])
}

func accountAnchor(id string) string { return anchor("acct", id) }

func userAnchor(accountID, user string) string { return anchor("user", accountID, user) }

// htmlTime is a UTC time to the minute; the zero time is unknown.
func htmlTime(t time.Time, unknown string) string {
	if t.IsZero() {
		return unknown
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func htmlRiskOf(wd summaryWords, w htmlWords, s score.Score) htmlRisk {
	if s.Risk == nil {
		return htmlRisk{Label: wd.Unknown, Class: "unknown", Text: fmt.Sprintf(w.AtLeast, s.RiskAtLeast)}
	}
	return htmlRisk{Value: strconv.Itoa(*s.Risk), Label: wd.label(s.RiskLabel), Class: s.RiskLabel}
}

func htmlSeedRiskOf(wd summaryWords, w htmlWords, s score.SeedRisk) htmlRisk {
	if s.Score == nil {
		return htmlRisk{Label: wd.Unknown, Class: "unknown", Text: fmt.Sprintf(w.AtLeast, s.AtLeast)}
	}
	return htmlRisk{Value: strconv.Itoa(*s.Score), Label: wd.label(s.Label), Class: s.Label}
}

func htmlPhaseOf(wd summaryWords, name string, ph score.Phase, detail string) htmlPhase {
	class := "done"
	switch {
	case !ph.Known:
		class = "unknown"
	case !ph.Complete:
		class = "todo"
	}
	return htmlPhase{Name: name, State: state(wd, ph), Class: class, Detail: detail}
}

func htmlCounts(wd summaryWords, c score.Counts) []htmlCount {
	return []htmlCount{
		{"critical", wd.Critical, c.Critical}, {"high", wd.High, c.High}, {"medium", wd.Medium, c.Medium},
		{"low", wd.Low, c.Low}, {"suppressed", wd.SuppressedCount, c.Suppressed},
	}
}

func htmlOrgSummary(o *outcome.Outcome, m Messages, opts HTMLOptions) (htmlSummary, error) {
	w, wd := m.html, m.summary
	org := o.Scores.Organization
	s := htmlSummary{
		Risk: htmlRiskOf(wd, w, org), SeedRisk: htmlSeedRiskOf(wd, w, org.SeedRisk),
		Formula: fmt.Sprintf(w.FormulaNote, org.RiskFormula, org.SeedRisk.Formula),
		Phase1:  htmlPhaseOf(wd, wd.Phase1, org.Phase1, coverageText(wd, org)),
		Phase2:  htmlPhaseOf(wd, wd.Phase2, org.Phase2, keysText(wd, org, o.Scores.KeyRotationDays)),
		Counts:  htmlCounts(wd, org.Findings),
	}
	for _, a := range o.Inventory.Accounts {
		s.AccountsN++
		switch a.Status {
		case inventory.StatusAudited:
			s.AuditedN++
		case inventory.StatusPartial:
			s.AuditedN++
			s.PartialN++
		case inventory.StatusNotAudited:
			s.NotAuditedN++
		case inventory.StatusSkipped:
			s.SkippedN++
		case inventory.StatusNotReached:
			s.NotReachedN++
		}
	}
	if len(org.UnknownSections) > 0 {
		s.UnknownNote = fmt.Sprintf(w.UnknownNote, joinFields(org.UnknownSections))
	}
	if len(org.RiskUnevaluated) > 0 {
		s.Uneval = fmt.Sprintf(w.Unevaluated, strings.Join(org.RiskUnevaluated, ", "))
	}
	switch {
	case org.MFACoverage == nil:
		s.MFA, s.MFAUnknown = wd.Unknown, true
		s.MFASub = fmt.Sprintf(w.UnknownNote, joinFields(org.UnknownSections))
		if org.Accounts > 0 {
			s.MFASub += " " + fmt.Sprintf(w.MFAKnown, org.Accounts, org.ConsoleUsersWithMFA, org.ConsoleUsers)
		}
	case org.ConsoleUsers == 0:
		s.MFA, s.MFASub = fmt.Sprintf("%.0f%%", *org.MFACoverage), w.MFANoConsole
	case org.ConsoleUsers == 1:
		s.MFA, s.MFASub = fmt.Sprintf("%.0f%%", *org.MFACoverage), w.MFAOfOne
	default:
		s.MFA, s.MFASub = fmt.Sprintf("%.0f%%", *org.MFACoverage), fmt.Sprintf(w.MFAOf, org.ConsoleUsers)
	}
	var err error
	mfaBars := []ChartBar{
		{Label: w.WithMFA, Value: org.ConsoleUsersWithMFA, Class: "ok"},
		{Label: w.WithoutMFA, Value: org.ConsoleUsers - org.ConsoleUsersWithMFA, Class: "bad"},
	}
	if s.MFAUnknown {
		for i := range mfaBars {
			mfaBars[i].Unknown = true
			mfaBars[i].Text = fmt.Sprintf("≥ %d (%s)", mfaBars[i].Value, wd.Unknown)
		}
	}
	if s.MFAChart, err = (Chart{ID: "chart-mfa", Title: w.MFATitle, Bars: mfaBars}).SVG(); err != nil {
		return s, err
	}
	k := org.KeyAges
	keysKnown := org.Phase2.Known
	keyBars := []ChartBar{
		{Label: w.Age0To90, Value: k.Days0To90, Class: "age-0"},
		{Label: w.Age91To180, Value: k.Days91To180, Class: "age-1"},
		{Label: w.Age181To365, Value: k.Days181To365, Class: "age-2"},
		{Label: w.AgeOver365, Value: k.Over365, Class: "age-3"},
	}
	s.KeysTotal = fmt.Sprintf(w.KeysTotal, org.ActiveKeys)
	if !keysKnown {
		s.KeysNote = fmt.Sprintf(w.KeyAgesUnknown, joinFields(org.UnknownSections))
		for i := range keyBars {
			keyBars[i].Unknown = true
			keyBars[i].Text = fmt.Sprintf("≥ %d", keyBars[i].Value)
		}
	}
	if s.KeyAges, err = (Chart{ID: "chart-key-ages", Title: w.KeyAgesTitle, Bars: keyBars}).SVG(); err != nil {
		return s, err
	}
	var sev []ChartBar
	for _, c := range s.Counts[:4] {
		sev = append(sev, ChartBar{Label: c.Label, Value: c.N, Class: "sev-" + c.Severity})
	}
	if s.SeverityChart, err = (Chart{ID: "chart-severity", Title: w.SeverityChart, Bars: sev}).SVG(); err != nil {
		return s, err
	}
	// Risk by account: the highest first (a lower bound counts as its bound), ties
	// by name; accounts not audited have no score and are listed apart.
	var scored []score.Score
	for _, a := range o.Scores.Accounts {
		if a.Audited {
			scored = append(scored, a)
		}
	}
	riskOf := func(a score.Score) int {
		if a.Risk != nil {
			return *a.Risk
		}
		return a.RiskAtLeast
	}
	sort.SliceStable(scored, func(i, j int) bool {
		if ri, rj := riskOf(scored[i]), riskOf(scored[j]); ri != rj {
			return ri > rj
		}
		return scored[i].AccountName < scored[j].AccountName
	})
	if len(scored) > opts.MaxRiskBars {
		s.RiskMore = fmt.Sprintf(w.RiskChartMore, opts.MaxRiskBars, len(scored))
		scored = scored[:opts.MaxRiskBars]
	}
	var risk []ChartBar
	for _, a := range scored {
		name := a.AccountName
		if name == "" {
			name = a.AccountID
		}
		b := ChartBar{Label: clean(name), Value: riskOf(a), Href: "#" + accountAnchor(a.AccountID)}
		if a.Risk == nil {
			b.Unknown, b.Class = true, "risk-unknown"
			b.Text = fmt.Sprintf("%s (≥ %d)", wd.Unknown, a.RiskAtLeast)
		} else {
			b.Class = "risk-" + a.RiskLabel
			b.Text = fmt.Sprintf("%d (%s)", *a.Risk, wd.label(a.RiskLabel))
		}
		risk = append(risk, b)
	}
	if s.RiskChart, err = (Chart{ID: "chart-risk", Title: w.RiskChart, Max: 100, Bars: risk}).SVG(); err != nil {
		return s, err
	}
	return s, nil
}

func statusLabel(w htmlWords, status string) string {
	switch status {
	case inventory.StatusAudited:
		return w.StatusAudited
	case inventory.StatusPartial:
		return w.StatusPartial
	case inventory.StatusNotAudited:
		return w.StatusNotAudited
	case inventory.StatusSkipped:
		return w.StatusSkipped
	case inventory.StatusNotReached:
		return w.StatusNotReached
	}
	return clean(status)
}

// htmlNotAudited lists the accounts that were not audited, not reached or skipped,
// with why: not audited first (they are the incomplete audit), then not reached,
// then skipped, each by name.
func htmlNotAudited(inv *inventory.Inventory, w htmlWords) []htmlAccountRow {
	rank := map[string]int{inventory.StatusNotAudited: 0, inventory.StatusNotReached: 1, inventory.StatusSkipped: 2}
	var accts []inventory.Account
	for _, a := range inv.Accounts {
		if _, ok := rank[a.Status]; ok {
			accts = append(accts, a)
		}
	}
	sort.SliceStable(accts, func(i, j int) bool {
		if rank[accts[i].Status] != rank[accts[j].Status] {
			return rank[accts[i].Status] < rank[accts[j].Status]
		}
		return accts[i].Name < accts[j].Name
	})
	out := []htmlAccountRow{}
	for _, a := range accts {
		reason := a.Reason
		if a.Status == inventory.StatusSkipped && reason == "" {
			reason = "state " + a.State
		}
		out = append(out, htmlAccountRow{Name: clean(a.Name), ID: clean(a.ID), Anchor: accountAnchor(a.ID),
			Status: a.Status, StatusLabel: statusLabel(w, a.Status), Reason: clean(reason)})
	}
	return out
}

func stateLabel(w htmlWords, s string) string {
	switch s {
	case checks.StateNew:
		return w.StateNew
	case checks.StateOpen:
		return w.StateOpen
	case checks.StateSuppressed:
		return w.StateSuppressed
	case checks.StateResolved:
		return w.StateResolved
	}
	return clean(s)
}

func htmlFindingOf(w htmlWords, wd summaryWords, f checks.Finding) htmlFinding {
	h := htmlFinding{
		ID: clean(f.ID), Severity: f.Severity.String(), SevLabel: wd.label(f.Severity.String()), SevRank: int(f.Severity),
		AccountID: clean(f.AccountID), Account: clean(accountLabel(f.AccountName, f.AccountID)), AccountAnchor: accountAnchor(f.AccountID),
		Subject: clean(subject(f)), CheckID: clean(f.CheckID), Title: clean(f.Title), Message: clean(f.Message),
		State: clean(f.State), StateLabel: stateLabel(w, f.State), Workflow: clean(f.Remediation.Workflow),
	}
	switch f.ResourceType {
	case checks.ResourceRoot, checks.ResourceRootAccessKey:
		h.Subject = "root"
	default:
		if f.User != "" {
			h.UserAnchor, h.rawAccount, h.rawUser = userAnchor(f.AccountID, f.User), f.AccountID, f.User
		}
	}
	if f.Suppressed {
		h.Suppression = fmt.Sprintf(w.SuppressedBecause, clean(f.SuppressionReason))
		if f.SuppressionExpires != nil {
			h.Suppression += "; " + fmt.Sprintf(w.Expires, f.SuppressionExpires.UTC().Format("2006-01-02"))
		}
	}
	keys := make([]string, 0, len(f.Evidence))
	for k := range f.Evidence {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h.Evidence = append(h.Evidence, htmlKV{clean(k), clean(f.Evidence[k])})
	}
	for _, c := range Commands(f) {
		h.Commands = append(h.Commands, clean(c))
	}
	refs := append(append([]string(nil), f.CIS...), f.SecurityHub...)
	h.References = clean(strings.Join(refs, ", "))
	return h
}

// htmlFindingsTable is the findings table: open, suppressed (each as split sorts
// them) and resolved findings; its counts, "more" and filters are of every finding
// of the run (v), whatever the page shows.
func htmlFindingsTable(o *outcome.Outcome, v *findingsView, m Messages, opts HTMLOptions) htmlFindings {
	w, wd := m.html, m.summary
	all := slices.Concat(v.open, v.sup, v.resolved)
	t := htmlFindings{Total: v.nOpen + v.nSup + v.nRes, Open: v.nOpen, Suppressed: v.nSup, Resolved: v.nRes, New: v.nNew}
	t.Counts = fmt.Sprintf(w.FindingsCounts, t.Open, t.New, t.Suppressed, t.Resolved)
	if !v.countsKnown {
		t.Counts = fmt.Sprintf(w.FindingsCountsSummary, t.Open, t.Suppressed, JSONReportName(o.Inventory.RunID))
	}
	shown, _ := capped(all, opts.MaxFindings)
	t.Shown, t.More = len(shown), t.Total-len(shown)
	if !v.countsKnown {
		t.More = v.nOpen + v.nSup - len(shown) // resolved ones not counted
	}
	if t.More > 0 {
		t.MoreText = fmt.Sprintf(w.More, t.More, FindingsReportName(o.Inventory.RunID))
	}
	t.Rows = make([]htmlFinding, 0, len(shown))
	for id, name := range v.accounts {
		t.Accounts = append(t.Accounts, htmlOption{clean(id), clean(accountLabel(name, id))})
	}
	for id := range v.checkIDs {
		t.Checks = append(t.Checks, htmlOption{clean(id), clean(id)})
	}
	stateSeen := v.states
	for _, f := range shown {
		t.Rows = append(t.Rows, htmlFindingOf(w, wd, f))
	}
	sort.Slice(t.Accounts, func(i, j int) bool {
		if t.Accounts[i].Label != t.Accounts[j].Label {
			return t.Accounts[i].Label < t.Accounts[j].Label
		}
		return t.Accounts[i].Value < t.Accounts[j].Value
	})
	sort.Slice(t.Checks, func(i, j int) bool { return t.Checks[i].Value < t.Checks[j].Value })
	for _, s := range checks.Severities {
		t.Severities = append(t.Severities, htmlOption{s.String(), wd.label(s.String())})
	}
	for _, s := range []string{checks.StateNew, checks.StateOpen, checks.StateSuppressed, checks.StateResolved} {
		if stateSeen[s] {
			t.States = append(t.States, htmlOption{s, stateLabel(w, s)})
		}
	}
	return t
}

type userKey struct{ account, user string }

// findingsByUser groups the findings about users, in the order given.
func findingsByUser(fs []checks.Finding) map[userKey][]checks.Finding {
	out := map[userKey][]checks.Finding{}
	for _, f := range fs {
		if f.User != "" {
			k := userKey{f.AccountID, f.User}
			out[k] = append(out[k], f)
		}
	}
	return out
}

// worst is the highest severity among the open findings (SeverityUnset when none).
func worst(fs []checks.Finding) (checks.Severity, int) {
	w, n := checks.SeverityUnset, 0
	for _, f := range fs {
		if f.Suppressed {
			continue
		}
		n++
		if f.Severity > w {
			w = f.Severity
		}
	}
	return w, n
}

// detailedUsers chooses the users whose detail the page shows: all of them when the
// run has at most max users, else the max users with the most severe open findings
// (then the most findings, then account and name).
func detailedUsers(inv *inventory.Inventory, byUser map[userKey][]checks.Finding, max int) map[userKey]bool {
	var all []userKey
	for _, a := range inv.Accounts {
		for _, u := range a.Users {
			all = append(all, userKey{a.ID, u.Name})
		}
	}
	out := make(map[userKey]bool, min(len(all), max))
	if len(all) <= max {
		for _, k := range all {
			out[k] = true
		}
		return out
	}
	type ranked struct {
		k    userKey
		sev  checks.Severity
		open int
	}
	var cand []ranked
	for _, k := range all {
		if s, n := worst(byUser[k]); n > 0 {
			cand = append(cand, ranked{k, s, n})
		}
	}
	sort.SliceStable(cand, func(i, j int) bool {
		a, b := cand[i], cand[j]
		if a.sev != b.sev {
			return a.sev > b.sev
		}
		if a.open != b.open {
			return a.open > b.open
		}
		if a.k.account != b.k.account {
			return a.k.account < b.k.account
		}
		return a.k.user < b.k.user
	})
	for _, c := range cand[:min(len(cand), max)] {
		out[c.k] = true
	}
	return out
}

// authDetailsFailed: an account-wide gap left the users' groups, policies and tags
// unknown (a failed GetAccountAuthorizationDetails, or a credential report alone).
func authDetailsFailed(a *inventory.Account) bool {
	for _, g := range a.Gaps {
		if g.Subject == "" && (g.Leaves(inventory.FieldUserTags) || g.Leaves(inventory.FieldUserGroups) || g.Leaves(inventory.FieldUserPolicies)) {
			return true
		}
	}
	return false
}

// eventsUnknown: the account's CloudTrail events could not all be read.
func eventsUnknown(a *inventory.Account) bool {
	if a.Status == inventory.StatusNotAudited || a.Status == inventory.StatusNotReached {
		return true
	}
	for _, g := range a.Gaps {
		if g.Leaves(inventory.FieldEvents) {
			return true
		}
	}
	return false
}

func htmlAccounts(o *outcome.Outcome, m Messages, byUser map[userKey][]checks.Finding, details map[userKey]bool) []htmlAccount {
	w, wd := m.html, m.summary
	inv := o.Inventory
	out := make([]htmlAccount, 0, len(inv.Accounts))
	for i := range inv.Accounts {
		a := &inv.Accounts[i]
		s, _ := o.Scores.Account(a.ID)
		h := htmlAccount{
			Anchor: accountAnchor(a.ID), ID: clean(a.ID), Name: clean(a.Name), OUPath: clean(a.OUPath), Email: clean(a.Email),
			Status: a.Status, StatusLabel: statusLabel(w, a.Status), Reason: clean(a.Reason), AuditedAs: clean(a.AuditedAs),
			Audited: s.Audited, UsersTotal: len(a.Users), Counts: htmlCounts(wd, s.Findings),
		}
		nEvents := len(a.Events)
		if a.Omitted != nil {
			h.UsersTotal, nEvents = a.Omitted.Users, a.Omitted.Events
		}
		switch {
		case a.Status == inventory.StatusSkipped || a.Status == inventory.StatusNotReached:
			h.Risk = htmlRisk{Label: "—", Class: "none"}
		case !s.Audited:
			h.Risk = htmlRisk{Label: wd.NotAudited, Class: "unknown"}
		default:
			h.Risk = htmlRiskOf(wd, w, s)
		}
		if s.Audited {
			cov := wd.Unknown
			if s.MFACoverage != nil {
				cov = fmt.Sprintf("%.0f%%", *s.MFACoverage)
			}
			keys, old := strconv.Itoa(s.ActiveKeys), strconv.Itoa(s.KeysOverRotation)
			if !s.Phase2.Known {
				keys, old = "≥ "+keys+" ("+wd.Unknown+")", "≥ "+old+" ("+wd.Unknown+")"
			}
			events := strconv.Itoa(nEvents)
			if eventsUnknown(a) {
				events = "≥ " + events + " (" + wd.Unknown + ")"
			}
			rootMFA, rootKeys := htmlRoot(a, w, wd)
			h.Facts = []htmlKV{
				{w.Users, strconv.Itoa(s.Users)}, {w.ConsoleUsers, strconv.Itoa(s.ConsoleUsers)}, {w.MFATitle, cov},
				{w.ActiveKeys, keys}, {fmt.Sprintf(w.KeysOverRotation, o.Scores.KeyRotationDays), old}, {w.Events, events},
				{w.RootMFA, rootMFA}, {w.RootKeys, rootKeys},
			}
			if len(s.UnknownSections) > 0 {
				h.Unknown = fmt.Sprintf(w.UnknownNote, joinFields(s.UnknownSections))
			}
			if len(s.RiskUnevaluated) > 0 {
				h.Uneval = fmt.Sprintf(w.Unevaluated, strings.Join(s.RiskUnevaluated, ", "))
			}
		}
		users := append([]inventory.User(nil), a.Users...)
		sort.SliceStable(users, func(i, j int) bool { return users[i].Name < users[j].Name })
		for _, u := range users {
			k := userKey{a.ID, u.Name}
			if details[k] {
				h.Users = append(h.Users, htmlUserOf(o, m, a, u, byUser[k]))
			}
		}
		switch n := len(h.Users); {
		case a.Omitted != nil && a.Omitted.Users > 0:
			h.UsersNote = fmt.Sprintf(w.UsersElsewhere, a.Omitted.Users, JSONReportName(inv.RunID), IAMReportName(inv.RunID))
		case n < len(a.Users):
			h.UsersNote = fmt.Sprintf(w.UsersCapped, n, len(a.Users), JSONReportName(inv.RunID))
		}
		out = append(out, h)
	}
	return out
}

// htmlRoot describes the root user's MFA and active access keys; unknown when the
// root user or the credential report could not be read.
func htmlRoot(a *inventory.Account, w htmlWords, wd summaryWords) (mfa, keys string) {
	unknown := a.Root == nil
	for _, g := range a.Gaps {
		if g.Subject == "" && (g.Leaves(inventory.FieldRoot) || g.Leaves(inventory.FieldCredentialReport)) {
			unknown = true
		}
	}
	if unknown {
		return wd.Unknown, wd.Unknown
	}
	r := a.Root
	switch {
	case r.MFAType == inventory.MFAVirtual || r.MFAType == inventory.MFAHardware:
		mfa = strings.ToLower(r.MFAType)
	case r.MFAActive:
		mfa = w.MFAOnTypeUnknown
	default:
		mfa = w.None
	}
	n := 0
	for _, k := range r.AccessKeys {
		if k.Active {
			n++
		}
	}
	return mfa, strconv.Itoa(n)
}

func htmlUserOf(o *outcome.Outcome, m Messages, a *inventory.Account, u inventory.User, fs []checks.Finding) htmlUser {
	w, wd := m.html, m.summary
	unk := func(f inventory.Field) bool { return unknownFor(a, u.Name, f) }
	h := htmlUser{Anchor: userAnchor(a.ID, u.Name), Name: clean(u.Name), ARN: clean(u.ARN), Created: htmlTime(u.CreatedAt, wd.Unknown)}
	if unk(inventory.FieldUsers) {
		h.Created = wd.Unknown
	}
	sev, n := worst(fs)
	h.Worst, h.WorstLabel = "none", "—"
	if n > 0 {
		h.Worst, h.WorstLabel = sev.String(), wd.label(sev.String())
		h.FindingsText = fmt.Sprintf(w.UserFindings, n)
	} else {
		h.FindingsText = w.UserNoFindings
	}
	switch {
	case u.PasswordEnabled:
		h.Console = w.Yes
	case unk(inventory.FieldPassword):
		h.Console = wd.Unknown
	default:
		h.Console = w.No
	}
	switch {
	case u.PasswordLastUsed != nil && !u.PasswordLastUsed.IsZero():
		h.LastSignIn = htmlTime(*u.PasswordLastUsed, wd.Unknown)
	case unk(inventory.FieldPasswordLastUsed):
		h.LastSignIn = wd.Unknown
	case u.PasswordEnabled:
		h.LastSignIn = w.Never
	default:
		h.LastSignIn = w.NotApplicable
	}
	switch {
	case len(u.MFADevices) > 0:
		var ds []string
		for _, d := range u.MFADevices {
			s := clean(d.Type) + " " + clean(d.Serial)
			if d.EnabledAt != nil {
				s += " (" + htmlTime(*d.EnabledAt, wd.Unknown) + ")"
			}
			ds = append(ds, s)
		}
		h.MFA = strings.Join(ds, "; ")
	case unk(inventory.FieldMFA):
		h.MFA = wd.Unknown
	case u.MFAActive:
		h.MFA = w.MFAOnTypeUnknown
	default:
		h.MFA = w.None
	}
	if authDetailsFailed(a) {
		h.Groups, h.Policies, h.TagsUnknown = wd.Unknown, wd.Unknown, wd.Unknown
	} else {
		h.Groups, h.Policies = w.None, w.None
		if len(u.Groups) > 0 {
			h.Groups = clean(strings.Join(u.Groups, ", "))
		}
		var ps []string
		for _, p := range u.AttachedPolicies {
			ps = append(ps, p.Name)
		}
		for _, p := range u.InlinePolicies {
			ps = append(ps, p.Name+" (inline)")
		}
		if len(ps) > 0 {
			h.Policies = clean(strings.Join(ps, ", "))
		}
		if len(u.Tags) == 0 {
			h.TagsUnknown = w.None
		}
	}
	tagKeys := make([]string, 0, len(u.Tags))
	for k := range u.Tags {
		tagKeys = append(tagKeys, k)
	}
	sort.Strings(tagKeys)
	for _, k := range tagKeys {
		h.Tags = append(h.Tags, htmlKV{clean(k), clean(u.Tags[k])})
	}
	keysUnknown, lastUseUnknown := unk(inventory.FieldAccessKeys), unk(inventory.FieldKeyLastUse)
	for i, k := range u.AccessKeys {
		hk := htmlKey{ID: clean(k.ID), Status: clean(k.Status), Service: clean(k.LastUsedService), Region: clean(k.LastUsedRegion)}
		if hk.ID == "" {
			hk.ID = fmt.Sprintf("#%d (%s)", i+1, w.IDUnknown)
		}
		if k.CreatedAt.IsZero() {
			hk.Created, hk.Age = wd.Unknown, wd.Unknown
		} else {
			hk.Created = htmlTime(k.CreatedAt, wd.Unknown)
			hk.Age = fmt.Sprintf(w.DaysN, checks.AgeDays(o.Now, k.CreatedAt))
		}
		switch {
		case k.LastUsedAt != nil && !k.LastUsedAt.IsZero():
			hk.LastUsed = htmlTime(*k.LastUsedAt, wd.Unknown)
		case lastUseUnknown:
			hk.LastUsed = wd.Unknown
		default:
			hk.LastUsed = w.NeverUsed
		}
		if hk.Service == "" || hk.Service == "N/A" {
			hk.Service = "—"
			if lastUseUnknown {
				hk.Service = wd.Unknown
			}
		}
		if hk.Region == "" || hk.Region == "N/A" {
			hk.Region = "—"
			if lastUseUnknown {
				hk.Region = wd.Unknown
			}
		}
		h.Keys = append(h.Keys, hk)
	}
	if len(u.AccessKeys) == 0 {
		h.KeysNote = w.NoKeys
		if keysUnknown {
			h.KeysNote = wd.Unknown
		}
	}
	for _, f := range fs {
		h.Findings = append(h.Findings, htmlFindingOf(w, wd, f))
	}
	var evs []inventory.Event
	for _, e := range a.Events {
		if e.Username == u.Name || slices.ContainsFunc(e.Resources, func(r inventory.EventResource) bool { return r.Name == u.Name }) {
			evs = append(evs, e)
		}
	}
	sortEventsNewest(evs)
	for _, e := range evs[:min(len(evs), htmlUserEvents)] {
		h.Events = append(h.Events, htmlEventOf(a, e, wd))
	}
	if len(evs) == 0 {
		h.EventsNote = w.NoEvents
		if eventsUnknown(a) {
			h.EventsNote = wd.Unknown
		}
	}
	return h
}

func sortEventsNewest(evs []inventory.Event) {
	sort.SliceStable(evs, func(i, j int) bool {
		if !evs[i].Time.Equal(evs[j].Time) {
			return evs[i].Time.After(evs[j].Time)
		}
		return evs[i].ID < evs[j].ID
	})
}

func htmlEventOf(a *inventory.Account, e inventory.Event, wd summaryWords) htmlEvent {
	names := make([]string, 0, len(e.Resources))
	for _, r := range e.Resources {
		names = append(names, r.Name)
	}
	by := e.Username
	if by == "" {
		by = "—"
	}
	return htmlEvent{Time: htmlTime(e.Time, wd.Unknown), Account: clean(accountLabel(a.Name, a.ID)), AccountAnchor: accountAnchor(a.ID),
		Name: clean(e.Name), By: clean(by), Source: clean(e.Source), Resources: clean(strings.Join(names, ", ")), Error: clean(e.ErrorCode)}
}

// htmlEvents is the CloudTrail timeline: a column per day of the window counting
// every event, and the most recent events in a table.
func htmlEvents(inv *inventory.Inventory, w htmlWords, wd summaryWords, opts HTMLOptions) (htmlTimeline, error) {
	type ev struct {
		a *inventory.Account
		e inventory.Event
	}
	var all []ev
	unknown, omitted := 0, 0
	for i := range inv.Accounts {
		a := &inv.Accounts[i]
		if a.Status == inventory.StatusSkipped {
			continue
		}
		if eventsUnknown(a) {
			unknown++
		}
		for _, e := range a.Events {
			all = append(all, ev{a, e})
		}
		if a.Omitted != nil {
			omitted += a.Omitted.Events
		}
	}
	t := htmlTimeline{Total: len(all) + omitted}
	if unknown > 0 {
		t.Unknown = fmt.Sprintf(w.EventsUnknown, unknown)
	}
	if omitted > 0 {
		// A streamed run's summary: the events are in the events CSV only; a chart
		// of the few left would be a false picture of the window.
		t.Note = fmt.Sprintf(w.EventsElsewhere, t.Total, EventsReportName(inv.RunID))
		return t, nil
	}
	if len(all) == 0 {
		t.None = w.EventsNone
		if unknown > 0 {
			t.None = wd.Unknown
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if !all[i].e.Time.Equal(all[j].e.Time) {
			return all[i].e.Time.After(all[j].e.Time)
		}
		return all[i].e.ID < all[j].e.ID
	})
	// Days of the window (or of the events when the window is unknown), oldest first.
	start, end := inv.EventWindowStart, inv.EventWindowEnd
	if len(all) > 0 && (start.IsZero() || end.IsZero()) {
		start, end = all[len(all)-1].e.Time, all[0].e.Time
	}
	if !start.IsZero() && !end.IsZero() && !end.Before(start) {
		day := func(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
		first, last := day(start), day(end)
		n := int(last.Sub(first)/(24*time.Hour)) + 1
		counts := make([]int, n)
		for _, x := range all {
			if i := int(day(x.e.Time).Sub(first) / (24 * time.Hour)); i >= 0 && i < n {
				counts[i]++
			}
		}
		bars := make([]ChartBar, n)
		for i := range bars {
			bars[i] = ChartBar{Label: first.AddDate(0, 0, i).Format("2006-01-02"), Value: counts[i], Class: "events"}
		}
		var err error
		if t.Chart, err = (Chart{Kind: Columns, ID: "chart-timeline", Title: w.TimelineChart, Bars: bars}).SVG(); err != nil {
			return t, err
		}
	}
	shown := all[:min(len(all), opts.MaxEvents)]
	t.More = len(all) - len(shown)
	if t.More > 0 {
		t.Note = fmt.Sprintf(w.EventsCapped, len(shown), len(all), EventsReportName(inv.RunID))
	}
	for _, x := range shown {
		t.Rows = append(t.Rows, htmlEventOf(x.a, x.e, wd))
	}
	return t, nil
}

func htmlGapsTable(inv *inventory.Inventory, w htmlWords, opts HTMLOptions) htmlGaps {
	gaps := allGaps(inv)
	names := accountNames(inv)
	t := htmlGaps{Total: len(gaps)}
	shown := gaps[:min(len(gaps), opts.MaxGaps)]
	t.More = len(gaps) - len(shown)
	if t.More > 0 {
		t.Note = fmt.Sprintf(w.GapsCapped, len(shown), len(gaps), JSONReportName(inv.RunID))
	}
	for _, g := range shown {
		h := htmlGap{Account: w.Organizationwide, Section: clean(string(g.Section)), Subject: clean(g.Subject),
			Operation: clean(g.Operation), Error: clean(g.ErrorCode), Message: clean(g.Message)}
		if g.AccountID != "" {
			h.Account, h.AccountAnchor = clean(accountLabel(names[g.AccountID], g.AccountID)), accountAnchor(g.AccountID)
		}
		t.Rows = append(t.Rows, h)
	}
	return t
}
