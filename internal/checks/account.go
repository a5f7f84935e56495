package checks

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

func checkAccountNotAudited(_ *inventory.Inventory, acct *inventory.Account, _ time.Time, _ Config) []Finding {
	if acct.Status != inventory.StatusNotAudited {
		return nil
	}
	if acct.State != "" && !strings.EqualFold(acct.State, "ACTIVE") {
		return nil // only ACTIVE accounts are audited
	}
	reason := acct.Reason
	if reason == "" {
		reason = "unknown reason"
	}
	ev := map[string]string{"reason": reason, "missing": "everything: users, keys, MFA, root, policies, roles, events"}
	for _, g := range acct.Gaps {
		if g.ErrorCode != "" {
			ev["error_code"] = g.ErrorCode
		}
		if g.Operation != "" {
			ev["operation"] = g.Operation
		}
	}
	return []Finding{{Resource: acct.ID, ResourceType: ResourceAccount,
		Message: "Account could not be audited: " + reason, Evidence: ev}}
}

func rootFinding(acct *inventory.Account, msg string, ev map[string]string) Finding {
	res := ""
	if acct.Root != nil {
		res = acct.Root.ARN
	}
	if res == "" {
		res = "arn:aws:iam::" + acct.ID + ":root"
	}
	return Finding{Resource: res, ResourceType: ResourceRoot, User: "<root_account>", Message: msg, Evidence: ev}
}

// rootPasswordUnknown is the message suffix of a root finding when whether the root
// user has a password could not be learned.
const rootPasswordUnknown = " (whether the root user has a password is unknown)"

// checkRootMFADisabled: a root user without MFA, unless it has no credentials at all
// (no password, access key, signing certificate or MFA): CIS AWS Foundations v5.0 1.4
// calls MFA "neither possible nor necessary" then. When the root's credentials are
// unknown, the finding still fires (MFA is known to be off), saying so.
func checkRootMFADisabled(_ *inventory.Inventory, acct *inventory.Account, _ time.Time, _ Config) []Finding {
	if acct.Root == nil || acct.Root.MFAActive || acct.Root.Credentials == inventory.RootCredentialsNone {
		return nil
	}
	ev := map[string]string{"mfa_active": "false"}
	msg := "Root account does not have MFA enabled"
	if acct.Root.Credentials == inventory.RootCredentialsUnknown {
		ev["root_credentials"] = inventory.RootCredentialsUnknown
		msg += rootPasswordUnknown
	}
	return []Finding{rootFinding(acct, msg, ev)}
}

func checkRootAccessKeyActive(_ *inventory.Inventory, acct *inventory.Account, _ time.Time, _ Config) []Finding {
	if acct.Root == nil {
		return nil
	}
	var out []Finding
	for _, k := range acct.Root.AccessKeys {
		if !k.Active {
			continue
		}
		ev := map[string]string{"slot": itoa(k.Slot), "last_used": lastUsed(k.LastUsedAt)}
		if known(k.LastRotated) {
			ev["created"] = date(*k.LastRotated)
		}
		if k.LastUsedService != "" {
			ev["last_used_service"] = k.LastUsedService
		}
		f := rootFinding(acct, fmt.Sprintf("Root account has an active access key (key %d)", k.Slot), ev)
		f.Resource = fmt.Sprintf("%s/access_key_%d", f.Resource, k.Slot)
		f.ResourceType = ResourceRootAccessKey
		out = append(out, f)
	}
	return out
}

// summaryValue reads a GetAccountSummary figure; ok is false when the summary or the
// figure is missing.
func summaryValue(acct *inventory.Account, key string) (int32, bool) {
	v, ok := acct.Summary[key]
	return v, ok
}

// summaryRootMFADisabled answers root_mfa_disabled without the credential report's
// root row, from GetAccountSummary's AccountMFAEnabled. The summary does not say
// whether the root has a password: unless it shows a root access key, the root's
// credentials are unknown, and the message says so (it neither claims a password
// nor drops the finding).
func summaryRootMFADisabled(_ *inventory.Inventory, acct *inventory.Account, _ time.Time, _ Config) []Finding {
	if v, ok := summaryValue(acct, "AccountMFAEnabled"); !ok || v != 0 {
		return nil
	}
	ev := map[string]string{"mfa_active": "false", "source": "GetAccountSummary", "account_mfa_enabled": "0"}
	msg := "Root account does not have MFA enabled"
	if v, ok := summaryValue(acct, "AccountAccessKeysPresent"); !ok || v < 1 {
		ev["root_credentials"] = inventory.RootCredentialsUnknown
		msg += rootPasswordUnknown
	}
	return []Finding{rootFinding(acct, msg, ev)}
}

