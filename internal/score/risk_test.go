package score

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
)

// update rewrites golden files: go test ./internal/score -update
var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestRiskFormula: iamaudit-risk/2 of finding counts, with its anchors
// (docs/checks.md, "Scores and maturity").
func TestRiskFormula(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		in           RiskBasis
		score, floor int
		label        string
	}{
		{"no findings", RiskBasis{}, 0, 0, "low"},
		{"one low", RiskBasis{Low: 1}, 2, 0, "low"},                               // 100·1/41 = 2.4
		{"27 low", RiskBasis{Low: 27}, 40, 0, "medium"},                           // 100·27/67 = 40.3
		{"one medium", RiskBasis{Medium: 1}, 5, 0, "low"},                         // 100·2/42 = 4.8
		{"one high", RiskBasis{High: 1}, 47, 40, "medium"},                        // 40 + 60·5/45 = 46.7
		{"four high", RiskBasis{High: 4}, 60, 40, "high"},                         // 40 + 60·20/60
		{"one critical", RiskBasis{Critical: 1}, 73, 60, "high"},                  // 60 + 40·20/60 = 73.3
		{"two critical", RiskBasis{Critical: 2}, 80, 60, "critical"},              // 60 + 40·40/80
		{"one critical and lows", RiskBasis{Critical: 1, Low: 3}, 75, 60, "high"}, // 60 + 40·23/63 = 74.6
		{"thirty medium", RiskBasis{Medium: 30}, 60, 0, "high"},                   // 100·60/100
		{"rounding half up", RiskBasis{Medium: 12}, 38, 0, "low"},                 // 100·24/64 = 37.5
		{"many", RiskBasis{Critical: 1000, High: 1000, Medium: 1000, Low: 1000}, 100, 60, "critical"},
	}
	for _, c := range cases {
		got := c.in.Risk()
		if got != c.score || c.in.floor() != c.floor || RiskLabel(got) != c.label {
			t.Errorf("%s %+v: %d (floor %d) %s, want %d (floor %d) %s", c.name, c.in, got, c.in.floor(), RiskLabel(got), c.score, c.floor, c.label)
		}
	}
	// Every finding raises the score or leaves it at the top (monotone), a critical
	// finding always gives at least "high", and the score stays within 0–100.
	for cr := 0; cr <= 6; cr++ {
		for h := 0; h <= 10; h++ {
			for m := 0; m <= 25; m++ {
				for l := 0; l <= 45; l += 5 {
					b := RiskBasis{Critical: cr, High: h, Medium: m, Low: l}
					r := b.Risk()
					if r < 0 || r > 100 || (cr > 0 && r < 60) || (h > 0 && r < 40) {
						t.Fatalf("%+v: %d", b, r)
					}
					for _, more := range []RiskBasis{{Critical: cr + 1, High: h, Medium: m, Low: l}, {Critical: cr, High: h + 1, Medium: m, Low: l},
						{Critical: cr, High: h, Medium: m + 1, Low: l}, {Critical: cr, High: h, Medium: m, Low: l + 1}} {
						if more.Risk() < r {
							t.Fatalf("%+v scores %d, below %+v's %d", more, more.Risk(), b, r)
						}
					}
				}
			}
		}
	}
}

// finding is an open finding of a check in an account.
func finding(acct, check string, sev checks.Severity, resource string) checks.Finding {
	return checks.Finding{CheckID: check, AccountID: acct, Severity: sev, Resource: resource, State: checks.StateOpen}
}

func suppressed(f checks.Finding) checks.Finding {
	f.Suppressed, f.State, f.SuppressionReason = true, checks.StateSuppressed, "accepted"
	return f
}

// cleanAccount has one console user with MFA and no key: the seed formula scores 0.
func cleanAccount(id string) inventory.Account {
	return acct(id, inventory.User{Name: "ok", PasswordEnabled: true, PasswordLastUsed: ago(1), MFAActive: true})
}

