package remediate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/fix/awscli"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/store"
)

// Confirmer asks the operator.
type Confirmer interface {
	// Accounts confirms acting in these accounts (the operator types each account's
	// name or alias); an error refuses, and nothing is done.
	Accounts(ctx context.Context, accounts []AccountRef) error
	// NewKey asks whether the new key works, before rotate-key deactivates the old one.
	NewKey(ctx context.Context, it *Item, newKeyID string) (bool, error)
}

// AccountRef is an account as the confirmation names it.
type AccountRef struct {
	ID      string
	Name    string
	Aliases []string
}

// SecretSink receives the secrets of the keys rotate-key creates: a file the operator
// names, created owner-only and never over an existing file (secret.go).
type SecretSink interface {
	Open() error
	Write(accountID, user, keyID, secret string) error
	Name() string
	Close() error
}

// ApplyOptions configure Apply.
type ApplyOptions struct {
	Journal   Journal
	Connector *Connector
	Config    Config
	Clock     func() time.Time
	// Execute acts; without it Apply is a dry run: it reads, checks and shows, and
	// changes nothing (the default of `remediate apply`).
	Execute bool
	// Force lets deactivate-key act on a key used in the last RecentUseDays, and
	// rotate-key deactivate an old key used after the new one was made.
	Force   bool
	Confirm Confirmer
	Secrets SecretSink
	// Run is the stored run the plan was made from (the plan must match it).
	Run *outcome.Outcome
	Out io.Writer
	// JournalID is the new journal's id; with Resume, the journal to continue.
	JournalID   string
	Resume      bool
	ToolVersion string
	// Hook, in tests, is called at "before-call" and "between-actions".
	Hook func(point string, item, action int)
}

// Item statuses of a Report.
const (
	ItemReady    = "ready"   // dry run: would act
	ItemApplied  = "applied" // every action done
	ItemNothing  = "nothing-to-do"
	ItemRefused  = "refused"
	ItemPending  = "pending" // rotate-key: waiting for the owner's confirmation
	ItemFailed   = "failed"
	ItemNotDone  = "not-reached" // the apply stopped before it
	ItemPartial  = "partial"     // some actions done, then refused
	ItemComplete = "complete"    // done by an earlier run of the same journal
)

// Report is what an apply did, item by item.
type Report struct {
	JournalID string
	Executed  bool
	Items     []ItemReport
	// Stopped is the unexpected error the apply stopped at ("" when none).
	Stopped string
}

// ItemReport is one item's outcome.
type ItemReport struct {
	N        int
	Workflow Workflow
	Status   string
	Guard    string
	Reason   string
	// Steps are the actions to do (dry run) or done, as CLI text.
	Steps []string
	// NewKeyID is rotate-key's new key.
	NewKeyID string
}

// Count is the number of items with the status.
func (r *Report) Count(status string) int {
	n := 0
	for _, it := range r.Items {
		if it.Status == status {
			n++
		}
	}
	return n
}

// applier is one apply's state.
type applier struct {
	opts    ApplyOptions
	plan    *Plan
	caller  Caller
	now     func() time.Time
	w       *writer
	report  *Report
	done    map[[2]int]bool // resume: (item, action) already done
	failed  map[string]bool // account/user whose item was refused, failed or is pending
	resumed *record         // the journal a resumed apply continues
}

// verdict is what the checks before an item or action decided.
type verdict struct {
	refusal  *Refusal
	nothing  string // the goal is already reached: why
	evidence any
	snapshot *snapshotDetail
	actions  []fix.Action // delete-user: the chain expanded from the live configuration
}

