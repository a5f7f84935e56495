package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/score"
	"github.com/iamaudit/iamaudit/internal/suppress"
)

// Load reads a stored run back as an outcome: from the relational tables the
// inventory (run, accounts with root, root keys, password policy, credential
// report and summary, users with access keys, MFA devices, groups, policy names and
// tags, events, gaps), the findings and resolved findings with their states and
// lifecycle, the scores and the settings; from the run's inventory document what
// the tables leave out (roles, groups, customer managed policies, server
// certificates, inline policy documents). Baseline holds only the run id it was
// compared with.
func (s *Store) Load(ctx context.Context, runID string) (*outcome.Outcome, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	d := s.d
	var id int64
	var o outcome.Outcome
	inv := &inventory.Inventory{RunID: runID, Accounts: []inventory.Account{}, Gaps: []inventory.Gap{}}
	o.Inventory = inv
	var started, finished, evaluated, winStart, winEnd tsScan
	var part, region, org, orgARN, mgmt, callerAcct, callerARN, role, base sql.NullString
	var eventNames, settings, files string
	var keyRotation int
	err = tx.QueryRowContext(ctx, d.q(`SELECT id, command, tool, tool_version, inventory_schema, started_at, finished_at,
		evaluated_at, aws_partition, aws_region, organization_id, management_account_id, caller_account_id, caller_arn,
		audit_role, event_window_start, event_window_end, event_names, baseline_run_id, key_rotation_days, settings, files,
		organization_arn
		FROM runs WHERE run_id = ?`), runID).Scan(&id, &o.Command, &inv.Tool, &inv.Version, &inv.Schema, &started, &finished,
		&evaluated, &part, &region, &org, &mgmt, &callerAcct, &callerARN, &role, &winStart, &winEnd, &eventNames, &base,
		&keyRotation, &settings, &files, &orgARN)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("run %s: %w", runID, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	inv.StartedAt, inv.FinishedAt, o.Now = started.val(), finished.val(), evaluated.val()
	inv.Partition, inv.Region, inv.AuditRole = part.String, region.String, role.String
	inv.EventWindowStart, inv.EventWindowEnd = winStart.val(), winEnd.val()
	if org.Valid || mgmt.Valid || orgARN.Valid {
		inv.Organization = &inventory.Organization{ID: org.String, ARN: orgARN.String, ManagementAccountID: mgmt.String}
	}
	if callerAcct.Valid || callerARN.Valid {
		inv.Caller = &inventory.Caller{AccountID: callerAcct.String, ARN: callerARN.String}
	}
	if base.Valid {
		o.Baseline = &outcome.Baseline{Ref: base.String, RunID: base.String}
	}
	if err := json.Unmarshal([]byte(eventNames), &inv.EventNames); err != nil {
		return nil, err
	}
	var set struct {
		Checks       checks.Config    `json:"checks"`
		Suppressions suppress.Rules   `json:"suppressions"`
		FailOn       *checks.Severity `json:"fail_on"`
	}
	if err := json.Unmarshal([]byte(settings), &set); err != nil {
		return nil, fmt.Errorf("run %s: settings: %w", runID, err)
	}
	o.Settings = outcome.Settings{Checks: set.Checks, Suppressions: set.Suppressions, FailOn: set.FailOn}
	if err := json.Unmarshal([]byte(files), &o.Files); err != nil {
		return nil, err
	}
	index := map[string]int{}
	if err := s.loadAccounts(ctx, tx, id, inv, index); err != nil {
		return nil, err
	}
	if err := s.loadUsers(ctx, tx, id, inv, index); err != nil {
		return nil, err
	}
	if err := s.loadEvents(ctx, tx, id, inv, index); err != nil {
		return nil, err
	}
	if err := s.loadGaps(ctx, tx, id, inv, index); err != nil {
		return nil, err
	}
	if err := s.loadDocumentParts(ctx, tx, runID, inv, index); err != nil {
		return nil, err
	}
	all, err := s.findings(ctx, tx, "f.run = ?", id)
	if err != nil {
		return nil, err
	}
	o.Findings, o.Resolved = []checks.Finding{}, []checks.Finding{}
	for _, f := range all {
		if f.State == checks.StateResolved {
			o.Resolved = append(o.Resolved, f)
		} else {
			o.Findings = append(o.Findings, f)
		}
	}
	// A streamed run stores its findings account by account as the accounts
	// finished; the run had them in checks.Sort order (a stable sort: the order of
	// equal findings within an account is kept, and a run written whole is already
	// in that order).
	checks.Sort(o.Findings)
	checks.Sort(o.Resolved)
	if o.Scores, err = s.loadScores(ctx, tx, id); err != nil {
		return nil, err
	}
	o.Scores.KeyRotationDays = keyRotation
	o.Expired = []suppress.Rule{}
	return &o, nil
}

// loadDocumentParts fills from the run's inventory document what the relational
// tables do not hold.
func (s *Store) loadDocumentParts(ctx context.Context, tx *sql.Tx, runID string, inv *inventory.Inventory, index map[string]int) error {
	doc, err := s.inventory(ctx, tx, runID)
	if errors.Is(err, ErrNotFound) {
		return nil // a run written without its document: what the tables hold
	}
	if err != nil {
		return err
	}
	for _, da := range doc.Accounts {
		i, ok := index[da.ID]
		if !ok {
			continue
		}
		a := &inv.Accounts[i]
		a.Groups, a.Roles, a.Policies, a.ServerCertificates = da.Groups, da.Roles, da.Policies, da.ServerCertificates
		docs := map[string][]inventory.InlinePolicy{}
		for _, u := range da.Users {
			docs[u.Name] = u.InlinePolicies
		}
		for j := range a.Users {
			u := &a.Users[j]
			if d := docs[u.Name]; len(d) == len(u.InlinePolicies) {
				u.InlinePolicies = d
			}
		}
	}
	return nil
}

func (s *Store) loadAccounts(ctx context.Context, tx *sql.Tx, id int64, inv *inventory.Inventory, index map[string]int) error {
	rows, err := tx.QueryContext(ctx, s.d.q(`SELECT account_id, name, email, state, ou_path, is_management, status, reason,
		audited_as, collected_at, credential_report_generated_at, credential_report_reused, credential_report_age_seconds,
		fresh_key_data, root_known, root_arn, root_mfa_active, root_mfa_type, root_password_last_used, root_created_at,
		password_policy_known, password_policy, summary, api_calls, root_credentials, credential_report_check,
		credential_report_changes_since, credential_report_cloudtrail_complete_until, credential_report_reread_sections,
		credential_report_reread_reason, credential_report_reread_users, credential_report_unknown_users
		FROM accounts WHERE run = ? ORDER BY position`), id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a inventory.Account
		var email, ou, reason, as, rootARN, rootType, policy, summary, calls sql.NullString
		var rootCreds, crCheck, crSections, crReason, crUsers, crUnknown sql.NullString
		var collected, crAt, rootUsed, rootCreated, crSince, crUntil tsScan
		var crReused, crFresh, rootMFA sql.NullBool
		var crAge sql.NullInt64
		var rootKnown bool
		if err := rows.Scan(&a.ID, &a.Name, &email, &a.State, &ou, &a.IsManagement, &a.Status, &reason, &as, &collected,
			&crAt, &crReused, &crAge, &crFresh, &rootKnown, &rootARN, &rootMFA, &rootType, &rootUsed, &rootCreated,
			&a.PasswordPolicyKnown, &policy, &summary, &calls, &rootCreds, &crCheck, &crSince, &crUntil, &crSections,
			&crReason, &crUsers, &crUnknown); err != nil {
			return err
		}
		a.Email, a.OUPath, a.Reason, a.AuditedAs, a.CollectedAt = email.String, ou.String, reason.String, as.String, collected.val()
		if crAt.Valid {
			cr := &inventory.CredentialReport{GeneratedAt: crAt.T, Reused: crReused.Bool, AgeSeconds: crAge.Int64, FreshKeyData: crFresh.Bool,
				Check: crCheck.String, ChangesSince: crSince.ptr(), CloudTrailCompleteUntil: crUntil.ptr(), RereadReason: crReason.String}
			for _, j := range []struct {
				src sql.NullString
				v   any
			}{{crSections, &cr.RereadSections}, {crUsers, &cr.RereadUsers}, {crUnknown, &cr.UnknownUsers}} {
				if err := unjs(j.src, j.v); err != nil {
					return err
				}
			}
			a.CredentialReport = cr
		}
		if rootKnown {
			a.Root = &inventory.Root{ARN: rootARN.String, Credentials: rootCreds.String, MFAActive: rootMFA.Bool, MFAType: rootType.String,
				PasswordLastUsed: rootUsed.ptr(), CreatedAt: rootCreated.ptr(), AccessKeys: []inventory.RootKey{}}
		}
		if policy.Valid {
			a.PasswordPolicy = &inventory.PasswordPolicy{}
			if err := unjs(policy, a.PasswordPolicy); err != nil {
				return err
			}
		}
		if err := unjs(summary, &a.Summary); err != nil {
			return err
		}
		if err := unjs(calls, &a.APICalls); err != nil {
			return err
		}
		a.Users, a.Groups, a.Roles, a.Policies = []inventory.User{}, []inventory.Group{}, []inventory.Role{}, []inventory.ManagedPolicy{}
		a.ServerCertificates, a.Events, a.Gaps = []inventory.ServerCertificate{}, []inventory.Event{}, []inventory.Gap{}
		index[a.ID] = len(inv.Accounts)
		inv.Accounts = append(inv.Accounts, a)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	krows, err := tx.QueryContext(ctx, s.d.q(`SELECT account_id, slot, active, last_rotated, last_used_at, last_used_service, last_used_region
		FROM root_access_keys WHERE run = ? ORDER BY account_id, slot`), id)
	if err != nil {
		return err
	}
	defer krows.Close()
	for krows.Next() {
		var acct string
		var k inventory.RootKey
		var rotated, used tsScan
		var svc, reg sql.NullString
		if err := krows.Scan(&acct, &k.Slot, &k.Active, &rotated, &used, &svc, &reg); err != nil {
			return err
		}
		k.LastRotated, k.LastUsedAt, k.LastUsedService, k.LastUsedRegion = rotated.ptr(), used.ptr(), svc.String, reg.String
		if i, ok := index[acct]; ok && inv.Accounts[i].Root != nil {
			inv.Accounts[i].Root.AccessKeys = append(inv.Accounts[i].Root.AccessKeys, k)
		}
	}
	return krows.Err()
}

func (s *Store) loadUsers(ctx context.Context, tx *sql.Tx, id int64, inv *inventory.Inventory, index map[string]int) error {
	rows, err := tx.QueryContext(ctx, s.d.q(`SELECT account_id, user_name, arn, user_id, path, created_at, password_enabled,
		password_last_used, password_last_changed, mfa_active, group_names, tags, attached_policies, inline_policies,
		permissions_boundary FROM users WHERE run = ? ORDER BY account_id, position`), id)
	if err != nil {
		return err
	}
	defer rows.Close()
	type key struct{ acct, user string }
	where := map[key][2]int{}
	for rows.Next() {
		var acct string
		var u inventory.User
		var uid, path, tags, boundary sql.NullString
		var groups, attached, inline string
		var created, pwUsed, pwChanged tsScan
		if err := rows.Scan(&acct, &u.Name, &u.ARN, &uid, &path, &created, &u.PasswordEnabled, &pwUsed, &pwChanged,
			&u.MFAActive, &groups, &tags, &attached, &inline, &boundary); err != nil {
			return err
		}
		u.UserID, u.Path, u.CreatedAt, u.PermissionsBoundary = uid.String, path.String, created.val(), boundary.String
		u.PasswordLastUsed, u.PasswordLastChanged = pwUsed.ptr(), pwChanged.ptr()
		var names []string
		for _, j := range []struct {
			src string
			v   any
		}{{groups, &u.Groups}, {attached, &u.AttachedPolicies}, {inline, &names}} {
			if err := json.Unmarshal([]byte(j.src), j.v); err != nil {
				return err
			}
		}
		if err := unjs(tags, &u.Tags); err != nil {
			return err
		}
		u.InlinePolicies = make([]inventory.InlinePolicy, len(names))
		for i, n := range names {
			u.InlinePolicies[i] = inventory.InlinePolicy{Name: n}
		}
		u.MFADevices, u.AccessKeys = []inventory.MFADevice{}, []inventory.AccessKey{}
		i, ok := index[acct]
		if !ok {
			continue
		}
		a := &inv.Accounts[i]
		where[key{acct, u.Name}] = [2]int{i, len(a.Users)}
		a.Users = append(a.Users, u)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	user := func(acct, name string) *inventory.User {
		p, ok := where[key{acct, name}]
		if !ok {
			return nil
		}
		return &inv.Accounts[p[0]].Users[p[1]]
	}
	krows, err := tx.QueryContext(ctx, s.d.q(`SELECT account_id, user_name, access_key_id, status, created_at, last_used_at,
		last_used_service, last_used_region, last_used_source, slot FROM access_keys WHERE run = ? ORDER BY account_id, user_name, position`), id)
	if err != nil {
		return err
	}
	defer krows.Close()
	for krows.Next() {
		var acct, name string
		var k inventory.AccessKey
		var created, used tsScan
		var svc, reg, src sql.NullString
		var slot sql.NullInt64
		if err := krows.Scan(&acct, &name, &k.ID, &k.Status, &created, &used, &svc, &reg, &src, &slot); err != nil {
			return err
		}
		k.Slot = int(slot.Int64)
		k.CreatedAt, k.LastUsedAt, k.LastUsedService, k.LastUsedRegion, k.LastUsedSource = created.val(), used.ptr(), svc.String, reg.String, src.String
		if u := user(acct, name); u != nil {
			u.AccessKeys = append(u.AccessKeys, k)
		}
	}
	if err := krows.Err(); err != nil {
		return err
	}
	mrows, err := tx.QueryContext(ctx, s.d.q(`SELECT account_id, user_name, serial, type, enabled_at FROM mfa_devices
		WHERE run = ? ORDER BY account_id, user_name, position`), id)
	if err != nil {
		return err
	}
	defer mrows.Close()
	for mrows.Next() {
		var acct, name string
		var m inventory.MFADevice
		var enabled tsScan
		if err := mrows.Scan(&acct, &name, &m.Serial, &m.Type, &enabled); err != nil {
			return err
		}
		m.EnabledAt = enabled.ptr()
		if u := user(acct, name); u != nil {
			u.MFADevices = append(u.MFADevices, m)
		}
	}
	return mrows.Err()
}

func (s *Store) loadEvents(ctx context.Context, tx *sql.Tx, id int64, inv *inventory.Inventory, index map[string]int) error {
	rows, err := tx.QueryContext(ctx, s.d.q(`SELECT account_id, event_id, event_time, event_name, event_source, username,
		access_key_id, error_code, resources, request_parameters, error_message, event_type, user_type, source_ip,
		login_result, mfa_used FROM events WHERE run = ? ORDER BY account_id, position`), id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var acct string
		var e inventory.Event
		var at tsScan
		var src, user, key, code, params, msg, typ, userType, ip, login, mfa sql.NullString
		var res string
		if err := rows.Scan(&acct, &e.ID, &at, &e.Name, &src, &user, &key, &code, &res, &params,
			&msg, &typ, &userType, &ip, &login, &mfa); err != nil {
			return err
		}
		e.Time, e.Source, e.Username, e.AccessKey, e.ErrorCode = at.val(), src.String, user.String, key.String, code.String
		e.ErrorMessage, e.EventType, e.UserType, e.SourceIP, e.LoginResult, e.MFAUsed = msg.String, typ.String, userType.String, ip.String, login.String, mfa.String
		if err := json.Unmarshal([]byte(res), &e.Resources); err != nil {
			return err
		}
		if err := unjs(params, &e.RequestParameters); err != nil {
			return err
		}
		if i, ok := index[acct]; ok {
			inv.Accounts[i].Events = append(inv.Accounts[i].Events, e)
		}
	}
	return rows.Err()
}

func (s *Store) loadGaps(ctx context.Context, tx *sql.Tx, id int64, inv *inventory.Inventory, index map[string]int) error {
	rows, err := tx.QueryContext(ctx, s.d.q(`SELECT level, account_id, section, subject, operation, error_code, message, unknown
		FROM gaps WHERE run = ? ORDER BY position`), id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var level string
		var g inventory.Gap
		var acct, subject, op, code, unknown sql.NullString
		if err := rows.Scan(&level, &acct, &g.Section, &subject, &op, &code, &g.Message, &unknown); err != nil {
			return err
		}
		g.AccountID, g.Subject, g.Operation, g.ErrorCode = acct.String, subject.String, op.String, code.String
		if err := unjs(unknown, &g.Unknown); err != nil {
			return err
		}
		if len(g.Unknown) == 0 {
			// Written before schema version 3: what the run JSON of that version
			// means (inventory.Gap.UnmarshalJSON).
			g.Unknown = inventory.LegacyUnknown(g.Section, g.Subject, g.Operation)
		}
		if i, ok := index[acct.String]; ok && level == "account" {
			inv.Accounts[i].Gaps = append(inv.Accounts[i].Gaps, g)
			continue
		}
		inv.Gaps = append(inv.Gaps, g)
	}
	return rows.Err()
}

// scoreColumns are the scores columns read by loadScores and Metrics, in order.
const scoreColumns = `sc.scope, sc.account_id, sc.account_name, sc.audited, sc.known, sc.unknown_sections, sc.accounts,
	sc.findings_critical, sc.findings_high, sc.findings_medium, sc.findings_low, sc.findings_suppressed,
	sc.users, sc.console_users, sc.console_users_with_mfa, sc.mfa_coverage_percent, sc.active_keys,
	sc.keys_0_90, sc.keys_91_180, sc.keys_181_365, sc.keys_over_365, sc.unused_keys, sc.never_used_keys,
	sc.inactive_keys, sc.inactive_users, sc.long_term_keys, sc.keys_over_rotation,
	sc.risk_formula, sc.risk_score, sc.risk_at_least, sc.risk_label, sc.risk_basis_critical, sc.risk_basis_high,
	sc.risk_basis_medium, sc.risk_basis_low, sc.risk_points, sc.risk_floor, sc.risk_unevaluated_checks,
	sc.seed_risk_formula, sc.seed_risk_score, sc.seed_risk_at_least, sc.seed_risk_label,
	sc.seed_keys_over_365, sc.seed_keys_181_365, sc.seed_keys_91_180, sc.seed_users_without_mfa,
	sc.seed_console_never_signed_in, sc.seed_inactive_keys,
	sc.phase1_known, sc.phase1_complete, sc.phase2_known, sc.phase2_complete, sc.phase2_advanced`

// scanScore reads one row of scoreColumns (after any leading columns in lead).
func scanScore(rows *sql.Rows, lead ...any) (string, score.Score, error) {
	var c score.Score
	var scope string
	var name sql.NullString
	var unknown, unevaluated string
	var cov sql.NullFloat64
	var risk, seed sql.NullInt64
	in := &c.SeedRisk.Inputs
	dest := append(lead, &scope, &c.AccountID, &name, &c.Audited, &c.Known, &unknown, &c.Accounts,
		&c.Findings.Critical, &c.Findings.High, &c.Findings.Medium, &c.Findings.Low, &c.Findings.Suppressed,
		&c.Users, &c.ConsoleUsers, &c.ConsoleUsersWithMFA, &cov, &c.ActiveKeys,
		&c.KeyAges.Days0To90, &c.KeyAges.Days91To180, &c.KeyAges.Days181To365, &c.KeyAges.Over365, &c.UnusedKeys, &c.NeverUsedKeys,
		&c.InactiveKeys, &c.InactiveUsers, &c.LongTermKeys, &c.KeysOverRotation,
		&c.RiskFormula, &risk, &c.RiskAtLeast, &c.RiskLabel, &c.RiskBasis.Critical, &c.RiskBasis.High,
		&c.RiskBasis.Medium, &c.RiskBasis.Low, &c.RiskBasis.Points, &c.RiskBasis.Floor, &unevaluated,
		&c.SeedRisk.Formula, &seed, &c.SeedRisk.AtLeast, &c.SeedRisk.Label,
		&in.KeysOver365, &in.Keys181To365, &in.Keys91To180, &in.UsersWithoutMFA, &in.ConsoleNeverSignedIn, &in.InactiveKeys,
		&c.Phase1.Known, &c.Phase1.Complete, &c.Phase2.Known, &c.Phase2.Complete, &c.Phase2.Advanced)
	if err := rows.Scan(dest...); err != nil {
		return "", c, err
	}
	c.AccountName, c.MFACoverage, c.Risk, c.SeedRisk.Score = name.String, floatPtr(cov), intPtr(risk), intPtr(seed)
	if err := json.Unmarshal([]byte(unknown), &c.UnknownSections); err != nil {
		return "", c, err
	}
	if err := json.Unmarshal([]byte(unevaluated), &c.RiskUnevaluated); err != nil {
		return "", c, err
	}
	if len(c.UnknownSections) == 0 {
		c.UnknownSections = nil
	}
	if len(c.RiskUnevaluated) == 0 {
		c.RiskUnevaluated = nil
	}
	c.Phase1.Name, c.Phase2.Name = phase1Name, phase2Name
	return scope, c, nil
}

// The phase names score.Compute gives (score.Phase.Name).
const (
	phase1Name = "MFA"
	phase2Name = "Use temporary credentials"
)

func (s *Store) loadScores(ctx context.Context, tx *sql.Tx, id int64) (score.Scores, error) {
	out := score.Scores{Accounts: []score.Score{}}
	rows, err := tx.QueryContext(ctx, s.d.q(`SELECT `+scoreColumns+` FROM scores sc WHERE sc.run = ? ORDER BY sc.position`), id)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		scope, c, err := scanScore(rows)
		if err != nil {
			return out, err
		}
		if scope == ScopeOrganization {
			out.Organization = c
		} else {
			out.Accounts = append(out.Accounts, c)
		}
	}
	return out, rows.Err()
}
