package checks

import (
	"slices"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// TestUserGapsSilenceChecks: a check does not fire for a user whose needed data a
// per-user gap left unknown, and still fires for the other users.
func TestUserGapsSilenceChecks(t *testing.T) {
	// "bob" fires every user check; "amy" is the same user, and gets the gap.
	risky := func(name string) inventory.User {
		return inventory.User{Name: name, PasswordEnabled: true,
			AccessKeys: []inventory.AccessKey{key("K1"+name, "Active", 400, nil), key("K2"+name, "Active", 300, ago(200))},
			AttachedPolicies: []inventory.AttachedPolicy{{Name: "AdministratorAccess", ARN: "arn:aws:iam::aws:policy/AdministratorAccess"},
				{Name: "AWSCloudShellFullAccess", ARN: "arn:aws:iam::aws:policy/AWSCloudShellFullAccess"}}}
	}
	// The gaps as an earlier version wrote them (section and operation, no "unknown"):
	// read back, they mean what they meant (inventory.LegacyUnknown). TestTypedGaps
	// has the gaps collection writes now.
	gap := func(section inventory.Section, op string) inventory.Gap { return legacy(section, "amy", op) }
	cases := []struct {
		check  string
		gap    inventory.Gap
		silent bool
	}{
		{"console_without_mfa", gap(inventory.SectionMFA, "iam:ListMFADevices"), true},
		{"console_without_mfa", gap(inventory.SectionPassword, "iam:GetLoginProfile"), true},
		{"console_without_mfa", gap(inventory.SectionUsers, "iam:GetLoginProfile"), true},
		{"console_without_mfa", gap(inventory.SectionAccessKeys, "iam:ListAccessKeys"), false},
		{"access_key_not_rotated", gap(inventory.SectionAccessKeys, "iam:ListAccessKeys"), true},
		{"access_key_not_rotated", gap(inventory.SectionAccessKeys, "iam:GetAccessKeyLastUsed"), false}, // only last use is missing
		{"access_key_not_rotated", gap(inventory.SectionMFA, "iam:ListMFADevices"), false},
		{"access_key_never_used", gap(inventory.SectionAccessKeys, "iam:GetAccessKeyLastUsed"), true},
		{"access_key_unused", gap(inventory.SectionAccessKeys, "iam:GetAccessKeyLastUsed"), true},
		{"access_key_unused", gap(inventory.SectionUsers, ""), true},
		{"multiple_active_keys", gap(inventory.SectionAccessKeys, "iam:ListAccessKeys"), true},
		{"console_password_unused", gap(inventory.SectionPassword, "iam:GetLoginProfile"), true},
		{"console_password_unused", gap(inventory.SectionMFA, "iam:ListMFADevices"), false},
		{"inactive_user", gap(inventory.SectionAccessKeys, "iam:ListAccessKeys"), true},
		{"inactive_user", gap(inventory.SectionPassword, "iam:GetLoginProfile"), true},
		{"inactive_user", gap(inventory.SectionMFA, "iam:ListMFADevices"), false},
		{"user_without_owner", gap(inventory.SectionUsers, "iam:GetUser"), true},
		{"admin_policy_on_user", gap(inventory.SectionUsers, "iam:ListAttachedUserPolicies"), true},
		{"user_direct_policies", gap(inventory.SectionUsers, "iam:ListAttachedUserPolicies"), true},
		{"cloudshell_full_access", gap(inventory.SectionUsers, "iam:ListAttachedUserPolicies"), true},
	}
	for _, c := range cases {
		t.Run(c.check+"/"+string(c.gap.Section)+"/"+c.gap.Operation, func(t *testing.T) {
			inv := account().user(risky("amy")).user(risky("bob")).with(func(a *inventory.Account) {
				a.Status = inventory.StatusPartial
				a.Gaps = []inventory.Gap{c.gap}
			}).inv()
			users := map[string]int{}
			for _, f := range Run(inv, now, only(c.check, DefaultConfig())) {
				users[f.User]++
			}
			if users["bob"] == 0 {
				t.Fatalf("%s does not fire for bob (no gap): the case proves nothing", c.check)
			}
			if got := users["amy"] > 0; got == c.silent {
				t.Errorf("%s fired for amy with gap %+v: %v, want %v", c.check, c.gap, got, !c.silent)
			}
		})
	}
}

// TestReportKeysKept: when ListAccessKeys failed but the credential report's key
// slots were kept (no ids), the key checks still fire on them; without any key
// data, they do not, and neither do the checks that rest on the absence of keys.
func TestReportKeysKept(t *testing.T) {
	gap := legacy(inventory.SectionAccessKeys, "svc", "iam:ListAccessKeys") // an earlier version's gap: the key list unknown
	mk := func(keys ...inventory.AccessKey) *inventory.Inventory {
		u := inventory.User{Name: "svc", AccessKeys: keys} // no owner tag
		return account().user(u).with(func(a *inventory.Account) { a.Status, a.Gaps = inventory.StatusPartial, []inventory.Gap{gap} }).inv()
	}
	kept := mk(inventory.AccessKey{Status: "Active", CreatedAt: agoT(400), LastUsedAt: ago(200)}, inventory.AccessKey{Status: "Active", CreatedAt: agoT(30)})
	for _, c := range []struct {
		check string
		inv   *inventory.Inventory
		fires bool
	}{
		{"access_key_not_rotated", kept, true},
		{"access_key_unused", kept, true},
		{"access_key_never_used", kept, true},
		{"multiple_active_keys", kept, true},
		{"inactive_user", mk(inventory.AccessKey{Status: "Active", CreatedAt: agoT(400), LastUsedAt: ago(200)}), true},
		{"user_without_owner", kept, true},
		{"inactive_user", mk(), false},
		{"user_without_owner", mk(), false},
		{"access_key_not_rotated", mk(inventory.AccessKey{ID: "AKIAX", Status: "Active", CreatedAt: agoT(400)}), false},
	} {
		got := len(Run(c.inv, now, only(c.check, DefaultConfig()))) > 0
		if got != c.fires {
			t.Errorf("%s with %d keys: fires %v, want %v", c.check, len(c.inv.Accounts[0].Users[0].AccessKeys), got, c.fires)
		}
	}
}

// TestKeyWithoutID: keys from the credential report have no id; key checks still
// fire, with a resource naming the user and the key slot, stable across runs.
func TestKeyWithoutID(t *testing.T) {
	u := owned("svc")
	u.AccessKeys = []inventory.AccessKey{{Status: "Active", CreatedAt: agoT(400)}, {Status: "Active", CreatedAt: agoT(200), LastUsedAt: ago(150)}}
	inv := account().user(u).inv()
	for _, id := range []string{"access_key_not_rotated", "access_key_unused", "access_key_never_used"} {
		fs := Run(inv, now, only(id, DefaultConfig()))
		if len(fs) == 0 {
			t.Fatalf("%s: no finding for keys without id", id)
		}
		again := Run(inv, now, only(id, DefaultConfig()))
		for i, f := range fs {
			if f.Resource != "arn:aws:iam::111122223333:user/svc/access_key_1" && f.Resource != "arn:aws:iam::111122223333:user/svc/access_key_2" {
				t.Errorf("%s: resource %q", id, f.Resource)
			}
			if f.ID != again[i].ID || f.ID != FindingID(id, "111122223333", f.Resource) {
				t.Errorf("%s: finding id not stable", id)
			}
		}
	}
}

// TestMessagesSingular: "1 day", "1 policy", never "1 days" or "1 policies".
func TestMessagesSingular(t *testing.T) {
	u := owned("svc")
	u.PasswordEnabled, u.PasswordLastUsed = true, ago(1)
	u.AttachedPolicies = []inventory.AttachedPolicy{{Name: "P", ARN: "arn:aws:iam::111122223333:policy/P"}}
	inv := account().user(u).inv()
	cfg := DefaultConfig()
	cfg.Thresholds.UnusedPasswordDays = 0
	var msgs []string
	for _, f := range Run(inv, now, cfg) {
		msgs = append(msgs, f.Message)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"User has 1 policy attached directly", "Console password unused for 1 day"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in:\n%s", want, all)
		}
	}
	if strings.Contains(all, " 1 days") || strings.Contains(all, " 1 policies") {
		t.Errorf("plural with 1:\n%s", all)
	}
	if plural(2, "policy", "policies") != "2 policies" || nDays(0) != "0 days" {
		t.Error("plural")
	}
}