// Apply checks the plan, reads the evidence again, shows what it would do, and with
// Execute asks for the confirmation and acts, journaling before and after each call.
// It stops at the first unexpected error; a guard rail's refusal skips the item.
func Apply(ctx context.Context, p *Plan, opts ApplyOptions) (*Report, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	a := &applier{opts: opts, plan: p, now: opts.Clock, report: &Report{Executed: opts.Execute},
		done: map[[2]int]bool{}, failed: map[string]bool{}}
	if r := checkPlanAge(p, opts.Config, a.now()); r != nil && !opts.Resume {
		return a.report, r
	}
	if r := checkIntegrity(p, opts.Run); r != nil {
		return a.report, r
	}
	c := opts.Connector
	if opts.Config.isAuditRole(c.Role, p.AuditRole) {
		return a.report, refuse(GuardAuditRole, "--role %s is the read-only audit role: remediation acts through its own role (default %s; docs/remediation.md)", c.Role, DefaultRole)
	}
	caller, err := c.Caller(ctx)
	if err != nil {
		return a.report, err
	}
	a.caller = caller
	if caller.RoleName != "" && opts.Config.isAuditRole(caller.RoleName, p.AuditRole) {
		return a.report, refuse(GuardAuditRole, "iamaudit is signed in as the audit role (%s): remediate with the management account's credentials", caller.ARN)
	}
	// Sessions first: an account that cannot be entered stops the apply before anything changes.
	sessions := map[string]*Session{}
	for _, it := range p.Items {
		if _, ok := sessions[it.AccountID]; ok {
			continue
		}
		s, err := c.Account(ctx, it.AccountID, caller)
		if err != nil {
			return a.report, err
		}
		if s.Own && opts.Config.isAuditRole(caller.RoleName, p.AuditRole) || opts.Config.isAuditRole(s.RoleName, p.AuditRole) {
			return a.report, refuse(GuardAuditRole, "the session in %s is the audit role's", it.AccountID)
		}
		sessions[it.AccountID] = s
	}
	if opts.Resume {
		if err := a.loadResume(ctx); err != nil {
			return a.report, err
		}
	}
	// A key to create needs the file its secret goes to (a resumed rotation whose key
	// exists does not).
	needsSecret := slices.ContainsFunc(p.Items, func(it Item) bool { return it.Workflow == RotateKey && !a.done[[2]int{it.N, 1}] })
	if needsSecret && opts.Secrets == nil && opts.Execute {
		return a.report, errors.New("the plan rotates keys: name the file that receives the new secrets with --secret-file FILE (created owner-only; the secret is never printed, logged or stored)")
	}
	fmt.Fprintf(opts.Out, "Plan %s from run %s, made %s: %d item(s); acting as %s\n", p.ID, p.RunID, p.CreatedAt.Format(time.RFC3339), len(p.Items), caller.ARN)
	verdicts := make([]verdict, len(p.Items))
	var ready []int
	for i := range p.Items {
		it := &p.Items[i]
		v := a.checkItem(ctx, sessions[it.AccountID], it, a.firstUndone(it))
		verdicts[i] = v
		ir := ItemReport{N: it.N, Workflow: it.Workflow}
		switch {
		case a.itemDone(it):
			ir.Status = ItemComplete
		case v.err() != nil:
			return a.report, v.err()
		case v.refusal != nil:
			ir.Status, ir.Guard, ir.Reason = ItemRefused, v.refusal.Guard, v.refusal.Reason
			a.failed[it.AccountID+"/"+it.User] = true
		case v.nothing != "":
			ir.Status, ir.Reason = ItemNothing, v.nothing
		default:
			ir.Status = ItemReady
			ready = append(ready, i)
		}
		acts := it.Actions
		if v.actions != nil {
			acts = v.actions
		}
		ir.Steps = awscli.Commands(acts)
		a.report.Items = append(a.report.Items, ir)
		printItem(opts.Out, it, ir)
	}
	if !opts.Execute {
		fmt.Fprintf(opts.Out, "Dry run: nothing was changed. %d item(s) ready; run again with --execute to apply them.\n", len(ready))
		return a.report, nil
	}
	if len(ready) == 0 {
		fmt.Fprintln(opts.Out, "Nothing to apply.")
		return a.report, nil
	}
	if err := opts.Confirm.Accounts(ctx, a.accountsOf(ctx, ready, sessions)); err != nil {
		return a.report, err
	}
	if err := a.begin(ctx, sessions); err != nil {
		return a.report, err
	}
	// What the guard rails refused before confirming is journaled too.
	for i := range p.Items {
		if ir := a.report.Items[i]; ir.Status == ItemRefused {
			if err := a.w.add(ctx, withMsg(entryFor(KindRefused, &p.Items[i], 0, nil), ir.Guard, ir.Reason), verdicts[i].evidence); err != nil {
				return a.report, err
			}
		}
	}
	if needsSecret && opts.Secrets != nil {
		if err := opts.Secrets.Open(); err != nil {
			return a.report, a.stop(ctx, fmt.Errorf("cannot create the secret file: %w; nothing was changed", err))
		}
		defer opts.Secrets.Close()
	}
	for _, i := range ready {
		it := &p.Items[i]
		ir := &a.report.Items[i]
		if err := a.applyItem(ctx, sessions[it.AccountID], it, ir, verdicts[i]); err != nil {
			for _, j := range ready {
				if j > i && a.report.Items[j].Status == ItemReady {
					a.report.Items[j].Status = ItemNotDone
				}
			}
			return a.report, a.stop(ctx, err)
		}
	}
	return a.report, a.end(ctx)
}

