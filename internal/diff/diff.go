// Package diff compares two runs: what changed in the Organization's IAM users, their
// access keys, MFA and console access, in the findings, and in which accounts could
// be audited. It is pure (no I/O): `iamaudit diff` and the dashboard give it two
// outcomes, from the store or from files.
//
// Unknown is never a change. Whatever a gap of either run leaves unknown (a user
// list that may be incomplete, a user's keys that could not be listed, a check that
// could not run) is reported as unknown, never as added, removed, new or resolved
// (docs/diff-trend-import.md).
package diff

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

// Kind is what changed.
type Kind string

// The kinds of change, in the order a diff lists them for an account.
const (
	AccountAuditable    Kind = "account_auditable"     // not audited (or not ACTIVE) before, audited now
	AccountNotAuditable Kind = "account_not_auditable" // audited before, not now
	UserAdded           Kind = "user_added"
	UserRemoved         Kind = "user_removed"
	KeyCreated          Kind = "key_created"
	KeyDeleted          Kind = "key_deleted"
	KeyDeactivated      Kind = "key_deactivated" // Active → Inactive or Expired
	KeyReactivated      Kind = "key_reactivated" // Inactive or Expired → Active
	// KeyRotated: a user's active key was deleted or deactivated and a new active key
	// created between the runs (seed 004 workflow 5); listed once, not as a created and
	// a deleted key.
	KeyRotated      Kind = "key_rotated"
	MFAAdded        Kind = "mfa_added"
	MFARemoved      Kind = "mfa_removed"
	ConsoleEnabled  Kind = "console_enabled"
	ConsoleDisabled Kind = "console_disabled"
	FindingNew      Kind = "finding_new"
	FindingResolved Kind = "finding_resolved"
	// FindingSeverity: the same finding (same id) with another severity.
	FindingSeverity Kind = "finding_severity_changed"
	// Unknown: what one of the runs does not know, so that nothing is said about it.
	Unknown Kind = "unknown"
)

// Kinds lists every kind, in listing order.
func Kinds() []Kind {
	return []Kind{AccountAuditable, AccountNotAuditable, UserAdded, UserRemoved, KeyCreated, KeyDeleted, KeyDeactivated,
		KeyReactivated, KeyRotated, MFAAdded, MFARemoved, ConsoleEnabled, ConsoleDisabled, FindingNew, FindingResolved,
		FindingSeverity, Unknown}
}

func (k Kind) rank() int {
	for i, x := range Kinds() {
		if x == k {
			return i
		}
	}
	return len(Kinds())
}

// Side names one of the two runs.
type Side struct {
	// RunID is the run's id (a file's run id when read from a file).
	RunID string `json:"run_id"`
	// At is when the run evaluated its findings (the reference time of its ages).
	At time.Time `json:"at"`
	// Label is how the caller named it (a run id, a file name); RunID when not set.
	Label string `json:"label"`
}

// Change is one thing that changed between the runs, or one thing a run does not
// know (Kind Unknown).
type Change struct {
	Kind        Kind   `json:"kind"`
	AccountID   string `json:"account_id"`
	AccountName string `json:"account_name,omitempty"`
	// User is the IAM user concerned, when there is one.
	User string `json:"user,omitempty"`
	// Key is the access key: its id, or "created YYYY-MM-DD" when a run does not know
	// its id (a credential report); for KeyRotated the key retired.
	Key string `json:"key,omitempty"`
	// NewKey is, for KeyRotated, the key that replaced Key.
	NewKey string `json:"new_key,omitempty"`
	// Finding changes: the finding's id, check, resource and title.
	FindingID string `json:"finding_id,omitempty"`
	CheckID   string `json:"check_id,omitempty"`
	Resource  string `json:"resource,omitempty"`
	// Before and After: severities, key statuses, account statuses.
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// Side is, for Unknown, the run that does not know: "a" (the earlier), "b", or
	// Both.
	Side string `json:"side,omitempty"`
	// Items are, for Unknown, the users or resources it concerns (may be empty).
	Items []string `json:"items,omitempty"`
	// Detail is one line for a person.
	Detail string `json:"detail"`
}

