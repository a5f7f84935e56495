package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

// Write stores a run's outcome in one transaction: the run, its accounts, users,
// access keys, MFA devices, root keys, events, gaps, findings (the resolved ones
// too), scores, settings, the inventory as documents (one per account), and each
// finding's lifecycle.
// Either all of it is stored or nothing is. It returns the run id stored: the
// outcome's, or its next free _N form when another run (writing to another output
// directory in the same second) holds it, which Warn is told.
//
// A run written whole (Write) and the same run streamed account by account
// (Begin) are written by the same code, the runWriter, and are the same stored run.
func (s *Store) Write(ctx context.Context, o *outcome.Outcome, opts WriteOptions) (string, error) {
	if o == nil || o.Inventory == nil {
		return "", errors.New("nothing to record")
	}
	runID := o.Inventory.RunID
	if _, err := RunOrder(runID); err != nil {
		return "", err
	}
	got, err := s.writeWhole(ctx, o, opts)
	if err != nil {
		return "", fmt.Errorf("cannot record the run %s in the %s (nothing of it was stored): %w", runID, s.Name(), err)
	}
	s.warnTaken(runID, got)
	return got, nil
}

func (s *Store) writeWhole(ctx context.Context, o *outcome.Outcome, opts WriteOptions) (string, error) {
	w, err := s.begin(ctx, o.Inventory, o.Settings, opts)
	if err != nil {
		return "", err
	}
	runID, err := func() (string, error) {
		for i := range o.Inventory.Accounts {
			if err := w.account(ctx, &o.Inventory.Accounts[i], nil); err != nil {
				return "", err
			}
		}
		if err := w.findings(ctx, slices.Concat(o.Findings, o.Resolved)); err != nil {
			return "", err
		}
		return w.finish(ctx, o)
	}()
	if err != nil {
		w.rollback()
		return "", err
	}
	return runID, nil
}

func (s *Store) warnTaken(want, got string) {
	if got != want && s.Warn != nil {
		s.Warn(fmt.Sprintf("the run id %s was taken in the %s by another run; this run is recorded there as %s (its files keep %s)", want, s.Name(), got, want))
	}
}

// runWriter writes one run in one transaction: begin inserts the run's row under a
// provisional run id, account writes each account's rows as it comes, findings its
// findings, and finish the run-level rows (run gaps, scores, the inventory's head
// document, the accounts' order), claims the run id and brings the finding
// lifecycle to the run. It keeps no account once written: only what is needed to
// go on (positions, the checks' shared values, the accounts written).
type runWriter struct {
	s    *Store
	conn *sql.Conn // the transaction's connection on SQLite (beginRun), nil on PostgreSQL
	tx   *sql.Tx
	id   int64
	opts WriteOptions
	// gapN and findingN are the positions of the last gap and finding written.
	gapN, findingN int
	// accounts: the accounts written, with the position written (their arrival).
	accounts map[string]int
	// checks: what the findings of each check share, as written to finding_checks.
	checks map[string]sharedCheck
	// stmts are the run's prepared inserts, by their text (bulk.stmts).
	stmts map[string]*sql.Stmt
	// runID is the run id claimed by prepare ("" before).
	runID string
}

// bulk is Store.bulk in the run's transaction, its inserts prepared once for the run.
func (w *runWriter) bulk(table string, cols ...string) *bulk {
	b := w.s.bulk(w.tx, table, cols...)
	b.stmts = w.stmts
	return b
}

// sharedCheck is what every finding of a check shares (title, workflow, CIS,
// Security Hub controls, the remediation actions most of its findings have).
type sharedCheck struct {
	title, workflow, cis, hub, actions any
	cisList, hubList                   []string // what cis and hub encode
}

// runColumns are the columns of runs that begin inserts and finish sets, besides
// run_id and run_order.
var runColumns = []string{"command", "source", "tool", "tool_version", "inventory_schema", "started_at", "finished_at",
	"evaluated_at", "recorded_at", "aws_partition", "aws_region", "organization_id", "management_account_id",
	"caller_account_id", "caller_arn", "audit_role", "event_window_start", "event_window_end", "event_names", "complete",
	"interrupted", "baseline_run_id", "key_rotation_days", "settings", "files", "organization_arn"}

