// Package trend builds the table seed 004 asks users to keep month after month
// (total keys, keys older than 90 days and one year, MFA coverage, inactive users),
// with never-used keys, the median key age, findings by severity, the risk score and
// the CloudTrail events that show remediation (CreateAccessKey, DeleteAccessKey,
// DeleteUser), from the runs of a store.
//
// A figure the runs do not know is unknown, with the lower bound that is known
// ("unknown (at least 245)"), never a number built on missing data; the risk is
// never compared across formulas silently (FormulaChanges). docs/diff-trend-import.md.
package trend

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/score"
	"github.com/iamaudit/iamaudit/internal/store"
)

// By is the period of a row.
type By string

// Periods.
const (
	ByMonth By = "month" // the last run of each calendar month (UTC)
	ByRun   By = "run"   // every run
)

// EventNames are the CloudTrail events a trend counts (seed 004: "if CreateAccessKey
// events are increasing, investigate"; DeleteUser for the user cleanup rate).
var EventNames = []string{"CreateAccessKey", "DeleteAccessKey", "DeleteUser"}

// Organization is the Scope of the Organization's rows.
const Organization = "organization"

// Query selects a trend.
type Query struct {
	By By
	// Accounts: rows for each of these accounts; nil: the Organization's rows.
	Accounts []string
	// Since and Until bound the runs' evaluation time (zero: unbounded).
	Since, Until time.Time
}

// Figure is a number a run may not know.
type Figure struct {
	// Value is the figure; nil when unknown or when there is nothing to measure.
	Value *float64 `json:"value"`
	// Unknown: the runs cannot tell it (a gap, an account not audited, an event
	// period no CloudTrail window covers). AtLeast is then what is known, when
	// anything is.
	Unknown bool     `json:"unknown"`
	AtLeast *float64 `json:"at_least,omitempty"`
}

func known(v float64) Figure { return Figure{Value: &v} }

func unknown(atLeast float64) Figure {
	f := Figure{Unknown: true}
	if atLeast > 0 {
		f.AtLeast = &atLeast
	}
	return f
}

// Text is the figure for a person: "245", "unknown", "unknown (at least 245)",
// "-" when there is nothing to measure (no active key has a median age).
func (f Figure) Text(unit string) string {
	switch {
	case f.Unknown && f.AtLeast != nil:
		return "unknown (at least " + num(*f.AtLeast) + unit + ")"
	case f.Unknown:
		return "unknown"
	case f.Value == nil:
		return "-"
	}
	return num(*f.Value) + unit
}

