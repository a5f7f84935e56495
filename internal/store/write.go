package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/bits"
	"regexp"
	"strconv"
	"strings"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/score"
)

// Sources of a stored run (runs.source).
const (
	SourceRun    = "run"    // iamaudit run or demo
	SourceImport = "import" // iamaudit import of earlier outputs
)

// Formats of the run's inventory document. DocumentFormat (schema versions 1 to 4)
// is run_documents.body holding the run's whole inventory (inventory.Inventory as
// JSON, the collected part of the run's JSON file), gzip-compressed. From schema
// version 5 a run is stored account by account: run_documents.body is the inventory
// without its accounts (DocumentHeadFormat) and each account is a row of
// run_account_documents (AccountDocumentFormat: inventory.Account as JSON,
// gzip-compressed), in the order of accounts.position. Either way the document is the
// lossless copy of what the relational tables hold only in part (roles, groups,
// customer managed policies, server certificates, policy documents); findings and
// scores are in their tables only. Readers reassemble the inventory from either.
const (
	DocumentFormat        = "iamaudit.inventory+json+gzip"
	DocumentHeadFormat    = "iamaudit.inventory-head+json+gzip"
	AccountDocumentFormat = "iamaudit.account+json+gzip"
)

// settingsDoc is runs.settings.
type settingsDoc struct {
	Checks       checks.Config    `json:"checks"`
	Suppressions any              `json:"suppressions"`
	FailOn       *checks.Severity `json:"fail_on"`
}

// WriteOptions say where a run comes from.
type WriteOptions struct {
	// Source is SourceRun (default) or SourceImport.
	Source string
}

// Record implements history.History: the run is written in one transaction.
func (s *Store) Record(ctx context.Context, o *outcome.Outcome) error {
	_, err := s.Write(ctx, o, WriteOptions{Source: SourceRun})
	return err
}

var runIDRe = regexp.MustCompile(`^(\d{8})_(\d{6})(?:_(\d+))?$`)

// RunOrder is the run id as a number that sorts runs as history.Dir does (time,
// then the _N suffix as a number): YYYYMMDDHHMMSS·1000 + N, N = 1 for the plain id.
func RunOrder(runID string) (int64, error) {
	m := runIDRe.FindStringSubmatch(runID)
	if m == nil {
		return 0, fmt.Errorf("run id %q is not of the form YYYYMMDD_HHMMSS[_N]", runID)
	}
	stamp, _ := strconv.ParseInt(m[1]+m[2], 10, 64)
	n := int64(1)
	if m[3] != "" {
		v, err := strconv.ParseInt(m[3], 10, 64)
		if err != nil || v < 2 || v > 999 {
			return 0, fmt.Errorf("run id %q: the suffix must be 2 to 999", runID)
		}
		n = v
	}
	return stamp*1000 + n, nil
}

// nextRunID is the run id after id in the _N sequence.
func nextRunID(id string) string {
	m := runIDRe.FindStringSubmatch(id)
	n := 1
	if m[3] != "" {
		n, _ = strconv.Atoi(m[3])
	}
	return m[1] + "_" + m[2] + "_" + strconv.Itoa(n+1)
}

func (s *Store) writeScores(ctx context.Context, tx *sql.Tx, id int64, sc score.Scores) error {
	b := s.bulk(tx, "scores", "run", "scope", "account_id", "position", "account_name", "audited", "known", "unknown_sections", "accounts",
		"findings_critical", "findings_high", "findings_medium", "findings_low", "findings_suppressed",
		"users", "console_users", "console_users_with_mfa", "mfa_coverage_percent", "active_keys",
		"keys_0_90", "keys_91_180", "keys_181_365", "keys_over_365", "unused_keys", "never_used_keys",
		"inactive_keys", "inactive_users", "long_term_keys", "keys_over_rotation",
		"risk_formula", "risk_score", "risk_at_least", "risk_label", "risk_basis_critical", "risk_basis_high",
		"risk_basis_medium", "risk_basis_low", "risk_points", "risk_floor", "risk_unevaluated_checks",
		"seed_risk_formula", "seed_risk_score", "seed_risk_at_least", "seed_risk_label",
		"seed_keys_over_365", "seed_keys_181_365", "seed_keys_91_180", "seed_users_without_mfa",
		"seed_console_never_signed_in", "seed_inactive_keys",
		"phase1_known", "phase1_complete", "phase2_known", "phase2_complete", "phase2_advanced")
	pos := 0
	add := func(scope string, c score.Score) error {
		pos++
		var cov, risk, seed any
		if c.MFACoverage != nil {
			cov = *c.MFACoverage
		}
		if c.Risk != nil {
			risk = *c.Risk
		}
		if c.SeedRisk.Score != nil {
			seed = *c.SeedRisk.Score
		}
		in := c.SeedRisk.Inputs
		return b.add(ctx, id, scope, c.AccountID, pos, ns(c.AccountName), c.Audited, c.Known, js(orEmpty(c.UnknownSections)), c.Accounts,
			c.Findings.Critical, c.Findings.High, c.Findings.Medium, c.Findings.Low, c.Findings.Suppressed,
			c.Users, c.ConsoleUsers, c.ConsoleUsersWithMFA, cov, c.ActiveKeys,
			c.KeyAges.Days0To90, c.KeyAges.Days91To180, c.KeyAges.Days181To365, c.KeyAges.Over365, c.UnusedKeys, c.NeverUsedKeys,
			c.InactiveKeys, c.InactiveUsers, c.LongTermKeys, c.KeysOverRotation,
			c.RiskFormula, risk, c.RiskAtLeast, c.RiskLabel, c.RiskBasis.Critical, c.RiskBasis.High,
			c.RiskBasis.Medium, c.RiskBasis.Low, c.RiskBasis.Points, c.RiskBasis.Floor, js(orEmpty(c.RiskUnevaluated)),
			c.SeedRisk.Formula, seed, c.SeedRisk.AtLeast, c.SeedRisk.Label,
			in.KeysOver365, in.Keys181To365, in.Keys91To180, in.UsersWithoutMFA, in.ConsoleNeverSignedIn, in.InactiveKeys,
			c.Phase1.Known, c.Phase1.Complete, c.Phase2.Known, c.Phase2.Complete, c.Phase2.Advanced)
	}
	for _, c := range sc.Accounts {
		if err := add(ScopeAccount, c); err != nil {
			return err
		}
	}
	org := sc.Organization
	org.AccountID = ""
	if err := add(ScopeOrganization, org); err != nil {
		return err
	}
	return b.flush(ctx)
}