// Result is the comparison of two runs.
type Result struct {
	A Side `json:"a"`
	B Side `json:"b"`
	// Changes are ordered by account (B's order, then accounts only A has), kind
	// (Kinds order) and subject.
	Changes []Change `json:"changes"`
	// Counts are the number of changes of each kind (every kind present, zeros too).
	Counts map[Kind]int `json:"counts"`
}

// Runs compares run a (the earlier) with run b, naming them by their run ids.
func Runs(a, b *outcome.Outcome) Result { return Compare(a, b, "", "") }

// Compare is Runs with the names the details give the two runs (a file name, a run
// id); "" is the run's id.
func Compare(a, b *outcome.Outcome, labelA, labelB string) Result {
	r := Result{A: side(a, labelA), B: side(b, labelB), Changes: []Change{}, Counts: map[Kind]int{}}
	c := &comparison{a: a, b: b, labelA: r.A.Label, labelB: r.B.Label, findingsA: byAccount(a.Findings), findingsB: byAccount(b.Findings),
		registry: map[string]checks.Check{}}
	for _, ch := range checks.All() {
		c.registry[ch.ID] = ch
	}
	acctA, acctB := map[string]*inventory.Account{}, map[string]*inventory.Account{}
	var order []string
	for i := range b.Inventory.Accounts {
		x := &b.Inventory.Accounts[i]
		acctB[x.ID] = x
		order = append(order, x.ID)
	}
	for i := range a.Inventory.Accounts {
		x := &a.Inventory.Accounts[i]
		acctA[x.ID] = x
		if acctB[x.ID] == nil {
			order = append(order, x.ID)
		}
	}
	for _, id := range order {
		start := len(c.out)
		c.account(acctA[id], acctB[id], id)
		part := c.out[start:]
		sort.SliceStable(part, func(i, j int) bool {
			x, y := part[i], part[j]
			if x.Kind.rank() != y.Kind.rank() {
				return x.Kind.rank() < y.Kind.rank()
			}
			if x.User != y.User {
				return x.User < y.User
			}
			if x.Key != y.Key {
				return x.Key < y.Key
			}
			if x.Resource != y.Resource {
				return x.Resource < y.Resource
			}
			if x.CheckID != y.CheckID {
				return x.CheckID < y.CheckID
			}
			return x.Side < y.Side
		})
	}
	r.Changes = append(r.Changes, c.out...)
	for _, k := range Kinds() {
		r.Counts[k] = 0
	}
	for _, ch := range r.Changes {
		r.Counts[ch.Kind]++
	}
	return r
}

func side(o *outcome.Outcome, label string) Side {
	s := Side{RunID: o.Inventory.RunID, At: o.Now, Label: label}
	if s.At.IsZero() {
		s.At = o.Inventory.FinishedAt
	}
	if s.Label == "" {
		s.Label = s.RunID
	}
	return s
}

type comparison struct {
	a, b           *outcome.Outcome
	labelA, labelB string
	out            []Change
	// findings of each run by account and id; the check table by id.
	findingsA, findingsB map[string]map[string]checks.Finding
	registry             map[string]checks.Check
}

func (c *comparison) add(ch Change) { c.out = append(c.out, ch) }

func (c *comparison) label(s string) string {
	if s == "a" {
		return c.labelA
	}
	return c.labelB
}

// lookedAt: the run collected the account's IAM data (in part, perhaps).
func lookedAt(a *inventory.Account) bool {
	return a != nil && (a.Status == inventory.StatusAudited || a.Status == inventory.StatusPartial)
}

func statusText(a *inventory.Account) string {
	switch a.Status {
	case inventory.StatusSkipped:
		return "not ACTIVE (" + a.State + ")"
	case inventory.StatusNotReached:
		return "not reached (the run was interrupted)"
	case inventory.StatusNotAudited:
		return "not audited"
	}
	return a.Status
}