func num(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// Row is one period of one scope.
type Row struct {
	// Period is YYYY-MM (ByMonth) or the run id (ByRun).
	Period string `json:"period"`
	// RunID is the run the figures come from; At its evaluation time.
	RunID string    `json:"run_id"`
	At    time.Time `json:"at"`
	// Scope is Organization or an account id.
	Scope       string `json:"scope"`
	AccountName string `json:"account_name,omitempty"`
	// Accounts (Organization rows): audited (in part or whole) of the run's ACTIVE
	// accounts; AccountListIncomplete when the run could not list them all.
	AccountsAudited       int  `json:"accounts_audited"`
	AccountsTotal         int  `json:"accounts_total"`
	AccountListIncomplete bool `json:"account_list_incomplete,omitempty"`
	// Keys are every access key of IAM users (any status), as the seed report lists
	// them; KeysOver90Days and KeysOver1Year the active ones by age.
	Keys           Figure `json:"total_keys"`
	KeysOver90Days Figure `json:"keys_over_90_days"`
	KeysOver1Year  Figure `json:"keys_over_1_year"`
	// MFACoverage is the percentage of console users with MFA.
	MFACoverage   Figure `json:"mfa_coverage_percent"`
	InactiveUsers Figure `json:"inactive_users"`
	// NeverUsedKeys are active keys never used.
	NeverUsedKeys Figure `json:"never_used_keys"`
	// MedianKeyAgeDays is the median age of the active keys.
	MedianKeyAgeDays Figure `json:"median_key_age_days"`
	// Findings are the open findings found, by severity (suppressed apart);
	// FindingsComplete is false when gaps may hide some.
	Findings         score.Counts `json:"findings"`
	FindingsComplete bool         `json:"findings_complete"`
	Risk             store.Risk   `json:"risk"`
	// Events counts CloudTrail events of EventNames between EventsFrom and EventsTo
	// (a month; for ByRun, since the previous row's run), each event once.
	Events     map[string]Figure `json:"events"`
	EventsFrom time.Time         `json:"events_from"`
	EventsTo   time.Time         `json:"events_to"`
}

// FormulaChange says where a scope's risk formula changes: risks before and after
// are not comparable.
type FormulaChange struct {
	Scope  string `json:"scope"`
	Period string `json:"period"`
	From   string `json:"from"`
	To     string `json:"to"`
}

// Trend is the table.
type Trend struct {
	By             By              `json:"by"`
	EventNames     []string        `json:"event_names"`
	Rows           []Row           `json:"rows"`
	FormulaChanges []FormulaChange `json:"formula_changes"`
}

// Source is what a trend reads: a *store.Store.
type Source interface {
	Metrics(ctx context.Context, q store.MetricsQuery) ([]store.RunMetrics, error)
	EventWindows(ctx context.Context, f store.RunFilter) ([]store.EventWindow, error)
	EventCounts(ctx context.Context, q store.EventQuery) ([]store.EventCount, error)
}

// Load reads a trend from a store: the runs' figures (store.Metrics), their
// CloudTrail windows and the event counts of each row's period.
func Load(ctx context.Context, src Source, q Query) (*Trend, error) {
	if q.By == "" {
		q.By = ByMonth
	}
	if q.By != ByMonth && q.By != ByRun {
		return nil, fmt.Errorf("trend by %q: use month or run", q.By)
	}
	runs, err := src.Metrics(ctx, store.MetricsQuery{Accounts: q.Accounts, Since: q.Since, Until: q.Until})
	if err != nil {
		return nil, err
	}
	// Windows of every run, also those before Since: they may cover the first period.
	windows, err := src.EventWindows(ctx, store.RunFilter{})
	if err != nil {
		return nil, err
	}
	t := Build(runs, windows, q)
	// One query per row: the periods of ByRun rows do not fall on months.
	for i := range t.Rows {
		r := &t.Rows[i]
		accts := rowAccounts(runs, *r)
		if len(accts) == 0 {
			continue
		}
		counts, err := src.EventCounts(ctx, store.EventQuery{Names: EventNames, Accounts: accts, Since: r.EventsFrom, Until: r.EventsTo})
		if err != nil {
			return nil, err
		}
		total := map[string]float64{}
		for _, c := range counts {
			total[c.Name] += float64(c.Count)
		}
		for _, n := range EventNames {
			if f := r.Events[n]; f.Unknown {
				r.Events[n] = unknown(total[n])
			} else {
				r.Events[n] = known(total[n])
			}
		}
	}
	return t, nil
}

// rowAccounts are the accounts a row's events are counted in: the account, or the
// audited accounts of the Organization row's run.
func rowAccounts(runs []store.RunMetrics, r Row) []string {
	if r.Scope != Organization {
		return []string{r.Scope}
	}
	for _, m := range runs {
		if m.Run.RunID != r.RunID {
			continue
		}
		var out []string
		for _, a := range m.Accounts {
			if a.Audited {
				out = append(out, a.AccountID)
			}
		}
		return out
	}
	return nil
}

// Build makes the rows from the runs' figures (oldest first) and windows; each
// row's Events say which counts are unknown (their values are filled by Load).
func Build(runs []store.RunMetrics, windows []store.EventWindow, q Query) *Trend {
	if q.By == "" {
		q.By = ByMonth
	}
	t := &Trend{By: q.By, EventNames: EventNames, Rows: []Row{}, FormulaChanges: []FormulaChange{}}
	incomplete := map[string]bool{}
	var latest time.Time
	for _, w := range windows {
		incomplete[w.RunID] = w.AccountListIncomplete
		if w.End.After(latest) {
			latest = w.End
		}
	}
	byRun := map[string]store.EventWindow{}
	for _, w := range windows {
		byRun[w.RunID] = w
	}
	scopes := []string{Organization}
	if len(q.Accounts) > 0 {
		scopes = q.Accounts
	}
	for _, scope := range scopes {
		type pick struct {
			m   store.RunMetrics
			s   score.Score
			med *float64 // the scope's median active key age
			r   store.RunSummary
		}
		var picks []pick
		for _, m := range runs {
			s, ok := m.Organization.Score, true
			med := m.Organization.MedianActiveKeyAgeDays
			if scope != Organization {
				ok = false
				for _, a := range m.Accounts {
					if a.AccountID == scope {
						s, med, ok = a.Score, a.MedianActiveKeyAgeDays, true
					}
				}
			}
			if !ok {
				continue
			}
			p := pick{m: m, s: s, med: med, r: m.Run}
			if q.By == ByMonth && len(picks) > 0 && month(picks[len(picks)-1].r) == month(p.r) {
				picks[len(picks)-1] = p // the month's last run
				continue
			}
			picks = append(picks, p)
		}
		var prev *Row // the scope's previous row
		for _, p := range picks {
			r := row(p.r, p.s, p.med, scope, q.By)
			r.AccountListIncomplete = scope == Organization && incomplete[p.r.RunID]
			if scope == Organization {
				r.AccountsTotal = len(p.m.Accounts)
				for _, a := range p.m.Accounts {
					if a.Audited {
						r.AccountsAudited++
					}
				}
			}
			// The events' period.
			switch q.By {
			case ByMonth:
				start, _ := time.Parse("2006-01", r.Period)
				r.EventsFrom, r.EventsTo = start, start.AddDate(0, 1, 0).Add(-time.Microsecond)
				if !latest.IsZero() && latest.Before(r.EventsTo) {
					r.EventsTo = latest
				}
			case ByRun:
				w := byRun[p.r.RunID]
				r.EventsTo = w.End
				if prev != nil {
					r.EventsFrom = prev.EventsTo.Add(time.Microsecond)
				} else {
					r.EventsFrom = w.Start
				}
			}
			accts := []string{scope}
			if scope == Organization {
				accts = nil
				for _, a := range p.m.Accounts {
					accts = append(accts, a.AccountID)
				}
			}
			for _, n := range EventNames {
				ok := !r.EventsFrom.IsZero() && !r.EventsTo.IsZero() && !r.EventsTo.Before(r.EventsFrom)
				for _, a := range accts {
					ok = ok && covered(windows, a, n, r.EventsFrom, r.EventsTo)
				}
				if ok {
					r.Events[n] = known(0)
				} else {
					r.Events[n] = unknown(0)
				}
			}
			if prev != nil && prev.Risk.Formula != "" && r.Risk.Formula != "" && prev.Risk.Formula != r.Risk.Formula {
				t.FormulaChanges = append(t.FormulaChanges, FormulaChange{Scope: scope, Period: r.Period, From: prev.Risk.Formula, To: r.Risk.Formula})
			}
			t.Rows = append(t.Rows, r)
			prev = &r
		}
	}
	return t
}

func month(r store.RunSummary) string {
	if len(r.RunID) >= 6 {
		return r.RunID[:4] + "-" + r.RunID[4:6]
	}
	return r.EvaluatedAt.UTC().Format("2006-01")
}

// notAudited is how a score marks an account that could not be audited.
const notAudited = inventory.Field(inventory.StatusNotAudited)

// unknownIn: the score does not know a figure that rests on fields.
func unknownIn(s score.Score, fields ...inventory.Field) bool {
	if !s.Audited {
		return true
	}
	for _, u := range s.UnknownSections {
		if u == notAudited {
			return true
		}
		for _, f := range fields {
			if u == f {
				return true
			}
		}
	}
	return false
}

func figure(v int, isUnknown bool) Figure {
	if isUnknown {
		return unknown(float64(v))
	}
	return known(float64(v))
}

// The fields each figure rests on (as the score reads them, internal/score).
var (
	keyFields      = []inventory.Field{inventory.FieldUsers, inventory.FieldAccessKeys}
	lastUseFields  = []inventory.Field{inventory.FieldUsers, inventory.FieldAccessKeys, inventory.FieldKeyLastUse}
	inactiveFields = []inventory.Field{inventory.FieldUsers, inventory.FieldAccessKeys, inventory.FieldKeyLastUse,
		inventory.FieldPassword, inventory.FieldPasswordLastUsed, inventory.FieldKeylessUsers, inventory.FieldUserCreated}
)

func row(r store.RunSummary, s score.Score, median *float64, scope string, by By) Row {
	out := Row{RunID: r.RunID, At: r.EvaluatedAt, Scope: scope, Events: map[string]Figure{}}
	if scope != Organization {
		out.AccountName = s.AccountName
	}
	out.Period = r.RunID
	if by == ByMonth {
		out.Period = month(r)
	}
	keysUnknown := unknownIn(s, keyFields...)
	out.Keys = figure(s.LongTermKeys, keysUnknown)
	out.KeysOver90Days = figure(s.KeyAges.Days91To180+s.KeyAges.Days181To365+s.KeyAges.Over365, keysUnknown)
	out.KeysOver1Year = figure(s.KeyAges.Over365, keysUnknown)
	out.NeverUsedKeys = figure(s.NeverUsedKeys, unknownIn(s, lastUseFields...))
	out.InactiveUsers = figure(s.InactiveUsers, unknownIn(s, inactiveFields...))
	switch {
	case s.MFACoverage != nil:
		out.MFACoverage = known(round1(*s.MFACoverage))
	default:
		out.MFACoverage = unknown(0)
	}
	switch {
	case keysUnknown:
		out.MedianKeyAgeDays = unknown(0)
	case median != nil:
		out.MedianKeyAgeDays = known(*median)
	}
	out.Findings = s.Findings
	out.FindingsComplete = s.Known
	out.Risk = store.Risk{Formula: s.RiskFormula, Score: s.Risk, AtLeast: s.RiskAtLeast, Label: s.RiskLabel}
	return out
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

// covered tells whether the windows that are complete for account's name events
// span [from, to].
func covered(windows []store.EventWindow, account, name string, from, to time.Time) bool {
	type span struct{ a, b time.Time }
	var spans []span
	for _, w := range windows {
		if w.Covers(account, name) {
			spans = append(spans, span{w.Start, w.End})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].a.Before(spans[j].a) })
	at := from // covered up to here
	for _, s := range spans {
		if s.a.After(at) {
			break // a hole before this window
		}
		if s.b.After(at) {
			at = s.b
		}
	}
	return !at.Before(to)
}

// Increases lists, for the Organization or each account, the last two periods
// whose CreateAccessKey counts are both known, when the count went up: seed 004,
// "if CreateAccessKey events are increasing, investigate why new long-term
// credentials are being created".
func (t *Trend) Increases(name string) []Increase {
	last := map[string][]Row{}
	var scopes []string
	for _, r := range t.Rows {
		f := r.Events[name]
		if f.Unknown || f.Value == nil {
			continue
		}
		if last[r.Scope] == nil {
			scopes = append(scopes, r.Scope)
		}
		last[r.Scope] = append(last[r.Scope], r)
	}
	var out []Increase
	for _, s := range scopes {
		rows := last[s]
		if len(rows) < 2 {
			continue
		}
		a, b := rows[len(rows)-2], rows[len(rows)-1]
		if *b.Events[name].Value > *a.Events[name].Value {
			out = append(out, Increase{Scope: s, Name: name, FromPeriod: a.Period, ToPeriod: b.Period,
				From: int(*a.Events[name].Value), To: int(*b.Events[name].Value)})
		}
	}
	return out
}

// Increase is an event count that went up between two periods.
type Increase struct {
	Scope, Name          string
	FromPeriod, ToPeriod string
	From, To             int
}