// TestAccountWideGapsSilenceUserChecks: an account-wide gap that records a failed or
// never-made call (an interrupted run: one gap per section, no Subject) leaves that
// section unknown for every user, so the checks resting on it fire for nobody; gaps
// without an operation (what a credential report lacks by nature) silence nothing.
func TestAccountWideGapsSilenceUserChecks(t *testing.T) {
	risky := func(name string) inventory.User {
		return inventory.User{Name: name, PasswordEnabled: true,
			AccessKeys: []inventory.AccessKey{key("K1"+name, "Active", 400, nil), key("K2"+name, "Active", 300, ago(200))}}
	}
	interrupted := func(section inventory.Section, op string) inventory.Gap { return legacy(section, "", op) }
	reportLacks := func(section inventory.Section) inventory.Gap { return legacy(section, "", "") }
	cases := []struct {
		check  string
		gap    inventory.Gap
		silent bool
	}{
		{"inactive_user", interrupted(inventory.SectionAccessKeys, "iam:ListAccessKeys"), true},
		{"inactive_user", interrupted(inventory.SectionPassword, "iam:GetLoginProfile"), true},
		{"inactive_user", interrupted(inventory.SectionUsers, "iam:ListUsers"), true},
		{"inactive_user", interrupted(inventory.SectionAccessKeys, "iam:GetAccessKeyLastUsed"), true},
		{"inactive_user", interrupted(inventory.SectionMFA, "iam:ListMFADevices"), false},
		{"inactive_user", interrupted(inventory.SectionUsers, "iam:GetAccountAuthorizationDetails"), false}, // only policies, groups, tags
		{"inactive_user", reportLacks(inventory.SectionAccessKeys), false},
		{"inactive_user", reportLacks(inventory.SectionUsers), false},
		{"console_without_mfa", interrupted(inventory.SectionMFA, "iam:ListMFADevices"), true},
		{"console_without_mfa", interrupted(inventory.SectionMFA, "iam:ListVirtualMFADevices"), false}, // device types only
		{"console_without_mfa", interrupted(inventory.SectionPassword, "iam:GetLoginProfile"), true},
		{"console_without_mfa", interrupted(inventory.SectionAccessKeys, "iam:ListAccessKeys"), false},
		{"console_without_mfa", reportLacks(inventory.SectionMFA), false},
		{"access_key_not_rotated", interrupted(inventory.SectionAccessKeys, "iam:ListAccessKeys"), true},
		{"access_key_not_rotated", interrupted(inventory.SectionAccessKeys, "iam:GetAccessKeyLastUsed"), false},
		{"access_key_never_used", interrupted(inventory.SectionAccessKeys, "iam:GetAccessKeyLastUsed"), true},
		{"access_key_unused", interrupted(inventory.SectionAccessKeys, "iam:GetAccessKeyLastUsed"), true},
		{"multiple_active_keys", interrupted(inventory.SectionAccessKeys, "iam:ListAccessKeys"), true},
		{"multiple_active_keys", reportLacks(inventory.SectionAccessKeys), false},
		{"console_password_unused", interrupted(inventory.SectionPassword, "iam:GetLoginProfile"), true},
		{"console_password_unused", interrupted(inventory.SectionMFA, "iam:ListMFADevices"), false},
	}
	for _, c := range cases {
		t.Run(c.check+"/"+string(c.gap.Section)+"/"+c.gap.Operation, func(t *testing.T) {
			base := func() *acctB { return account().user(risky("amy")).user(risky("bob")) }
			if n := len(Run(base().inv(), now, only(c.check, DefaultConfig()))); n < 2 {
				t.Fatalf("%s fires %d times without gaps, want one per user at least: the case proves nothing", c.check, n)
			}
			inv := base().with(func(a *inventory.Account) { a.Status, a.Gaps = inventory.StatusPartial, []inventory.Gap{c.gap} }).inv()
			users := map[string]bool{}
			for _, f := range Run(inv, now, only(c.check, DefaultConfig())) {
				users[f.User] = true
			}
			for _, u := range []string{"amy", "bob"} {
				if users[u] == c.silent {
					t.Errorf("%s fired for %s with account-wide gap %+v: %v, want %v", c.check, u, c.gap, users[u], !c.silent)
				}
			}
		})
	}
}

