package checks

import "github.com/iamaudit/iamaudit/internal/inventory"

// Unevaluated lists, in table order, the enabled checks that could not look at all of
// an audited account: an account-wide gap leaves unknown a section of their Needs, so
// Run skipped them or ran their Fallback, which answers only from what was still
// collected. Their findings may be missing: a score built on the findings is then a
// lower bound (internal/score). Per-user gaps are not listed here; SectionsUnknown
// tells them. An account that was not audited is left to the caller (only
// account_not_audited runs for it).
func Unevaluated(acct *inventory.Account, cfg Config) []string {
	var out []string
	for _, c := range All() {
		if c.ID == "account_not_audited" || !cfg.Enabled(c.ID) {
			continue
		}
		if missing(acct, c.Needs) {
			out = append(out, c.ID)
		}
	}
	return out
}