// commonActions encodes each finding's actions into encoded and returns, per check,
// the stored list most of its findings have (the first one's among equals).
func commonActions(findings []checks.Finding, encoded []string) map[string]string {
	type tally struct {
		counts map[string]int
		best   string
	}
	byCheck := map[string]*tally{}
	var e actionsEncoder
	for i, f := range findings {
		encoded[i] = e.encode(f)
		t := byCheck[f.CheckID]
		if t == nil {
			t = &tally{counts: map[string]int{}, best: encoded[i]}
			byCheck[f.CheckID] = t
		}
		t.counts[encoded[i]]++
		if t.counts[encoded[i]] > t.counts[t.best] {
			t.best = encoded[i]
		}
	}
	out := make(map[string]string, len(byCheck))
	for check, t := range byCheck {
		out[check] = t.best
	}
	return out
}

// Scopes of a score row.
const (
	ScopeAccount      = "account"
	ScopeOrganization = "organization"
)

func (s *Store) step() {
	if s.hook != nil {
		s.hook()
	}
}

// bulk inserts rows into one table with multi-row INSERTs: a statement per few
// hundred rows instead of one per row (one round trip each on PostgreSQL).
type bulk struct {
	s     *Store
	tx    *sql.Tx
	table string
	cols  []string
	per   int
	args  []any
	rows  int
	// stmts, when set, holds prepared statements by their text, for the
	// transaction's life: the rows then go in batches of a power of two (or a full
	// batch), so that a run prepares a handful of statements per table instead of
	// parsing one for every account (SQLite parses a 500-row insert in about as
	// long as it runs it).
	stmts map[string]*sql.Stmt
}

func (s *Store) bulk(tx *sql.Tx, table string, cols ...string) *bulk {
	return &bulk{s: s, tx: tx, table: table, cols: cols, per: min(500, s.d.maxParams/len(cols))}
}

func (b *bulk) add(ctx context.Context, vals ...any) error {
	if len(vals) != len(b.cols) {
		return fmt.Errorf("%s: %d values for %d columns", b.table, len(vals), len(b.cols))
	}
	b.args = append(b.args, vals...)
	b.rows++
	if b.rows >= b.per {
		return b.flush(ctx)
	}
	return nil
}

func (b *bulk) flush(ctx context.Context) error {
	if b.rows == 0 {
		return nil
	}
	if b.stmts == nil {
		if _, err := b.tx.ExecContext(ctx, b.insert(b.rows), b.args...); err != nil {
			return fmt.Errorf("%s: %w", b.table, err)
		}
	} else {
		args := b.args
		for left := b.rows; left > 0; {
			n := left
			if n < b.per {
				n = 1 << (bits.Len(uint(n)) - 1) // the largest power of two in it
			}
			text := b.insert(n)
			st, ok := b.stmts[text]
			if !ok {
				var err error
				if st, err = b.tx.PrepareContext(ctx, text); err != nil {
					return fmt.Errorf("%s: %w", b.table, err)
				}
				b.stmts[text] = st
			}
			if _, err := st.ExecContext(ctx, args[:n*len(b.cols)]...); err != nil {
				return fmt.Errorf("%s: %w", b.table, err)
			}
			args, left = args[n*len(b.cols):], left-n
		}
	}
	b.args, b.rows = b.args[:0], 0
	b.s.step()
	return nil
}

// insert is the statement inserting n rows.
func (b *bulk) insert(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(b.cols)), ", ") + ")"
	return b.s.d.q(b.s.d.bulkInsert + b.table + " (" + strings.Join(b.cols, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(row+", ", n), ", "))
}

// ns is a text value, NULL when empty.
func ns(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// slot is an access key's credential report slot, NULL when the report does not show it.
func slot(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// js is v as JSON text.
func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("store: %T does not marshal: %v", v, err)) // only our own types are marshalled
	}
	return string(b)
}

// jsOpt is v as JSON text when present, else NULL.
func jsOpt(present bool, v any) any {
	if !present {
		return nil
	}
	return js(v)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func orEmptyP(p []inventory.AttachedPolicy) []inventory.AttachedPolicy {
	if p == nil {
		return []inventory.AttachedPolicy{}
	}
	return p
}
