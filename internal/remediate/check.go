package remediate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/inventory"
)

// useTolerance absorbs the rounding of a last-use time between the credential report
// and GetAccessKeyLastUsed: a use later than the plan's by more is a new use.
const useTolerance = time.Minute

// checkAt is the action a check is made for (nil: the whole item, before confirming).
type checkAt struct {
	n      int
	action fix.Action
	newKey string
}

// checkItem reads the evidence again and runs the guard rails, for the item (at nil)
// or just before one of its actions.
func (a *applier) checkItem(ctx context.Context, s *Session, it *Item, at *checkAt) verdict {
	tags, err := s.liveTags(ctx, it.User)
	if isNotFound(err) {
		return verdict{nothing: "the user " + it.User + " no longer exists"}
	}
	if err != nil {
		return errVerdict(err)
	}
	if r := protectedNow(a.opts.Config, a.caller, it, tags); r != nil {
		return verdict{refusal: r}
	}
	switch it.Workflow {
	case EnforceMFA:
		return a.checkEnforce(ctx, s, it)
	case ReleaseMFA:
		return a.checkRelease(ctx, s, it)
	case DeactivateKey:
		return a.checkDeactivate(ctx, s, it)
	case DeleteKey:
		return a.checkDeleteKey(ctx, s, it)
	case RotateKey:
		if at == nil || at.action.API == fix.IAMCreateAccessKey {
			return a.checkRotateCreate(ctx, s, it)
		}
		return a.checkRotateOld(ctx, s, it, at.newKey)
	case DeleteUser:
		if at == nil || at.n == 1 {
			return a.checkDeleteUser(ctx, s, it)
		}
		if at.action.API == fix.IAMDeleteAccessKey {
			return a.checkUserKeyUnused(ctx, s, it, at.action.Resource.AccessKeyID)
		}
		return verdict{}
	}
	return verdict{refusal: refuse(GuardPlanEdited, "unknown workflow %q", it.Workflow)}
}

func (a *applier) checkEnforce(ctx context.Context, s *Session, it *Item) verdict {
	console, err := s.liveConsole(ctx, it.User)
	if err != nil {
		return errVerdict(err)
	}
	mfa, err := s.liveMFA(ctx, it.User)
	if err != nil {
		return errVerdict(err)
	}
	doc, found, err := s.liveInline(ctx, it.User, RequireMFAPolicyName)
	if err != nil {
		return errVerdict(err)
	}
	ev := map[string]any{"console": console, "mfa_devices": mfa, "require_mfa_policy": found}
	switch {
	case !console:
		return verdict{nothing: "the user has no console password now", evidence: ev}
	case len(mfa) > 0:
		return verdict{nothing: fmt.Sprintf("the user has MFA now (%d device(s))", len(mfa)), evidence: ev}
	case found && samePolicy(doc, shippedMFAPolicy()):
		return verdict{nothing: RequireMFAPolicyName + " is already on the user", evidence: ev}
	case found:
		return verdict{refusal: refuse(GuardNotOurs, "the user has an inline policy named %s that is not seed 004's document: it is left alone", RequireMFAPolicyName), evidence: ev}
	}
	return verdict{evidence: ev, snapshot: &snapshotDetail{Workflow: it.Workflow, PolicyName: RequireMFAPolicyName}}
}

func (a *applier) checkRelease(ctx context.Context, s *Session, it *Item) verdict {
	mfa, err := s.liveMFA(ctx, it.User)
	if err != nil {
		return errVerdict(err)
	}
	doc, found, err := s.liveInline(ctx, it.User, RequireMFAPolicyName)
	if err != nil {
		return errVerdict(err)
	}
	ev := map[string]any{"mfa_devices": mfa, "require_mfa_policy": found}
	switch {
	case len(mfa) == 0:
		return verdict{refusal: refuse(GuardEvidenceChanged, "the user has no MFA device: %s stays (it is what makes them set one up)", RequireMFAPolicyName), evidence: ev}
	case !found:
		return verdict{nothing: RequireMFAPolicyName + " is not on the user any more", evidence: ev}
	case !samePolicy(doc, shippedMFAPolicy()):
		return verdict{refusal: refuse(GuardNotOurs, "the user's %s is not seed 004's document: it is left alone", RequireMFAPolicyName), evidence: ev}
	}
	return verdict{evidence: ev, snapshot: &snapshotDetail{Workflow: it.Workflow, PolicyName: RequireMFAPolicyName, Policy: doc, PolicyFound: true}}
}

