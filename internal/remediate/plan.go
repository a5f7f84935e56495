package remediate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/fix/awscli"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/outdir"
)

// PlanSchema is the plan file's format.
const PlanSchema = "iamaudit-remediation-plan/1"

// RequireMFAPolicyName is the inline policy of workflow 1 (seed 004).
const RequireMFAPolicyName = "RequireMFAPolicy"

// Plan is what `remediate plan` writes and `remediate apply` executes: each action,
// why (the finding), whose it is (the owner tags) and what it would cut off (the
// evidence of use), planned from one stored run. A plan changes nothing.
type Plan struct {
	Schema string `json:"schema"`
	ID     string `json:"plan_id"`
	// Source is "" for a plan from a stored run, WhoisSource for whois --deactivate's
	// (from a live read: RunID is empty).
	Source      string    `json:"source,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	ToolVersion string    `json:"tool_version"`
	// RunID is the stored run the plan was made from, evaluated at RunEvaluatedAt.
	RunID          string    `json:"run_id"`
	RunEvaluatedAt time.Time `json:"run_evaluated_at"`
	Partition      string    `json:"partition"`
	Region         string    `json:"region"`
	// AuditRole is the role the run audited through, and AuditCaller who ran it.
	AuditRole   string     `json:"audit_role,omitempty"`
	AuditCaller string     `json:"audit_caller,omitempty"`
	Workflows   []Workflow `json:"workflows"`
	Items       []Item     `json:"items"`
	// Skipped are the findings of the asked workflows that the plan does not act on, and why.
	Skipped []Skip `json:"skipped"`
}

// Item is one resource's remediation: one workflow on one user or key.
type Item struct {
	N         int      `json:"n"`
	Workflow  Workflow `json:"workflow"`
	FindingID string   `json:"finding_id,omitempty"`
	CheckID   string   `json:"check_id,omitempty"`
	Severity  string   `json:"severity,omitempty"`
	// Also are the other findings the item fixes too (check ids).
	Also        []string `json:"also,omitempty"`
	Reason      string   `json:"reason"`
	AccountID   string   `json:"account_id"`
	AccountName string   `json:"account_name"`
	User        string   `json:"user"`
	AccessKeyID string   `json:"access_key_id,omitempty"`
	// Owner are the user's owner tags (seed 004 "Identify the Owner": Owner, Team, Email).
	Owner    []Tag        `json:"owner"`
	Evidence Evidence     `json:"evidence"`
	Actions  []fix.Action `json:"actions"`
	// Commands are Actions as AWS CLI text (fix/awscli), for the reader.
	Commands []string `json:"commands"`
	Notes    []string `json:"notes,omitempty"`
}

// Skip is a finding the plan leaves alone.
type Skip struct {
	Workflow  Workflow `json:"workflow"`
	FindingID string   `json:"finding_id,omitempty"`
	AccountID string   `json:"account_id"`
	User      string   `json:"user,omitempty"`
	Resource  string   `json:"resource,omitempty"`
	Reason    string   `json:"reason"`
}

// Evidence is what the run knew of the resource when the plan was made; apply reads
// it again before each action and refuses when it changed.
type Evidence struct {
	// Key is the item's access key.
	Key *KeyEvidence `json:"key,omitempty"`
	// Deactivated is when the key was last set Inactive, and DeactivatedBy what says so
	// (our journal, or a CloudTrail event).
	Deactivated   *time.Time `json:"deactivated,omitempty"`
	DeactivatedBy string     `json:"deactivated_by,omitempty"`
	// The user (enforce-mfa, release-mfa, delete-user).
	Console          bool       `json:"console"`
	PasswordLastUsed *time.Time `json:"password_last_used,omitempty"`
	MFAActive        bool       `json:"mfa_active"`
	// The user's whole configuration as the run saw it (delete-user, rotate-key).
	Keys                []KeyEvidence `json:"keys,omitempty"`
	MFADevices          []string      `json:"mfa_devices,omitempty"`
	Groups              []string      `json:"groups,omitempty"`
	AttachedPolicies    []string      `json:"attached_policies,omitempty"`
	InlinePolicies      []string      `json:"inline_policies,omitempty"`
	PermissionsBoundary string        `json:"permissions_boundary,omitempty"`
}

// KeyEvidence is an access key as the run (or a fresh read) saw it.
type KeyEvidence struct {
	ID      string     `json:"id"`
	Status  string     `json:"status"`
	Created *time.Time `json:"created,omitempty"`
	// LastUsed nil with LastUseKnown is "never used"; without LastUseKnown, unknown.
	LastUsed     *time.Time `json:"last_used,omitempty"`
	LastUseKnown bool       `json:"last_use_known"`
	Service      string     `json:"last_used_service,omitempty"`
	Region       string     `json:"last_used_region,omitempty"`
}

// Selection narrows a plan (zero: everything of the workflows).
type Selection struct {
	Workflows []Workflow
	// Findings are finding ids; Accounts ids or names; Users names.
	Findings []string
	Accounts []string
	Users    []string
}

// Deactivation is a key this tool set Inactive, from the journal.
type Deactivation struct {
	JournalID string
	At        time.Time
	AccountID string
	User      string
	KeyID     string
}

// PlanInput is everything BuildPlan reads; it reads nothing else.
type PlanInput struct {
	Outcome *outcome.Outcome
	RunID   string
	// Deactivations are the keys the journal says this tool deactivated (and did not
	// roll back since): delete-key candidates.
	Deactivations []Deactivation
	Selection     Selection
	Config        Config
	Now           time.Time
	// ID is the plan's id (the caller makes it random).
	ID          string
	ToolVersion string
}

// BuildPlan plans the selected workflows from a stored run. It is pure.
func BuildPlan(in PlanInput) (*Plan, error) {
	o := in.Outcome
	if o == nil || o.Inventory == nil {
		return nil, fmt.Errorf("no run to plan from")
	}
	inv := o.Inventory
	ws := in.Selection.Workflows
	if len(ws) == 0 {
		ws = DefaultWorkflows()
	}
	p := &Plan{Schema: PlanSchema, ID: in.ID, CreatedAt: in.Now.UTC(), ToolVersion: in.ToolVersion, RunID: in.RunID,
		RunEvaluatedAt: o.Now.UTC(), Partition: partitionOf(inv), Region: regionOf(inv), AuditRole: inv.AuditRole,
		Workflows: ordered(ws), Items: []Item{}, Skipped: []Skip{}}
	if inv.Caller != nil {
		p.AuditCaller = inv.Caller.ARN
	}
	b := &builder{in: in, p: p, ownerTags: o.Settings.Checks.OwnerTags, claimedUsers: map[string]int{}, claimedKeys: map[string]int{}}
	if len(b.ownerTags) == 0 {
		b.ownerTags = checks.DefaultConfig().OwnerTags
	}
	// delete-user claims its users first, rotate-key its keys before deactivate-key:
	// one resource, one workflow.
	for _, w := range []Workflow{DeleteUser, EnforceMFA, ReleaseMFA, RotateKey, DeactivateKey, DeleteKey} {
		if slices.Contains(ws, w) {
			b.plan(w)
		}
	}
	rank := map[Workflow]int{}
	for i, w := range Workflows() {
		rank[w] = i
	}
	sort.SliceStable(p.Items, func(i, j int) bool {
		a, c := p.Items[i], p.Items[j]
		if rank[a.Workflow] != rank[c.Workflow] {
			return rank[a.Workflow] < rank[c.Workflow]
		}
		if a.AccountID != c.AccountID {
			return a.AccountID < c.AccountID
		}
		if a.User != c.User {
			return a.User < c.User
		}
		return a.AccessKeyID < c.AccessKeyID
	})
	for i := range p.Items {
		p.Items[i].N = i + 1
		p.Items[i].Commands = awscli.Commands(p.Items[i].Actions)
	}
	return p, nil
}

func ordered(ws []Workflow) []Workflow {
	var out []Workflow
	for _, w := range Workflows() {
		if slices.Contains(ws, w) {
			out = append(out, w)
		}
	}
	return out
}

func partitionOf(inv *inventory.Inventory) string {
	if inv.Partition == "" {
		return "aws"
	}
	return inv.Partition
}

func regionOf(inv *inventory.Inventory) string {
	if inv.Region == "" {
		return inventory.HomeRegion(partitionOf(inv))
	}
	return inv.Region
}

type builder struct {
	in           PlanInput
	p            *Plan
	ownerTags    []string
	claimedUsers map[string]int // account/user → workflow rank that claimed it (delete-user)
	claimedKeys  map[string]int // key id → index in p.Items
}

func (b *builder) target() fix.Target {
	return fix.Target{Partition: b.p.Partition, Region: b.p.Region, AuditRole: b.p.AuditRole}
}

func (b *builder) skip(w Workflow, f *checks.Finding, acct, user, resource, reason string) {
	s := Skip{Workflow: w, AccountID: acct, User: user, Resource: resource, Reason: reason}
	if f != nil {
		s.FindingID = f.ID
	}
	b.p.Skipped = append(b.p.Skipped, s)
}

// selected tells whether the selection keeps a finding (or, without one, a resource).
func (b *builder) selected(f *checks.Finding, acct *inventory.Account, user string) bool {
	sel := b.in.Selection
	if len(sel.Findings) > 0 && (f == nil || !slices.Contains(sel.Findings, f.ID)) {
		return false
	}
	if len(sel.Accounts) > 0 && !slices.ContainsFunc(sel.Accounts, func(a string) bool { return a == acct.ID || strings.EqualFold(a, acct.Name) }) {
		return false
	}
	if len(sel.Users) > 0 && !slices.Contains(sel.Users, user) {
		return false
	}
	return true
}

func (b *builder) account(id string) *inventory.Account {
	for i := range b.in.Outcome.Inventory.Accounts {
		if b.in.Outcome.Inventory.Accounts[i].ID == id {
			return &b.in.Outcome.Inventory.Accounts[i]
		}
	}
	return nil
}

func findUser(acct *inventory.Account, name string) *inventory.User {
	for i := range acct.Users {
		if acct.Users[i].Name == name {
			return &acct.Users[i]
		}
	}
	return nil
}

func findKey(u *inventory.User, id string) *inventory.AccessKey {
	for i := range u.AccessKeys {
		if u.AccessKeys[i].ID == id {
			return &u.AccessKeys[i]
		}
	}
	return nil
}

// protection is the config rule or identity that puts a resource out of reach at plan
// time ("" when none): a protected account, user or tag, the audit's own caller.
func (b *builder) protection(acct *inventory.Account, u *inventory.User) string {
	cfg := b.in.Config
	if r := cfg.accountProtected(acct.ID, acct.Name); r != "" {
		return r
	}
	if r := cfg.userProtected(u.Name); r != "" {
		return r
	}
	if r := cfg.tagsProtected(u.Tags); r != "" {
		return r
	}
	if c := b.in.Outcome.Inventory.Caller; c != nil && c.ARN != "" && c.ARN == u.ARN {
		return "the principal the audit ran as (" + c.ARN + ")"
	}
	return ""
}

// findingsOf are the open findings of a workflow's checks, in run order.
func (b *builder) findingsOf(w Workflow) []*checks.Finding {
	var out []*checks.Finding
	for i := range b.in.Outcome.Findings {
		f := &b.in.Outcome.Findings[i]
		if slices.Contains(checksOf[w], f.CheckID) {
			out = append(out, f)
		}
	}
	return out
}

func (b *builder) plan(w Workflow) {
	if w == ReleaseMFA {
		b.planRelease()
		return
	}
	for _, f := range b.findingsOf(w) {
		acct := b.account(f.AccountID)
		if acct == nil || !b.selected(f, acct, f.User) {
			continue
		}
		if f.Suppressed || f.State == checks.StateSuppressed {
			b.skip(w, f, f.AccountID, f.User, f.Resource, "suppressed: "+orUnknown(f.SuppressionReason))
			continue
		}
		u := findUser(acct, f.User)
		if u == nil {
			b.skip(w, f, f.AccountID, f.User, f.Resource, "the run holds no such user")
			continue
		}
		keyID := ""
		if f.ResourceType == checks.ResourceAccessKey {
			keyID = f.Resource
			if strings.HasPrefix(keyID, "arn:") || findKey(u, keyID) == nil {
				b.skip(w, f, f.AccountID, f.User, f.Resource, "the key's id is unknown (the run read only the credential report): run the audit with the IAM reads, then plan again")
				continue
			}
		}
		b.add(w, f, acct, u, keyID, nil)
	}
	if w == DeleteKey {
		for _, d := range b.in.Deactivations {
			acct := b.account(d.AccountID)
			if acct == nil || !b.selected(nil, acct, d.User) || len(b.in.Selection.Findings) > 0 {
				continue
			}
			u := findUser(acct, d.User)
			if u == nil {
				b.skip(w, nil, d.AccountID, d.User, d.KeyID, "the run holds no such user")
				continue
			}
			d := d
			b.add(w, nil, acct, u, d.KeyID, &d)
		}
	}
}

// planRelease finds the users the run saw with RequireMFAPolicy and MFA.
func (b *builder) planRelease() {
	if len(b.in.Selection.Findings) > 0 {
		return
	}
	for ai := range b.in.Outcome.Inventory.Accounts {
		acct := &b.in.Outcome.Inventory.Accounts[ai]
		for ui := range acct.Users {
			u := &acct.Users[ui]
			if !slices.ContainsFunc(u.InlinePolicies, func(p inventory.InlinePolicy) bool { return p.Name == RequireMFAPolicyName }) ||
				!b.selected(nil, acct, u.Name) {
				continue
			}
			if !u.MFAActive {
				b.skip(ReleaseMFA, nil, acct.ID, u.Name, u.ARN, "the user has no MFA yet: RequireMFAPolicy stays")
				continue
			}
			b.add(ReleaseMFA, nil, acct, u, "", nil)
		}
	}
}

func (b *builder) add(w Workflow, f *checks.Finding, acct *inventory.Account, u *inventory.User, keyID string, d *Deactivation) {
	resource := u.ARN
	if keyID != "" {
		resource = keyID
	}
	if r := b.protection(acct, u); r != "" {
		b.skip(w, f, acct.ID, u.Name, resource, r)
		return
	}
	userKey := acct.ID + "/" + u.Name
	if n, ok := b.claimedUsers[userKey]; ok && w != DeleteUser {
		b.skip(w, f, acct.ID, u.Name, resource, fmt.Sprintf("the plan deletes this user (%s)", b.p.Items[n].Workflow))
		return
	}
	if keyID != "" {
		if n, ok := b.claimedKeys[keyID]; ok {
			it := &b.p.Items[n]
			if f != nil && it.Workflow == w && !slices.Contains(it.Also, f.CheckID) && it.CheckID != f.CheckID {
				it.Also = append(it.Also, f.CheckID)
			} else if it.Workflow != w {
				b.skip(w, f, acct.ID, u.Name, resource, fmt.Sprintf("the key is already in the plan (%s)", it.Workflow))
			}
			return
		}
	}
	ev := evidenceOf(acct, u, keyID)
	it := Item{Workflow: w, AccountID: acct.ID, AccountName: acct.Name, User: u.Name, AccessKeyID: keyID,
		Owner: ownerOf(u, b.ownerTags), Evidence: ev}
	if f != nil {
		it.FindingID, it.CheckID, it.Severity, it.Reason = f.ID, f.CheckID, f.Severity.String(), f.Message
	}
	switch w {
	case ReleaseMFA:
		it.Reason = "RequireMFAPolicy is on the user, who now has MFA (seed 004 workflow 1: remove the policy after MFA setup)"
	case DeleteKey:
		if reason := b.deleteKeyEvidence(&it, f, d); reason != "" {
			b.skip(w, f, acct.ID, u.Name, resource, reason)
			return
		}
	case RotateKey:
		if n := len(u.AccessKeys); n > 1 {
			b.skip(w, f, acct.ID, u.Name, resource, fmt.Sprintf("the user has %d keys: rotation needs a free slot (retire the other key first: multiple_active_keys)", n))
			return
		}
		it.Notes = append(it.Notes, "apply writes the new key's secret only to the file named by --secret-file, then asks you to confirm the new key works before it deactivates the old one")
	case DeleteUser:
		it.Notes = append(it.Notes, "apply reads the user's whole configuration first (also signing certificates, SSH public keys and service-specific credentials, which the audit does not collect), saves it in the journal and lists every step before asking; a rollback recreates the user with its groups, policies, tags and boundary, but deleted keys, passwords, MFA devices and other credentials cannot come back")
	case DeactivateKey:
		it.Notes = append(it.Notes, fmt.Sprintf("apply re-reads the key's last use (GetAccessKeyLastUsed) and refuses a key used in the last %d days unless --force; watch CloudTrail for failures for 48 hours, then delete-key", b.in.Config.RecentUseDays))
	}
	it.Actions = actionsFor(w, b.target(), userConfigOf(acct, u), keyID)
	if w == DeleteUser {
		b.claimedUsers[userKey] = len(b.p.Items)
	}
	if keyID != "" {
		b.claimedKeys[keyID] = len(b.p.Items)
	}
	b.p.Items = append(b.p.Items, it)
}

// deleteKeyEvidence fills when the key was deactivated, or says why it cannot be
// deleted yet.
func (b *builder) deleteKeyEvidence(it *Item, f *checks.Finding, d *Deactivation) string {
	k := it.Evidence.Key
	if k == nil || !strings.EqualFold(k.Status, inventory.KeyInactive) {
		if d == nil {
			return "the run saw the key Active: deactivate it first (deactivate-key)"
		}
	}
	var at *time.Time
	switch {
	case d != nil:
		t := d.At.UTC()
		at, it.Evidence.DeactivatedBy = &t, "journal "+d.JournalID
		it.Reason = "deactivated by iamaudit (journal " + d.JournalID + ")"
	case f != nil:
		raw := f.Evidence["deactivated"]
		if t, err := time.Parse(time.RFC3339, raw); err == nil {
			t = t.UTC()
			at, it.Evidence.DeactivatedBy = &t, "CloudTrail UpdateAccessKey event"
		} else if rest, ok := strings.CutPrefix(raw, "deactivated before "); ok {
			if t, err := time.Parse("2006-01-02", rest); err == nil {
				at, it.Evidence.DeactivatedBy = &t, "CloudTrail: before the run's event window"
			}
		}
	}
	if at == nil {
		return "when the key was deactivated is unknown: neither the journal nor CloudTrail says"
	}
	it.Evidence.Deactivated = at
	hours := time.Duration(b.in.Config.InactiveHours) * time.Hour
	if b.in.Now.Sub(*at) < hours {
		return fmt.Sprintf("Inactive since %s, less than %d hours: delete it after %s", at.Format(time.RFC3339), b.in.Config.InactiveHours, at.Add(hours).Format(time.RFC3339))
	}
	if k != nil && k.LastUsed != nil && k.LastUsed.After(*at) {
		return fmt.Sprintf("used at %s, after it was deactivated at %s", k.LastUsed.Format(time.RFC3339), at.Format(time.RFC3339))
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// ownerOf are the user's owner tags, in the order of the configured tag keys.
func ownerOf(u *inventory.User, keys []string) []Tag {
	out := []Tag{}
	for _, k := range keys {
		for tk, tv := range u.Tags {
			if strings.EqualFold(tk, k) {
				out = append(out, Tag{Key: tk, Value: tv})
			}
		}
	}
	return out
}

// lastUseKnown tells whether the run knows the user's keys' last use (no gap leaves it unknown).
func lastUseKnown(acct *inventory.Account, user string) bool {
	for _, g := range acct.Gaps {
		if (g.Subject == "" || g.Subject == user) && g.Leaves(inventory.FieldKeyLastUse) {
			return false
		}
	}
	return true
}

func keyEvidence(acct *inventory.Account, u *inventory.User, k inventory.AccessKey) KeyEvidence {
	e := KeyEvidence{ID: k.ID, Status: k.Status, LastUsed: k.LastUsedAt, LastUseKnown: lastUseKnown(acct, u.Name),
		Service: k.LastUsedService, Region: k.LastUsedRegion}
	if !k.CreatedAt.IsZero() {
		t := k.CreatedAt.UTC()
		e.Created = &t
	}
	return e
}

func evidenceOf(acct *inventory.Account, u *inventory.User, keyID string) Evidence {
	ev := Evidence{Console: u.PasswordEnabled, PasswordLastUsed: u.PasswordLastUsed, MFAActive: u.MFAActive,
		Groups: slices.Clone(u.Groups), PermissionsBoundary: u.PermissionsBoundary}
	for _, k := range u.AccessKeys {
		ke := keyEvidence(acct, u, k)
		ev.Keys = append(ev.Keys, ke)
		if k.ID == keyID && keyID != "" {
			kc := ke
			ev.Key = &kc
		}
	}
	for _, d := range u.MFADevices {
		ev.MFADevices = append(ev.MFADevices, d.Serial)
	}
	for _, p := range u.AttachedPolicies {
		ev.AttachedPolicies = append(ev.AttachedPolicies, p.ARN)
	}
	for _, p := range u.InlinePolicies {
		ev.InlinePolicies = append(ev.InlinePolicies, p.Name)
	}
	return ev
}

// UserConfig is a user's whole configuration: what delete-user removes and its
// rollback restores. Plan fills it from the run, apply from a fresh read.
type UserConfig struct {
	AccountID string            `json:"account_id"`
	Name      string            `json:"user_name"`
	Path      string            `json:"path"`
	ARN       string            `json:"arn,omitempty"`
	Tags      map[string]string `json:"tags"`
	Keys      []KeyEvidence     `json:"access_keys"`
	// Console: the user has a login profile (a password).
	Console          bool       `json:"console"`
	PasswordLastUsed *time.Time `json:"password_last_used,omitempty"`
	MFADevices       []string   `json:"mfa_devices"`
	// SigningCertificates keep their (public) bodies; SSH keys and service-specific
	// credentials only their ids.
	SigningCertificates []SigningCertificate `json:"signing_certificates"`
	SSHPublicKeys       []string             `json:"ssh_public_keys"`
	ServiceCredentials  []ServiceCredential  `json:"service_specific_credentials"`
	Groups              []string             `json:"groups"`
	AttachedPolicies    []string             `json:"attached_policies"`
	// InlinePolicies maps each inline policy's name to its document.
	InlinePolicies      map[string]string `json:"inline_policies"`
	PermissionsBoundary string            `json:"permissions_boundary,omitempty"`
	// Complete is true for a fresh read of everything; false for what a run holds.
	Complete bool `json:"complete"`
}

// SigningCertificate is an X.509 signing certificate of a user.
type SigningCertificate struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Body   string `json:"body"`
}

// ServiceCredential is a service-specific credential (CodeCommit, Keyspaces).
type ServiceCredential struct {
	ID      string `json:"id"`
	Service string `json:"service"`
}

// userConfigOf is what the run knows of a user's configuration.
func userConfigOf(acct *inventory.Account, u *inventory.User) UserConfig {
	c := UserConfig{AccountID: acct.ID, Name: u.Name, Path: u.Path, ARN: u.ARN, Tags: u.Tags, Console: u.PasswordEnabled,
		PasswordLastUsed: u.PasswordLastUsed, Groups: slices.Clone(u.Groups), InlinePolicies: map[string]string{},
		PermissionsBoundary: u.PermissionsBoundary}
	for _, k := range u.AccessKeys {
		c.Keys = append(c.Keys, keyEvidence(acct, u, k))
	}
	for _, d := range u.MFADevices {
		c.MFADevices = append(c.MFADevices, d.Serial)
	}
	for _, p := range u.AttachedPolicies {
		c.AttachedPolicies = append(c.AttachedPolicies, p.ARN)
	}
	for _, p := range u.InlinePolicies {
		c.InlinePolicies[p.Name] = p.Document
	}
	return c
}

// actionsFor are the change actions of a workflow on a user (and key), from the
// recipes of internal/fix: the same values the reports render as CLI text.
func actionsFor(w Workflow, t fix.Target, u UserConfig, keyID string) []fix.Action {
	s := fix.Subject{AccountID: u.AccountID, User: u.Name, AccessKeyID: keyID}
	switch w {
	case EnforceMFA:
		return pick(fix.Plan(fix.RequireMFA, s, t), fix.IAMPutUserPolicy)
	case ReleaseMFA:
		return pick(fix.Plan(fix.RequireMFA, s, t), fix.IAMDeleteUserPolicy)
	case DeactivateKey:
		return pick(fix.Plan(fix.DisableAccessKey, s, t), fix.IAMUpdateAccessKey)
	case DeleteKey:
		return pick(fix.Plan(fix.DeleteAccessKey, s, t), fix.IAMDeleteAccessKey)
	case RotateKey:
		return pick(fix.Plan(fix.RotateAccessKey, s, t), fix.IAMCreateAccessKey, fix.IAMUpdateAccessKey)
	case DeleteUser:
		return deleteUserChain(t, u)
	}
	return nil
}

// pick keeps the actions of the given operations, in the recipe's order, without
// their notes of timing (the workflow decides when).
func pick(actions []fix.Action, apis ...fix.API) []fix.Action {
	var out []fix.Action
	for _, a := range actions {
		if slices.Contains(apis, a.API) && a.Kind == fix.Change {
			a.Note = ""
			out = append(out, a)
		}
	}
	return out
}

// deleteUserChain is seed 004 workflow 4 for one user, in the order IAM needs: every
// access key, the login profile, each MFA device (deactivated, and a virtual one
// deleted), signing certificates, SSH public keys, service-specific credentials, the
// groups, attached and inline policies, the permissions boundary, then the user. The
// recipe (fix.DeleteUser) gives the operations; the user's configuration fills the
// values it leaves to the operator.
func deleteUserChain(t fix.Target, u UserConfig) []fix.Action {
	tmpl := map[fix.API]fix.Action{}
	for _, a := range fix.Plan(fix.DeleteUser, fix.Subject{AccountID: u.AccountID, User: u.Name}, t) {
		if a.Kind == fix.Change {
			a.Unknown, a.Note = nil, ""
			tmpl[a.API] = a
		}
	}
	user := fix.Resource{AccountID: u.AccountID, UserName: u.Name}
	act := func(api fix.API, r fix.Resource, p fix.Params) fix.Action {
		if a, ok := tmpl[api]; ok {
			a.Resource, a.Params = r, p
			return a
		}
		return fix.Action{Kind: fix.Change, API: api, Partition: t.Partition, Region: t.Region, Credentials: fix.InAccount, Resource: r, Params: p}
	}
	with := func(f func(*fix.Resource)) fix.Resource {
		r := user
		f(&r)
		return r
	}
	var out []fix.Action
	for _, k := range u.Keys {
		out = append(out, act(fix.IAMDeleteAccessKey, with(func(r *fix.Resource) { r.AccessKeyID = k.ID }), fix.Params{}))
	}
	if u.Console {
		out = append(out, act(fix.IAMDeleteLoginProfile, user, fix.Params{}))
	}
	for _, serial := range u.MFADevices {
		out = append(out, act(fix.IAMDeactivateMFADevice, with(func(r *fix.Resource) { r.MFASerial = serial }), fix.Params{}))
		if strings.Contains(serial, ":mfa/") {
			out = append(out, act(fix.IAMDeleteVirtualMFADevice, fix.Resource{AccountID: u.AccountID, MFASerial: serial}, fix.Params{}))
		}
	}
	for _, c := range u.SigningCertificates {
		out = append(out, act(fix.IAMDeleteSigningCertificate, with(func(r *fix.Resource) { r.SigningCertificateID = c.ID }), fix.Params{}))
	}
	for _, id := range u.SSHPublicKeys {
		out = append(out, act(fix.IAMDeleteSSHPublicKey, with(func(r *fix.Resource) { r.SSHPublicKeyID = id }), fix.Params{}))
	}
	for _, c := range u.ServiceCredentials {
		out = append(out, act(fix.IAMDeleteServiceSpecificCredential, with(func(r *fix.Resource) { r.ServiceSpecificCredentialID = c.ID }), fix.Params{}))
	}
	for _, g := range u.Groups {
		out = append(out, act(fix.IAMRemoveUserFromGroup, user, fix.Params{GroupName: g}))
	}
	for _, arn := range u.AttachedPolicies {
		out = append(out, act(fix.IAMDetachUserPolicy, user, fix.Params{PolicyARN: arn}))
	}
	for _, name := range sortedKeys(u.InlinePolicies) {
		out = append(out, act(fix.IAMDeleteUserPolicy, user, fix.Params{PolicyName: name}))
	}
	if u.PermissionsBoundary != "" {
		out = append(out, act(fix.IAMDeleteUserPermissionsBoundary, user, fix.Params{}))
	}
	return append(out, act(fix.IAMDeleteUser, user, fix.Params{}))
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Digest is the SHA-256 of the plan's canonical JSON: the journal records it, and a
// resumed apply must give the same plan.
func (p *Plan) Digest() string {
	b, _ := json.Marshal(p) // a plan is plain data: Marshal cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// WritePlan writes the plan file (0600, never over an existing file).
func WritePlan(path string, p *Plan) error {
	return outdir.WriteFile(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(true)
		return enc.Encode(p)
	})
}

// ReadPlan reads a plan file.
func ReadPlan(path string) (*Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the plan: %w", err)
	}
	var p Plan
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("the plan %s is not a remediation plan: %w", path, err)
	}
	if p.Schema != PlanSchema {
		return nil, fmt.Errorf("the plan %s has schema %q, not %q: make it again with `iamaudit remediate plan`", path, p.Schema, PlanSchema)
	}
	return &p, nil
}