func (c *comparison) account(a, b *inventory.Account, id string) {
	name := ""
	switch {
	case b != nil:
		name = b.Name
	case a != nil:
		name = a.Name
	}
	base := Change{AccountID: id, AccountName: name}
	if a == nil || b == nil {
		s, present := "a", b
		if b == nil {
			s, present = "b", a
		}
		ch := base
		ch.Kind, ch.Side = Unknown, s
		ch.Detail = fmt.Sprintf("account %s is not in %s (%s there): nothing about it is compared", accountLabel(name, id), c.label(s), statusText(present))
		if present.Status != inventory.StatusSkipped && present.Status != inventory.StatusNotReached && present.Status != inventory.StatusNotAudited {
			ch.Detail = fmt.Sprintf("account %s is not in %s: nothing about it is compared", accountLabel(name, id), c.label(s))
		}
		c.add(ch)
		return
	}
	// Became auditable, or stopped being so. not_reached says nothing either way.
	known := func(x *inventory.Account) bool { return x.Status != inventory.StatusNotReached }
	if known(a) && known(b) && lookedAt(a) != lookedAt(b) {
		ch := base
		ch.Before, ch.After = a.Status, b.Status
		if lookedAt(b) {
			ch.Kind = AccountAuditable
			ch.Detail = fmt.Sprintf("account %s can be audited now (%s in %s, %s in %s)", accountLabel(name, id), statusText(a), c.labelA, b.Status, c.labelB)
		} else {
			ch.Kind = AccountNotAuditable
			ch.Detail = fmt.Sprintf("account %s can no longer be audited: %s in %s", accountLabel(name, id), statusText(b), c.labelB)
			if b.Reason != "" {
				ch.Detail += " (" + oneLine(b.Reason) + ")"
			}
		}
		c.add(ch)
	}
	if !lookedAt(a) && !lookedAt(b) && statusText(a) == statusText(b) {
		ch := base
		ch.Kind, ch.Side = Unknown, Both
		ch.Detail = fmt.Sprintf("account %s was %s in both runs: nothing about it is compared", accountLabel(name, id), statusText(a))
		c.add(ch)
		c.findings(base, a, b)
		return
	}
	for _, s := range []struct {
		side string
		acct *inventory.Account
	}{{"a", a}, {"b", b}} {
		if !lookedAt(s.acct) {
			ch := base
			ch.Kind, ch.Side = Unknown, s.side
			ch.Detail = fmt.Sprintf("account %s was %s in %s: its users, keys, MFA, console access and findings are not compared", accountLabel(name, id), statusText(s.acct), c.label(s.side))
			c.add(ch)
		}
	}
	if lookedAt(a) && lookedAt(b) {
		c.users(base, a, b)
	}
	c.findings(base, a, b)
}

// compared are the per-user fields the diff reads, with how a person names them.
var compared = []struct {
	f    inventory.Field
	name string
}{
	{inventory.FieldKeylessUsers, "users without access keys"},
	{inventory.FieldPassword, "console access"},
	{inventory.FieldMFA, "MFA"},
	{inventory.FieldAccessKeys, "access keys"},
}