func (a *applier) checkDeactivate(ctx context.Context, s *Session, it *Item) verdict {
	k, found, err := s.liveKey(ctx, it.User, it.AccessKeyID)
	if err != nil {
		return errVerdict(err)
	}
	ev := map[string]any{"key": k}
	switch {
	case !found:
		return verdict{nothing: "the key no longer exists", evidence: ev}
	case !strings.EqualFold(k.Status, inventory.KeyActive):
		return verdict{nothing: "the key is already " + k.Status, evidence: ev}
	}
	if changed, why := usedSince(tolerant(it.Evidence.Key), k, a.plan.RunEvaluatedAt); changed {
		return verdict{refusal: refuse(GuardEvidenceChanged, "%s: plan again", why), evidence: ev}
	}
	days := a.opts.Config.RecentUseDays
	if usedWithin(k.LastUsed, a.now(), days) && !a.opts.Force {
		return verdict{refusal: refuse(GuardRecentUse, "last used %s, within the last %d days: coordinate with the owner (seed 004), or give --force", fmtUse(k), days), evidence: ev}
	}
	if r := a.lastUsable(ctx, s, it, k.ID); r != nil {
		return verdict{refusal: r, evidence: ev}
	}
	return verdict{evidence: ev}
}

// tolerant is the plan's key evidence with its last use moved later by useTolerance.
func tolerant(k *KeyEvidence) *KeyEvidence {
	if k == nil || k.LastUsed == nil {
		return k
	}
	c := *k
	t := k.LastUsed.Add(useTolerance)
	c.LastUsed = &t
	return &c
}

// lastUsable refuses to take the user's last Active key away when an earlier item of
// this apply on the same user was refused, failed or waits (its replacement key, say).
func (a *applier) lastUsable(ctx context.Context, s *Session, it *Item, keyID string) *Refusal {
	if !a.failed[it.AccountID+"/"+it.User] {
		return nil
	}
	keys, err := s.liveKeys(ctx, it.User)
	if err != nil {
		return refuse(GuardLastUsableKey, "the user's keys could not be read: %v", err)
	}
	for _, k := range keys {
		if k.ID != keyID && strings.EqualFold(k.Status, inventory.KeyActive) {
			return nil
		}
	}
	return refuse(GuardLastUsableKey, "another action of this plan on %s was refused or failed, and %s is its last usable key: it stays Active", it.User, keyID)
}

func (a *applier) checkDeleteKey(ctx context.Context, s *Session, it *Item) verdict {
	k, found, err := s.liveKey(ctx, it.User, it.AccessKeyID)
	if err != nil {
		return errVerdict(err)
	}
	ev := map[string]any{"key": k}
	switch {
	case !found:
		return verdict{nothing: "the key is already deleted", evidence: ev}
	case strings.EqualFold(k.Status, inventory.KeyActive):
		return verdict{refusal: refuse(GuardEvidenceChanged, "the key is Active: deactivate it first (deactivate-key) and wait %d hours", a.opts.Config.InactiveHours), evidence: ev}
	}
	since, src, notes := inactiveSince(ctx, a.opts.Journal, s, it.AccessKeyID)
	ev["inactive_since"], ev["inactive_since_source"], ev["notes"] = since, src, notes
	hours := time.Duration(a.opts.Config.InactiveHours) * time.Hour
	if since == nil {
		return verdict{refusal: refuse(GuardInactiveTooNew, "neither the journal nor CloudTrail says when the key was deactivated (%s)", strings.Join(notes, "; ")), evidence: ev}
	}
	if a.now().Sub(*since) < hours {
		return verdict{refusal: refuse(GuardInactiveTooNew, "Inactive since %s (%s), less than %d hours: delete it after %s",
			since.Format(time.RFC3339), src, a.opts.Config.InactiveHours, since.Add(hours).Format(time.RFC3339)), evidence: ev}
	}
	if k.LastUsed != nil && k.LastUsed.After(since.Add(useTolerance)) {
		return verdict{refusal: refuse(GuardEvidenceChanged, "used at %s, after it was deactivated at %s", fmtUse(k), since.Format(time.RFC3339)), evidence: ev}
	}
	return verdict{evidence: ev}
}

func (a *applier) checkRotateCreate(ctx context.Context, s *Session, it *Item) verdict {
	keys, err := s.liveKeys(ctx, it.User)
	if err != nil {
		return errVerdict(err)
	}
	ev := map[string]any{"keys": keys}
	i := slices.IndexFunc(keys, func(k KeyEvidence) bool { return k.ID == it.AccessKeyID })
	switch {
	case i < 0:
		return verdict{refusal: refuse(GuardEvidenceChanged, "the old key %s no longer exists", it.AccessKeyID), evidence: ev}
	case len(keys) != 1:
		return verdict{refusal: refuse(GuardEvidenceChanged, "the user has %d keys now: rotation needs a free slot", len(keys)), evidence: ev}
	case !strings.EqualFold(keys[i].Status, inventory.KeyActive):
		return verdict{refusal: refuse(GuardEvidenceChanged, "the old key is %s now: nothing to rotate", keys[i].Status), evidence: ev}
	}
	return verdict{evidence: ev}
}

