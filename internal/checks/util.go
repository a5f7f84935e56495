package checks

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

const day = 24 * time.Hour

// days is the whole number of days from t to now (floored; negative when t is later).
func days(now, t time.Time) int {
	d := now.Sub(t)
	n := int(d / day)
	if d < 0 && d%day != 0 {
		n-- // floor, not truncation, for times in the future
	}
	return n
}

// olderThan reports whether t is more than n whole days before now: age > n fires,
// age == n does not.
func olderThan(now, t time.Time, n int) bool { return days(now, t) > n }

// known reports whether a date is present (not nil and not the zero sentinel).
func known(t *time.Time) bool { return t != nil && !t.IsZero() }

func date(t time.Time) string { return t.UTC().Format("2006-01-02") }

func itoa(n int) string { return strconv.Itoa(n) }

// activeKey reports whether IAM reports the key as Active (Inactive and Expired keys
// do not sign requests).
func activeKey(k inventory.AccessKey) bool { return strings.EqualFold(k.Status, inventory.KeyActive) }

// keySlot is the key's credential report slot: its Slot, or its position in the list
// for an inventory written before keys kept their slot.
func keySlot(i int, k inventory.AccessKey) int {
	if k.Slot > 0 {
		return k.Slot
	}
	return i + 1
}

// keyResource names a key: its id, or "<user ARN>/access_key_<slot>" when the id is
// unknown (credential-report-only inventories), with the key's report slot: a user
// whose only key is in slot 2 has ".../access_key_2".
func keyResource(u inventory.User, i int, k inventory.AccessKey) string {
	if k.ID != "" {
		return k.ID
	}
	return fmt.Sprintf("%s/access_key_%d", u.ARN, keySlot(i, k))
}

// keyLabel is how messages name a key: its id, else its report slot number.
func keyLabel(i int, k inventory.AccessKey) string {
	if k.ID != "" {
		return k.ID
	}
	return strconv.Itoa(keySlot(i, k))
}

// userHasMFA: any device, or the report's mfa_active when devices are unknown.
func userHasMFA(u inventory.User) bool { return u.MFAActive || len(u.MFADevices) > 0 }

// subjectGaps describes the gaps about a subject (a user) that leave one of fields
// unknown, for evidence.
func subjectGaps(acct *inventory.Account, subject string, fields ...inventory.Field) string {
	var parts []string
	for _, g := range acct.Gaps {
		if g.Subject != subject {
			continue
		}
		for _, f := range fields {
			if related(g, f) {
				parts = append(parts, string(g.Section)+": "+g.Message)
				break
			}
		}
	}
	return strings.Join(parts, "; ")
}

// userFinding starts a finding about a user, with gap evidence when some of the user's
// data (fields) could not be collected.
func userFinding(acct *inventory.Account, u inventory.User, msg string, ev map[string]string, fields ...inventory.Field) Finding {
	if ev == nil {
		ev = map[string]string{}
	}
	if g := subjectGaps(acct, u.Name, fields...); g != "" {
		ev["collection_gaps"] = g
	}
	return Finding{Resource: u.ARN, ResourceType: ResourceUser, User: u.Name, Message: msg, Evidence: ev}
}

// unknownValue is the evidence value of data a gap left unknown.
const unknownValue = "unknown"

// lastUsed describes a last-use date for evidence.
func lastUsed(t *time.Time) string {
	if !known(t) {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// plural is "1 policy", "2 policies".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

// nDays is "1 day", "2 days".
func nDays(n int) string { return plural(n, "day", "days") }

// related: the gap leaves f, or part of f, unknown (a key last-use gap is related to
// the keys).
func related(g inventory.Gap, f inventory.Field) bool {
	for _, u := range g.Unknown {
		if u.Covers(f) || f.Covers(u) {
			return true
		}
	}
	return false
}