func (c *comparison) users(base Change, a, b *inventory.Account) {
	ua, ub := map[string]*inventory.User{}, map[string]*inventory.User{}
	for i := range a.Users {
		ua[a.Users[i].Name] = &a.Users[i]
	}
	for i := range b.Users {
		ub[b.Users[i].Name] = &b.Users[i]
	}
	// listed: the run's user list answers for the user (no gap leaves the list, or
	// the user, unknown). keyless: it would list the user without keys too (no gap
	// leaves the users without keys unknown: the original script's reports list only
	// users with keys).
	listed := func(x *inventory.Account, name string) bool {
		_, gap := checks.UserGap(x, name, inventory.FieldUsers)
		return !gap
	}
	keyless := func(x *inventory.Account, name string) bool {
		_, gap := checks.UserGap(x, name, inventory.FieldKeylessUsers)
		return !gap
	}
	missingFrom := map[string][]string{} // side → users it does not answer for
	names := map[string]bool{}
	for n := range ua {
		names[n] = true
	}
	for n := range ub {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		x, y := ua[n], ub[n]
		switch {
		case x != nil && y != nil && x.UserID != "" && y.UserID != "" && x.UserID != y.UserID:
			// Deleted and created again with the same name: another user.
			c.removed(base, x, fmt.Sprintf(" (created again with the same name: user id %s → %s)", x.UserID, y.UserID), true)
			c.added(base, y, fmt.Sprintf(" (same name as a removed user: user id %s → %s)", x.UserID, y.UserID), true)
		case x != nil && y != nil:
			c.user(base, a, b, x, y)
		case x != nil && !listed(b, n):
			missingFrom["b"] = append(missingFrom["b"], n)
		case x != nil && !keyless(b, n):
			// Not in a list of users with keys: its keys are gone; whether the user
			// is, is unknown (it may be there without keys).
			c.removed(base, x, "", false)
			missingFrom["b"] = append(missingFrom["b"], n)
		case x != nil:
			c.removed(base, x, "", true)
		case !listed(a, n):
			missingFrom["a"] = append(missingFrom["a"], n)
		case !keyless(a, n):
			c.added(base, y, "", false)
			missingFrom["a"] = append(missingFrom["a"], n)
		default:
			c.added(base, y, "", true)
		}
	}
	c.gapUnknowns(base, a, b, missingFrom)
}

// unknownEntry is what one run's gaps about one subject ("" for every user) leave
// unknown among the compared fields.
type unknownEntry struct {
	fields []string
	why    []string
}

func (e *unknownEntry) same(o *unknownEntry) bool {
	return o != nil && strings.Join(e.fields, "\x00") == strings.Join(o.fields, "\x00") && strings.Join(e.why, "\x00") == strings.Join(o.why, "\x00")
}

// gapEntries reads an account's gaps: per subject, the compared fields they leave
// unknown and why.
func gapEntries(acct *inventory.Account) map[string]*unknownEntry {
	out := map[string]*unknownEntry{}
	for _, g := range acct.Gaps {
		var names []string
		switch {
		case g.Leaves(inventory.FieldUsers) && g.Subject == "":
			names = []string{"the user list and every user's data"}
		case g.Leaves(inventory.FieldUsers):
			names = []string{"everything about the user"}
		default:
			for _, f := range compared {
				if g.Leaves(f.f) {
					names = append(names, f.name)
				}
			}
		}
		if len(names) == 0 {
			continue
		}
		e := out[g.Subject]
		if e == nil {
			e = &unknownEntry{}
			out[g.Subject] = e
		}
		for _, n := range names {
			if !contains(e.fields, n) {
				e.fields = append(e.fields, n)
			}
		}
		if msg := oneLine(g.Message); msg != "" && !contains(e.why, msg) {
			e.why = append(e.why, msg)
		}
	}
	return out
}

