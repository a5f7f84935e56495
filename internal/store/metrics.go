package store

import (
	"context"
	"database/sql"
	"sort"
	"time"

	"github.com/iamaudit/iamaudit/internal/score"
)

// MetricsQuery selects the runs and accounts of a trend.
type MetricsQuery struct {
	// Accounts keeps only these accounts' rows (nil: every account). The
	// Organization's row is always the whole run's.
	Accounts []string
	// Since and Until bound the runs' evaluation time (inclusive; zero: unbounded).
	Since, Until time.Time
	// Interrupted includes interrupted runs (by default only complete `run`s and
	// runs with gaps, never interrupted ones or `analyze` outputs).
	Interrupted bool
	// NoKeyAges leaves MedianActiveKeyAgeDays nil: the scores alone, without reading
	// every active key of every run (most of the time Metrics takes on a large store).
	NoKeyAges bool
}

// RunMetrics are one run's figures: the Organization's and each account's.
type RunMetrics struct {
	Run          RunSummary `json:"run"`
	Organization Metrics    `json:"organization"`
	Accounts     []Metrics  `json:"accounts"`
}

// Metrics are the figures of a trend for one account or the Organization of one
// run: the stored score (score.Score, with its risk formula) and the median age of
// the active access keys, computed from the access_keys rows.
type Metrics struct {
	score.Score
	// MedianActiveKeyAgeDays is nil when there is no active key (or for an account
	// that was not audited).
	MedianActiveKeyAgeDays *float64 `json:"median_active_key_age_days"`
}

// Metrics reads the figures of every selected run, oldest first: three queries
// whatever the number of runs (scores, active key ages, runs).
func (s *Store) Metrics(ctx context.Context, q MetricsQuery) ([]RunMetrics, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	runs, err := s.runs(ctx, tx, RunFilter{Since: q.Since, Until: q.Until}, "")
	if err != nil {
		return nil, err
	}
	out := []RunMetrics{}
	index := map[string]int{}
	for _, r := range runs {
		if r.Command != "run" || (r.Interrupted && !q.Interrupted) {
			continue
		}
		index[r.RunID] = len(out)
		out = append(out, RunMetrics{Run: r, Accounts: []Metrics{}})
	}
	if len(out) == 0 {
		return out, nil
	}
	d := s.d
	where, args := "1 = 1", []any{}
	if !q.Since.IsZero() {
		where, args = where+" AND r.evaluated_at >= ?", append(args, d.ts(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = where+" AND r.evaluated_at <= ?", append(args, d.ts(q.Until))
	}
	acctWhere, acctArgs := where, args
	wanted := map[string]bool{}
	if len(q.Accounts) > 0 {
		in, inArgs := inList(q.Accounts)
		acctWhere, acctArgs = where+" AND (sc.scope = 'organization' OR sc.account_id IN "+in+")", append(append([]any{}, args...), inArgs...)
		for _, a := range q.Accounts {
			wanted[a] = true
		}
	}
	rows, err := tx.QueryContext(ctx, d.q(`SELECT r.run_id, `+scoreColumns+` FROM scores sc JOIN runs r ON r.id = sc.run
		WHERE `+acctWhere+` ORDER BY r.run_order, sc.position`), acctArgs...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var runID string
		scope, c, err := scanScore(rows, &runID)
		if err != nil {
			rows.Close()
			return nil, err
		}
		i, ok := index[runID]
		if !ok {
			continue
		}
		if scope == ScopeOrganization {
			out[i].Organization.Score = c
		} else {
			out[i].Accounts = append(out[i].Accounts, Metrics{Score: c})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if q.NoKeyAges {
		return out, nil
	}
	// Median key age: every active key of the selected runs, grouped in Go (SQLite
	// has no median); ages in whole days at the run's evaluation time.
	krows, err := tx.QueryContext(ctx, d.q(`SELECT r.run_id, r.evaluated_at, k.account_id, k.created_at
		FROM access_keys k JOIN runs r ON r.id = k.run
		WHERE `+where+` AND k.status = 'Active' AND k.created_at IS NOT NULL ORDER BY r.run_order, k.account_id`), args...)
	if err != nil {
		return nil, err
	}
	defer krows.Close()
	type ages map[string][]float64 // account id ("" = Organization) → ages
	byRun := map[string]ages{}
	for krows.Next() {
		var runID, acct string
		var at, created tsScan
		if err := krows.Scan(&runID, &at, &acct, &created); err != nil {
			return nil, err
		}
		if _, ok := index[runID]; !ok {
			continue
		}
		a := byRun[runID]
		if a == nil {
			a = ages{}
			byRun[runID] = a
		}
		days := float64(int(at.T.Sub(created.T).Hours() / 24))
		a[""] = append(a[""], days)
		if len(wanted) == 0 || wanted[acct] {
			a[acct] = append(a[acct], days)
		}
	}
	if err := krows.Err(); err != nil {
		return nil, err
	}
	for runID, a := range byRun {
		m := &out[index[runID]]
		m.Organization.MedianActiveKeyAgeDays = median(a[""])
		for j := range m.Accounts {
			if m.Accounts[j].Audited {
				m.Accounts[j].MedianActiveKeyAgeDays = median(a[m.Accounts[j].AccountID])
			}
		}
	}
	return out, nil
}

func median(v []float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	sort.Float64s(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return &m
}

// EventQuery selects CloudTrail events for counts per month.
type EventQuery struct {
	// Names are the event names counted (nil: all).
	Names []string
	// Accounts keeps only these accounts (nil: all).
	Accounts []string
	// Since and Until bound the events' time (inclusive; zero: unbounded).
	Since, Until time.Time
	// Failed counts calls that failed (error_code set) too; by default only
	// successful calls are counted.
	Failed bool
}

// EventCount is how many distinct events of one name one account had in a month.
type EventCount struct {
	Month     string `json:"month"` // YYYY-MM, UTC
	AccountID string `json:"account_id"`
	Name      string `json:"name"`
	Count     int    `json:"count"`
}

// EventCounts counts CloudTrail events per month (of the event's time), account and
// name across every stored run. Runs' windows overlap (90 days each), so an event
// is counted once per (account, event id), whichever runs saw it.
func (s *Store) EventCounts(ctx context.Context, q EventQuery) ([]EventCount, error) {
	d := s.d
	where, args := "1 = 1", []any{}
	if len(q.Names) > 0 {
		in, inArgs := inList(q.Names)
		where, args = where+" AND e.event_name IN "+in, append(args, inArgs...)
	}
	if len(q.Accounts) > 0 {
		in, inArgs := inList(q.Accounts)
		where, args = where+" AND e.account_id IN "+in, append(args, inArgs...)
	}
	if !q.Since.IsZero() {
		where, args = where+" AND e.event_time >= ?", append(args, d.ts(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = where+" AND e.event_time <= ?", append(args, d.ts(q.Until))
	}
	if !q.Failed {
		where += " AND e.error_code IS NULL"
	}
	rows, err := s.db.QueryContext(ctx, d.q(`SELECT month, account_id, event_name, COUNT(*) FROM (
		SELECT DISTINCT e.account_id, e.event_id, e.event_name, `+d.month("e.event_time")+` AS month
		FROM events e WHERE `+where+`) t
		GROUP BY month, account_id, event_name ORDER BY month, account_id, event_name`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []EventCount{}
	for rows.Next() {
		var c EventCount
		if err := rows.Scan(&c.Month, &c.AccountID, &c.Name, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