func (v verdict) err() error {
	if e, ok := v.evidence.(error); ok {
		return e
	}
	return nil
}

func errVerdict(err error) verdict { return verdict{evidence: err} }

func printItem(w io.Writer, it *Item, ir ItemReport) {
	key := ""
	if it.AccessKeyID != "" {
		key = "  " + it.AccessKeyID
	}
	fmt.Fprintf(w, "%3d. %-14s %s (%s)  %s%s\n", it.N, it.Workflow, it.AccountName, it.AccountID, it.User, key)
	if it.Reason != "" {
		fmt.Fprintf(w, "     why:   %s\n", it.Reason)
	}
	owners := []string{}
	for _, t := range it.Owner {
		owners = append(owners, t.Key+"="+t.Value)
	}
	if len(owners) == 0 {
		owners = append(owners, "unknown (no Owner, Team or Email tag)")
	}
	fmt.Fprintf(w, "     owner: %s\n", strings.Join(owners, " "))
	if k := it.Evidence.Key; k != nil {
		fmt.Fprintf(w, "     use:   last used %s\n", fmtUse(*k))
	} else if it.Evidence.Console {
		fmt.Fprintf(w, "     use:   console password last used %s\n", fmtTime(it.Evidence.PasswordLastUsed))
	}
	for _, s := range ir.Steps {
		fmt.Fprintf(w, "     $ %s\n", s)
	}
	if ir.Status == "" {
		return
	}
	status := ir.Status
	if ir.Guard != "" {
		status += " (" + ir.Guard + ")"
	}
	if ir.Reason != "" {
		status += ": " + ir.Reason
	}
	fmt.Fprintf(w, "     now:   %s\n", status)
}

func (a *applier) accountsOf(ctx context.Context, ready []int, sessions map[string]*Session) []AccountRef {
	var out []AccountRef
	seen := map[string]bool{}
	for _, i := range ready {
		it := a.plan.Items[i]
		if seen[it.AccountID] {
			continue
		}
		seen[it.AccountID] = true
		ref := AccountRef{ID: it.AccountID, Name: it.AccountName}
		if al, err := sessions[it.AccountID].Aliases(ctx); err == nil {
			ref.Aliases = al
		}
		out = append(out, ref)
	}
	return out
}

func (a *applier) begin(ctx context.Context, sessions map[string]*Session) error {
	a.w = &writer{j: a.opts.Journal, id: a.opts.JournalID, phase: PhaseApply, clock: a.now}
	a.report.JournalID = a.opts.JournalID
	d := beginDetail{Plan: a.plan, PlanDigest: a.plan.Digest(), Caller: a.caller, Role: a.opts.Connector.Role, Force: a.opts.Force,
		Config: a.opts.Config, Resumes: a.opts.Resume, ToolVersion: a.opts.ToolVersion}
	if a.opts.Secrets != nil {
		d.SecretFile = a.opts.Secrets.Name()
	}
	msg := "apply plan " + a.plan.ID
	if a.opts.Resume {
		msg = "resume plan " + a.plan.ID
	}
	if err := a.w.add(ctx, store.JournalEntry{Kind: KindBegin, Message: msg}, d); err != nil {
		return err
	}
	for _, acct := range sortedKeys(sessions) {
		s := sessions[acct]
		if err := a.w.add(ctx, store.JournalEntry{Kind: KindSession, AccountID: acct, Message: s.ARN},
			sessionDetail{ARN: s.ARN, AccessKeyID: s.AccessKeyID, Own: s.Own}); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.opts.Out, "Journal %s (iamaudit remediate verify %s; iamaudit remediate rollback %s)\n", a.w.id, a.w.id, a.w.id)
	return nil
}

// stop journals the error the apply stops at.
func (a *applier) stop(ctx context.Context, err error) error {
	a.report.Stopped = err.Error()
	if a.w != nil {
		if jerr := a.w.add(ctx, store.JournalEntry{Kind: KindStopped, Status: StatusFailed, Message: err.Error()}, nil); jerr != nil {
			return errors.Join(err, jerr)
		}
	}
	return fmt.Errorf("stopped: %w (journal %s holds what was done)", err, a.opts.JournalID)
}