// gapUnknowns lists what each run's gaps leave unknown among the compared fields:
// one line per gap subject (every user for an account-wide gap), one for both runs
// when they say the same. missing are, per side, the users of the other run that
// side's list does not answer for: neither added nor removed.
func (c *comparison) gapUnknowns(base Change, a, b *inventory.Account, missing map[string][]string) {
	ea, eb := gapEntries(a), gapEntries(b)
	var subjects []string
	for _, m := range []map[string]*unknownEntry{ea, eb} {
		for subj := range m {
			if !contains(subjects, subj) {
				subjects = append(subjects, subj)
			}
		}
	}
	sort.Strings(subjects)
	line := func(side, where, subj string, e *unknownEntry, items []string) {
		ch := base
		ch.Kind, ch.Side, ch.Items = Unknown, side, items
		what := strings.Join(e.fields, ", ")
		if subj != "" {
			ch.User, what = subj, subj+": "+what
		}
		ch.Detail = fmt.Sprintf("%s: unknown in %s (%s)", what, where, strings.Join(e.why, "; "))
		if len(items) > 0 {
			ch.Detail += "; so neither added nor removed: " + strings.Join(items, ", ")
		}
		c.add(ch)
	}
	for _, subj := range subjects {
		x, y := ea[subj], eb[subj]
		var itemsA, itemsB []string
		if subj == "" {
			itemsA, itemsB = missing["a"], missing["b"]
		}
		if x != nil && x.same(y) {
			line(Both, c.labelA+" and "+c.labelB, subj, x, append(append([]string{}, itemsA...), itemsB...))
			continue
		}
		if x != nil {
			line("a", c.labelA, subj, x, itemsA)
		}
		if y != nil {
			line("b", c.labelB, subj, y, itemsB)
		}
	}
	// Users whose own gap (not an account-wide one) leaves the list unknown for them.
	for _, s := range []struct {
		side    string
		entries map[string]*unknownEntry
	}{{"a", ea}, {"b", eb}} {
		if s.entries[""] != nil {
			continue
		}
		for _, n := range missing[s.side] {
			if s.entries[n] != nil {
				continue
			}
			ch := base
			ch.Kind, ch.Side, ch.User = Unknown, s.side, n
			ch.Detail = fmt.Sprintf("%s: not in %s, whose user list does not answer for it: neither added nor removed", n, c.label(s.side))
			c.add(ch)
		}
	}
}

// Both is the Side of an unknown both runs share.
const Both = "both"

// removed: a user of a not in b. userKnown is false when b's list cannot say
// whether the user is gone (it lists only users with keys): its keys are.
func (c *comparison) removed(base Change, u *inventory.User, why string, userKnown bool) {
	if userKnown {
		ch := base
		ch.Kind, ch.User = UserRemoved, u.Name
		ch.Detail = fmt.Sprintf("user %s removed%s", u.Name, why)
		c.add(ch)
	}
	for _, k := range u.AccessKeys {
		kc := base
		kc.Kind, kc.User, kc.Key, kc.Before = KeyDeleted, u.Name, keyLabel(k), k.Status
		kc.Detail = fmt.Sprintf("access key %s of %s deleted (%s, created %s)", keyLabel(k), u.Name, k.Status, day(k.CreatedAt))
		if userKnown {
			kc.Detail += " with its user"
		}
		c.add(kc)
	}
}

// added: a user of b not in a; userKnown as for removed.
func (c *comparison) added(base Change, u *inventory.User, why string, userKnown bool) {
	if userKnown {
		ch := base
		ch.Kind, ch.User = UserAdded, u.Name
		ch.Detail = fmt.Sprintf("user %s added%s", u.Name, why)
		c.add(ch)
	}
	for _, k := range u.AccessKeys {
		kc := base
		kc.Kind, kc.User, kc.Key, kc.After = KeyCreated, u.Name, keyLabel(k), k.Status
		kc.Detail = fmt.Sprintf("access key %s created for %s (%s, created %s)", keyLabel(k), u.Name, k.Status, day(k.CreatedAt))
		if userKnown {
			kc.Detail = fmt.Sprintf("access key %s created for the new user %s (%s, created %s)", keyLabel(k), u.Name, k.Status, day(k.CreatedAt))
		}
		c.add(kc)
	}
}

func unknownFor(acct *inventory.Account, user string, f inventory.Field) bool {
	_, gap := checks.UserGap(acct, user, inventory.FieldUsers, f)
	return gap
}

