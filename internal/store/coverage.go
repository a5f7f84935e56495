package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// EventWindow is what one run's CloudTrail lookups covered: when a count of
// events over a period is complete (iamaudit trend). A period is covered for an
// account and event name when windows of runs that looked that name up there,
// without a gap, span it.
type EventWindow struct {
	RunID string `json:"run_id"`
	// Start and End bound the LookupEvents window; a zero Start is unknown (an
	// imported seed report's window began at a date written in the script).
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Names are the event names looked up.
	Names []string `json:"names"`
	// Accounts are the accounts whose events the run looked up (audited or
	// partial), each with the event names a gap left unknown there ("" in the list:
	// every name).
	Accounts map[string][]string `json:"accounts"`
	// AccountListIncomplete: a gap of the run leaves the Organization's account list
	// unknown (some accounts may be missing from the run).
	AccountListIncomplete bool `json:"account_list_incomplete"`
}

// Covers tells whether the window is complete for one account's events of name.
func (w EventWindow) Covers(account, name string) bool {
	if w.Start.IsZero() || w.End.IsZero() {
		return false
	}
	failed, ok := w.Accounts[account]
	if !ok {
		return false
	}
	looked := false
	for _, n := range w.Names {
		looked = looked || n == name
	}
	if !looked {
		return false
	}
	for _, n := range failed {
		if n == "" || n == name {
			return false
		}
	}
	return true
}

// EventWindows lists the selected runs' CloudTrail windows, oldest first.
func (s *Store) EventWindows(ctx context.Context, f RunFilter) ([]EventWindow, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	d := s.d
	where, args := "1 = 1", []any{}
	if !f.Since.IsZero() {
		where, args = where+" AND r.evaluated_at >= ?", append(args, d.ts(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = where+" AND r.evaluated_at <= ?", append(args, d.ts(f.Until))
	}
	if f.Baselines {
		where += " AND r.command = 'run' AND NOT r.interrupted"
	}
	rows, err := tx.QueryContext(ctx, d.q(`SELECT r.id, r.run_id, r.event_window_start, r.event_window_end, r.event_names
		FROM runs r WHERE `+where+` ORDER BY r.run_order`), args...)
	if err != nil {
		return nil, err
	}
	out := []EventWindow{}
	index := map[int64]int{}
	for rows.Next() {
		var id int64
		var w EventWindow
		var start, end tsScan
		var names string
		if err := rows.Scan(&id, &w.RunID, &start, &end, &names); err != nil {
			rows.Close()
			return nil, err
		}
		w.Start, w.End, w.Accounts = start.val(), end.val(), map[string][]string{}
		if err := json.Unmarshal([]byte(names), &w.Names); err != nil {
			rows.Close()
			return nil, err
		}
		index[id] = len(out)
		out = append(out, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	arows, err := tx.QueryContext(ctx, d.q(`SELECT a.run, a.account_id FROM accounts a JOIN runs r ON r.id = a.run
		WHERE `+where+` AND a.status IN ('audited', 'partial')`), args...)
	if err != nil {
		return nil, err
	}
	for arows.Next() {
		var run int64
		var acct string
		if err := arows.Scan(&run, &acct); err != nil {
			arows.Close()
			return nil, err
		}
		if i, ok := index[run]; ok {
			out[i].Accounts[acct] = nil
		}
	}
	arows.Close()
	if err := arows.Err(); err != nil {
		return nil, err
	}
	// Gaps are read by section: the gaps table holds section, subject and operation,
	// from which inventory.LegacyUnknown gives the fields (an events gap leaves the
	// events of its subject's names unknown; all of them without one).
	grows, err := tx.QueryContext(ctx, d.q(`SELECT g.run, g.level, g.account_id, g.section, g.subject, g.operation
		FROM gaps g JOIN runs r ON r.id = g.run WHERE `+where+` AND (g.section = ? OR g.level = 'run')`),
		append(append([]any{}, args...), string(inventory.SectionEvents))...)
	if err != nil {
		return nil, err
	}
	defer grows.Close()
	for grows.Next() {
		var run int64
		var level, section string
		var acct, subject, op sql.NullString
		if err := grows.Scan(&run, &level, &acct, &section, &subject, &op); err != nil {
			return nil, err
		}
		i, ok := index[run]
		if !ok {
			continue
		}
		w := &out[i]
		unknown := inventory.LegacyUnknown(inventory.Section(section), subject.String, op.String)
		if level == "run" {
			for _, f := range unknown {
				if f.Covers(inventory.FieldAccounts) {
					w.AccountListIncomplete = true
				}
			}
		}
		if inventory.Section(section) != inventory.SectionEvents {
			continue
		}
		names := []string{""}
		if subject.String != "" {
			names = nil
			for _, n := range strings.Split(subject.String, ",") {
				if n = strings.TrimSpace(n); n != "" {
					names = append(names, n)
				}
			}
		}
		if level == "run" && !acct.Valid {
			for a := range w.Accounts {
				w.Accounts[a] = append(w.Accounts[a], names...)
			}
			continue
		}
		if _, ok := w.Accounts[acct.String]; ok {
			w.Accounts[acct.String] = append(w.Accounts[acct.String], names...)
		}
	}
	return out, grows.Err()
}
