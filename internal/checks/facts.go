package checks

import (
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// Helpers shared with internal/score, so that scores and findings agree on facts.

// AgeDays is the whole number of days from t to now (floored).
func AgeDays(now, t time.Time) int { return days(now, t) }

// KeyResource is the Resource of findings about a user's i-th access key.
func KeyResource(u inventory.User, i int, k inventory.AccessKey) string { return keyResource(u, i, k) }

// ActiveKey reports whether IAM reports the key as Active.
func ActiveKey(k inventory.AccessKey) bool { return activeKey(k) }

// UserHasMFA: the user has an MFA device (or the credential report says mfa_active).
func UserHasMFA(u inventory.User) bool { return userHasMFA(u) }

// Known reports whether a date is present (not nil and not the zero sentinel).
func Known(t *time.Time) bool { return known(t) }

// UserInactive is inactive_user's rule: a user older than n days with no console
// sign-in and no key use in the last n days.
func UserInactive(u inventory.User, now time.Time, n int) bool {
	if u.CreatedAt.IsZero() || !olderThan(now, u.CreatedAt, n) {
		return false
	}
	if known(u.PasswordLastUsed) && !olderThan(now, *u.PasswordLastUsed, n) {
		return false
	}
	for _, k := range u.AccessKeys {
		if known(k.LastUsedAt) && !olderThan(now, *k.LastUsedAt, n) {
			return false
		}
	}
	return true
}