func (a *applier) checkRotateOld(ctx context.Context, s *Session, it *Item, newKey string) verdict {
	keys, err := s.liveKeys(ctx, it.User)
	if err != nil {
		return errVerdict(err)
	}
	ev := map[string]any{"keys": keys, "new_key": newKey}
	ni := slices.IndexFunc(keys, func(k KeyEvidence) bool { return k.ID == newKey })
	if newKey == "" || ni < 0 || !strings.EqualFold(keys[ni].Status, inventory.KeyActive) {
		return verdict{refusal: refuse(GuardLastUsableKey, "the new key %s is not there and Active: the old key stays Active", newKey), evidence: ev}
	}
	old, found, err := s.liveKey(ctx, it.User, it.AccessKeyID)
	if err != nil {
		return errVerdict(err)
	}
	ev["old_key"] = old
	switch {
	case !found:
		return verdict{nothing: "the old key no longer exists", evidence: ev}
	case !strings.EqualFold(old.Status, inventory.KeyActive):
		return verdict{nothing: "the old key is already " + old.Status, evidence: ev}
	}
	if created := keys[ni].Created; created != nil && old.LastUsed != nil && old.LastUsed.After(created.Add(useTolerance)) && !a.opts.Force {
		return verdict{refusal: refuse(GuardRecentUse, "the old key was used at %s, after the new key was made: something still uses it (or --force)", fmtUse(old)), evidence: ev}
	}
	return verdict{evidence: ev}
}

// checkDeleteUser reads the user's whole configuration and refuses when it changed,
// or the user was active, since the plan; it returns the chain to run and the
// configuration to save.
func (a *applier) checkDeleteUser(ctx context.Context, s *Session, it *Item) verdict {
	live, found, err := s.liveUser(ctx, it.User)
	if err != nil {
		return errVerdict(err)
	}
	if !found {
		return verdict{nothing: "the user no longer exists"}
	}
	ev := map[string]any{"user": live}
	if diffs := changedSince(it.Evidence, live); len(diffs) > 0 {
		return verdict{refusal: refuse(GuardEvidenceChanged, "changed since the plan: %s; plan again", strings.Join(diffs, "; ")), evidence: ev}
	}
	if pl := it.Evidence.PasswordLastUsed; live.PasswordLastUsed != nil && (pl == nil || live.PasswordLastUsed.After(pl.Add(useTolerance))) {
		return verdict{refusal: refuse(GuardEvidenceChanged, "signed in at %s, after the plan: not inactive", fmtTime(live.PasswordLastUsed)), evidence: ev}
	}
	for _, k := range live.Keys {
		var planned *KeyEvidence
		for i := range it.Evidence.Keys {
			if it.Evidence.Keys[i].ID == k.ID {
				planned = &it.Evidence.Keys[i]
			}
		}
		if changed, why := usedSince(tolerant(planned), k, a.plan.RunEvaluatedAt); changed {
			return verdict{refusal: refuse(GuardEvidenceChanged, "key %s %s: not inactive", k.ID, why), evidence: ev}
		}
	}
	t := fix.Target{Partition: a.plan.Partition, Region: a.plan.Region, AuditRole: a.plan.AuditRole}
	chain := deleteUserChain(t, live)
	return verdict{evidence: ev, actions: chain, snapshot: &snapshotDetail{Workflow: it.Workflow, User: &live, Actions: chain}}
}

// checkUserKeyUnused refuses to delete a key of a user being deleted that was used
// since the plan.
func (a *applier) checkUserKeyUnused(ctx context.Context, s *Session, it *Item, keyID string) verdict {
	k, found, err := s.liveKey(ctx, it.User, keyID)
	if err != nil {
		return errVerdict(err)
	}
	if !found {
		return verdict{nothing: "the key " + keyID + " is already deleted"}
	}
	var planned *KeyEvidence
	for i := range it.Evidence.Keys {
		if it.Evidence.Keys[i].ID == keyID {
			planned = &it.Evidence.Keys[i]
		}
	}
	if changed, why := usedSince(tolerant(planned), k, a.plan.RunEvaluatedAt); changed {
		return verdict{refusal: refuse(GuardEvidenceChanged, "key %s %s: not inactive", keyID, why), evidence: map[string]any{"key": k}}
	}
	return verdict{evidence: map[string]any{"key": k}}
}

// changedSince lists what the user has now that the plan did not see (a removal is
// not a change that makes deleting the user riskier).
func changedSince(ev Evidence, live UserConfig) []string {
	var out []string
	planKeys := map[string]bool{}
	for _, k := range ev.Keys {
		planKeys[k.ID] = true
	}
	for _, k := range live.Keys {
		if !planKeys[k.ID] {
			out = append(out, "new access key "+k.ID)
		}
	}
	if live.Console && !ev.Console {
		out = append(out, "a console password was set")
	}
	for _, c := range []struct {
		what       string
		plan, live []string
	}{
		{"MFA device", ev.MFADevices, live.MFADevices},
		{"group", ev.Groups, live.Groups},
		{"attached policy", ev.AttachedPolicies, live.AttachedPolicies},
		{"inline policy", ev.InlinePolicies, sortedKeys(live.InlinePolicies)},
	} {
		for _, v := range c.live {
			if !slices.Contains(c.plan, v) {
				out = append(out, "new "+c.what+" "+v)
			}
		}
	}
	if live.PermissionsBoundary != "" && live.PermissionsBoundary != ev.PermissionsBoundary {
		out = append(out, "permissions boundary "+live.PermissionsBoundary)
	}
	return out
}