// user compares a user both runs have.
func (c *comparison) user(base Change, a, b *inventory.Account, x, y *inventory.User) {
	base.User = x.Name
	if !unknownFor(a, x.Name, inventory.FieldPassword) && !unknownFor(b, y.Name, inventory.FieldPassword) && x.PasswordEnabled != y.PasswordEnabled {
		ch := base
		if y.PasswordEnabled {
			ch.Kind, ch.Detail = ConsoleEnabled, fmt.Sprintf("%s can sign in to the console now (a password was created)", x.Name)
		} else {
			ch.Kind, ch.Detail = ConsoleDisabled, fmt.Sprintf("%s can no longer sign in to the console (the password was deleted)", x.Name)
		}
		c.add(ch)
	}
	if !unknownFor(a, x.Name, inventory.FieldMFA) && !unknownFor(b, y.Name, inventory.FieldMFA) && checks.UserHasMFA(*x) != checks.UserHasMFA(*y) {
		ch := base
		if checks.UserHasMFA(*y) {
			ch.Kind, ch.After = MFAAdded, y.MFAType()
			ch.Detail = fmt.Sprintf("%s has MFA now", x.Name)
			if len(y.MFADevices) > 0 {
				ch.Detail += " (" + y.MFAType() + ")"
			}
		} else {
			ch.Kind, ch.Before = MFARemoved, x.MFAType()
			ch.Detail = fmt.Sprintf("%s has no MFA any more", x.Name)
		}
		c.add(ch)
	}
	if unknownFor(a, x.Name, inventory.FieldAccessKeys) || unknownFor(b, y.Name, inventory.FieldAccessKeys) {
		return
	}
	c.keys(base, x, y)
}

// keys compares one user's access keys: by id where both runs know it, else by
// creation time (a credential report has no key ids; a key's creation is its
// identity there).
func (c *comparison) keys(base Change, x, y *inventory.User) {
	type pair struct{ a, b *inventory.AccessKey }
	var pairs []pair
	usedA, usedB := map[int]bool{}, map[int]bool{}
	for i := range x.AccessKeys {
		for j := range y.AccessKeys {
			if usedB[j] || x.AccessKeys[i].ID == "" || x.AccessKeys[i].ID != y.AccessKeys[j].ID {
				continue
			}
			pairs, usedA[i], usedB[j] = append(pairs, pair{&x.AccessKeys[i], &y.AccessKeys[j]}), true, true
			break
		}
	}
	for i := range x.AccessKeys {
		if usedA[i] {
			continue
		}
		for j := range y.AccessKeys {
			ka, kb := x.AccessKeys[i], y.AccessKeys[j]
			if usedB[j] || (ka.ID != "" && kb.ID != "") || ka.CreatedAt.IsZero() || !ka.CreatedAt.Truncate(time.Second).Equal(kb.CreatedAt.Truncate(time.Second)) {
				continue
			}
			pairs, usedA[i], usedB[j] = append(pairs, pair{&x.AccessKeys[i], &y.AccessKeys[j]}), true, true
			break
		}
	}
	var retired []Change // active before, deleted or deactivated now
	var created []Change // new and active
	for _, p := range pairs {
		before, after := checks.ActiveKey(*p.a), checks.ActiveKey(*p.b)
		ch := base
		ch.Key, ch.Before, ch.After = keyLabel(*p.b), p.a.Status, p.b.Status
		if p.b.ID == "" {
			ch.Key = keyLabel(*p.a)
		}
		switch {
		case before && !after:
			ch.Kind, ch.Detail = KeyDeactivated, fmt.Sprintf("access key %s of %s deactivated (%s → %s)", ch.Key, x.Name, p.a.Status, p.b.Status)
			retired = append(retired, ch)
		case !before && after:
			ch.Kind, ch.Detail = KeyReactivated, fmt.Sprintf("access key %s of %s reactivated (%s → %s)", ch.Key, x.Name, p.a.Status, p.b.Status)
			c.add(ch)
		}
	}
	for i, k := range x.AccessKeys {
		if usedA[i] {
			continue
		}
		ch := base
		ch.Kind, ch.Key, ch.Before = KeyDeleted, keyLabel(k), k.Status
		ch.Detail = fmt.Sprintf("access key %s of %s deleted (%s, created %s)", keyLabel(k), x.Name, k.Status, day(k.CreatedAt))
		if checks.ActiveKey(k) {
			retired = append(retired, ch)
		} else {
			c.add(ch)
		}
	}
	for j, k := range y.AccessKeys {
		if usedB[j] {
			continue
		}
		ch := base
		ch.Kind, ch.Key, ch.After = KeyCreated, keyLabel(k), k.Status
		ch.Detail = fmt.Sprintf("access key %s created for %s (%s, created %s)", keyLabel(k), x.Name, k.Status, day(k.CreatedAt))
		if checks.ActiveKey(k) {
			created = append(created, ch)
		} else {
			c.add(ch)
		}
	}
	// A rotation: an active key retired and a new active key, oldest with oldest.
	n := min(len(retired), len(created))
	for i := 0; i < n; i++ {
		old, nw := retired[i], created[i]
		how := "deleted"
		if old.Kind == KeyDeactivated {
			how = "deactivated"
		}
		ch := base
		ch.Kind, ch.Key, ch.NewKey, ch.Before, ch.After = KeyRotated, old.Key, nw.Key, old.Before, nw.After
		ch.Detail = fmt.Sprintf("access key of %s rotated: %s %s, %s created", x.Name, old.Key, how, nw.Key)
		c.add(ch)
	}
	for _, ch := range retired[n:] {
		c.add(ch)
	}
	for _, ch := range created[n:] {
		c.add(ch)
	}
}