// runValues are the values of runColumns for o.
func (s *Store) runValues(o *outcome.Outcome, opts WriteOptions) []any {
	d := s.d
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
	return []any{o.Command, orDefault(opts.Source, SourceRun), orDefault(inv.Tool, "iamaudit"), inv.Version,
		orDefault(inv.Schema, inventory.Schema), d.ts(inv.StartedAt), d.ts(inv.FinishedAt), d.ts(o.Now), d.ts(s.clock()),
		ns(inv.Partition), ns(inv.Region), orgID, mgmt, callerAcct, callerARN, ns(inv.AuditRole),
		d.ts(inv.EventWindowStart), d.ts(inv.EventWindowEnd), js(orEmpty(inv.EventNames)), inv.Complete(), outcome.Interrupted(inv),
		baselineRun, o.Scores.KeyRotationDays, js(settings), filesValue(o), orgARN}
}

// filesValue is the runs.files value of o: its files' absolute paths, as JSON.
func filesValue(o *outcome.Outcome) string {
	files := []string{}
	for _, f := range o.Files {
		if abs, err := filepath.Abs(f); err == nil {
			f = abs // the store is read from anywhere
		}
		files = append(files, f)
	}
	return js(files)
}

// begin opens the run's transaction and inserts its row from the head (the
// inventory's run-level fields; its accounts are not read). The row's run id is
// provisional (pending-…, seen by no other transaction) until finish claims the
// run's id, and what is known only at the end (finish time, evaluation time,
// completeness, baseline, files) is set then.
func (s *Store) begin(ctx context.Context, head *inventory.Inventory, set outcome.Settings, opts WriteOptions) (*runWriter, error) {
	if head == nil {
		return nil, errors.New("nothing to record")
	}
	h := *head
	h.Accounts, h.Gaps = nil, nil
	now := s.clock()
	if h.StartedAt.IsZero() {
		h.StartedAt = now
	}
	if h.FinishedAt.IsZero() {
		h.FinishedAt = h.StartedAt
	}
	var nonce [8]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	provisional := "pending-" + hex.EncodeToString(nonce[:])
	conn, tx, err := s.beginRun(ctx)
	if err != nil {
		return nil, err
	}
	w := &runWriter{s: s, conn: conn, tx: tx, opts: opts, accounts: map[string]int{}, checks: map[string]sharedCheck{},
		stmts: map[string]*sql.Stmt{}}
	vals := append([]any{provisional, 0}, s.runValues(&outcome.Outcome{Command: outcome.CommandRun, Inventory: &h, Now: h.StartedAt, Settings: set}, opts)...)
	cols := append([]string{"run_id", "run_order"}, runColumns...)
	err = tx.QueryRowContext(ctx, s.d.q(`INSERT INTO runs (`+strings.Join(cols, ", ")+`) VALUES (`+placeholders(len(cols))+`) RETURNING id`),
		vals...).Scan(&w.id)
	if err != nil {
		w.rollback()
		return nil, err
	}
	return w, nil
}

// beginRun opens a run's transaction. On SQLite it is on a connection of its own
// whose foreign keys are off until the transaction ends (release): with them on,
// SQLite keeps a statement journal for every multi-row insert, in case a row
// failed its constraint after others went in (a temporary file written page by
// page: a tenth of a large run's store time), which INSERT OR FAIL (bulk) does not
// need. Every row the run writes references its own runs row, written first in the
// same transaction, and a failed statement fails the whole transaction, so the
// checks would find nothing; PostgreSQL checks them as ever.
func (s *Store) beginRun(ctx context.Context) (*sql.Conn, *sql.Tx, error) {
	if s.d != sqliteDialect {
		tx, err := s.db.BeginTx(ctx, nil)
		return nil, tx, err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		releaseConn(conn)
		return nil, nil, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		releaseConn(conn)
		return nil, nil, err
	}
	return conn, tx, nil
}

