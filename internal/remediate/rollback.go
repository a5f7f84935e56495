package remediate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/fix/awscli"
	"github.com/iamaudit/iamaudit/internal/store"
)

// RollbackOptions configure Rollback.
type RollbackOptions struct {
	Journal   Journal
	Connector *Connector
	Config    Config
	Clock     func() time.Time
	Execute   bool
	Confirm   Confirmer
	Out       io.Writer
	// Hook, in tests, is called at "before-call".
	Hook func(point string, item, action int)
}

// Undo is one step of a rollback: the apply step it undoes and how.
type Undo struct {
	Item, Action int
	// Undoes is the apply action; Do the inverse (nil when there is none).
	Undoes fix.Action
	Do     *fix.Action
	// Status: ready, done, nothing-to-do, manual (cannot be undone: Note says what to
	// do instead), not-applied (the apply step had not taken effect), failed.
	Status string
	Note   string
}

// Undo statuses.
const (
	UndoReady      = "ready"
	UndoDone       = "done"
	UndoNothing    = "nothing-to-do"
	UndoManual     = "manual"
	UndoNotApplied = "not-applied"
	UndoFailed     = "failed"
	UndoDoneBefore = "undone-before" // an earlier rollback of this journal did it
)

// RollbackReport is what a rollback did (or, in a dry run, would do).
type RollbackReport struct {
	JournalID string
	Executed  bool
	Undos     []Undo
	Stopped   string
}

