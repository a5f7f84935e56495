package store

import (
	"context"
	"errors"
	"time"
)

// PruneOptions say which runs to keep; a run kept by either option stays.
type PruneOptions struct {
	// Keep keeps the newest Keep runs (0: this option keeps nothing by itself).
	Keep int
	// Before keeps every run evaluated at or after it (zero: this option keeps nothing
	// by itself). --older-than D is Before = now − D.
	Before time.Time
	// DryRun says what would be deleted and deletes nothing.
	DryRun bool
}

// PruneResult is what a prune deleted (or would delete).
type PruneResult struct {
	Deleted []string `json:"deleted"` // run ids, oldest first
	Kept    int      `json:"kept"`
	// Rows deleted per table (not counted for a dry run).
	Rows map[string]int64 `json:"rows,omitempty"`
}

// pruneTables are the tables holding a run's rows, deleted child first.
var pruneTables = []string{"run_account_documents", "run_documents", "scores", "findings", "finding_checks", "gaps", "events", "mfa_devices", "access_keys", "users", "root_access_keys", "accounts"}

// Prune deletes, in one transaction, every run that neither option keeps: with
// Keep and Before both set, a run goes when it is outside the newest Keep and
// older than Before. A run goes whole: its row in runs and its accounts, users,
// access keys, MFA devices, root keys, events, gaps, findings, scores and document.
// finding_lifecycle keeps the first_seen of findings still open; the lifecycle of
// findings that a deleted run resolved, and that no kept run has seen since, goes
// too (a reappearance is then new rather than reopened).
func (s *Store) Prune(ctx context.Context, opts PruneOptions) (PruneResult, error) {
	res := PruneResult{Deleted: []string{}}
	if opts.Keep <= 0 && opts.Before.IsZero() {
		return res, errors.New("say which runs to keep: --keep N or --older-than D")
	}
	tx, err := s.db.BeginTx(ctx, nil) // SQLite: BEGIN IMMEDIATE, PostgreSQL: read committed with row locks below
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	d := s.d
	rows, err := tx.QueryContext(ctx, `SELECT id, run_id, evaluated_at FROM runs ORDER BY run_order DESC`)
	if err != nil {
		return res, err
	}
	var ids []int64
	var names []string
	n := 0
	for rows.Next() {
		var id int64
		var runID string
		var at tsScan
		if err := rows.Scan(&id, &runID, &at); err != nil {
			rows.Close()
			return res, err
		}
		n++
		keep := (opts.Keep > 0 && n <= opts.Keep) || (!opts.Before.IsZero() && !at.T.Before(opts.Before))
		if keep {
			res.Kept++
			continue
		}
		ids, names = append(ids, id), append([]string{runID}, names...)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, err
	}
	res.Deleted = append(res.Deleted, names...)
	if opts.DryRun || len(ids) == 0 {
		return res, nil
	}
	res.Rows = map[string]int64{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		in := "(" + placeholders(len(chunk)) + ")"
		for _, t := range append(pruneTables, "runs") {
			col := "run"
			if t == "runs" {
				col = "id"
			}
			r, err := tx.ExecContext(ctx, d.q(`DELETE FROM `+t+` WHERE `+col+` IN `+in), args...)
			if err != nil {
				return res, err
			}
			c, _ := r.RowsAffected()
			res.Rows[t] += c
		}
	}
	r, err := tx.ExecContext(ctx, `DELETE FROM finding_lifecycle WHERE status = 'resolved'
		AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = finding_lifecycle.updated_run_id)`)
	if err != nil {
		return res, err
	}
	res.Rows["finding_lifecycle"], _ = r.RowsAffected()
	return res, tx.Commit()
}

func placeholders(n int) string {
	b := make([]byte, 0, 3*n)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '?')
	}
	return string(b)
}
