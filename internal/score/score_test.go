package score

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/suppress"
)

var now = time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)

func ago(d int) *time.Time { t := now.Add(-time.Duration(d) * 24 * time.Hour); return &t }

func key(id, status string, age int, used *time.Time) inventory.AccessKey {
	return inventory.AccessKey{ID: id, Status: status, CreatedAt: *ago(age), LastUsedAt: used}
}

func acct(id string, users ...inventory.User) inventory.Account {
	for i := range users {
		users[i].ARN = "arn:aws:iam::" + id + ":user/" + users[i].Name
		if users[i].CreatedAt.IsZero() {
			users[i].CreatedAt = *ago(1000)
		}
	}
	return inventory.Account{ID: id, Name: "acct-" + id, Status: inventory.StatusAudited, Users: users}
}

// TestSeedRiskFormula: iamaudit-risk/1, the original dashboard's formula.
func TestSeedRiskFormula(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in    RiskInputs
		score int
		label string
	}{
		{RiskInputs{}, 0, "low"},
		{RiskInputs{KeysOver365: 1, Keys181To365: 1, Keys91To180: 1, UsersWithoutMFA: 1, ConsoleNeverSignedIn: 1, InactiveKeys: 1}, 23, "low"},
		{RiskInputs{KeysOver365: 5}, 40, "medium"},
		{RiskInputs{KeysOver365: 4, Keys181To365: 1, Keys91To180: 2, UsersWithoutMFA: 2, ConsoleNeverSignedIn: 1, InactiveKeys: 1}, 32 + 4 + 4 + 10 + 3 + 1, "medium"},
		{RiskInputs{UsersWithoutMFA: 12}, 60, "high"},
		{RiskInputs{UsersWithoutMFA: 16}, 80, "critical"},
		{RiskInputs{KeysOver365: 100}, 100, "critical"},
		{RiskInputs{InactiveKeys: 39}, 39, "low"},
	}
	for _, c := range cases {
		if got := c.in.Risk(); got != c.score || RiskLabel(got) != c.label {
			t.Errorf("%+v: %d %s, want %d %s", c.in, got, RiskLabel(got), c.score, c.label)
		}
	}
}

func demo() *inventory.Inventory {
	a := acct("111111111111",
		inventory.User{Name: "old", AccessKeys: []inventory.AccessKey{key("K400", "Active", 400, ago(1)), key("K200", "Active", 200, ago(200))}},
		inventory.User{Name: "mid", AccessKeys: []inventory.AccessKey{key("K100", "Active", 100, nil), key("K90", "Active", 90, ago(3)), key("KIN", "Inactive", 500, nil)}},
		inventory.User{Name: "nomfa", PasswordEnabled: true, PasswordLastUsed: ago(2)},
		inventory.User{Name: "never", PasswordEnabled: true, MFAActive: true},
		inventory.User{Name: "mfa", PasswordEnabled: true, PasswordLastUsed: ago(1), MFADevices: []inventory.MFADevice{{Type: inventory.MFAHardware}}},
	)
	b := acct("222222222222", inventory.User{Name: "clean", PasswordEnabled: true, PasswordLastUsed: ago(1), MFAActive: true})
	c := inventory.Account{ID: "333333333333", Name: "Broken", Status: inventory.StatusNotAudited, Reason: "AccessDenied"}
	return &inventory.Inventory{Accounts: []inventory.Account{a, b, c}}
}

