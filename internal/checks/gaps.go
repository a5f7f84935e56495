package checks

import "github.com/iamaudit/iamaudit/internal/inventory"

// Inventory sections a check or a score can depend on, as Gap.Section names them.
// SectionKeyLastUse is not a Gap section: it is the last-use part of access_keys
// (a failed iam:GetAccessKeyLastUsed leaves the key list known but its last use not).
const (
	SectionUsers      = inventory.SectionUsers
	SectionAccessKeys = inventory.SectionAccessKeys
	SectionKeyLastUse = "access_keys.last_used"
	SectionMFA        = inventory.SectionMFA
	SectionPassword   = inventory.SectionPassword
)

// opAuthDetails is the one call that returns the users' policies, groups and tags and
// every role, group and customer managed policy of an account.
const opAuthDetails = "iam:GetAccountAuthorizationDetails"

// gapCovers reports whether gap g leaves section unknown. A gap in "users" about a
// subject leaves everything about that user unknown.
func gapCovers(g inventory.Gap, section string) bool {
	switch {
	case g.Section == SectionUsers && g.Subject != "":
		return true
	case section == SectionKeyLastUse:
		return g.Section == SectionAccessKeys
	case g.Section != section:
		return false
	case section == SectionAccessKeys && g.Operation == "iam:GetAccessKeyLastUsed":
		return false // only the last use is missing, the keys are known
	case section == SectionMFA && g.Subject == "" && g.Operation == "iam:ListVirtualMFADevices":
		return false // only the device types are missing, not whether users have MFA
	}
	return true
}

// UserGap returns the first gap that leaves one of sections unknown for user: a
// per-user gap (Subject = the user's name), or an account-wide gap (no Subject) that
// records a failed call (Operation set), such as a run interrupted before a section
// was collected, which leaves that section unknown for every user. Account-wide gaps
// without an operation describe what a credential report lacks by nature and leave
// no user unknown; a failed GetAccountAuthorizationDetails leaves only policies,
// groups and tags unknown, which the checks reading them declare in Needs.
func UserGap(acct *inventory.Account, user string, sections ...string) (inventory.Gap, bool) {
	if user == "" {
		return inventory.Gap{}, false
	}
	for _, g := range acct.Gaps {
		if g.Subject != user && !accountWideFailure(g) {
			continue
		}
		for _, s := range sections {
			if gapCovers(g, s) && !reportKeysKept(acct, g, user) {
				return g, true
			}
		}
	}
	return inventory.Gap{}, false
}

// accountWideFailure: an account-wide gap left by a failed (or never made) call, other
// than GetAccountAuthorizationDetails, which leaves no per-user section unknown.
func accountWideFailure(g inventory.Gap) bool {
	return g.Subject == "" && g.Operation != "" && g.Operation != opAuthDetails
}

// SectionsUnknown lists which of sections are unknown, for any user, in an account:
// a per-user gap of any user, or an account-wide gap that records a failed call
// (Operation set) in that section or in the user list. Account-wide gaps without an
// operation describe what a data source lacks by nature (a credential report has no
// key ids, MFA device types or tags), which no score figure uses. Scores use it to
// tell a figure built on complete data from one built on partial data.
func SectionsUnknown(acct *inventory.Account, sections ...string) []string {
	var out []string
	for _, s := range sections {
		for _, g := range acct.Gaps {
			if g.Subject == "" && (g.Operation == "" || g.Section == SectionUsers && !accountWideUsers(g)) {
				continue
			}
			if accountWideUsers(g) || gapCovers(g, s) && !reportKeysKept(acct, g, g.Subject) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// accountWideUsers: an account-wide gap in the user list (not just in the users'
// policies, groups and tags, which GetAccountAuthorizationDetails adds).
func accountWideUsers(g inventory.Gap) bool {
	return g.Section == SectionUsers && g.Subject == "" && g.Operation != "" && g.Operation != opAuthDetails
}

// reportKeysKept: a failed ListAccessKeys (for this user, or for every user of the
// account) while the credential report gave the user's keys (status, creation, last
// use; no ids): the keys are known, only their ids are not, and the checks that need
// no id answer.
func reportKeysKept(acct *inventory.Account, g inventory.Gap, user string) bool {
	if g.Section != SectionAccessKeys || user == "" || g.Operation != "iam:ListAccessKeys" {
		return false
	}
	for _, u := range acct.Users {
		if u.Name != user {
			continue
		}
		for _, k := range u.AccessKeys {
			if k.ID != "" {
				return false
			}
		}
		return len(u.AccessKeys) > 0
	}
	return false
}
