package checks

import "github.com/iamaudit/iamaudit/internal/inventory"

// Unevaluated lists, in table order, the enabled checks that could not look at all of
// an audited account: an account-wide gap leaves unknown a section of their Needs, so
// Run skipped them or ran their Fallback, which answers only from what was still
// collected. Their findings may be missing: a score built on the findings is then a
// lower bound (internal/score). Per-user gaps are not listed here; SectionsUnknown
// tells them. An account that was not audited is left to the caller (only
// account_not_audited runs for it).
//
// A gap about a resource that is not a user (a group's inline policy, a customer
// managed policy whose document does not parse) lists the checks needing what it left
// unknown too: they ran, but could not judge the users that resource reaches.
func Unevaluated(acct *inventory.Account, cfg Config) []string {
	users := make(map[string]bool, len(acct.Users))
	for _, u := range acct.Users {
		users[u.Name] = true
	}
	var out []string
	for _, c := range All() {
		if c.ID == "account_not_audited" || !cfg.Enabled(c.ID) {
			continue
		}
		if missing(acct, c.Needs) || resourceGap(acct, users, c.Needs) {
			out = append(out, c.ID)
		}
	}
	return out
}

// resourceGap: a gap whose subject is a resource other than a user leaves one of
// fields unknown.
func resourceGap(acct *inventory.Account, users map[string]bool, fields []inventory.Field) bool {
	for _, g := range acct.Gaps {
		if g.Subject == "" || users[g.Subject] {
			continue
		}
		for _, f := range fields {
			if g.Leaves(f) {
				return true
			}
		}
	}
	return false
}
