package checks

import (
	"fmt"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// checkConsoleWithoutMFA: a console password without MFA. The password and the MFA
// devices decide (UserNeeds); the last sign-in only grades the severity (critical
// when recent). When the last sign-in is unknown (a failed GetUser, no credential
// report), the finding still fires, at high, the severity the known data supports,
// and says the last sign-in is unknown.
func checkConsoleWithoutMFA(_ *inventory.Inventory, acct *inventory.Account, now time.Time, cfg Config) []Finding {
	var out []Finding
	for _, u := range acct.Users {
		if !u.PasswordEnabled || userHasMFA(u) {
			continue
		}
		ev := map[string]string{"password_last_used": lastUsed(u.PasswordLastUsed),
			"recent_use_days": itoa(cfg.Thresholds.RecentPasswordUseDays)}
		sev := High
		msg := "Console access enabled but MFA not configured"
		_, lastUseUnknown := UserGap(acct, u.Name, inventory.FieldPasswordLastUsed)
		switch {
		case lastUseUnknown:
			ev["password_last_used"] = unknownValue
			msg += " (last sign-in unknown: it could be recent)"
		case known(u.PasswordLastUsed) && !olderThan(now, *u.PasswordLastUsed, cfg.Thresholds.RecentPasswordUseDays):
			sev = Critical
			msg = fmt.Sprintf("Console access enabled but MFA not configured (password used %s ago)", nDays(days(now, *u.PasswordLastUsed)))
		}
		f := userFinding(acct, u, msg, ev, inventory.FieldMFA, inventory.FieldPassword, inventory.FieldPasswordLastUsed)
		f.Severity = sev
		out = append(out, f)
	}
	return out
}

func checkAccessKeyNotRotated(_ *inventory.Inventory, acct *inventory.Account, now time.Time, cfg Config) []Finding {
	t := cfg.Thresholds
	var out []Finding
	for _, u := range acct.Users {
		for i, k := range u.AccessKeys {
			if !activeKey(k) || k.CreatedAt.IsZero() || !olderThan(now, k.CreatedAt, t.KeyRotationMediumDays) {
				continue
			}
			age := days(now, k.CreatedAt)
			sev := Medium
			switch {
			case age > t.KeyRotationCriticalDays:
				sev = Critical
			case age > t.KeyRotationHighDays:
				sev = High
			}
			f := keyFinding(acct, u, i, k, fmt.Sprintf("Access key %s is %s old (not rotated)", keyLabel(i, k), nDays(age)))
			f.Evidence["created"] = date(k.CreatedAt)
			f.Evidence["age_days"] = itoa(age)
			f.Evidence["thresholds_days"] = fmt.Sprintf("%d/%d/%d", t.KeyRotationMediumDays, t.KeyRotationHighDays, t.KeyRotationCriticalDays)
			f.Severity = sev
			out = append(out, f)
		}
	}
	return out
}

func keyFinding(acct *inventory.Account, u inventory.User, i int, k inventory.AccessKey, msg string) Finding {
	ev := map[string]string{"last_used": lastUsed(k.LastUsedAt), "status": k.Status}
	if k.LastUsedService != "" {
		ev["last_used_service"] = k.LastUsedService
	}
	if k.LastUsedRegion != "" {
		ev["last_used_region"] = k.LastUsedRegion
	}
	if k.LastUsedSource != "" {
		ev["last_used_source"] = k.LastUsedSource
	}
	if k.Slot > 0 {
		ev["slot"] = itoa(k.Slot)
	}
	if g := subjectGaps(acct, u.Name, inventory.FieldAccessKeys); g != "" {
		ev["collection_gaps"] = g
	}
	return Finding{Resource: keyResource(u, i, k), ResourceType: ResourceAccessKey, User: u.Name, Message: msg, Evidence: ev}
}

func checkAccessKeyNeverUsed(_ *inventory.Inventory, acct *inventory.Account, now time.Time, cfg Config) []Finding {
	grace := cfg.Thresholds.NeverUsedKeyGraceDays
	var out []Finding
	for _, u := range acct.Users {
		for i, k := range u.AccessKeys {
			if !activeKey(k) || known(k.LastUsedAt) || k.CreatedAt.IsZero() || !olderThan(now, k.CreatedAt, grace) {
				continue
			}
			age := days(now, k.CreatedAt)
			f := keyFinding(acct, u, i, k, fmt.Sprintf("Access key %s has never been used (created %s ago)", keyLabel(i, k), nDays(age)))
			f.Evidence["created"] = date(k.CreatedAt)
			f.Evidence["age_days"] = itoa(age)
			f.Evidence["grace_days"] = itoa(grace)
			out = append(out, f)
		}
	}
	return out
}

func checkAccessKeyUnused(_ *inventory.Inventory, acct *inventory.Account, now time.Time, cfg Config) []Finding {
	n := cfg.Thresholds.UnusedKeyDays
	var out []Finding
	for _, u := range acct.Users {
		for i, k := range u.AccessKeys {
			// Never-used keys are access_key_never_used's.
			if !activeKey(k) || !known(k.LastUsedAt) || !olderThan(now, *k.LastUsedAt, n) {
				continue
			}
			idle := days(now, *k.LastUsedAt)
			f := keyFinding(acct, u, i, k, fmt.Sprintf("Access key %s unused for %s", keyLabel(i, k), nDays(idle)))
			f.Evidence["days_unused"] = itoa(idle)
			f.Evidence["threshold_days"] = itoa(n)
			out = append(out, f)
		}
	}
	return out
}

func checkMultipleActiveKeys(_ *inventory.Inventory, acct *inventory.Account, _ time.Time, _ Config) []Finding {
	var out []Finding
	for _, u := range acct.Users {
		var ids []string
		for i, k := range u.AccessKeys {
			if activeKey(k) {
				ids = append(ids, keyLabel(i, k))
			}
		}
		if len(ids) < 2 {
			continue
		}
		out = append(out, userFinding(acct, u, fmt.Sprintf("User has %d active access keys (%s)", len(ids), strings.Join(ids, ", ")),
			map[string]string{"active_keys": strings.Join(ids, ",")}, inventory.FieldAccessKeys))
	}
	return out
}

// passwordSetAt is when the console password was set, as far as the inventory knows.
func passwordSetAt(u inventory.User) time.Time {
	if known(u.PasswordLastChanged) {
		return *u.PasswordLastChanged
	}
	return u.CreatedAt
}

func checkConsolePasswordUnused(_ *inventory.Inventory, acct *inventory.Account, now time.Time, cfg Config) []Finding {
	n := cfg.Thresholds.UnusedPasswordDays
	var out []Finding
	for _, u := range acct.Users {
		if !u.PasswordEnabled {
			continue
		}
		ev := map[string]string{"threshold_days": itoa(n), "password_last_used": lastUsed(u.PasswordLastUsed)}
		if known(u.PasswordLastUsed) {
			if !olderThan(now, *u.PasswordLastUsed, n) {
				continue
			}
			idle := days(now, *u.PasswordLastUsed)
			ev["days_unused"] = itoa(idle)
			out = append(out, userFinding(acct, u, fmt.Sprintf("Console password unused for %s", nDays(idle)), ev))
			continue
		}
		set := passwordSetAt(u)
		if set.IsZero() || !olderThan(now, set, n) {
			continue
		}
		ev["password_set"] = date(set)
		ev["days_since_set"] = itoa(days(now, set))
		out = append(out, userFinding(acct, u, fmt.Sprintf("Console password never used (set %s ago)", nDays(days(now, set))), ev))
	}
	return out
}

func checkInactiveUser(_ *inventory.Inventory, acct *inventory.Account, now time.Time, cfg Config) []Finding {
	n := cfg.Thresholds.InactiveUserDays
	var out []Finding
	for _, u := range acct.Users {
		if !UserInactive(u, now, n) {
			continue
		}
		last := u.PasswordLastUsed
		for _, k := range u.AccessKeys {
			if known(k.LastUsedAt) && (!known(last) || k.LastUsedAt.After(*last)) {
				last = k.LastUsedAt
			}
		}
		ev := map[string]string{"created": date(u.CreatedAt), "last_activity": lastUsed(last), "threshold_days": itoa(n)}
		msg := fmt.Sprintf("User inactive for more than %s (no console sign-in or key use; last activity: %s)", nDays(n), lastActivity(last))
		out = append(out, userFinding(acct, u, msg, ev, inventory.FieldAccessKeys, inventory.FieldPassword))
	}
	return out
}

func lastActivity(t *time.Time) string {
	if !known(t) {
		return "never"
	}
	return date(*t)
}

// deactivation finds when a key was deactivated: the latest successful UpdateAccessKey
// event naming the key (request parameter accessKeyId or a resource) whose status, when
// known, is Inactive.
func deactivation(acct *inventory.Account, keyID string) (time.Time, bool) {
	var at time.Time
	found := false
	for _, e := range acct.Events {
		if e.Name != "UpdateAccessKey" || e.ErrorCode != "" {
			continue
		}
		match := false
		if id, ok := e.RequestParameters["accessKeyId"].(string); ok && id == keyID {
			match = true
		}
		for _, r := range e.Resources {
			if r.Name == keyID {
				match = true
			}
		}
		if !match {
			continue
		}
		if st, ok := e.RequestParameters["status"].(string); ok && !strings.EqualFold(st, "Inactive") {
			continue
		}
		if !found || e.Time.After(at) {
			at, found = e.Time, true
		}
	}
	return at, found
}

// eventsLookedUp reports whether the inventory's events are complete for the event
// name: it was looked up, and no gap names it (or all events).
func eventsLookedUp(inv *inventory.Inventory, acct *inventory.Account, name string) bool {
	if inv.EventWindowStart.IsZero() {
		return false
	}
	listed := false
	for _, n := range inv.EventNames {
		if n == name {
			listed = true
		}
	}
	if !listed {
		return false
	}
	for _, g := range acct.Gaps {
		if !g.Leaves(inventory.FieldEvents) {
			continue
		}
		if g.Subject == "" {
			return false
		}
		// collect names the event names it could not look up, joined with ",".
		for _, n := range strings.Split(g.Subject, ",") {
			if strings.TrimSpace(n) == name {
				return false
			}
		}
	}
	return true
}

// checkInactiveKeyNotDeleted reports keys that exist without signing requests: an
// Expired key at once (it can serve no caller; nothing to wait for), an Inactive key
// once it has been inactive for more than the threshold (which needs the
// UpdateAccessKey events; without them Inactive keys are not judged).
func checkInactiveKeyNotDeleted(inv *inventory.Inventory, acct *inventory.Account, now time.Time, cfg Config) []Finding {
	n := cfg.Thresholds.InactiveKeyDeleteDays
	events := eventsLookedUp(inv, acct, "UpdateAccessKey")
	var out []Finding
	for _, u := range acct.Users {
		for i, k := range u.AccessKeys {
			if strings.EqualFold(k.Status, inventory.KeyExpired) {
				f := keyFinding(acct, u, i, k, fmt.Sprintf("Access key %s has expired and still exists", keyLabel(i, k)))
				if !k.CreatedAt.IsZero() {
					f.Evidence["created"] = date(k.CreatedAt)
				}
				out = append(out, f)
				continue
			}
			if !events || !strings.EqualFold(k.Status, inventory.KeyInactive) || k.ID == "" {
				continue
			}
			var f Finding
			if at, ok := deactivation(acct, k.ID); ok {
				if !olderThan(now, at, n) {
					continue
				}
				f = keyFinding(acct, u, i, k, fmt.Sprintf("Access key %s was deactivated %s ago and still exists", k.ID, nDays(days(now, at))))
				f.Evidence["deactivated"] = at.UTC().Format(time.RFC3339)
				f.Evidence["days_inactive"] = itoa(days(now, at))
			} else {
				// No deactivation in the window: it happened before the window, if the
				// key existed then and the window reaches back more than n days.
				ws := inv.EventWindowStart
				if k.CreatedAt.IsZero() || k.CreatedAt.After(ws) || !olderThan(now, ws, n) {
					continue
				}
				f = keyFinding(acct, u, i, k, fmt.Sprintf("Access key %s was deactivated before %s and still exists", k.ID, date(ws)))
				f.Evidence["deactivated"] = "deactivated before " + date(ws)
			}
			f.Evidence["threshold_days"] = itoa(n)
			f.Evidence["created"] = date(k.CreatedAt)
			out = append(out, f)
		}
	}
	return out
}

func checkUserWithoutOwner(_ *inventory.Inventory, acct *inventory.Account, _ time.Time, cfg Config) []Finding {
	var out []Finding
	for _, u := range acct.Users {
		active := u.PasswordEnabled
		for _, k := range u.AccessKeys {
			active = active || activeKey(k)
		}
		if !active || hasOwnerTag(u.Tags, cfg.OwnerTags) {
			continue
		}
		out = append(out, userFinding(acct, u, fmt.Sprintf("User has an active credential and none of the owner tags (%s)", strings.Join(cfg.OwnerTags, ", ")),
			map[string]string{"owner_tags": strings.Join(cfg.OwnerTags, ",")}, inventory.FieldUserTags))
	}
	return out
}

func hasOwnerTag(tags map[string]string, keys []string) bool {
	for k, v := range tags {
		for _, want := range keys {
			if strings.EqualFold(k, want) && strings.TrimSpace(v) != "" {
				return true
			}
		}
	}
	return false
}