// Rollback undoes what a journal's apply did and can be undone, newest first:
// reactivate keys, remove RequireMFAPolicy (or put it back), deactivate a rotated-in
// key, recreate a deleted user with its path, tags, groups, policies and boundary. It
// says clearly what cannot come back (deleted keys, passwords, MFA devices and other
// credentials). A step the apply began but the journal has no answer for (the process
// was killed) is read fresh to tell whether it took effect. Without Execute it only
// shows what it would do.
func Rollback(ctx context.Context, journalID string, opts RollbackOptions) (*RollbackReport, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	rep := &RollbackReport{JournalID: journalID, Executed: opts.Execute}
	r, err := readRecord(ctx, opts.Journal, journalID)
	if err != nil {
		return rep, err
	}
	c := opts.Connector
	if c.Partition == "" && r.begin.Plan != nil {
		c.Partition, c.Region = r.begin.Plan.Partition, r.begin.Plan.Region
	}
	auditRole := ""
	if r.begin.Plan != nil {
		auditRole = r.begin.Plan.AuditRole
	}
	if opts.Config.isAuditRole(c.Role, auditRole) {
		return rep, refuse(GuardAuditRole, "--role %s is the read-only audit role: roll back through the remediation role", c.Role)
	}
	caller, err := c.Caller(ctx)
	if err != nil {
		return rep, err
	}
	undone := map[[2]int]bool{}
	for _, s := range r.steps(PhaseRollback) {
		if s.state() == StatusOK && s.detail.Undoes != nil {
			undone[[2]int{s.detail.Undoes.Item, s.detail.Undoes.Action}] = true
		}
	}
	applied := r.steps(PhaseApply)
	sessions := map[string]*Session{}
	for i := len(applied) - 1; i >= 0; i-- {
		st := applied[i]
		a := st.detail.Action
		u := Undo{Item: st.item, Action: st.action, Undoes: a}
		acct := a.Resource.AccountID
		s, ok := sessions[acct]
		if !ok {
			if s, err = c.Account(ctx, acct, caller); err != nil {
				return rep, err
			}
			if opts.Config.isAuditRole(s.RoleName, auditRole) {
				return rep, refuse(GuardAuditRole, "the session in %s is the audit role's", acct)
			}
			sessions[acct] = s
		}
		if undone[[2]int{st.item, st.action}] {
			u.Status = UndoDoneBefore
			rep.Undos = append(rep.Undos, u)
			continue
		}
		switch st.state() {
		case StatusFailed:
			continue // AWS refused the call: nothing to undo
		case "uncertain":
			since := st.before.RecordedAt
			state, _, err := s.effect(ctx, a, nil, since)
			if err != nil {
				return rep, err
			}
			if state != InEffect {
				u.Status, u.Note = UndoNotApplied, "the apply was interrupted during this call, and a fresh read shows it did not take effect"
				rep.Undos = append(rep.Undos, u)
				continue
			}
		}
		if err := inverse(ctx, s, r, st, &u); err != nil {
			return rep, err
		}
		rep.Undos = append(rep.Undos, u)
	}
	printUndos(opts.Out, rep)
	ready := 0
	var refs []AccountRef
	seen := map[string]bool{}
	for _, u := range rep.Undos {
		if u.Status == UndoReady {
			ready++
			if acct := u.Do.Resource.AccountID; !seen[acct] {
				seen[acct] = true
				refs = append(refs, accountRef(ctx, r, acct, sessions[acct]))
			}
		}
	}
	if !opts.Execute {
		fmt.Fprintf(opts.Out, "Dry run: nothing was changed. %d step(s) to undo; run again with --execute to roll back.\n", ready)
		return rep, nil
	}
	if ready == 0 {
		fmt.Fprintln(opts.Out, "Nothing to roll back.")
		return rep, nil
	}
	if err := opts.Confirm.Accounts(ctx, refs); err != nil {
		return rep, err
	}
	w := &writer{j: opts.Journal, id: journalID, phase: PhaseRollback, clock: opts.Clock}
	if err := w.add(ctx, store.JournalEntry{Kind: KindBegin, Message: "rollback of journal " + journalID},
		map[string]any{"caller": caller, "role": c.Role}); err != nil {
		return rep, err
	}
	for acct, s := range sessions {
		if err := w.add(ctx, store.JournalEntry{Kind: KindSession, AccountID: acct, Message: s.ARN},
			sessionDetail{ARN: s.ARN, AccessKeyID: s.AccessKeyID, Own: s.Own}); err != nil {
			return rep, err
		}
	}
	for i := range rep.Undos {
		u := &rep.Undos[i]
		switch u.Status {
		case UndoManual:
			if err := w.add(ctx, withMsg(undoEntry(KindManual, u, &u.Undoes), "", u.Note), nil); err != nil {
				return rep, err
			}
			continue
		case UndoReady:
		default:
			continue
		}
		s := sessions[u.Do.Resource.AccountID]
		d := actionDetail{Action: *u.Do, Command: awscli.Command(*u.Do), Undoes: &actionRef{Item: u.Item, Action: u.Action}}
		if err := w.add(ctx, withMsg(undoEntry(KindBefore, u, u.Do), "", d.Command), d); err != nil {
			return rep, err
		}
		if opts.Hook != nil {
			opts.Hook("before-call", u.Item, u.Action)
		}
		res, _, err := s.do(ctx, *u.Do)
		if err != nil {
			u.Status = UndoFailed
			d.Error, d.ErrorCode = err.Error(), errorCode(err)
			jerr := w.add(ctx, withMsg(undoEntry(KindAfter, u, u.Do), StatusFailed, shortError(err)), d)
			rep.Stopped = err.Error()
			_ = w.add(ctx, store.JournalEntry{Kind: KindStopped, Status: StatusFailed, Message: err.Error()}, nil)
			return rep, errors.Join(fmt.Errorf("rollback stopped at item %d action %d (%s): %s", u.Item, u.Action, apiName(u.Do.API), shortError(err)), jerr)
		}
		d.Result = &res
		if err := w.add(ctx, withMsg(undoEntry(KindAfter, u, u.Do), StatusOK, "ok"), d); err != nil {
			return rep, err
		}
		u.Status = UndoDone
		fmt.Fprintf(opts.Out, "  undone item %d action %d: %s\n", u.Item, u.Action, d.Command)
	}
	return rep, w.add(ctx, store.JournalEntry{Kind: KindEnd, Status: StatusOK, Message: "rollback done"}, nil)
}