// releaseConn gives a run's connection back to the pool with its foreign keys on,
// or closes it for good when they are not on again. They are read back: inside a
// transaction the pragma does nothing and says nothing, and a transaction whose
// context was cancelled may not be rolled back yet when Rollback or Commit return.
func releaseConn(conn *sql.Conn) {
	ctx := context.Background()
	on := 0
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = ON`); err == nil {
		if err := conn.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&on); err != nil {
			on = 0
		}
	}
	if on != 1 {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // never back to the pool without them
	}
	_ = conn.Close()
}

// commit commits the run's transaction and releases its connection.
func (w *runWriter) commit() error {
	err := w.tx.Commit()
	w.release()
	return err
}

// rollback rolls the run's transaction back and releases its connection.
func (w *runWriter) rollback() {
	_ = w.tx.Rollback()
	w.release()
}

func (w *runWriter) release() {
	if w.conn != nil {
		releaseConn(w.conn)
		w.conn = nil
	}
}

// account writes one account's rows (the account, its root keys, users, access
// keys, MFA devices, events and gaps) and its inventory document. Its bulk
// inserts are flushed before it returns: nothing of the account stays in memory.
// encoded, when not nil, is json.Marshal(a) already made (outcome.Part.AccountJSON).
func (w *runWriter) account(ctx context.Context, a *inventory.Account, encoded []byte) error {
	if _, ok := w.accounts[a.ID]; ok {
		return fmt.Errorf("account %s recorded twice", a.ID)
	}
	ai := len(w.accounts)
	w.accounts[a.ID] = ai
	s, tx, id, d := w.s, w.tx, w.id, w.s.d
	accounts := w.bulk("accounts", "run", "account_id", "position", "name", "email", "state", "ou_path", "is_management", "status",
		"reason", "audited_as", "collected_at", "fully_audited", "credential_report_generated_at", "credential_report_reused",
		"credential_report_age_seconds", "fresh_key_data", "root_known", "root_arn", "root_mfa_active", "root_mfa_type",
		"root_password_last_used", "root_created_at", "password_policy_known", "password_policy", "summary", "api_calls",
		"root_credentials", "credential_report_check", "credential_report_changes_since", "credential_report_cloudtrail_complete_until",
		"credential_report_reread_sections", "credential_report_reread_reason", "credential_report_reread_users",
		"credential_report_unknown_users")
	rootKeys := w.bulk("root_access_keys", "run", "account_id", "slot", "active", "last_rotated", "last_used_at", "last_used_service", "last_used_region")
	users := w.bulk("users", "run", "account_id", "user_name", "position", "arn", "user_id", "path", "created_at", "password_enabled",
		"password_last_used", "password_last_changed", "mfa_active", "group_names", "tags", "attached_policies", "inline_policies", "permissions_boundary")
	keys := w.bulk("access_keys", "run", "account_id", "user_name", "position", "access_key_id", "status", "created_at", "last_used_at",
		"last_used_service", "last_used_region", "last_used_source", "slot")
	mfa := w.bulk("mfa_devices", "run", "account_id", "user_name", "position", "serial", "type", "enabled_at")
	events := w.bulk("events", "run", "account_id", "position", "event_id", "event_time", "event_name", "event_source",
		"username", "access_key_id", "error_code", "resources", "request_parameters",
		"error_message", "event_type", "user_type", "source_ip", "login_result", "mfa_used")
	gaps := w.gapsBulk()

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
		if err := w.addGap(ctx, gaps, "account", a.ID, g); err != nil {
			return err
		}
	}
	for _, b := range []*bulk{accounts, rootKeys, users, keys, mfa, events, gaps} {
		if err := b.flush(ctx); err != nil {
			return err
		}
	}
	var doc []byte
	var err error
	if encoded != nil {
		doc, err = compressEncoded(encoded)
	} else {
		doc, err = compress(a)
	}
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO run_account_documents (run, account_id, format, body) VALUES (?, ?, ?, ?)`),
		id, a.ID, AccountDocumentFormat, doc); err != nil {
		return fmt.Errorf("run_account_documents: %w", err)
	}
	s.step()
	return nil
}