// findings compares the account's findings by their stable id. A finding one run
// has and the other has not is new or resolved only when the other run could have
// found it: its check ran there, and the data it needs about its user was known.
func (c *comparison) findings(base Change, a, b *inventory.Account) {
	fa, fb := c.findingsA[a.ID], c.findingsB[b.ID]
	registry := c.registry
	// What each run could not evaluate in the account, asked once.
	unevaluated := map[*outcome.Outcome][]string{}
	if lookedAt(a) {
		unevaluated[c.a] = checks.Unevaluated(a, c.a.Settings.Checks)
	}
	if lookedAt(b) {
		unevaluated[c.b] = checks.Unevaluated(b, c.b.Settings.Checks)
	}
	users := func(x *inventory.Account) map[string]*inventory.User {
		m := make(map[string]*inventory.User, len(x.Users))
		for i := range x.Users {
			m[x.Users[i].Name] = &x.Users[i]
		}
		return m
	}
	usersA, usersB := users(a), users(b)
	type key struct{ side, check string }
	notEvaluated := map[key][]string{}
	var keys []key
	for _, id := range sortedIDs(fa, fb) {
		x, inA := fa[id]
		y, inB := fb[id]
		switch {
		case inA && inB:
			if x.Severity != y.Severity {
				ch := findingChange(base, y, FindingSeverity)
				ch.Before, ch.After = x.Severity.String(), y.Severity.String()
				ch.Detail = fmt.Sprintf("%s on %s: severity %s → %s", y.CheckID, subject(y), x.Severity, y.Severity)
				c.add(ch)
			}
		case inA:
			if evaluable(c.b, b, x, registry, unevaluated[c.b], usersB) {
				ch := findingChange(base, x, FindingResolved)
				ch.Before = x.Severity.String()
				ch.Detail = fmt.Sprintf("%s (%s) on %s resolved", x.CheckID, x.Severity, subject(x))
				c.add(ch)
			} else if lookedAt(b) {
				k := key{"b", x.CheckID}
				if notEvaluated[k] == nil {
					keys = append(keys, k)
				}
				notEvaluated[k] = append(notEvaluated[k], subject(x))
			}
		default:
			if evaluable(c.a, a, y, registry, unevaluated[c.a], usersA) {
				ch := findingChange(base, y, FindingNew)
				ch.After = y.Severity.String()
				ch.Detail = fmt.Sprintf("%s (%s) on %s is new", y.CheckID, y.Severity, subject(y))
				c.add(ch)
			} else if lookedAt(a) {
				k := key{"a", y.CheckID}
				if notEvaluated[k] == nil {
					keys = append(keys, k)
				}
				notEvaluated[k] = append(notEvaluated[k], subject(y))
			}
		}
	}
	for _, k := range keys {
		items := notEvaluated[k]
		ch := base
		ch.Kind, ch.Side, ch.CheckID, ch.Items = Unknown, k.side, k.check, items
		other := c.labelB
		if k.side == "b" {
			other = c.labelA
		}
		ch.Detail = fmt.Sprintf("%d %s finding(s) of %s could not be looked for in %s (the data the check needs is unknown there): %s",
			len(items), k.check, other, c.label(k.side), strings.Join(items, ", "))
		c.add(ch)
	}
}

