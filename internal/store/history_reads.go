package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
)

// FindingRun is one run's row of a finding (FindingHistory): its state there and
// the lifecycle that run gave it.
type FindingRun struct {
	RunID       string          `json:"run_id"`
	EvaluatedAt time.Time       `json:"evaluated_at"`
	State       string          `json:"state"`
	Severity    checks.Severity `json:"severity"`
	Message     string          `json:"message"`
	Suppressed  bool            `json:"suppressed"`
	FirstSeen   *time.Time      `json:"first_seen,omitempty"`
	LastSeen    *time.Time      `json:"last_seen,omitempty"`
	ResolvedAt  *time.Time      `json:"resolved_at,omitempty"`
	Reopened    bool            `json:"reopened"`
}

// Lifecycle is a finding's finding_lifecycle row: its newest state across every
// run (docs/store-schema.md, "Finding lifecycle").
type Lifecycle struct {
	FindingID    string          `json:"finding_id"`
	AccountID    string          `json:"account_id"`
	CheckID      string          `json:"check_id"`
	Resource     string          `json:"resource"`
	Severity     checks.Severity `json:"severity"`
	Status       string          `json:"status"` // open, suppressed, resolved
	FirstSeen    time.Time       `json:"first_seen"`
	LastSeen     time.Time       `json:"last_seen"`
	ResolvedAt   *time.Time      `json:"resolved_at,omitempty"`
	Reopened     bool            `json:"reopened"`
	UpdatedRunID string          `json:"updated_run_id"`
}

// FindingHistory is one finding across the stored runs, oldest first: every run
// that had it (resolved rows included) and its finding_lifecycle row
// (ErrNotFound when the store never saw the finding).
func (s *Store) FindingHistory(ctx context.Context, findingID string) (Lifecycle, []FindingRun, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Lifecycle{}, nil, err
	}
	defer tx.Rollback()
	d := s.d
	var l Lifecycle
	var sev string
	var first, last, resolved tsScan
	err = tx.QueryRowContext(ctx, d.q(`SELECT finding_id, account_id, check_id, resource, severity, status, first_seen,
		last_seen, resolved_at, reopened, updated_run_id FROM finding_lifecycle WHERE finding_id = ?`), findingID).
		Scan(&l.FindingID, &l.AccountID, &l.CheckID, &l.Resource, &sev, &l.Status, &first, &last, &resolved, &l.Reopened,
			&l.UpdatedRunID)
	if errors.Is(err, sql.ErrNoRows) {
		return Lifecycle{}, nil, fmt.Errorf("finding %s: %w", findingID, ErrNotFound)
	}
	if err != nil {
		return Lifecycle{}, nil, err
	}
	if l.Severity, err = checks.ParseSeverity(sev); err != nil {
		return Lifecycle{}, nil, err
	}
	l.FirstSeen, l.LastSeen, l.ResolvedAt = first.val(), last.val(), resolved.ptr()
	rows, err := tx.QueryContext(ctx, d.q(`SELECT r.run_id, r.evaluated_at, f.state, f.severity, f.message, f.suppressed,
		f.first_seen, f.last_seen, f.resolved_at, f.reopened
		FROM findings f JOIN runs r ON r.id = f.run WHERE f.finding_id = ? ORDER BY r.run_order, f.position`), findingID)
	if err != nil {
		return Lifecycle{}, nil, err
	}
	defer rows.Close()
	out := []FindingRun{}
	for rows.Next() {
		var f FindingRun
		var at, first, last, resolved tsScan
		if err := rows.Scan(&f.RunID, &at, &f.State, &sev, &f.Message, &f.Suppressed, &first, &last, &resolved, &f.Reopened); err != nil {
			return Lifecycle{}, nil, err
		}
		if f.Severity, err = checks.ParseSeverity(sev); err != nil {
			return Lifecycle{}, nil, err
		}
		f.EvaluatedAt, f.FirstSeen, f.LastSeen, f.ResolvedAt = at.val(), first.ptr(), last.ptr(), resolved.ptr()
		out = append(out, f)
	}
	return l, out, rows.Err()
}