// summaryRootAccessKey answers root_access_key_active without the credential report's
// root row, from GetAccountSummary's AccountAccessKeysPresent: one finding on the root
// user, as neither the key's slot nor its status is known (counted as active).
func summaryRootAccessKey(_ *inventory.Inventory, acct *inventory.Account, _ time.Time, _ Config) []Finding {
	if v, ok := summaryValue(acct, "AccountAccessKeysPresent"); !ok || v < 1 {
		return nil
	}
	f := rootFinding(acct, "Root account has an access key (slot and status unknown without the credential report)",
		map[string]string{"slot": "unknown", "source": "GetAccountSummary", "account_access_keys_present": "1"})
	f.ResourceType = ResourceRootAccessKey
	return []Finding{f}
}

func checkRootHardwareMFAMissing(_ *inventory.Inventory, acct *inventory.Account, _ time.Time, _ Config) []Finding {
	if acct.Root == nil || !acct.Root.MFAActive || acct.Root.MFAType != inventory.MFAVirtual {
		return nil
	}
	return []Finding{rootFinding(acct, "Root account MFA is a virtual device, not a hardware one", map[string]string{"mfa_type": acct.Root.MFAType})}
}

// fallbackRootHardwareMFA answers root_hardware_mfa_missing when the root user's
// credential report row is unknown (no report): the root's MFA device and its type
// come from GetAccountSummary and ListVirtualMFADevices, which answer on their own.
// It needs the device types: a failed ListVirtualMFADevices leaves it silent.
func fallbackRootHardwareMFA(inv *inventory.Inventory, acct *inventory.Account, now time.Time, cfg Config) []Finding {
	if _, ok := accountGap(acct, inventory.FieldMFATypes); ok {
		return nil
	}
	out := checkRootHardwareMFAMissing(inv, acct, now, cfg)
	for i := range out {
		out[i].Evidence["source"] = "ListVirtualMFADevices"
	}
	return out
}

// eventsRootUsedRecently answers root_used_recently when the root user's credential
// report row is unknown: the root's successful ConsoleLogin events the run collected
// from CloudTrail still show a recent use (the password's and keys' last use are
// unknown, and the evidence says so).
func eventsRootUsedRecently(_ *inventory.Inventory, acct *inventory.Account, now time.Time, cfg Config) []Finding {
	out := rootUsedRecently(acct, now, cfg, false)
	for i := range out {
		out[i].Evidence["password_and_key_last_use"] = unknownValue
	}
	return out
}

func checkRootUsedRecently(_ *inventory.Inventory, acct *inventory.Account, now time.Time, cfg Config) []Finding {
	if acct.Root == nil {
		return nil
	}
	return rootUsedRecently(acct, now, cfg, true)
}

// rootUsedRecently finds the root user's uses within the threshold: its password's
// and keys' last use (when withRow: the credential report row is known) and its
// successful ConsoleLogin events.
func rootUsedRecently(acct *inventory.Account, now time.Time, cfg Config, withRow bool) []Finding {
	n := cfg.Thresholds.RootRecentUseDays
	var uses []string
	var last time.Time
	note := func(what string, t time.Time) {
		if olderThan(now, t, n) {
			return
		}
		uses = append(uses, fmt.Sprintf("%s %s", what, date(t)))
		if t.After(last) {
			last = t
		}
	}
	if withRow && known(acct.Root.PasswordLastUsed) {
		note("password", *acct.Root.PasswordLastUsed)
	}
	if withRow {
		for _, k := range acct.Root.AccessKeys {
			if known(k.LastUsedAt) {
				note(fmt.Sprintf("access key %d", k.Slot), *k.LastUsedAt)
			}
		}
	}
	for _, e := range acct.Events {
		if rootSignIn(e) && signInSucceeded(e) {
			note("ConsoleLogin event", e.Time)
		}
	}
	if len(uses) == 0 {
		return nil
	}
	sort.Strings(uses)
	return []Finding{rootFinding(acct, fmt.Sprintf("Root account used %s ago", nDays(days(now, last))),
		map[string]string{"uses": strings.Join(uses, ", "), "last_used": last.UTC().Format(time.RFC3339), "threshold_days": itoa(n)})}
}

// rootSignIn: a ConsoleLogin record of the root user (userIdentity.type Root, or the
// root's user name when the record had no type).
func rootSignIn(e inventory.Event) bool {
	if e.Name != "ConsoleLogin" {
		return false
	}
	if e.UserType != "" {
		return e.UserType == "Root"
	}
	return e.Username == "root" || e.Username == "<root_account>"
}