// TestAccountWideKeyGapKeepsReportKeys: a failed ListAccessKeys for the whole account
// leaves known the keys the credential report gave (no ids), as it does for one user.
func TestAccountWideKeyGapKeepsReportKeys(t *testing.T) {
	gap := gapOf(inventory.SectionAccessKeys, "", inventory.FieldAccessKeys) // an interrupted ListAccessKeys
	fromReport := owned("svc")
	fromReport.AccessKeys = []inventory.AccessKey{{Status: "Active", CreatedAt: agoT(400)}}
	listed := owned("app")
	listed.AccessKeys = []inventory.AccessKey{key("AKIAAPP", "Active", 400, ago(1))}
	inv := account().user(fromReport).user(listed).with(func(a *inventory.Account) { a.Status, a.Gaps = inventory.StatusPartial, []inventory.Gap{gap} }).inv()
	users := map[string]bool{}
	for _, f := range Run(inv, now, only("access_key_not_rotated", DefaultConfig())) {
		users[f.User] = true
	}
	if !users["svc"] || users["app"] {
		t.Errorf("access_key_not_rotated fired for %v, want svc (report keys) only", users)
	}
}

// TestAuthDetailsGap: a failed GetAccountAuthorizationDetails (a "users" gap) leaves
// roles, groups and policies unknown too: the checks reading them do not run for the
// account, while the checks on credentials still do.
func TestAuthDetailsGap(t *testing.T) {
	u := inventory.User{Name: "amy", PasswordEnabled: true,
		AttachedPolicies: []inventory.AttachedPolicy{{Name: "AdministratorAccess", ARN: "arn:aws:iam::aws:policy/AdministratorAccess"},
			{Name: "AWSCloudShellFullAccess", ARN: "arn:aws:iam::aws:policy/AWSCloudShellFullAccess"}}}
	oldRole := inventory.Role{Name: "Old", ARN: "arn:aws:iam::111122223333:role/Old", CreatedAt: agoT(900)}
	mk := func(gaps ...inventory.Gap) *inventory.Inventory {
		return account().user(u).with(func(a *inventory.Account) {
			a.Roles = []inventory.Role{oldRole} // no AWSSupportAccess role
			if len(gaps) > 0 {
				a.Status, a.Gaps = inventory.StatusPartial, gaps
			}
		}).inv()
	}
	// As an earlier version wrote it, and as collection writes it now.
	gaads := []inventory.Gap{legacy(inventory.SectionUsers, "", "iam:GetAccountAuthorizationDetails"),
		gapOf(inventory.SectionUsers, "", inventory.FieldUserPolicies, inventory.FieldUserGroups, inventory.FieldUserTags,
			inventory.FieldGroups, inventory.FieldRoles, inventory.FieldManagedPolicies)}
	other := gapOf(inventory.SectionServerCertificates, "", inventory.FieldServerCertificates)
	for _, c := range []struct {
		check string
		fires bool // with the GetAccountAuthorizationDetails gap
	}{
		{"support_role_missing", false},
		{"unused_role", false},
		{"cloudshell_full_access", false},
		{"admin_policy_on_user", false},
		{"user_direct_policies", false},
		{"console_without_mfa", true},
	} {
		t.Run(c.check, func(t *testing.T) {
			if n := len(Run(mk(other), now, only(c.check, DefaultConfig()))); n == 0 {
				t.Fatalf("%s does not fire without the gap: the case proves nothing", c.check)
			}
			for _, gaad := range gaads {
				if got := len(Run(mk(gaad), now, only(c.check, DefaultConfig()))) > 0; got != c.fires {
					t.Errorf("%s with a failed GetAccountAuthorizationDetails (%v): fires %v, want %v", c.check, gaad.Unknown, got, c.fires)
				}
			}
		})
	}
}