// TestRiskCases are the cases of section 6 and defect 8: the score sees every open
// finding by severity, ignores suppressed ones, and says unknown with a lower bound
// that counts only what is known. Findings are given, not computed, so that each case
// shows one rule; testdata/risk_cases.json holds every case's whole JSON.
func TestRiskCases(t *testing.T) {
	t.Parallel()
	const A, B, C = "111111111111", "222222222222", "333333333333"
	rootKey := finding(A, "root_access_key_active", checks.Critical, "arn:aws:iam::"+A+":root/access_key_1")
	type want struct {
		risk      *int // nil: unknown
		atLeast   int
		label     string
		seed      *int
		seedLeast int
	}
	n := func(v int) *int { return &v }
	cases := []struct {
		name     string
		accounts []inventory.Account
		findings []checks.Finding
		acct     want // account A
		org      want
		unevalA  []string
	}{
		{name: "no findings", accounts: []inventory.Account{cleanAccount(A)},
			acct: want{n(0), 0, "low", n(0), 0}, org: want{n(0), 0, "low", n(0), 0}},
		{name: "only low", accounts: []inventory.Account{cleanAccount(A)},
			findings: []checks.Finding{finding(A, "support_role_missing", checks.Low, A), finding(A, "user_without_owner", checks.Low, "arn:aws:iam::"+A+":user/ok")},
			acct:     want{n(5), 5, "low", n(0), 0}, org: want{n(5), 5, "low", n(0), 0}}, // 100·2/42 = 4.8
		{name: "one critical is at least high", accounts: []inventory.Account{cleanAccount(A)},
			findings: []checks.Finding{rootKey},
			// The seed formula does not see a root access key: 0 (low).
			acct: want{n(73), 73, "high", n(0), 0}, org: want{n(73), 73, "high", n(0), 0}},
		{name: "suppressed critical ignored", accounts: []inventory.Account{cleanAccount(A)},
			findings: []checks.Finding{suppressed(rootKey), finding(A, "support_role_missing", checks.Low, A)},
			acct:     want{n(2), 2, "low", n(0), 0}, org: want{n(2), 2, "low", n(0), 0}},
		{name: "unknown with a lower bound", accounts: func() []inventory.Account {
			// amy signs in to the console; whether she has MFA is unknown. The seed's
			// lower bound does not count her as without MFA (defect 8: it counted 5).
			a := acct(A, inventory.User{Name: "amy", PasswordEnabled: true, PasswordLastUsed: ago(2)},
				inventory.User{Name: "bob", PasswordEnabled: true, MFAActive: true})
			a.Status = inventory.StatusPartial
			a.Gaps = collected([]inventory.Gap{{AccountID: A, Section: inventory.SectionMFA, Subject: "amy", Operation: "iam:ListMFADevices", ErrorCode: "AccessDenied"},
				// bob's last sign-in is unknown (GetUser failed): not "never signed in".
				{AccountID: A, Section: inventory.SectionPassword, Subject: "bob", Operation: "iam:GetUser", ErrorCode: "Throttling"}})
			return []inventory.Account{a}
		}(),
			findings: []checks.Finding{finding(A, "support_role_missing", checks.Low, A)},
			acct:     want{nil, 2, "unknown", nil, 0}, org: want{nil, 2, "unknown", nil, 0}},
		{name: "unknown checks with a lower bound", accounts: func() []inventory.Account {
			a := cleanAccount(A)
			a.Status = inventory.StatusPartial
			a.Gaps = collected([]inventory.Gap{{AccountID: A, Section: inventory.SectionUsers, Operation: "iam:GetAccountAuthorizationDetails", ErrorCode: "AccessDenied"}})
			return []inventory.Account{a}
		}(),
			findings: []checks.Finding{rootKey},
			acct:     want{nil, 73, "unknown", n(0), 0}, org: want{nil, 73, "unknown", n(0), 0},
			unevalA: []string{"admin_policy_on_user", "cloudshell_full_access", "support_role_missing", "unused_role", "user_direct_policies", "user_without_owner"}},
		{name: "organization: worst account floor plus every finding", accounts: []inventory.Account{cleanAccount(A), cleanAccount(B)},
			findings: []checks.Finding{rootKey, finding(B, "admin_policy_on_user", checks.High, "arn:aws:iam::"+B+":user/ok"),
				finding(B, "password_policy_weak", checks.Medium, B), finding(B, "support_role_missing", checks.Low, B)},
			// B alone: 40 + round(60·8/48) = 50. Organization: critical 1, high 1,
			// medium 1, low 1: 60 + round(40·28/68) = 76, above both accounts.
			acct: want{n(73), 73, "high", n(0), 0}, org: want{n(76), 76, "high", n(0), 0}},
		{name: "organization with an account not audited", accounts: []inventory.Account{cleanAccount(A),
			{ID: C, Name: "Lost", Status: inventory.StatusNotAudited, Reason: "AccessDenied"}},
			// account_not_audited says C is unknown, not at risk: it is not counted.
			findings: []checks.Finding{rootKey, finding(C, "account_not_audited", checks.High, C)},
			acct:     want{n(73), 73, "high", n(0), 0}, org: want{nil, 73, "unknown", nil, 0}},
	}
	cfg := checks.DefaultConfig()
	all := map[string]Scores{}
	for _, c := range cases {
		inv := &inventory.Inventory{Accounts: c.accounts}
		s := Compute(inv, c.findings, now, cfg)
		all[c.name] = s
		a, _ := s.Account(A)
		check := func(who string, sc Score, w want) {
			if !eqPtr(sc.Risk, w.risk) || sc.RiskAtLeast != w.atLeast || sc.RiskLabel != w.label || sc.RiskFormula != RiskFormula {
				t.Errorf("%s: %s risk %v at least %d %s (%s), want %v %d %s", c.name, who, deref(sc.Risk), sc.RiskAtLeast, sc.RiskLabel, sc.RiskFormula, deref(w.risk), w.atLeast, w.label)
			}
			if !eqPtr(sc.SeedRisk.Score, w.seed) || sc.SeedRisk.AtLeast != w.seedLeast || sc.SeedRisk.Formula != SeedRiskFormula {
				t.Errorf("%s: %s seed risk %v at least %d, want %v %d", c.name, who, deref(sc.SeedRisk.Score), sc.SeedRisk.AtLeast, deref(w.seed), w.seedLeast)
			}
			if (sc.Risk == nil) == sc.Known && sc.AccountID != C {
				t.Errorf("%s: %s known %v with risk %v", c.name, who, sc.Known, deref(sc.Risk))
			}
		}
		check("account", a, c.acct)
		check("organization", s.Organization, c.org)
		if !slices.Equal(a.RiskUnevaluated, c.unevalA) {
			t.Errorf("%s: unevaluated %v, want %v", c.name, a.RiskUnevaluated, c.unevalA)
		}
		// The Organization is never below any account it has.
		for _, x := range s.Accounts {
			if s.Organization.RiskAtLeast < x.RiskAtLeast || s.Organization.RiskBasis.Floor < x.RiskBasis.Floor {
				t.Errorf("%s: organization %d (floor %d) below %s's %d (floor %d)", c.name, s.Organization.RiskAtLeast, s.Organization.RiskBasis.Floor,
					x.AccountID, x.RiskAtLeast, x.RiskBasis.Floor)
			}
		}
	}
	got, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "risk_cases.json", append(got, '\n'))
}