func accountRef(ctx context.Context, r *record, acct string, s *Session) AccountRef {
	ref := AccountRef{ID: acct}
	if r.begin.Plan != nil {
		for _, it := range r.begin.Plan.Items {
			if it.AccountID == acct {
				ref.Name = it.AccountName
			}
		}
	}
	if s != nil {
		if al, err := s.Aliases(ctx); err == nil {
			ref.Aliases = al
		}
	}
	if ref.Name == "" {
		ref.Name = acct
	}
	return ref
}

func undoEntry(kind string, u *Undo, a *fix.Action) store.JournalEntry {
	e := store.JournalEntry{Kind: kind, Item: u.Item, Action: u.Action}
	if a != nil {
		e.API, e.AccountID, e.UserName, e.AccessKeyID = apiName(a.API), a.Resource.AccountID, a.Resource.UserName, a.Resource.AccessKeyID
	}
	return e
}

func printUndos(w io.Writer, rep *RollbackReport) {
	fmt.Fprintf(w, "Rollback of journal %s, newest step first:\n", rep.JournalID)
	for _, u := range rep.Undos {
		what := awscli.Command(u.Undoes)
		fmt.Fprintf(w, "  item %d action %d: %s\n", u.Item, u.Action, what)
		switch u.Status {
		case UndoReady:
			fmt.Fprintf(w, "      undo: $ %s\n", awscli.Command(*u.Do))
		default:
			fmt.Fprintf(w, "      %s: %s\n", u.Status, u.Note)
		}
	}
}