func (w *runWriter) gapsBulk() *bulk {
	return w.bulk("gaps", "run", "position", "level", "account_id", "section", "subject", "operation", "error_code", "message", "unknown")
}

// addGap adds a gap of the run (level "run") or of the account owner.
func (w *runWriter) addGap(ctx context.Context, b *bulk, level, owner string, g inventory.Gap) error {
	acct := g.AccountID
	if level == "account" {
		acct = owner
	}
	w.gapN++
	return b.add(ctx, w.id, w.gapN, level, ns(acct), string(g.Section), ns(g.Subject), ns(g.Operation), ns(g.ErrorCode), g.Message,
		jsOpt(len(g.Unknown) > 0, g.Unknown))
}

// findings writes findings (open, suppressed and resolved ones) after those
// already written. What every finding of a check shares (title, workflow, CIS,
// Security Hub controls) is stored once per run in finding_checks, as the check's
// first finding written has it, and so are the remediation actions most of the
// check's findings in that first batch have (actions.go); a finding row repeats
// them only where it differs. Readers put findings back in checks.Sort order (a
// streamed run writes them account by account).
func (w *runWriter) findings(ctx context.Context, fs []checks.Finding) error {
	if len(fs) == 0 {
		return nil
	}
	id, d := w.id, w.s.d
	encoded := make([]string, len(fs))
	common := commonActions(fs, encoded)
	checkRows := w.bulk("finding_checks", "run", "check_id", "title", "remediation_workflow", "cis", "security_hub", "remediation_actions")
	b := w.bulk("findings", "run", "position", "finding_id", "check_id", "severity", "account_id", "account_name",
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
	for i, f := range fs {
		c, ok := w.checks[f.CheckID]
		mine := sharedCheck{title: f.Title, workflow: ns(f.Remediation.Workflow), actions: ns(encoded[i]), cisList: f.CIS, hubList: f.SecurityHub}
		if ok && slices.Equal(f.CIS, c.cisList) && slices.Equal(f.SecurityHub, c.hubList) {
			mine.cis, mine.hub = c.cis, c.hub // the check's lists, encoded once
		} else {
			mine.cis, mine.hub = jsOpt(len(f.CIS) > 0, f.CIS), jsOpt(len(f.SecurityHub) > 0, f.SecurityHub)
		}
		if !ok {
			c = mine
			c.actions = ns(common[f.CheckID])
			w.checks[f.CheckID] = c
			if err := checkRows.add(ctx, id, f.CheckID, c.title, c.workflow, c.cis, c.hub, c.actions); err != nil {
				return err
			}
		}
		w.findingN++
		if err := b.add(ctx, id, w.findingN, f.ID, f.CheckID, f.Severity.String(), f.AccountID, ns(f.AccountName),
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

// finish completes the run from its summary outcome o (its accounts may be
// summarised, its findings bounded: they are not read) and commits: it puts the
// accounts in o's order (writing those that came without their part: they must
// have nothing omitted), writes the run's gaps, the scores, the inventory's head
// document, claims the run id and brings the finding lifecycle to the run. It
// returns the run id stored.
func (w *runWriter) finish(ctx context.Context, o *outcome.Outcome) (string, error) {
	if w.runID == "" {
		if err := w.prepare(ctx, o); err != nil {
			return "", err
		}
	}
	// o's files are the ones written by now (prepare may have run while they were).
	if _, err := w.tx.ExecContext(ctx, w.s.d.q(`UPDATE runs SET files = ? WHERE id = ?`), filesValue(o), w.id); err != nil {
		return "", err
	}
	w.s.step()
	if err := w.commit(); err != nil {
		return "", err
	}
	return w.runID, nil
}

// prepare is what finish does before the run's files are known (o.Files is not
// read): the accounts in o's order, the run's gaps, scores and head document, the
// run id claimed and the finding lifecycle brought to the run.
func (w *runWriter) prepare(ctx context.Context, o *outcome.Outcome) error {
	if o == nil || o.Inventory == nil {
		return errors.New("nothing to record")
	}
	if _, err := RunOrder(o.Inventory.RunID); err != nil {
		return err
	}
	s, tx, d := w.s, w.tx, w.s.d
	inv := o.Inventory
	in := make(map[string]bool, len(inv.Accounts))
	for i := range inv.Accounts {
		a := &inv.Accounts[i]
		in[a.ID] = true
		pos, ok := w.accounts[a.ID]
		if !ok {
			if om := a.Omitted; om != nil && *om != (inventory.Omitted{}) {
				return fmt.Errorf("account %s: its part was never recorded and its summary omits %+v", a.ID, *om)
			}
			if err := w.account(ctx, a, nil); err != nil {
				return err
			}
			pos = w.accounts[a.ID]
		}
		if pos != i {
			if _, err := tx.ExecContext(ctx, d.q(`UPDATE accounts SET position = ? WHERE run = ? AND account_id = ?`), i, w.id, a.ID); err != nil {
				return err
			}
		}
	}
	for acct := range w.accounts {
		if !in[acct] {
			return fmt.Errorf("account %s was recorded but is not in the run's summary", acct)
		}
	}
	gaps := w.gapsBulk()
	for _, g := range inv.Gaps {
		if err := w.addGap(ctx, gaps, "run", "", g); err != nil {
			return err
		}
	}
	if err := gaps.flush(ctx); err != nil {
		return err
	}
	if err := s.writeScores(ctx, tx, w.id, o.Scores); err != nil {
		return err
	}
	head := *inv
	head.Accounts = nil
	doc, err := compress(&head)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO run_documents (run, format, body) VALUES (?, ?, ?)`), w.id, DocumentHeadFormat, doc); err != nil {
		return err
	}
	runID, order, err := w.claim(ctx, o)
	if err != nil {
		return err
	}
	if o.Command == outcome.CommandRun {
		if err := w.writeLifecycle(ctx, runID, order, o.Now); err != nil {
			return err
		}
	}
	w.runID = runID
	return nil
}

// claim gives the run's row its run id and what is known at the end (runValues of
// o): the outcome's run id, or its next free _N form when another run holds it.
// The id is claimed at the end of the write, as when a run was written whole: a
// run that takes it meanwhile (committed, or writing it now: PostgreSQL waits for
// that transaction) moves this one to the next id. Each try is under a savepoint,
// as a failed statement would abort a PostgreSQL transaction.
func (w *runWriter) claim(ctx context.Context, o *outcome.Outcome) (string, int64, error) {
	d := w.s.d
	vals := w.s.runValues(o, w.opts)
	set := make([]string, len(runColumns))
	for i, c := range runColumns {
		set[i] = c + " = ?"
	}
	stmt := d.q(`UPDATE runs SET run_id = ?, run_order = ?, ` + strings.Join(set, ", ") + ` WHERE id = ?`)
	runID := o.Inventory.RunID
	for {
		order, err := RunOrder(runID)
		if err != nil {
			return "", 0, fmt.Errorf("cannot record the run %s: every run id of that second is taken", o.Inventory.RunID)
		}
		var taken int
		if err := w.tx.QueryRowContext(ctx, d.q(`SELECT COUNT(*) FROM runs WHERE run_id = ?`), runID).Scan(&taken); err != nil {
			return "", 0, err
		}
		if taken > 0 {
			runID = nextRunID(runID)
			continue
		}
		if _, err := w.tx.ExecContext(ctx, `SAVEPOINT claim_run_id`); err != nil {
			return "", 0, err
		}
		_, err = w.tx.ExecContext(ctx, stmt, append(append([]any{runID, order}, vals...), w.id)...)
		if isUnique(err) {
			if _, err := w.tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT claim_run_id`); err != nil {
				return "", 0, err
			}
			runID = nextRunID(runID)
			continue
		}
		if err != nil {
			return "", 0, err
		}
		if _, err := w.tx.ExecContext(ctx, `RELEASE SAVEPOINT claim_run_id`); err != nil {
			return "", 0, err
		}
		return runID, order, nil
	}
}

// writeLifecycle brings finding_lifecycle to this run from its findings as
// stored: each of its findings is open (or suppressed) as of now, each finding it
// resolved is resolved now (of several rows with one finding id: the last open or
// suppressed one, else the first resolved one). A row that a newer run already
// updated is left alone (an import of an older run).
//
// It is one statement at the end of the run's transaction, inserting in finding id
// order across the whole run, so that two concurrent runs lock the rows in the same
// order and cannot deadlock, however their accounts arrived: a streamed run never
// touches finding_lifecycle while its accounts come in, only here. The database
// sorts the run's findings; nothing of them is held in memory.
//
// PostgreSQL picks each finding id's row with a window (an upsert there may not
// touch a row twice). SQLite upserts the rows of one statement one after the other,
// so there the rows are sorted once, each finding id's chosen row first, and the
// others change nothing (their run's order is not newer than the row's own, set by
// the first): one sort instead of two, half the time of this, the longest step of
// a large run's end.
func (w *runWriter) writeLifecycle(ctx context.Context, runID string, order int64, now time.Time) error {
	d := w.s.d
	cols := "finding_id, account_id, check_id, resource, severity, status, first_seen, last_seen, resolved_at, reopened, updated_run_id, updated_run_order"
	values := `finding_id, account_id, check_id, resource, severity,
		       CASE WHEN state = 'resolved' THEN 'resolved' WHEN suppressed OR state = 'suppressed' THEN 'suppressed' ELSE 'open' END,
		       COALESCE(first_seen, ?), COALESCE(last_seen, ?), resolved_at, reopened, ?, ?`
	// The chosen row of a finding id first: its last open or suppressed one, else its first resolved one.
	chosen := `CASE WHEN f.state = 'resolved' THEN 1 ELSE 0 END, CASE WHEN f.state = 'resolved' THEN f.position ELSE -f.position END`
	from := `FROM (SELECT f.finding_id, f.account_id, f.check_id, f.resource, f.severity, f.state, f.suppressed,
		             f.first_seen, f.last_seen, f.resolved_at, f.reopened,
		             ROW_NUMBER() OVER (PARTITION BY f.finding_id ORDER BY ` + chosen + `) AS n
		      FROM findings f WHERE f.run = ?) t
		WHERE n = 1
		ORDER BY finding_id`
	if d == sqliteDialect {
		from = `FROM findings f WHERE f.run = ? ORDER BY f.finding_id, ` + chosen
	}
	// WHERE before ON CONFLICT: SQLite's parser needs it (the upsert of an INSERT … SELECT).
	stmt := `INSERT INTO finding_lifecycle (` + cols + `)
		SELECT ` + values + `
		` + from + `
		ON CONFLICT (finding_id) DO UPDATE SET account_id = excluded.account_id, check_id = excluded.check_id,
			resource = excluded.resource, severity = excluded.severity, status = excluded.status,
			first_seen = excluded.first_seen, last_seen = excluded.last_seen, resolved_at = excluded.resolved_at,
			reopened = excluded.reopened, updated_run_id = excluded.updated_run_id, updated_run_order = excluded.updated_run_order
			WHERE finding_lifecycle.updated_run_order < excluded.updated_run_order`
	if _, err := w.tx.ExecContext(ctx, d.q(stmt), d.ts(now), d.ts(now), runID, order, w.id); err != nil {
		return fmt.Errorf("finding_lifecycle: %w", err)
	}
	w.s.step()
	return nil
}

// compressEncoded is compress of a value whose json.Marshal is encoded.
func compressEncoded(encoded []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := newGzip(&buf)
	defer putGzip(zw)
	if _, err := zw.Write(encoded); err != nil {
		return nil, err
	}
	if _, err := zw.Write([]byte{'\n'}); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// compress is v as gzip-compressed JSON (a document): its json.Marshal and a
// newline, as json.Encoder writes it.
func compress(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return compressEncoded(b)
}

// gzipWriters are reused: a compressor's state is about a MiB to allocate, and a run
// compresses a document per account.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

// putGzip returns zw to the pool, holding no document.
func putGzip(zw *gzip.Writer) {
	zw.Reset(io.Discard)
	gzipWriters.Put(zw)
}

// newGzip is a pooled gzip writer (BestSpeed) writing to w; put it back when done.
func newGzip(w io.Writer) *gzip.Writer {
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(w)
	return zw
}