// TestLowerBoundCountsOnlyKnown (defect 8): the seed score's "at least N" counted a
// console user whose MFA is unknown as without MFA (5), and one whose last sign-in is
// unknown as never signed in (3); a lower bound counts only what is known. What is
// known still counts: carl has no MFA (and no gap), so 5.
func TestLowerBoundCountsOnlyKnown(t *testing.T) {
	t.Parallel()
	a := acct("111111111111",
		inventory.User{Name: "amy", PasswordEnabled: true, PasswordLastUsed: ago(2)},                     // MFA unknown
		inventory.User{Name: "bob", PasswordEnabled: true, MFAActive: true},                              // last sign-in unknown
		inventory.User{Name: "dan", AccessKeys: []inventory.AccessKey{key("K1", "Active", 400, ago(1))}}, // keys unknown
		inventory.User{Name: "carl", PasswordEnabled: true, PasswordLastUsed: ago(1)})                    // no MFA: known
	a.Status = inventory.StatusPartial
	a.Gaps = collected([]inventory.Gap{
		{Section: inventory.SectionMFA, Subject: "amy", Operation: "iam:ListMFADevices", Message: "denied"},
		{Section: inventory.SectionPassword, Subject: "bob", Operation: "iam:GetUser", Message: "denied"},
		{Section: inventory.SectionAccessKeys, Subject: "dan", Operation: "iam:ListAccessKeys", Message: "denied"},
	})
	inv := &inventory.Inventory{Accounts: []inventory.Account{a}}
	cfg := checks.DefaultConfig()
	fs := checks.Run(inv, now, cfg)
	s := Compute(inv, fs, now, cfg).Accounts[0]
	if s.SeedRisk.Score != nil || s.SeedRisk.AtLeast != 5 || s.SeedRisk.Inputs != (RiskInputs{UsersWithoutMFA: 1}) {
		t.Errorf("seed risk %v at least %d %+v, want unknown, at least 5 (carl only)", deref(s.SeedRisk.Score), s.SeedRisk.AtLeast, s.SeedRisk.Inputs)
	}
	// The findings on unknown data are not made (checks.Run), carl's is: the risk
	// score's lower bound is the score of the findings made.
	made := map[string]bool{}
	for _, f := range fs {
		made[f.CheckID+" "+f.User] = true
	}
	for _, k := range []string{"console_without_mfa amy", "console_password_unused bob", "access_key_not_rotated dan"} {
		if made[k] {
			t.Errorf("a finding built on unknown data: %s", k)
		}
	}
	if !made["console_without_mfa carl"] {
		t.Errorf("carl's console_without_mfa is missing: %v", made)
	}
	if s.Risk != nil || s.RiskLabel != "unknown" || s.RiskBasis.Critical != 1 || s.RiskAtLeast != s.RiskBasis.Risk() || s.RiskAtLeast < 60 {
		t.Errorf("risk %v at least %d (%+v)", deref(s.Risk), s.RiskAtLeast, s.RiskBasis)
	}
}

func eqPtr(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// deref prints a *int as its value or "unknown".
func deref(p *int) any {
	if p == nil {
		return "unknown"
	}
	return *p
}

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s (run with -update to create it): %v", path, err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is intended)\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

// collected gives gaps the unknown fields collection gives the same failed calls
// (the compatibility rule of inventory.LegacyUnknown).
func collected(gaps []inventory.Gap) []inventory.Gap {
	for i := range gaps {
		gaps[i].Unknown = inventory.LegacyUnknown(gaps[i].Section, gaps[i].Subject, gaps[i].Operation)
	}
	return gaps
}