// signInSucceeded: a sign-in record that is not a failure. A failed ConsoleLogin has
// no errorCode: it has responseElements.ConsoleLogin "Failure" and an errorMessage
// ("Failed authentication"); a record without a result (written before the result
// was kept) counts as a success only without errorCode and errorMessage.
func signInSucceeded(e inventory.Event) bool {
	switch e.LoginResult {
	case inventory.LoginSuccess:
		return true
	case inventory.LoginFailure:
		return false
	}
	return e.ErrorCode == "" && e.ErrorMessage == ""
}

// checkRootFailedSignin reports failed root sign-in attempts in the event window: one
// finding per account, with the attempts' count, dates and source IP addresses.
func checkRootFailedSignin(inv *inventory.Inventory, acct *inventory.Account, _ time.Time, _ Config) []Finding {
	if !eventsLookedUp(inv, acct, "ConsoleLogin") {
		return nil
	}
	var first, last time.Time
	n := 0
	ips := map[string]int{}
	mfa := map[string]int{}
	for _, e := range acct.Events {
		if !rootSignIn(e) || signInSucceeded(e) {
			continue
		}
		n++
		if first.IsZero() || e.Time.Before(first) {
			first = e.Time
		}
		if e.Time.After(last) {
			last = e.Time
		}
		ip := e.SourceIP
		if ip == "" {
			ip = "unknown"
		}
		ips[ip]++
		if e.MFAUsed != "" {
			mfa[e.MFAUsed]++
		}
	}
	if n == 0 {
		return nil
	}
	names := make([]string, 0, len(ips))
	for ip := range ips {
		names = append(names, ip)
	}
	sort.Strings(names)
	counted := make([]string, len(names))
	for i, ip := range names {
		counted[i] = fmt.Sprintf("%s (%d)", ip, ips[ip])
	}
	ev := map[string]string{"attempts": itoa(n), "source_ips": strings.Join(counted, ", "),
		"first_attempt": first.UTC().Format(time.RFC3339), "last_attempt": last.UTC().Format(time.RFC3339),
		"window_start": date(inv.EventWindowStart)}
	if len(mfa) > 0 {
		var parts []string
		for _, k := range []string{"Yes", "No"} {
			if mfa[k] > 0 {
				parts = append(parts, fmt.Sprintf("%s (%d)", k, mfa[k]))
			}
		}
		ev["mfa_used"] = strings.Join(parts, ", ")
	}
	msg := fmt.Sprintf("%s since %s, from %s", plural(n, "failed root sign-in attempt", "failed root sign-in attempts"),
		date(inv.EventWindowStart), strings.Join(names, ", "))
	return []Finding{rootFinding(acct, msg, ev)}
}

