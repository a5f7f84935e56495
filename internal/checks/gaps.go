package checks

import (
	"slices"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// What is unknown is read from the gaps' Unknown fields only (inventory.Field): which
// AWS call failed is collection's business, and the field it recorded says what that
// failure left unknown.

// UserGap returns the first gap that leaves one of fields unknown for user: a per-user
// gap (Subject = the user's name), or an account-wide gap (no Subject), which leaves
// its fields unknown for every user (a run interrupted before a section was
// collected, a failed ListUsers). Account-wide gaps that leave only account-level
// fields (roles, the root user, the users' policies of a failed
// GetAccountAuthorizationDetails, what a credential report lacks by nature) are read by
// the checks that need them, through Needs.
func UserGap(acct *inventory.Account, user string, fields ...inventory.Field) (inventory.Gap, bool) {
	if user == "" {
		return inventory.Gap{}, false
	}
	for _, g := range acct.Gaps {
		if g.Subject != user && g.Subject != "" {
			continue
		}
		for _, f := range fields {
			if leavesFor(acct, g, user, f) {
				return g, true
			}
		}
	}
	return inventory.Gap{}, false
}

// FieldsUnknown lists which of fields are unknown, for any user, in an account: a
// per-user gap of any user or an account-wide gap leaves them unknown. Scores use it to
// tell a figure built on complete data from one built on partial data.
func FieldsUnknown(acct *inventory.Account, fields ...inventory.Field) []inventory.Field {
	var out []inventory.Field
	for _, f := range fields {
		for _, g := range acct.Gaps {
			if leavesFor(acct, g, g.Subject, f) {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// leavesFor reports whether g leaves f unknown for user ("" for every user). One
// exception to g.Leaves: a gap that leaves a user's access keys unknown does not for a
// user whose keys the inventory holds, all without an id. Those are the credential
// report's key slots (status, creation, last use), kept when the keys could not be
// listed (docs/inventory-schema.md): only their ids are unknown.
func leavesFor(acct *inventory.Account, g inventory.Gap, user string, f inventory.Field) bool {
	for _, u := range g.Unknown {
		if u == inventory.FieldAccessKeys && f != inventory.FieldKeyIDs && reportKeysKept(acct, user) {
			continue
		}
		if u.Covers(f) {
			return true
		}
	}
	return false
}

// reportKeysKept: the user's keys are all the credential report's (none has an id).
func reportKeysKept(acct *inventory.Account, user string) bool {
	if user == "" {
		return false
	}
	for _, u := range acct.Users {
		if u.Name != user {
			continue
		}
		return len(u.AccessKeys) > 0 && !slices.ContainsFunc(u.AccessKeys, func(k inventory.AccessKey) bool { return k.ID != "" })
	}
	return false
}

// accountGap returns an account-wide gap (no Subject) that leaves f unknown, if any.
func accountGap(acct *inventory.Account, f inventory.Field) (inventory.Gap, bool) {
	for _, g := range acct.Gaps {
		if g.Subject == "" && g.Leaves(f) {
			return g, true
		}
	}
	return inventory.Gap{}, false
}