// TestTypedGaps: the gaps collection writes say what they leave unknown, and checks
// read only that: a failed GetUser leaves the last sign-in unknown but not whether
// there is a password; a failed ListAccessKeys whose report slots were kept leaves
// only the key ids unknown; an unreadable policy document leaves what it allows
// unknown, which silences no finding built on what is known.
func TestTypedGaps(t *testing.T) {
	risky := func(name string) inventory.User {
		return inventory.User{Name: name, PasswordEnabled: true,
			AccessKeys: []inventory.AccessKey{key("K1"+name, "Active", 400, nil), key("K2"+name, "Active", 300, ago(200))},
			AttachedPolicies: []inventory.AttachedPolicy{{Name: "AdministratorAccess", ARN: "arn:aws:iam::aws:policy/AdministratorAccess"},
				{Name: "AWSCloudShellFullAccess", ARN: "arn:aws:iam::aws:policy/AWSCloudShellFullAccess"}}}
	}
	amy := func(section inventory.Section, unknown ...inventory.Field) inventory.Gap {
		return gapOf(section, "amy", unknown...)
	}
	lastSignIn := amy(inventory.SectionPassword, inventory.FieldPasswordLastUsed)
	keyIDs := amy(inventory.SectionAccessKeys, inventory.FieldKeyIDs)
	keyUse := amy(inventory.SectionAccessKeys, inventory.FieldKeyLastUse)
	document := amy(inventory.SectionPolicies, inventory.FieldPolicyDocuments)
	tags := amy(inventory.SectionUsers, inventory.FieldUserTags)
	cases := []struct {
		check  string
		gap    inventory.Gap
		silent bool
	}{
		{"console_without_mfa", lastSignIn, false}, // password and MFA decide; the last sign-in only grades it (TestFiresOnWhatIsKnown)
		{"console_password_unused", lastSignIn, true},
		{"inactive_user", lastSignIn, true},
		{"access_key_not_rotated", lastSignIn, false},
		{"multiple_active_keys", keyIDs, false},
		{"access_key_not_rotated", keyIDs, false},
		{"access_key_unused", keyIDs, false},
		{"access_key_unused", keyUse, true},
		{"access_key_never_used", keyUse, true},
		{"access_key_not_rotated", keyUse, false},
		{"multiple_active_keys", keyUse, false},
		{"admin_policy_on_user", document, false}, // AdministratorAccess is attached: known
		{"user_direct_policies", document, false},
		{"cloudshell_full_access", document, false},
		{"user_without_owner", tags, true},
		{"console_without_mfa", tags, false},
		{"console_without_mfa", gapOf(inventory.SectionMFA, "", inventory.FieldMFATypes), false}, // device types only
		{"access_key_not_rotated", amy(inventory.SectionUsers, inventory.FieldUsers), true},
	}
	for _, c := range cases {
		t.Run(c.check+"/"+string(c.gap.Section)+"/"+string(c.gap.Unknown[0]), func(t *testing.T) {
			inv := account().user(risky("amy")).user(risky("bob")).with(func(a *inventory.Account) {
				a.Status = inventory.StatusPartial
				a.Gaps = []inventory.Gap{c.gap}
			}).inv()
			users := map[string]int{}
			for _, f := range Run(inv, now, only(c.check, DefaultConfig())) {
				users[f.User]++
			}
			if users["bob"] == 0 {
				t.Fatalf("%s does not fire for bob (no gap): the case proves nothing", c.check)
			}
			if got := users["amy"] > 0; got == c.silent {
				t.Errorf("%s fired for amy with gap %+v: %v, want %v", c.check, c.gap, got, !c.silent)
			}
		})
	}
}

