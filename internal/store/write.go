package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
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

// DocumentFormat is the format of run_documents.body: the run's whole inventory
// (inventory.Inventory as JSON, the collected part of the run's JSON file),
// gzip-compressed. It is the lossless copy of what the relational tables hold only
// in part (roles, groups, customer managed policies, server certificates, policy
// documents); findings and scores are in their tables only.
const DocumentFormat = "iamaudit.inventory+json+gzip"

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

var errRunIDTaken = errors.New("run id taken")

// Write stores a run's outcome in one transaction: the run, its accounts, users,
// access keys, MFA devices, root keys, events, gaps, findings (the resolved ones
// too), scores, settings, the whole inventory as a document, and each finding's
// lifecycle.
// Either all of it is stored or nothing is. It returns the run id stored: the
// outcome's, or its next free _N form when another run (writing to another output
// directory in the same second) holds it, which Warn is told.
func (s *Store) Write(ctx context.Context, o *outcome.Outcome, opts WriteOptions) (string, error) {
	if o == nil || o.Inventory == nil {
		return "", errors.New("nothing to record")
	}
	if opts.Source == "" {
		opts.Source = SourceRun
	}
	runID := o.Inventory.RunID
	if _, err := RunOrder(runID); err != nil {
		return "", err
	}
	doc, err := compressDocument(o)
	if err != nil {
		return "", err
	}
	for {
		order, err := RunOrder(runID)
		if err != nil {
			return "", fmt.Errorf("cannot record the run %s: every run id of that second is taken", o.Inventory.RunID)
		}
		err = s.write(ctx, o, runID, order, opts, doc)
		if errors.Is(err, errRunIDTaken) {
			runID = nextRunID(runID)
			continue
		}
		if err != nil {
			return "", fmt.Errorf("cannot record the run %s in the %s (nothing of it was stored): %w", runID, s.Name(), err)
		}
		if runID != o.Inventory.RunID && s.Warn != nil {
			s.Warn(fmt.Sprintf("the run id %s was taken in the %s by another run; this run is recorded there as %s (its files keep %s)", o.Inventory.RunID, s.Name(), runID, o.Inventory.RunID))
		}
		return runID, nil
	}
}

func compressDocument(o *outcome.Outcome) ([]byte, error) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err := json.NewEncoder(zw).Encode(o.Inventory); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// settingsDoc is runs.settings.
type settingsDoc struct {
	Checks       checks.Config    `json:"checks"`
	Suppressions any              `json:"suppressions"`
	FailOn       *checks.Severity `json:"fail_on"`
}

func (s *Store) write(ctx context.Context, o *outcome.Outcome, runID string, order int64, opts WriteOptions, doc []byte) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	d := s.d
	var taken int
	if err := tx.QueryRowContext(ctx, d.q(`SELECT COUNT(*) FROM runs WHERE run_id = ?`), runID).Scan(&taken); err != nil {
		return err
	}
	if taken > 0 {
		return errRunIDTaken
	}
	inv := o.Inventory
	var orgID, orgARN, mgmt, callerAcct, callerARN any
	if inv.Organization != nil {
		orgID, orgARN, mgmt = ns(inv.Organization.ID), ns(inv.Organization.ARN), ns(inv.Organization.ManagementAccountID)
	}
	if inv.Caller != nil {
		callerAcct, callerARN = ns(inv.Caller.AccountID), ns(inv.Caller.ARN)
	}
	baselineRun := any(nil)
	if o.Baseline != nil {
		baselineRun = ns(o.Baseline.RunID)
	}
	settings := settingsDoc{Checks: o.Settings.Checks, Suppressions: o.Settings.Suppressions, FailOn: o.Settings.FailOn}
	if settings.Suppressions == nil {
		settings.Suppressions = []any{}
	}
	files := []string{}
	for _, f := range o.Files {
		if abs, err := filepath.Abs(f); err == nil {
			f = abs // the store is read from anywhere
		}
		files = append(files, f)
	}
	var id int64
	err = tx.QueryRowContext(ctx, d.q(`INSERT INTO runs (run_id, run_order, command, source, tool, tool_version,
		inventory_schema, started_at, finished_at, evaluated_at, recorded_at, aws_partition, aws_region,
		organization_id, management_account_id, caller_account_id, caller_arn, audit_role,
		event_window_start, event_window_end, event_names, complete, interrupted, baseline_run_id,
		key_rotation_days, settings, files, organization_arn)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		runID, order, o.Command, opts.Source, orDefault(inv.Tool, "iamaudit"), inv.Version,
		orDefault(inv.Schema, inventory.Schema), d.ts(inv.StartedAt), d.ts(inv.FinishedAt), d.ts(o.Now), d.ts(s.clock()),
		ns(inv.Partition), ns(inv.Region), orgID, mgmt, callerAcct, callerARN, ns(inv.AuditRole),
		d.ts(inv.EventWindowStart), d.ts(inv.EventWindowEnd), js(orEmpty(inv.EventNames)), inv.Complete(), outcome.Interrupted(inv),
		baselineRun, o.Scores.KeyRotationDays, js(settings), js(files), orgARN).Scan(&id)
	if err != nil {
		if isUnique(err) {
			return errRunIDTaken
		}
		return err
	}
	if err := s.writeInventory(ctx, tx, id, inv); err != nil {
		return err
	}
	if err := s.writeFindings(ctx, tx, id, o); err != nil {
		return err
	}
	if err := s.writeScores(ctx, tx, id, o.Scores); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO run_documents (run, format, body) VALUES (?, ?, ?)`), id, DocumentFormat, doc); err != nil {
		return err
	}
	if o.Command == outcome.CommandRun {
		if err := s.writeLifecycle(ctx, tx, runID, order, o); err != nil {
			return err
		}
	}
	s.step()
	return tx.Commit()
}

