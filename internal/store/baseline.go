package store

import (
	"context"
	"database/sql"
	"sort"
	"strings"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

// Baseline implements history.History. A store may hold runs of different scopes
// (--accounts subsets, several Organizations), so each account of inv is compared
// with the newest earlier complete `run` that looked at that account (status
// audited, partial or not_audited); runs of `analyze`, interrupted runs and later
// runs are never a baseline, as in history.Dir. Account ids are unique across AWS,
// so runs of another Organization never mix in. Resolution stays limited to
// accounts fully audited in both runs (outcome.Evaluate). Earlier holds each
// finding of these accounts that the store knows but that is not in those runs:
// resolved ones (a reappearance is reopened) and ones seen and never resolved.
// warn is not used: a store has no unreadable runs to pass over.
func (s *Store) Baseline(ctx context.Context, inv *inventory.Inventory, _ func(string)) (*outcome.Baseline, error) {
	accounts := make([]string, 0, len(inv.Accounts))
	for _, a := range inv.Accounts {
		accounts = append(accounts, a.ID)
	}
	if len(accounts) == 0 {
		return nil, nil
	}
	return s.baseline(ctx, inv.RunID, accounts)
}

// BaselineOfAll implements history.History: Baseline for every account the store
// holds (each with the newest earlier complete run that looked at it).
func (s *Store) BaselineOfAll(ctx context.Context, inv *inventory.Inventory, _ func(string)) (*outcome.Baseline, error) {
	return s.baseline(ctx, inv.RunID, nil)
}

// baseline is the baseline of run runID for accounts (nil: every account).
func (s *Store) baseline(ctx context.Context, runID string, accounts []string) (*outcome.Baseline, error) {
	order, err := RunOrder(runID)
	if err != nil {
		return nil, err
	}
	if order%1000 == 1 {
		// The run asks with its base id, before it claims one (audit.Run): a run
		// already recorded in the same second is an earlier one, and this run will
		// be recorded after it (…_2).
		order += 999
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	d := s.d
	// of is the filter on the accounts (none for every account) and its arguments.
	of, ofArgs := "", []any(nil)
	if accounts != nil {
		in, inArgs := inList(accounts)
		of, ofArgs = " AND account_id IN "+in, inArgs
	}
	args := append([]any{order}, ofArgs...)
	rows, err := tx.QueryContext(ctx, d.q(`SELECT account_id, run, run_id, run_order, evaluated_at, fully_audited FROM (
		SELECT a.account_id, a.run, r.run_id, r.run_order, r.evaluated_at, a.fully_audited,
		       ROW_NUMBER() OVER (PARTITION BY a.account_id ORDER BY r.run_order DESC) AS n
		FROM accounts a JOIN runs r ON r.id = a.run
		WHERE r.command = 'run' AND NOT r.interrupted AND r.run_order < ?
		  AND a.status IN ('audited', 'partial', 'not_audited')`+strings.Replace(of, "account_id", "a.account_id", 1)+`) t
		WHERE n = 1`), args...)
	if err != nil {
		return nil, err
	}
	type pick struct {
		run   int64
		runID string
		order int64
		at    tsScan
	}
	b := &outcome.Baseline{FullyAudited: map[string]bool{}, AccountRuns: map[string]string{}, Runs: map[string]outcome.BaselineRun{},
		Earlier: map[string]outcome.Lifecycle{}}
	byRun := map[int64][]string{}
	var newest pick
	for rows.Next() {
		var acct string
		var p pick
		var fully bool
		if err := rows.Scan(&acct, &p.run, &p.runID, &p.order, &p.at, &fully); err != nil {
			rows.Close()
			return nil, err
		}
		b.FullyAudited[acct], b.AccountRuns[acct] = fully, p.runID
		b.Runs[p.runID] = outcome.BaselineRun{Order: p.order, At: p.at.val()}
		byRun[p.run] = append(byRun[p.run], acct)
		if p.order > newest.order {
			newest = p
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(byRun) == 0 {
		return nil, nil
	}
	b.Ref, b.RunID, b.At = newest.runID, newest.runID, newest.at.val()
	runs := make([]int64, 0, len(byRun))
	for r := range byRun {
		runs = append(runs, r)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i] < runs[j] })
	seen := map[string]bool{}
	for _, run := range runs {
		in, inArgs := inList(byRun[run])
		fs, err := s.findings(ctx, tx, `f.run = ? AND f.state <> 'resolved' AND f.account_id IN `+in, append([]any{run}, inArgs...)...)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			seen[f.ID] = true
		}
		checks.Sort(fs) // the run's order (a streamed run stores them account by account)
		b.Findings = append(b.Findings, fs...)
	}
	lrows, err := tx.QueryContext(ctx, d.q(`SELECT finding_id, status, first_seen, last_seen, resolved_at
		FROM finding_lifecycle WHERE updated_run_order < ?`+of), args...)
	if err != nil {
		return nil, err
	}
	defer lrows.Close()
	for lrows.Next() {
		var id, status string
		var first, last, resolved tsScan
		if err := lrows.Scan(&id, &status, &first, &last, &resolved); err != nil {
			return nil, err
		}
		if seen[id] {
			continue
		}
		l := outcome.Lifecycle{FirstSeen: first.val(), LastSeen: last.val()}
		if status == "resolved" {
			l.ResolvedAt = resolved.val()
		}
		b.Earlier[id] = l
	}
	return b, lrows.Err()
}

// inList is "(?, ?, …)" for vals and its arguments.
func inList(vals []string) (string, []any) {
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ") + ")", args
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// findings reads findings rows (alias f) matching where, in position order.
func (s *Store) findings(ctx context.Context, q queryer, where string, args ...any) ([]checks.Finding, error) {
	rows, err := q.QueryContext(ctx, s.d.q(`SELECT f.finding_id, f.check_id, COALESCE(f.title, c.title), f.severity,
		f.account_id, f.account_name, f.resource, f.resource_type, f.user_name, f.message, f.state, f.suppressed,
		f.suppression_reason, f.suppression_expires, f.evidence, COALESCE(f.cis, c.cis), COALESCE(f.security_hub, c.security_hub),
		COALESCE(f.remediation_workflow, c.remediation_workflow), f.remediation_commands,
		f.first_seen, f.last_seen, f.resolved_at, f.reopened, COALESCE(f.remediation_actions, c.remediation_actions)
		FROM findings f JOIN finding_checks c ON c.run = f.run AND c.check_id = f.check_id
		WHERE `+where+` ORDER BY f.run, f.position`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []checks.Finding{}
	cache := actionsCache{}
	for rows.Next() {
		var f checks.Finding
		var sev string
		var acctName, user, supReason, workflow, evidence, cis, hub, cmds, actions sql.NullString
		var supExp, first, last, resolved tsScan
		if err := rows.Scan(&f.ID, &f.CheckID, &f.Title, &sev, &f.AccountID, &acctName, &f.Resource, &f.ResourceType,
			&user, &f.Message, &f.State, &f.Suppressed, &supReason, &supExp, &evidence, &cis, &hub, &workflow, &cmds,
			&first, &last, &resolved, &f.Reopened, &actions); err != nil {
			return nil, err
		}
		if f.Severity, err = checks.ParseSeverity(sev); err != nil {
			return nil, err
		}
		f.AccountName, f.User, f.SuppressionReason, f.Remediation.Workflow = acctName.String, user.String, supReason.String, workflow.String
		f.SuppressionExpires, f.FirstSeen, f.LastSeen, f.ResolvedAt = supExp.ptr(), first.ptr(), last.ptr(), resolved.ptr()
		if err := unjs(evidence, &f.Evidence); err != nil {
			return nil, err
		}
		if err := unjs(cis, &f.CIS); err != nil {
			return nil, err
		}
		if err := unjs(hub, &f.SecurityHub); err != nil {
			return nil, err
		}
		if err := unjs(cmds, &f.Remediation.Commands); err != nil {
			return nil, err
		}
		if err := cache.decodeActions(&f, actions.String); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
