package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/score"
)

// AccountCounts counts a run's accounts by status.
type AccountCounts struct {
	Total      int `json:"total"`
	Audited    int `json:"audited"`
	Partial    int `json:"partial"`
	NotAudited int `json:"not_audited"`
	Skipped    int `json:"skipped"`
	NotReached int `json:"not_reached"`
}

// Risk is a risk figure with the formula it was computed with (score.Score).
type Risk struct {
	Formula string `json:"formula"`
	// Score is nil when unknown (some findings may be missing); AtLeast is then the
	// score of the findings that were made.
	Score   *int   `json:"score"`
	AtLeast int    `json:"at_least"`
	Label   string `json:"label"`
}

// RunSummary is one stored run as `iamaudit history` lists it.
type RunSummary struct {
	RunID          string        `json:"run_id"`
	Command        string        `json:"command"`
	Source         string        `json:"source"`
	ToolVersion    string        `json:"tool_version"`
	StartedAt      time.Time     `json:"started_at"`
	FinishedAt     time.Time     `json:"finished_at"`
	EvaluatedAt    time.Time     `json:"evaluated_at"`
	OrganizationID string        `json:"organization_id,omitempty"`
	Complete       bool          `json:"complete"`
	Interrupted    bool          `json:"interrupted"`
	BaselineRunID  string        `json:"baseline_run_id,omitempty"`
	Accounts       AccountCounts `json:"accounts"`
	// Findings are the Organization's open findings by severity (suppressed apart).
	Findings score.Counts `json:"findings"`
	Risk     Risk         `json:"risk"`
}

// RunFilter selects runs (zero: all).
type RunFilter struct {
	// Since and Until bound the runs' evaluation time (inclusive; zero: unbounded).
	Since, Until time.Time
	// Baselines keeps only runs that can be a baseline: `run`, not interrupted.
	Baselines bool
}

// Runs lists the stored runs, oldest first (by run id as time then _N).
func (s *Store) Runs(ctx context.Context, f RunFilter) ([]RunSummary, error) {
	return s.runs(ctx, s.db, f, "")
}

// RunSummaryOf is one run's summary (ErrNotFound when the store does not hold it).
func (s *Store) RunSummaryOf(ctx context.Context, runID string) (RunSummary, error) {
	list, err := s.runs(ctx, s.db, RunFilter{}, runID)
	if err != nil {
		return RunSummary{}, err
	}
	if len(list) == 0 {
		return RunSummary{}, fmt.Errorf("run %s: %w", runID, ErrNotFound)
	}
	return list[0], nil
}