func (s *Store) step() {
	if s.hook != nil {
		s.hook()
	}
}

func (s *Store) writeInventory(ctx context.Context, tx *sql.Tx, id int64, inv *inventory.Inventory) error {
	d := s.d
	accounts := s.bulk(tx, "accounts", "run", "account_id", "position", "name", "email", "state", "ou_path", "is_management", "status",
		"reason", "audited_as", "collected_at", "fully_audited", "credential_report_generated_at", "credential_report_reused",
		"credential_report_age_seconds", "fresh_key_data", "root_known", "root_arn", "root_mfa_active", "root_mfa_type",
		"root_password_last_used", "root_created_at", "password_policy_known", "password_policy", "summary", "api_calls",
		"root_credentials", "credential_report_check", "credential_report_changes_since", "credential_report_cloudtrail_complete_until",
		"credential_report_reread_sections", "credential_report_reread_reason", "credential_report_reread_users",
		"credential_report_unknown_users")
	rootKeys := s.bulk(tx, "root_access_keys", "run", "account_id", "slot", "active", "last_rotated", "last_used_at", "last_used_service", "last_used_region")
	users := s.bulk(tx, "users", "run", "account_id", "user_name", "position", "arn", "user_id", "path", "created_at", "password_enabled",
		"password_last_used", "password_last_changed", "mfa_active", "group_names", "tags", "attached_policies", "inline_policies", "permissions_boundary")
	keys := s.bulk(tx, "access_keys", "run", "account_id", "user_name", "position", "access_key_id", "status", "created_at",
		"last_used_at", "last_used_service", "last_used_region", "last_used_source", "slot")
	mfa := s.bulk(tx, "mfa_devices", "run", "account_id", "user_name", "position", "serial", "type", "enabled_at")
	events := s.bulk(tx, "events", "run", "account_id", "position", "event_id", "event_time", "event_name", "event_source",
		"username", "access_key_id", "error_code", "resources", "request_parameters",
		"error_message", "event_type", "user_type", "source_ip", "login_result", "mfa_used")
	gaps := s.bulk(tx, "gaps", "run", "position", "level", "account_id", "section", "subject", "operation", "error_code", "message", "unknown")
	gapN := 0
	addGap := func(level, owner string, g inventory.Gap) error {
		acct := g.AccountID
		if level == "account" {
			acct = owner
		}
		gapN++
		return gaps.add(ctx, id, gapN, level, ns(acct), string(g.Section), ns(g.Subject), ns(g.Operation), ns(g.ErrorCode), g.Message,
			jsOpt(len(g.Unknown) > 0, g.Unknown))
	}
	for _, g := range inv.Gaps {
		if err := addGap("run", "", g); err != nil {
			return err
		}
	}
	for ai, a := range inv.Accounts {
		var crAt, crReused, crAge, crFresh, crCheck, crSince, crUntil, crSections, crReason, crUsers, crUnknown any
		if cr := a.CredentialReport; cr != nil {
			crAt, crReused, crAge, crFresh = d.ts(cr.GeneratedAt), cr.Reused, cr.AgeSeconds, cr.FreshKeyData
			crCheck, crSince, crUntil, crReason = ns(cr.Check), d.tsp(cr.ChangesSince), d.tsp(cr.CloudTrailCompleteUntil), ns(cr.RereadReason)
			crSections, crUsers = jsOpt(len(cr.RereadSections) > 0, cr.RereadSections), jsOpt(len(cr.RereadUsers) > 0, cr.RereadUsers)
			crUnknown = jsOpt(len(cr.UnknownUsers) > 0, cr.UnknownUsers)
		}
		var rootARN, rootCreds, rootMFA, rootType, rootUsed, rootCreated any
		if r := a.Root; r != nil {
			rootARN, rootCreds, rootMFA, rootType = ns(r.ARN), ns(r.Credentials), r.MFAActive, ns(r.MFAType)
			rootUsed, rootCreated = d.tsp(r.PasswordLastUsed), d.tsp(r.CreatedAt)
			for _, k := range r.AccessKeys {
				if err := rootKeys.add(ctx, id, a.ID, k.Slot, k.Active, d.tsp(k.LastRotated), d.tsp(k.LastUsedAt), ns(k.LastUsedService), ns(k.LastUsedRegion)); err != nil {
					return err
				}
			}
		}
		var policy any
		if a.PasswordPolicy != nil {
			policy = js(a.PasswordPolicy)
		}
		if err := accounts.add(ctx, id, a.ID, ai, a.Name, ns(a.Email), a.State, ns(a.OUPath), a.IsManagement, a.Status,
			ns(a.Reason), ns(a.AuditedAs), d.ts(a.CollectedAt), a.FullyAudited(), crAt, crReused, crAge, crFresh,
			a.Root != nil, rootARN, rootMFA, rootType, rootUsed, rootCreated, a.PasswordPolicyKnown, policy,
			jsOpt(len(a.Summary) > 0, a.Summary), jsOpt(len(a.APICalls) > 0, a.APICalls),
			rootCreds, crCheck, crSince, crUntil, crSections, crReason, crUsers, crUnknown); err != nil {
			return err
		}
		for ui, u := range a.Users {
			inline := make([]string, len(u.InlinePolicies))
			for i, p := range u.InlinePolicies {
				inline[i] = p.Name
			}
			if err := users.add(ctx, id, a.ID, u.Name, ui, u.ARN, ns(u.UserID), ns(u.Path), d.ts(u.CreatedAt), u.PasswordEnabled,
				d.tsp(u.PasswordLastUsed), d.tsp(u.PasswordLastChanged), u.MFAActive, js(orEmpty(u.Groups)),
				jsOpt(len(u.Tags) > 0, u.Tags), js(orEmptyP(u.AttachedPolicies)), js(inline), ns(u.PermissionsBoundary)); err != nil {
				return err
			}
			for i, k := range u.AccessKeys {
				if err := keys.add(ctx, id, a.ID, u.Name, i, k.ID, k.Status, d.ts(k.CreatedAt), d.tsp(k.LastUsedAt),
					ns(k.LastUsedService), ns(k.LastUsedRegion), ns(k.LastUsedSource), slot(k.Slot)); err != nil {
					return err
				}
			}
			for i, m := range u.MFADevices {
				if err := mfa.add(ctx, id, a.ID, u.Name, i, m.Serial, m.Type, d.tsp(m.EnabledAt)); err != nil {
					return err
				}
			}
		}
		for i, e := range a.Events {
			res := e.Resources
			if res == nil {
				res = []inventory.EventResource{}
			}
			if err := events.add(ctx, id, a.ID, i, e.ID, d.ts(e.Time), e.Name, ns(e.Source), ns(e.Username), ns(e.AccessKey),
				ns(e.ErrorCode), js(res), jsOpt(len(e.RequestParameters) > 0, e.RequestParameters),
				ns(e.ErrorMessage), ns(e.EventType), ns(e.UserType), ns(e.SourceIP), ns(e.LoginResult), ns(e.MFAUsed)); err != nil {
				return err
			}
		}
		for _, g := range a.Gaps {
			if err := addGap("account", a.ID, g); err != nil {
				return err
			}
		}
	}
	for _, b := range []*bulk{accounts, rootKeys, users, keys, mfa, events, gaps} {
		if err := b.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) writeFindings(ctx context.Context, tx *sql.Tx, id int64, o *outcome.Outcome) error {
	d := s.d
	// What every finding of a check shares (title, workflow, CIS, Security Hub
	// controls) is stored once per run in finding_checks, as the check's first finding
	// has it, and so are the remediation actions most of its findings have
	// (actions.go); a finding row repeats them only where it differs.
	type shared struct{ title, workflow, cis, hub, actions any }
	all := slices.Concat(o.Findings, o.Resolved)
	encoded := make([]string, len(all))
	common := commonActions(all, encoded)
	checkRows := s.bulk(tx, "finding_checks", "run", "check_id", "title", "remediation_workflow", "cis", "security_hub", "remediation_actions")
	byCheck := map[string]shared{}
	b := s.bulk(tx, "findings", "run", "position", "finding_id", "check_id", "severity", "account_id", "account_name",
		"resource", "resource_type", "user_name", "message", "state", "suppressed", "suppression_reason", "suppression_expires",
		"evidence", "remediation_commands", "title", "remediation_workflow", "cis", "security_hub",
		"first_seen", "last_seen", "resolved_at", "reopened", "remediation_actions")
	// differs is a finding's own value where it is not the check's (NULL: the
	// check's); none stands for "none" where the check has one.
	differs := func(a, b, none any) any {
		switch {
		case a == b:
			return nil
		case a == nil:
			return none
		}
		return a
	}
	for i, f := range all {
		mine := shared{f.Title, ns(f.Remediation.Workflow), jsOpt(len(f.CIS) > 0, f.CIS), jsOpt(len(f.SecurityHub) > 0, f.SecurityHub),
			ns(encoded[i])}
		c, ok := byCheck[f.CheckID]
		if !ok {
			c = mine
			c.actions = ns(common[f.CheckID])
			byCheck[f.CheckID] = c
			if err := checkRows.add(ctx, id, f.CheckID, c.title, c.workflow, c.cis, c.hub, c.actions); err != nil {
				return err
			}
		}
		if err := b.add(ctx, id, i+1, f.ID, f.CheckID, f.Severity.String(), f.AccountID, ns(f.AccountName),
			f.Resource, f.ResourceType, ns(f.User), f.Message, f.State, f.Suppressed, ns(f.SuppressionReason),
			d.tsp(f.SuppressionExpires), jsOpt(len(f.Evidence) > 0, f.Evidence), storedCommands(f),
			differs(mine.title, c.title, ""), differs(mine.workflow, c.workflow, ""), differs(mine.cis, c.cis, "[]"),
			differs(mine.hub, c.hub, "[]"), d.tsp(f.FirstSeen), d.tsp(f.LastSeen), d.tsp(f.ResolvedAt), f.Reopened,
			differs(mine.actions, c.actions, "[]")); err != nil {
			return err
		}
	}
	if err := checkRows.flush(ctx); err != nil {
		return err
	}
	return b.flush(ctx)
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
	for i, f := range findings {
		encoded[i] = encodeActions(f)
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

// writeLifecycle brings finding_lifecycle to this run: each of its findings is
// open (or suppressed) as of now, each finding it resolved is resolved now. A row
// that a newer run already updated is left alone (an import of an older run).
// Rows are written in finding id order, so that two concurrent runs lock them in
// the same order.
func (s *Store) writeLifecycle(ctx context.Context, tx *sql.Tx, runID string, order int64, o *outcome.Outcome) error {
	d := s.d
	type row struct {
		f      checks.Finding
		status string
	}
	byID := map[string]row{}
	for _, f := range o.Findings {
		st := "open"
		if f.Suppressed || f.State == checks.StateSuppressed {
			st = "suppressed"
		}
		byID[f.ID] = row{f, st}
	}
	for _, f := range o.Resolved {
		if _, ok := byID[f.ID]; !ok {
			byID[f.ID] = row{f, "resolved"}
		}
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	cols := []string{"finding_id", "account_id", "check_id", "resource", "severity", "status", "first_seen", "last_seen",
		"resolved_at", "reopened", "updated_run_id", "updated_run_order"}
	per := min(500, d.maxParams/len(cols))
	for start := 0; start < len(ids); start += per {
		end := min(start+per, len(ids))
		var args []any
		var values []string
		for _, id := range ids[start:end] {
			r := byID[id]
			f := r.f
			first, last := f.FirstSeen, f.LastSeen
			if first == nil {
				first = &o.Now
			}
			if last == nil {
				last = &o.Now
			}
			values = append(values, "("+strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")+")")
			args = append(args, f.ID, f.AccountID, f.CheckID, f.Resource, f.Severity.String(), r.status,
				d.tsp(first), d.tsp(last), d.tsp(f.ResolvedAt), f.Reopened, runID, order)
		}
		stmt := `INSERT INTO finding_lifecycle (` + strings.Join(cols, ", ") + `) VALUES ` + strings.Join(values, ", ") +
			` ON CONFLICT (finding_id) DO UPDATE SET account_id = excluded.account_id, check_id = excluded.check_id,
			resource = excluded.resource, severity = excluded.severity, status = excluded.status,
			first_seen = excluded.first_seen, last_seen = excluded.last_seen, resolved_at = excluded.resolved_at,
			reopened = excluded.reopened, updated_run_id = excluded.updated_run_id, updated_run_order = excluded.updated_run_order
			WHERE finding_lifecycle.updated_run_order < excluded.updated_run_order`
		if _, err := tx.ExecContext(ctx, d.q(stmt), args...); err != nil {
			return err
		}
		s.step()
	}
	return nil
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
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(b.cols)), ", ") + ")"
	stmt := "INSERT INTO " + b.table + " (" + strings.Join(b.cols, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(row+", ", b.rows), ", ")
	if _, err := b.tx.ExecContext(ctx, b.s.d.q(stmt), b.args...); err != nil {
		return fmt.Errorf("%s: %w", b.table, err)
	}
	b.args, b.rows = b.args[:0], 0
	b.s.step()
	return nil
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