func (a *applier) end(ctx context.Context) error {
	counts := map[string]int{}
	for _, it := range a.report.Items {
		counts[it.Status]++
	}
	fmt.Fprintf(a.opts.Out, "Applied %d, refused %d, pending %d, nothing to do %d. Journal %s.\n",
		counts[ItemApplied], counts[ItemRefused]+counts[ItemPartial], counts[ItemPending], counts[ItemNothing], a.w.id)
	return a.w.add(ctx, store.JournalEntry{Kind: KindEnd, Status: StatusOK, Message: fmt.Sprintf("%v", counts)}, counts)
}

// applyItem runs an item's actions, each checked again just before it runs.
func (a *applier) applyItem(ctx context.Context, s *Session, it *Item, ir *ItemReport, pre verdict) error {
	actions := it.Actions
	if pre.actions != nil {
		actions = pre.actions
	}
	if pre.snapshot != nil {
		if err := a.w.add(ctx, entryFor(KindSnapshot, it, 0, nil), pre.snapshot); err != nil {
			return err
		}
	}
	userKey := it.AccountID + "/" + it.User
	var newKey string
	ir.Status = ItemApplied
	for n, act := range actions {
		n := n + 1
		if a.done[[2]int{it.N, n}] {
			continue
		}
		if it.Workflow == RotateKey && act.API == fix.IAMUpdateAccessKey {
			if newKey == "" {
				newKey = a.resumedNewKey(it)
			}
			ok, err := a.gate(ctx, it, newKey)
			if err != nil {
				return err
			}
			if !ok {
				ir.Status, ir.Guard = ItemPending, GuardNewKeyUnconfirm
				ir.Reason = fmt.Sprintf("the old key %s stays Active until you confirm the new key %s works: iamaudit remediate apply --execute --resume %s PLAN", it.AccessKeyID, newKey, a.w.id)
				a.failed[userKey] = true
				return nil
			}
		}
		v := a.checkItem(ctx, s, it, &checkAt{n: n, action: act, newKey: newKey})
		if err := v.err(); err != nil {
			return err
		}
		if v.refusal != nil {
			if err := a.w.add(ctx, withMsg(entryFor(KindRefused, it, n, &act), v.refusal.Guard, v.refusal.Reason), v.evidence); err != nil {
				return err
			}
			ir.Status, ir.Guard, ir.Reason = ItemRefused, v.refusal.Guard, v.refusal.Reason
			if n > 1 {
				ir.Status = ItemPartial
			}
			a.failed[userKey] = true
			fmt.Fprintf(a.opts.Out, "  item %d action %d refused (%s): %s\n", it.N, n, v.refusal.Guard, v.refusal.Reason)
			return nil
		}
		if v.nothing != "" {
			if err := a.w.add(ctx, withMsg(entryFor(KindNothing, it, n, &act), "", v.nothing), v.evidence); err != nil {
				return err
			}
			if len(actions) == 1 {
				ir.Status, ir.Reason = ItemNothing, v.nothing
			}
			continue
		}
		res, err := a.call(ctx, s, it, n, act, v.evidence)
		if err != nil {
			ir.Status, ir.Reason = ItemFailed, err.Error()
			a.failed[userKey] = true
			return err
		}
		if res.NewKeyID != "" {
			newKey, ir.NewKeyID = res.NewKeyID, res.NewKeyID
		}
		if a.opts.Hook != nil {
			a.opts.Hook("between-actions", it.N, n)
		}
	}
	return nil
}

func withMsg(e store.JournalEntry, status, msg string) store.JournalEntry {
	e.Status, e.Message = status, msg
	return e
}