func TestCompute(t *testing.T) {
	inv := demo()
	cfg := checks.DefaultConfig()
	fs := checks.Run(inv, now, cfg)
	s := Compute(inv, fs, now, cfg)
	a, _ := s.Account("111111111111")
	if a.ActiveKeys != 4 || a.KeyAges != (KeyAges{Days0To90: 1, Days91To180: 1, Days181To365: 1, Over365: 1}) {
		t.Errorf("keys %d ages %+v", a.ActiveKeys, a.KeyAges)
	}
	if a.UnusedKeys != 1 || a.NeverUsedKeys != 1 || a.InactiveKeys != 1 || a.LongTermKeys != 5 || a.KeysOverRotation != 3 {
		t.Errorf("unused %d never %d inactive %d long-term %d over %d", a.UnusedKeys, a.NeverUsedKeys, a.InactiveKeys, a.LongTermKeys, a.KeysOverRotation)
	}
	if a.ConsoleUsers != 3 || a.ConsoleUsersWithMFA != 2 || a.MFACoverage == nil || int(*a.MFACoverage) != 66 {
		t.Errorf("console %d mfa %d coverage %v", a.ConsoleUsers, a.ConsoleUsersWithMFA, a.MFACoverage)
	}
	// 8·1 + 4·1 + 2·1 + 5·1 (nomfa) + 3·1 (never) + 1·1 (KIN) = 23
	if sr := a.SeedRisk; sr.Score == nil || *sr.Score != 23 || sr.Label != "low" || sr.Formula != SeedRiskFormula || !a.Known {
		t.Errorf("seed risk %v %s (%+v)", sr.Score, sr.Label, sr.Inputs)
	}
	// The headline counts every open finding: two critical ones make it "critical".
	want := RiskBasis{Critical: a.Findings.Critical, High: a.Findings.High, Medium: a.Findings.Medium, Low: a.Findings.Low}.Risk()
	if a.Risk == nil || *a.Risk != want || want < 80 || a.RiskLabel != "critical" || a.RiskFormula != RiskFormula {
		t.Errorf("risk %v %s, want %d (%+v)", a.Risk, a.RiskLabel, want, a.RiskBasis)
	}
	if a.Phase1.Complete || a.Phase2.Complete || a.Phase2.Advanced {
		t.Errorf("phases %+v %+v", a.Phase1, a.Phase2)
	}
	// "mid", "old" (one key still used): inactive users are those with no activity in 90 days.
	if a.InactiveUsers != 1 { // "never": no sign-in, no keys
		t.Errorf("inactive users %d", a.InactiveUsers)
	}
	if a.Findings.Total() == 0 || a.Findings.Critical != 2 { // K400 (critical age) and nomfa (used 2 days ago)
		t.Errorf("findings %+v", a.Findings)
	}
	b, _ := s.Account("222222222222")
	if !b.Phase1.Complete || !b.Phase2.Complete || !b.Phase2.Advanced || pct(b.MFACoverage) != 100 || b.SeedRisk.Score == nil || *b.SeedRisk.Score != 0 {
		t.Errorf("clean account %+v", b)
	}
	c, _ := s.Account("333333333333")
	if c.Audited || c.Known || c.RiskLabel != "unknown" || c.Risk != nil || c.RiskAtLeast != 0 || c.SeedRisk.Score != nil || c.MFACoverage != nil ||
		c.Phase1.Known || c.Phase2.Known || c.Findings.High != 1 {
		t.Errorf("not audited account %+v", c)
	}
	o := s.Organization
	if o.Accounts != 2 || o.ActiveKeys != 4 || o.ConsoleUsers != 4 || o.ConsoleUsersWithMFA != 3 || o.SeedRisk.AtLeast != 23 || o.RiskAtLeast < *a.Risk {
		t.Errorf("org %+v", o)
	}
	// One account was not audited: the Organization's coverage, risk and phases are unknown.
	if o.Known || o.Risk != nil || o.SeedRisk.Score != nil || o.MFACoverage != nil || o.RiskLabel != "unknown" || o.Phase1.Known || o.Phase1.Complete || o.Phase2.Known ||
		!slices.Equal(o.UnknownSections, []inventory.Field{inventory.StatusNotAudited}) {
		t.Errorf("org with a not-audited account %+v", o)
	}
	if o.Findings.Total() != a.Findings.Total()+b.Findings.Total()+c.Findings.Total() {
		t.Errorf("org findings %+v", o.Findings)
	}
}

func TestSuppressedDoNotCount(t *testing.T) {
	inv := demo()
	cfg := checks.DefaultConfig()
	fs := checks.Run(inv, now, cfg)
	rules, err := suppress.Parse("s.yaml", []byte("suppressions:\n  - check: access_key_not_rotated\n    key: K400\n    reason: vendor\n  - check: console_without_mfa\n    user: nomfa\n    reason: break-glass\n"))
	if err != nil {
		t.Fatal(err)
	}
	suppress.Apply(fs, rules, now)
	before := Compute(inv, checks.Run(inv, now, cfg), now, cfg)
	after := Compute(inv, fs, now, cfg)
	a0, _ := before.Account("111111111111")
	a1, _ := after.Account("111111111111")
	if *a1.SeedRisk.Score != *a0.SeedRisk.Score-8-5 {
		t.Errorf("seed risk after suppression %d, want %d", *a1.SeedRisk.Score, *a0.SeedRisk.Score-13)
	}
	if a1.RiskBasis.Critical != a0.RiskBasis.Critical-2 || *a1.Risk >= *a0.Risk {
		t.Errorf("risk after suppression %d %+v, before %d %+v", *a1.Risk, a1.RiskBasis, *a0.Risk, a0.RiskBasis)
	}
	if a1.Findings.Critical != a0.Findings.Critical-2 || a1.Findings.Suppressed != 2 {
		t.Errorf("counts %+v → %+v", a0.Findings, a1.Findings)
	}
	if a1.KeyAges != a0.KeyAges || a1.ConsoleUsersWithMFA != a0.ConsoleUsersWithMFA {
		t.Error("facts must not change with suppressions")
	}
}