const notAuditedCheck = "account_not_audited"

// evaluable tells whether run o (its account acct) could have found f, a finding
// of the other run: its check ran for the
// account, and for a finding about a user, that user's data the check needs was
// known, or the user is known to be gone.
func evaluable(o *outcome.Outcome, acct *inventory.Account, f checks.Finding, registry map[string]checks.Check, unevaluated []string, users map[string]*inventory.User) bool {
	if acct == nil || acct.Status == inventory.StatusSkipped || acct.Status == inventory.StatusNotReached {
		return false
	}
	c, ok := registry[f.CheckID]
	if !ok || !o.Settings.Checks.Enabled(f.CheckID) {
		return false
	}
	if acct.Status == inventory.StatusNotAudited {
		return f.CheckID == notAuditedCheck
	}
	if f.CheckID == notAuditedCheck {
		return true
	}
	if contains(unevaluated, f.CheckID) {
		return false
	}
	if f.User == "" || (f.ResourceType != checks.ResourceUser && f.ResourceType != checks.ResourceAccessKey) {
		return true
	}
	if users[f.User] == nil {
		// Gone: known gone when the list answers for the user (a user with keys
		// when the list may lack keyless users: the other run's user had them).
		if _, gap := checks.UserGap(acct, f.User, inventory.FieldUsers); gap {
			return false
		}
		if _, gap := checks.UserGap(acct, f.User, inventory.FieldKeylessUsers); gap {
			// A list of users with keys: the user is not there with a key, so the
			// finding about a key is gone; the user may be there without keys.
			return f.ResourceType == checks.ResourceAccessKey
		}
		return true
	}
	_, gap := checks.UserGap(acct, f.User, append([]inventory.Field{inventory.FieldUsers}, c.UserNeeds...)...)
	return !gap
}

func findingChange(base Change, f checks.Finding, k Kind) Change {
	ch := base
	ch.Kind, ch.FindingID, ch.CheckID, ch.Resource, ch.User = k, f.ID, f.CheckID, f.Resource, f.User
	return ch
}

// subject names a finding's resource for a person: the user (and key), else the
// resource.
func subject(f checks.Finding) string {
	switch {
	case f.ResourceType == checks.ResourceAccessKey && f.User != "":
		return f.User + " " + f.Resource
	case f.User != "":
		return f.User
	}
	return f.Resource
}

// byAccount groups findings by account, then id.
func byAccount(fs []checks.Finding) map[string]map[string]checks.Finding {
	out := map[string]map[string]checks.Finding{}
	for _, f := range fs {
		m := out[f.AccountID]
		if m == nil {
			m = map[string]checks.Finding{}
			out[f.AccountID] = m
		}
		m[f.ID] = f
	}
	return out
}

func sortedIDs(a, b map[string]checks.Finding) []string {
	seen := map[string]bool{}
	var ids []string
	for _, m := range []map[string]checks.Finding{a, b} {
		for id := range m {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	sort.Strings(ids)
	return ids
}

// keyLabel names a key: its id, or its creation day when its id is unknown.
func keyLabel(k inventory.AccessKey) string {
	if k.ID != "" {
		return k.ID
	}
	s := "created " + day(k.CreatedAt)
	if k.Slot > 0 {
		s += fmt.Sprintf(" (slot %d)", k.Slot)
	}
	return s
}

func day(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02")
}

func accountLabel(name, id string) string {
	if name == "" || name == id {
		return id
	}
	return name + " (" + id + ")"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