// TestFieldsUnknown: scores see a field as unknown when any gap leaves it so, the
// report's kept key slots excepted.
func TestFieldsUnknown(t *testing.T) {
	report := owned("svc")
	report.AccessKeys = []inventory.AccessKey{{Status: "Active", CreatedAt: agoT(10)}}
	for _, c := range []struct {
		name string
		gap  inventory.Gap
		want []inventory.Field
	}{
		{"GetUser", gapOf(inventory.SectionPassword, "amy", inventory.FieldPasswordLastUsed), []inventory.Field{inventory.FieldPasswordLastUsed}},
		{"GetLoginProfile", gapOf(inventory.SectionPassword, "amy", inventory.FieldPassword), []inventory.Field{inventory.FieldPassword, inventory.FieldPasswordLastUsed}},
		{"user list", gapOf(inventory.SectionUsers, "", inventory.FieldUsers), []inventory.Field{inventory.FieldUsers, inventory.FieldPassword,
			inventory.FieldPasswordLastUsed, inventory.FieldMFA, inventory.FieldAccessKeys, inventory.FieldKeyLastUse}},
		{"report keys kept", gapOf(inventory.SectionAccessKeys, "svc", inventory.FieldAccessKeys), nil},
		{"keys of another user", gapOf(inventory.SectionAccessKeys, "amy", inventory.FieldAccessKeys), []inventory.Field{inventory.FieldAccessKeys, inventory.FieldKeyLastUse}},
		{"roles", gapOf(inventory.SectionRoles, "", inventory.FieldRoles), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := account().user(report).with(func(a *inventory.Account) { a.Gaps = []inventory.Gap{c.gap} }).inv().Accounts[0]
			got := FieldsUnknown(&a, inventory.FieldUsers, inventory.FieldPassword, inventory.FieldPasswordLastUsed, inventory.FieldMFA,
				inventory.FieldAccessKeys, inventory.FieldKeyLastUse)
			if !slices.Equal(got, c.want) {
				t.Errorf("unknown %v, want %v", got, c.want)
			}
		})
	}
}