func TestEmptyInventory(t *testing.T) {
	s := Compute(&inventory.Inventory{}, nil, now, checks.DefaultConfig())
	if s.Organization.Risk == nil || *s.Organization.Risk != 0 || s.Organization.SeedRisk.Score == nil || !s.Organization.Phase1.Complete || pct(s.Organization.MFACoverage) != 100 || s.Accounts == nil {
		t.Errorf("%+v", s)
	}
}

func pct(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

// usersChecks are the checks an account-wide gap in the user list stops (the list
// covers every per-user field, MFA device types included).
var usersChecks = []string{"admin_policy_on_user", "cloudshell_full_access", "inactive_key_not_deleted", "root_hardware_mfa_missing", "user_direct_policies", "user_without_owner"}

// policyChecks are the checks that read users' policies, groups or tags.
var policyChecks = []string{"admin_policy_on_user", "cloudshell_full_access", "user_direct_policies", "user_without_owner"}

// TestGapsMakeFiguresUnknown: a gap in a section a figure uses makes that figure
// unknown (null in JSON), never 0 or 100 from missing data.
func TestGapsMakeFiguresUnknown(t *testing.T) {
	t.Parallel()
	clean := func(gaps ...inventory.Gap) *inventory.Inventory {
		a := acct("222222222222", inventory.User{Name: "clean", PasswordEnabled: true, PasswordLastUsed: ago(1), MFAActive: true},
			inventory.User{Name: "amy"})
		a.Status, a.Gaps = inventory.StatusPartial, gaps
		return &inventory.Inventory{Accounts: []inventory.Account{a}}
	}
	cases := []struct {
		name                   string
		gap                    inventory.Gap
		coverage, phase2, seed bool // known?
		// unevaluated are the checks the gap stopped: the risk score of the findings
		// is then a lower bound. Every gap here leaves the risk score unknown, as each
		// can hide a finding.
		unevaluated []string
	}{
		{"mfa of one user", inventory.Gap{Section: inventory.SectionMFA, Subject: "amy", Operation: "iam:ListMFADevices"}, false, true, false, nil},
		{"password of one user", inventory.Gap{Section: inventory.SectionPassword, Subject: "amy"}, false, true, false, nil},
		{"keys of one user", inventory.Gap{Section: inventory.SectionAccessKeys, Subject: "amy", Operation: "iam:ListAccessKeys"}, true, false, false, nil},
		{"key last use only", inventory.Gap{Section: inventory.SectionAccessKeys, Subject: "amy", Operation: "iam:GetAccessKeyLastUsed"}, true, true, true, nil},
		{"everything about one user", inventory.Gap{Section: inventory.SectionUsers, Subject: "amy"}, false, false, false, nil},
		{"user list", inventory.Gap{Section: inventory.SectionUsers, Operation: "iam:ListUsers"}, false, false, false, usersChecks},
		{"policies and tags only", inventory.Gap{Section: inventory.SectionUsers, Operation: "iam:GetAccountAuthorizationDetails"}, true, true, true,
			[]string{"admin_policy_on_user", "cloudshell_full_access", "support_role_missing", "unused_role", "user_direct_policies", "user_without_owner"}},
		{"virtual MFA types only", inventory.Gap{Section: inventory.SectionMFA, Operation: "iam:ListVirtualMFADevices"}, true, true, true, []string{"root_hardware_mfa_missing"}},
		{"roles", inventory.Gap{Section: inventory.SectionRoles, Operation: "iam:ListRoles"}, true, true, true, []string{"cloudshell_full_access", "support_role_missing", "unused_role"}},
		{"password of every user", inventory.Gap{Section: inventory.SectionPassword, Operation: "iam:GetLoginProfile"}, false, true, false, nil},
		{"interrupted: keys of every user", inventory.Gap{Section: inventory.SectionAccessKeys, Operation: "iam:ListAccessKeys", Message: "not collected: the run was interrupted"}, true, false, false,
			[]string{"inactive_key_not_deleted"}},
		{"interrupted: key last use of every user", inventory.Gap{Section: inventory.SectionAccessKeys, Operation: "iam:GetAccessKeyLastUsed", Message: "not collected: the run was interrupted"}, true, true, true,
			nil}, // inactive_key_not_deleted needs no last use
		{"interrupted: mfa of every user", inventory.Gap{Section: inventory.SectionMFA, Operation: "iam:ListMFADevices", Message: "not collected: the run was interrupted"}, false, true, false,
			[]string{"root_hardware_mfa_missing"}},
		{"credential report: no key ids", inventory.Gap{Section: inventory.SectionAccessKeys, Message: "credential report has no access key ids"}, true, true, true, []string{"inactive_key_not_deleted"}},
		{"credential report: no device types", inventory.Gap{Section: inventory.SectionMFA, Message: "credential report has no MFA device type"}, true, true, true, []string{"root_hardware_mfa_missing"}},
		{"credential report: no tags", inventory.Gap{Section: inventory.SectionUsers, Message: "credential report has no groups, policies, permissions boundaries or tags"}, true, true, true, policyChecks},
	}
	// The gaps above are written as an earlier version wrote them (no "unknown"): read
	// back, they mean what they meant. These are the typed gaps collection writes now.
	for i := range cases {
		cases[i].gap = readBack(t, cases[i].gap)
	}
	cases = append(cases, []struct {
		name                   string
		gap                    inventory.Gap
		coverage, phase2, seed bool
		unevaluated            []string
	}{
		{"last sign-in of one user (GetUser)", typed(inventory.SectionPassword, "amy", inventory.FieldPasswordLastUsed), true, true, false, nil},
		{"key ids of one user (report slots kept)", typed(inventory.SectionAccessKeys, "amy", inventory.FieldKeyIDs), true, true, true, nil},
		{"keys of one user", typed(inventory.SectionAccessKeys, "amy", inventory.FieldAccessKeys), true, false, false, nil},
		{"policy document", typed(inventory.SectionPolicies, "arn:aws:iam::222222222222:policy/P", inventory.FieldPolicyDocuments), true, true, true,
			[]string{"admin_policy_on_user"}}, // it ran, but cannot judge the users the policy reaches
		{"policies, groups, roles (GetAccountAuthorizationDetails)", typed(inventory.SectionUsers, "", inventory.FieldUserPolicies,
			inventory.FieldUserGroups, inventory.FieldUserTags, inventory.FieldGroups, inventory.FieldRoles, inventory.FieldManagedPolicies), true, true, true,
			[]string{"admin_policy_on_user", "cloudshell_full_access", "support_role_missing", "unused_role", "user_direct_policies", "user_without_owner"}},
	}...)
	// Only the ids of amy's keys are unknown: every key finding still fires (keys are
	// named by report slot), so no finding is hidden and the risk is known.
	riskKnown := map[string]bool{"key ids of one user (report slots kept)": true}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			inv := clean(c.gap)
			s := Compute(inv, checks.Run(inv, now, checks.DefaultConfig()), now, checks.DefaultConfig())
			for _, sc := range []Score{s.Accounts[0], s.Organization} {
				if (sc.MFACoverage != nil) != c.coverage || sc.Phase1.Known != c.coverage || (!c.coverage && sc.Phase1.Complete) {
					t.Errorf("coverage %v phase1 %+v, want known=%v", sc.MFACoverage, sc.Phase1, c.coverage)
				}
				if sc.Phase2.Known != c.phase2 || (!c.phase2 && (sc.Phase2.Complete || sc.Phase2.Advanced)) {
					t.Errorf("phase2 %+v, want known=%v", sc.Phase2, c.phase2)
				}
				if (sc.SeedRisk.Score != nil) != c.seed || (!c.seed && sc.SeedRisk.Label != "unknown") {
					t.Errorf("seed risk %v %s, want known=%v", sc.SeedRisk.Score, sc.SeedRisk.Label, c.seed)
				}
				if riskKnown[c.name] {
					if sc.Risk == nil {
						t.Errorf("risk unknown, want known: the gap hides no finding")
					}
				} else if sc.Risk != nil || sc.RiskLabel != "unknown" || sc.Known || sc.RiskAtLeast != sc.RiskBasis.Risk() {
					t.Errorf("risk %v %s at least %d, want unknown with a lower bound", sc.Risk, sc.RiskLabel, sc.RiskAtLeast)
				}
				if !slices.Equal(sc.RiskUnevaluated, c.unevaluated) {
					t.Errorf("unevaluated %v, want %v", sc.RiskUnevaluated, c.unevaluated)
				}
			}
			b, _ := json.Marshal(s.Accounts[0])
			if !c.coverage && !strings.Contains(string(b), `"mfa_coverage_percent":null`) {
				t.Errorf("unknown coverage must be null in JSON: %s", b)
			}
		})
	}
}

// readBack writes a gap to JSON and reads it back, as a run file is.
func readBack(t *testing.T, g inventory.Gap) inventory.Gap {
	t.Helper()
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	var out inventory.Gap
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func typed(section inventory.Section, subject string, unknown ...inventory.Field) inventory.Gap {
	g := inventory.NewGap("222222222222", section, unknown, "AccessDenied")
	g.Subject = subject
	return g
}