func checkPasswordPolicyWeak(_ *inventory.Inventory, acct *inventory.Account, _ time.Time, cfg Config) []Finding {
	if !acct.PasswordPolicyKnown {
		return nil // reported as a gap, not as a finding
	}
	t := cfg.Thresholds
	ev := map[string]string{"required_min_length": itoa(t.PasswordMinLength), "required_reuse_prevention": itoa(t.PasswordReusePrevention)}
	var problems []string
	p := acct.PasswordPolicy
	if p == nil {
		problems = append(problems, "no password policy")
		ev["policy"] = "none"
	} else {
		ev["minimum_password_length"] = itoa(p.MinimumPasswordLength)
		ev["password_reuse_prevention"] = itoa(p.PasswordReusePrevention)
		if p.MinimumPasswordLength < t.PasswordMinLength {
			problems = append(problems, fmt.Sprintf("minimum length %d < %d", p.MinimumPasswordLength, t.PasswordMinLength))
		}
		if p.PasswordReusePrevention < t.PasswordReusePrevention {
			problems = append(problems, fmt.Sprintf("reuse prevention %d < %d", p.PasswordReusePrevention, t.PasswordReusePrevention))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return []Finding{{Resource: acct.ID, ResourceType: ResourceAccount,
		Message: "Weak password policy: " + strings.Join(problems, ", "), Evidence: ev}}
}

func checkUserDirectPolicies(_ *inventory.Inventory, acct *inventory.Account, _ time.Time, _ Config) []Finding {
	var out []Finding
	for _, u := range acct.Users {
		var names []string
		for _, p := range u.AttachedPolicies {
			names = append(names, "attached:"+p.Name)
		}
		for _, p := range u.InlinePolicies {
			names = append(names, "inline:"+p.Name)
		}
		if len(names) == 0 {
			continue
		}
		out = append(out, userFinding(acct, u, fmt.Sprintf("User has %s attached directly (not through groups)", plural(len(names), "policy", "policies")),
			map[string]string{"policies": strings.Join(names, ",")}, inventory.FieldUserPolicies))
	}
	return out
}

func checkSupportRoleMissing(_ *inventory.Inventory, acct *inventory.Account, _ time.Time, _ Config) []Finding {
	for _, r := range acct.Roles {
		for _, p := range r.AttachedPolicies {
			if isAWSManaged(p.ARN, "AWSSupportAccess") {
				return nil
			}
		}
	}
	return []Finding{{Resource: acct.ID, ResourceType: ResourceAccount,
		Message: "No role has the AWSSupportAccess policy", Evidence: map[string]string{"roles_checked": itoa(len(acct.Roles))}}}
}

func checkExpiredServerCertificate(_ *inventory.Inventory, acct *inventory.Account, now time.Time, _ Config) []Finding {
	var out []Finding
	for _, c := range acct.ServerCertificates {
		if c.Expiration.IsZero() || c.Expiration.After(now) {
			continue
		}
		out = append(out, Finding{Resource: c.ARN, ResourceType: ResourceServerCertificate,
			Message:  fmt.Sprintf("Server certificate %s expired %s ago", c.Name, nDays(days(now, c.Expiration))),
			Evidence: map[string]string{"name": c.Name, "expiration": date(c.Expiration), "days_expired": itoa(days(now, c.Expiration))}})
	}
	return out
}

func checkCloudShellFullAccess(_ *inventory.Inventory, acct *inventory.Account, _ time.Time, _ Config) []Finding {
	has := func(ps []inventory.AttachedPolicy) bool {
		for _, p := range ps {
			if isAWSManaged(p.ARN, "AWSCloudShellFullAccess") {
				return true
			}
		}
		return false
	}
	var out []Finding
	ev := map[string]string{"policy": "AWSCloudShellFullAccess"}
	for _, u := range acct.Users {
		if has(u.AttachedPolicies) {
			out = append(out, userFinding(acct, u, "AWSCloudShellFullAccess is attached to user "+u.Name, map[string]string{"policy": "AWSCloudShellFullAccess"}, inventory.FieldUserPolicies))
		}
	}
	for _, g := range acct.Groups {
		if has(g.AttachedPolicies) {
			out = append(out, Finding{Resource: g.ARN, ResourceType: ResourceGroup, Message: "AWSCloudShellFullAccess is attached to group " + g.Name, Evidence: ev})
		}
	}
	for _, r := range acct.Roles {
		if has(r.AttachedPolicies) {
			out = append(out, Finding{Resource: r.ARN, ResourceType: ResourceRole, Message: "AWSCloudShellFullAccess is attached to role " + r.Name, Evidence: ev})
		}
	}
	return out
}

// auditRoleName extracts the role name from the principal that audited the account
// (arn:aws:sts::123:assumed-role/NAME/session or arn:aws:iam::123:role/path/NAME).
func auditRoleName(auditedAs string) string {
	if i := strings.Index(auditedAs, ":assumed-role/"); i >= 0 {
		rest := auditedAs[i+len(":assumed-role/"):]
		if j := strings.Index(rest, "/"); j >= 0 {
			return rest[:j]
		}
		return rest
	}
	if i := strings.Index(auditedAs, ":role/"); i >= 0 {
		rest := auditedAs[i+len(":role/"):]
		return rest[strings.LastIndex(rest, "/")+1:]
	}
	return ""
}

func roleExcluded(name string, acct *inventory.Account, cfg Config) bool {
	if name == auditRoleName(acct.AuditedAs) {
		return true
	}
	for _, p := range cfg.ExcludeRoles {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

func checkUnusedRole(_ *inventory.Inventory, acct *inventory.Account, now time.Time, cfg Config) []Finding {
	n := cfg.Thresholds.UnusedRoleDays
	var out []Finding
	for _, r := range acct.Roles {
		if r.ServiceLinked || strings.HasPrefix(r.Path, "/aws-service-role/") || roleExcluded(r.Name, acct, cfg) {
			continue
		}
		ev := map[string]string{"threshold_days": itoa(n), "last_used": lastUsed(r.LastUsedAt), "created": date(r.CreatedAt)}
		var msg string
		if known(r.LastUsedAt) {
			if !olderThan(now, *r.LastUsedAt, n) {
				continue
			}
			msg = fmt.Sprintf("Role %s last used %s ago", r.Name, nDays(days(now, *r.LastUsedAt)))
			if r.LastUsedRegion != "" {
				ev["last_used_region"] = r.LastUsedRegion
				msg += " in " + r.LastUsedRegion
			}
		} else {
			if r.CreatedAt.IsZero() || !olderThan(now, r.CreatedAt, n) {
				continue
			}
			msg = fmt.Sprintf("Role %s never used (created %s ago)", r.Name, nDays(days(now, r.CreatedAt)))
		}
		out = append(out, Finding{Resource: r.ARN, ResourceType: ResourceRole, Message: msg, Evidence: ev})
	}
	return out
}