// call journals, runs and journals one change.
func (a *applier) call(ctx context.Context, s *Session, it *Item, n int, act fix.Action, evidence any) (callResult, error) {
	cmd := awscli.Command(act)
	if err := a.w.add(ctx, withMsg(entryFor(KindBefore, it, n, &act), "", cmd),
		actionDetail{Workflow: it.Workflow, Action: act, Command: cmd, Evidence: evidence}); err != nil {
		return callResult{}, err
	}
	if a.opts.Hook != nil {
		a.opts.Hook("before-call", it.N, n)
	}
	res, secret, err := s.do(ctx, act)
	if err != nil && it.Workflow == DeleteUser && isNotFound(err) && act.API != fix.IAMDeleteUser {
		res.Gone, err = true, nil // removed meanwhile: what the step wanted
	}
	if err != nil {
		d := actionDetail{Workflow: it.Workflow, Action: act, Error: err.Error(), ErrorCode: errorCode(err)}
		if jerr := a.w.add(ctx, withMsg(entryFor(KindAfter, it, n, &act), StatusFailed, shortError(err)), d); jerr != nil {
			return res, errors.Join(err, jerr)
		}
		return res, fmt.Errorf("item %d (%s %s) action %d %s: %s", it.N, it.Workflow, it.User, n, apiName(act.API), shortError(err))
	}
	if secret != "" {
		// The secret goes to the operator's file and nowhere else; a key whose secret
		// could not be kept is of no use to anyone and is deleted at once.
		if werr := a.opts.Secrets.Write(it.AccountID, it.User, res.NewKeyID, secret); werr != nil {
			secret = ""
			d := actionDetail{Workflow: it.Workflow, Action: act, Result: &res, Error: "secret not saved: " + werr.Error()}
			_ = a.w.add(ctx, withMsg(entryFor(KindAfter, it, n, &act), StatusOK, "created "+res.NewKeyID+", but its secret could not be saved"), d)
			del := fix.Action{Kind: fix.Change, API: fix.IAMDeleteAccessKey, Partition: act.Partition, Region: act.Region, Credentials: act.Credentials,
				Resource: fix.Resource{AccountID: it.AccountID, UserName: it.User, AccessKeyID: res.NewKeyID}}
			if _, derr := a.call(ctx, s, it, n+100, del, nil); derr != nil {
				return res, fmt.Errorf("the new key %s's secret could not be saved (%v), and deleting the key failed: %w", res.NewKeyID, werr, derr)
			}
			return res, fmt.Errorf("the new key %s's secret could not be saved in %s (%v): the key was deleted again", res.NewKeyID, a.opts.Secrets.Name(), werr)
		}
		secret = ""
		fmt.Fprintf(a.opts.Out, "  item %d: new access key %s for %s; its secret is in %s (nowhere else)\n", it.N, res.NewKeyID, it.User, a.opts.Secrets.Name())
	}
	msg := "ok"
	if res.Gone {
		msg = "already gone"
	}
	if err := a.w.add(ctx, withMsg(entryFor(KindAfter, it, n, &act), StatusOK, msg),
		actionDetail{Workflow: it.Workflow, Action: act, Command: cmd, Result: &res}); err != nil {
		return res, err
	}
	fmt.Fprintf(a.opts.Out, "  item %d action %d done: %s\n", it.N, n, cmd)
	return res, nil
}

// gate asks the owner to confirm the new key works (resuming is the confirmation).
func (a *applier) gate(ctx context.Context, it *Item, newKey string) (bool, error) {
	ok := a.opts.Resume && newKey != ""
	if !ok {
		var err error
		ok, err = a.opts.Confirm.NewKey(ctx, it, newKey)
		if err != nil {
			return false, err
		}
	}
	status, msg := StatusPending, "waiting for the owner to confirm the new key "+newKey+" works"
	if ok {
		status, msg = StatusConfirmed, "the new key "+newKey+" works (confirmed)"
	}
	return ok, a.w.add(ctx, withMsg(entryFor(KindGate, it, 0, nil), status, msg), map[string]string{"new_access_key_id": newKey})
}

// itemDone tells (on resume) whether every action of the item is done.
func (a *applier) itemDone(it *Item) bool {
	if !a.opts.Resume || len(it.Actions) == 0 || it.Workflow == DeleteUser {
		return false
	}
	for n := range it.Actions {
		if !a.done[[2]int{it.N, n + 1}] {
			return false
		}
	}
	return true
}

// firstUndone is, on resume, the item's first action not done yet (nil otherwise:
// the whole item is checked as for its first action).
func (a *applier) firstUndone(it *Item) *checkAt {
	if !a.opts.Resume || it.Workflow == DeleteUser {
		return nil
	}
	for n, act := range it.Actions {
		if !a.done[[2]int{it.N, n + 1}] {
			if n == 0 {
				return nil
			}
			return &checkAt{n: n + 1, action: act, newKey: a.resumedNewKey(it)}
		}
	}
	return nil
}

// resumedNewKey is the key an earlier run of the journal created for the item.
func (a *applier) resumedNewKey(it *Item) string {
	r := a.resumed
	if r == nil {
		return ""
	}
	for _, s := range r.steps(PhaseApply) {
		if s.item == it.N && s.result.Result != nil && s.result.Result.NewKeyID != "" && s.state() == StatusOK {
			return s.result.Result.NewKeyID
		}
	}
	return ""
}