// inverse decides how to undo one applied step, from the step, the journal's snapshot
// of the item and a fresh read.
func inverse(ctx context.Context, s *Session, r *record, st *step, u *Undo) error {
	a := st.detail.Action
	user := a.Resource.UserName
	do := func(api fix.API, res fix.Resource, p fix.Params) {
		inv := fix.Action{Kind: fix.Change, API: api, Partition: a.Partition, Region: a.Region, Credentials: a.Credentials, Resource: res, Params: p}
		u.Do, u.Status = &inv, UndoReady
	}
	manual := func(format string, args ...any) {
		u.Status, u.Note = UndoManual, fmt.Sprintf(format, args...)
	}
	nothing := func(note string) { u.Status, u.Note = UndoNothing, note }
	snap := r.snapshot(st.item)
	switch a.API {
	case fix.IAMUpdateAccessKey:
		k, found, err := s.liveKey(ctx, user, a.Resource.AccessKeyID)
		if err != nil && !isNotFound(err) {
			return err
		}
		back := "Active"
		if !strings.EqualFold(a.Params.Status, "Inactive") {
			back = "Inactive"
		}
		switch {
		case !found:
			manual("the key %s was deleted since: it cannot come back", a.Resource.AccessKeyID)
		case strings.EqualFold(k.Status, back):
			nothing("the key is " + back + " already")
		default:
			do(fix.IAMUpdateAccessKey, a.Resource, fix.Params{Status: back})
		}
	case fix.IAMCreateAccessKey:
		newKey := ""
		if st.result.Result != nil {
			newKey = st.result.Result.NewKeyID
		}
		if newKey == "" {
			_, found, err := s.effect(ctx, a, nil, st.before.RecordedAt)
			if err != nil {
				return err
			}
			newKey = found
		}
		if newKey == "" {
			nothing("no key made by this step exists")
			break
		}
		k, found, err := s.liveKey(ctx, user, newKey)
		if err != nil {
			return err
		}
		switch {
		case !found:
			nothing("the new key " + newKey + " is deleted already")
		case !strings.EqualFold(k.Status, "Active"):
			nothing("the new key " + newKey + " is Inactive already")
		default:
			res := a.Resource
			res.AccessKeyID = newKey
			do(fix.IAMUpdateAccessKey, res, fix.Params{Status: "Inactive"})
			u.Note = "the new key is deactivated, not deleted: delete it with delete-key once nothing uses it"
		}
	case fix.IAMPutUserPolicy:
		doc, found, err := s.liveInline(ctx, user, a.Params.PolicyName)
		if err != nil {
			return err
		}
		want, _ := a.Params.Document.Text()
		switch {
		case !found:
			nothing(a.Params.PolicyName + " is not on the user any more")
		case !samePolicy(doc, want):
			manual("%s was changed since the apply: it is left alone", a.Params.PolicyName)
		case snap != nil && snap.PolicyFound:
			do(fix.IAMPutUserPolicy, a.Resource, fix.Params{PolicyName: a.Params.PolicyName, Document: &fix.Document{JSON: snap.Policy}})
		default:
			do(fix.IAMDeleteUserPolicy, a.Resource, fix.Params{PolicyName: a.Params.PolicyName})
		}
	case fix.IAMDeleteUserPolicy:
		doc := ""
		if snap != nil && snap.PolicyFound && snap.PolicyName == a.Params.PolicyName {
			doc = snap.Policy
		} else if snap != nil && snap.User != nil {
			doc = snap.User.InlinePolicies[a.Params.PolicyName]
		}
		if doc == "" {
			manual("the document of %s was not saved: it cannot be put back", a.Params.PolicyName)
			break
		}
		_, found, err := s.liveInline(ctx, user, a.Params.PolicyName)
		if err != nil {
			return err
		}
		if found {
			nothing(a.Params.PolicyName + " is on the user again")
			break
		}
		do(fix.IAMPutUserPolicy, a.Resource, fix.Params{PolicyName: a.Params.PolicyName, Document: &fix.Document{JSON: doc}})
	case fix.IAMDeleteAccessKey:
		manual("deleted access keys cannot come back (%s): if the owner needs one, create a new key (rotate-key or aws iam create-access-key)", a.Resource.AccessKeyID)
	case fix.IAMDeleteLoginProfile:
		manual("passwords cannot come back: if %s needs the console again, set a new password that must be changed at first sign-in: aws iam create-login-profile --user-name %s --password-reset-required --password … and give it to the owner", user, user)
	case fix.IAMDeactivateMFADevice, fix.IAMDeleteVirtualMFADevice:
		manual("MFA devices cannot come back (%s): the user registers a device again", a.Resource.MFASerial)
	case fix.IAMDeleteSigningCertificate:
		manual("signing certificate %s is deleted: its public body is in the journal's snapshot, to upload again (aws iam upload-signing-certificate) if needed", a.Resource.SigningCertificateID)
	case fix.IAMDeleteSSHPublicKey:
		manual("SSH public key %s is deleted: the owner uploads their public key again", a.Resource.SSHPublicKeyID)
	case fix.IAMDeleteServiceSpecificCredential:
		manual("service-specific credential %s cannot come back: create a new one (aws iam create-service-specific-credential)", a.Resource.ServiceSpecificCredentialID)
	case fix.IAMRemoveUserFromGroup:
		do(fix.IAMAddUserToGroup, a.Resource, fix.Params{GroupName: a.Params.GroupName})
	case fix.IAMDetachUserPolicy:
		do(fix.IAMAttachUserPolicy, a.Resource, fix.Params{PolicyARN: a.Params.PolicyARN})
	case fix.IAMDeleteUserPermissionsBoundary:
		if snap == nil || snap.User == nil || snap.User.PermissionsBoundary == "" {
			manual("the boundary was not saved: it cannot be put back")
			break
		}
		do(fix.IAMPutUserPermissionsBoundary, a.Resource, fix.Params{PermissionsBoundary: snap.User.PermissionsBoundary})
	case fix.IAMDeleteUser:
		if snap == nil || snap.User == nil {
			manual("the user's configuration was not saved: it cannot be recreated")
			break
		}
		exists, err := s.userExists(ctx, user)
		if err != nil {
			return err
		}
		if exists {
			nothing("a user named " + user + " exists again")
			break
		}
		var tags []fix.Tag
		for _, k := range sortedKeys(snap.User.Tags) {
			tags = append(tags, fix.Tag{Key: k, Value: snap.User.Tags[k]})
		}
		do(fix.IAMCreateUser, a.Resource, fix.Params{Path: snap.User.Path, Tags: tags})
		u.Note = "a new user of the same name (a new user id: policies naming the old id do not match it)"
	default:
		manual("%s cannot be undone by iamaudit", apiName(a.API))
	}
	return nil
}