// Latest is the newest run's id (ErrNotFound in an empty store).
func (s *Store) Latest(ctx context.Context) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT run_id FROM runs ORDER BY run_order DESC LIMIT 1`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("the %s holds no run: %w", s.Name(), ErrNotFound)
	}
	return id, err
}

func (s *Store) runs(ctx context.Context, q queryer, f RunFilter, runID string) ([]RunSummary, error) {
	d := s.d
	where, args := "1 = 1", []any{}
	if runID != "" {
		where, args = where+" AND r.run_id = ?", append(args, runID)
	}
	if !f.Since.IsZero() {
		where, args = where+" AND r.evaluated_at >= ?", append(args, d.ts(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = where+" AND r.evaluated_at <= ?", append(args, d.ts(f.Until))
	}
	if f.Baselines {
		where += " AND r.command = 'run' AND NOT r.interrupted"
	}
	rows, err := q.QueryContext(ctx, d.q(`SELECT r.run_id, r.command, r.source, r.tool_version, r.started_at, r.finished_at,
		r.evaluated_at, r.organization_id, r.complete, r.interrupted, r.baseline_run_id,
		COALESCE(ac.total, 0), COALESCE(ac.audited, 0), COALESCE(ac.partial, 0), COALESCE(ac.not_audited, 0),
		COALESCE(ac.skipped, 0), COALESCE(ac.not_reached, 0),
		COALESCE(sc.findings_critical, 0), COALESCE(sc.findings_high, 0), COALESCE(sc.findings_medium, 0),
		COALESCE(sc.findings_low, 0), COALESCE(sc.findings_suppressed, 0),
		COALESCE(sc.risk_formula, ''), sc.risk_score, COALESCE(sc.risk_at_least, 0), COALESCE(sc.risk_label, 'unknown')
		FROM runs r
		LEFT JOIN (SELECT run, COUNT(*) AS total,
		       SUM(CASE WHEN status = 'audited' THEN 1 ELSE 0 END) AS audited,
		       SUM(CASE WHEN status = 'partial' THEN 1 ELSE 0 END) AS partial,
		       SUM(CASE WHEN status = 'not_audited' THEN 1 ELSE 0 END) AS not_audited,
		       SUM(CASE WHEN status = 'skipped' THEN 1 ELSE 0 END) AS skipped,
		       SUM(CASE WHEN status = 'not_reached' THEN 1 ELSE 0 END) AS not_reached
		       FROM accounts GROUP BY run) ac ON ac.run = r.id
		LEFT JOIN scores sc ON sc.run = r.id AND sc.scope = 'organization'
		WHERE `+where+` ORDER BY r.run_order`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []RunSummary{}
	for rows.Next() {
		var r RunSummary
		var started, finished, evaluated tsScan
		var org, base sql.NullString
		var risk sql.NullInt64
		if err := rows.Scan(&r.RunID, &r.Command, &r.Source, &r.ToolVersion, &started, &finished, &evaluated, &org,
			&r.Complete, &r.Interrupted, &base,
			&r.Accounts.Total, &r.Accounts.Audited, &r.Accounts.Partial, &r.Accounts.NotAudited, &r.Accounts.Skipped, &r.Accounts.NotReached,
			&r.Findings.Critical, &r.Findings.High, &r.Findings.Medium, &r.Findings.Low, &r.Findings.Suppressed,
			&r.Risk.Formula, &risk, &r.Risk.AtLeast, &r.Risk.Label); err != nil {
			return nil, err
		}
		r.StartedAt, r.FinishedAt, r.EvaluatedAt = started.val(), finished.val(), evaluated.val()
		r.OrganizationID, r.BaselineRunID = org.String, base.String
		r.Risk.Score = intPtr(risk)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Inventory is the run's whole inventory as collected (run_documents, and from
// schema version 5 run_account_documents): lossless, including what the relational
// tables leave out (roles, groups, customer managed policies, server certificates,
// policy documents).
func (s *Store) Inventory(ctx context.Context, runID string) (*inventory.Inventory, error) {
	return s.inventory(ctx, s.db, runID)
}

// inventory reads the run's document: the whole inventory in one (DocumentFormat,
// runs stored before schema version 5), or its head and one document per account
// (DocumentHeadFormat), put together in the accounts' order.
func (s *Store) inventory(ctx context.Context, q queryer, runID string) (*inventory.Inventory, error) {
	var id int64
	var format string
	var body []byte
	err := q.QueryRowContext(ctx, s.d.q(`SELECT r.id, d.format, d.body FROM run_documents d JOIN runs r ON r.id = d.run WHERE r.run_id = ?`), runID).Scan(&id, &format, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("run %s: %w", runID, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if format != DocumentFormat && format != DocumentHeadFormat {
		return nil, fmt.Errorf("run %s: document format %q is neither %q nor %q", runID, format, DocumentFormat, DocumentHeadFormat)
	}
	var inv inventory.Inventory
	if err := decompress(body, &inv); err != nil {
		return nil, fmt.Errorf("run %s: document: %w", runID, err)
	}
	if format == DocumentFormat {
		return &inv, nil
	}
	inv.Accounts = []inventory.Account{}
	rows, err := q.QueryContext(ctx, s.d.q(`SELECT ad.account_id, ad.format, ad.body FROM run_account_documents ad
		JOIN accounts a ON a.run = ad.run AND a.account_id = ad.account_id
		WHERE ad.run = ? ORDER BY a.position`), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var acct, aformat string
		if err := rows.Scan(&acct, &aformat, &body); err != nil {
			return nil, err
		}
		if aformat != AccountDocumentFormat {
			return nil, fmt.Errorf("run %s: account %s: document format %q is not %q", runID, acct, aformat, AccountDocumentFormat)
		}
		var a inventory.Account
		if err := decompress(body, &a); err != nil {
			return nil, fmt.Errorf("run %s: account %s: document: %w", runID, acct, err)
		}
		inv.Accounts = append(inv.Accounts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return &inv, nil
}

// decompress reads a document (gzip-compressed JSON) into v.
func decompress(body []byte, v any) error {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return err
	}
	return json.NewDecoder(zr).Decode(v)
}

func intPtr(v sql.NullInt64) *int {
	if !v.Valid {
		return nil
	}
	i := int(v.Int64)
	return &i
}

func floatPtr(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	f := v.Float64
	return &f
}

// unjs reads a JSON column into v; NULL leaves v alone.
func unjs(src sql.NullString, v any) error {
	if !src.Valid || src.String == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(src.String), v); err != nil {
		return fmt.Errorf("cannot read a stored JSON value: %w", err)
	}
	return nil
}
