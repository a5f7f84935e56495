package suppress

import (
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
)

var now = time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)

const sample = `# suppressions
suppressions:
  - check: access_key_not_rotated
    account: "111122223333"
    user: ci-*
    reason: CI keys rotate with the pipeline (SEC-42)
    expires: 2026-06-30

  - check: user_without_owner
    account: Sandbox*
    reason: sandbox users are throwaway
  - key: AKIAOLD*
    reason: vendor key, replaced in Q1
    expires: 2026-03-05
`

func TestParse(t *testing.T) {
	rules, err := Parse("s.yaml", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 3 {
		t.Fatalf("%d rules", len(rules))
	}
	if rules[0].Line != 3 || rules[1].Line != 9 || rules[2].Line != 12 {
		t.Errorf("lines %d %d %d", rules[0].Line, rules[1].Line, rules[2].Line)
	}
	if rules[0].ExpiresAt() == nil || !rules[0].ExpiresAt().Equal(time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)) || rules[1].ExpiresAt() != nil {
		t.Errorf("expiry %v %v", rules[0].ExpiresAt(), rules[1].ExpiresAt())
	}
	if empty, err := Parse("e.yaml", []byte("  \n")); err != nil || len(empty) != 0 {
		t.Errorf("empty file: %v %v", empty, err)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"no reason", "suppressions:\n  - check: unused_role\n", "s.yaml:2: rule 1 has no reason"},
		{"unknown key", "suppressions:\n  - check: unused_role\n    reason: x\n    usr: bob\n", "s.yaml:4:"},
		{"unknown top key", "rules: []\n", "s.yaml:1:"},
		{"bad date", "suppressions:\n  - user: bob\n    reason: x\n    expires: next week\n", `s.yaml:4:5: rule 1: expires: "next week" is not a date`},
		{"unknown check", "suppressions:\n  - reason: x\n    check: nope\n", `s.yaml:3:5: rule 1: check: unknown check "nope"`},
		{"bad pattern", "suppressions:\n  - reason: x\n    user: \"[\"\n", `s.yaml:3:5: rule 1: user: bad pattern "["`},
		{"second rule's field", "suppressions:\n  - user: a\n    reason: x\n  # note\n  - user: b\n    reason: y\n\n    expires: 2026-13-01\n", `s.yaml:8:5: rule 2: expires:`},
		{"flow style rule", "suppressions: [{user: a, reason: x, expires: soon}]\n", `s.yaml:1:`},
		{"list where a value goes", "suppressions:\n  - user: [a, b]\n    reason: x\n", "s.yaml:2:"},
		{"matches everything", "suppressions:\n  - reason: all\n", "matches everything"},
		{"syntax", "suppressions: [\n", "s.yaml:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if strings.Contains(err.Error(), "Go struct") || strings.Contains(err.Error(), "unmarshal") {
				t.Errorf("Go internals in %q", err)
			}
		})
	}
}

func finding(check, acct, name, user, resource, rtype string) checks.Finding {
	return checks.Finding{CheckID: check, AccountID: acct, AccountName: name, User: user, Resource: resource, ResourceType: rtype, State: checks.StateOpen}
}

func TestApply(t *testing.T) {
	rules, err := Parse("s.yaml", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	fs := []checks.Finding{
		finding("access_key_not_rotated", "111122223333", "Production", "ci-deploy", "AKIACI", checks.ResourceAccessKey),             // rule 1
		finding("access_key_not_rotated", "111122223333", "Production", "alice", "AKIAAL", checks.ResourceAccessKey),                 // no: user
		finding("access_key_not_rotated", "444455556666", "Dev", "ci-deploy", "AKIACI2", checks.ResourceAccessKey),                   // no: account
		finding("user_without_owner", "777788889999", "Sandbox-1", "tmp", "arn:aws:iam::777788889999:user/tmp", checks.ResourceUser), // rule 2 by name
		finding("access_key_unused", "111122223333", "Production", "v", "AKIAOLD1", checks.ResourceAccessKey),                        // rule 3 expired today
	}
	expired := Apply(fs, rules, now)
	want := []bool{true, false, false, true, false}
	for i, f := range fs {
		if f.Suppressed != want[i] || (f.State == checks.StateSuppressed) != want[i] {
			t.Errorf("finding %d (%s/%s): suppressed %v, want %v", i, f.CheckID, f.User, f.Suppressed, want[i])
		}
	}
	if fs[0].SuppressionReason != "CI keys rotate with the pipeline (SEC-42)" || fs[0].SuppressionExpires == nil || fs[3].SuppressionExpires != nil {
		t.Errorf("reason/expiry: %+v / %+v", fs[0], fs[3])
	}
	if len(expired) != 1 || expired[0].Key != "AKIAOLD*" {
		t.Fatalf("expired %v", expired)
	}
	if !strings.Contains(expired[0].String(), "key=AKIAOLD* (expires 2026-03-05): vendor key") {
		t.Errorf("String %q", expired[0].String())
	}
	// The day before expiry the rule still suppresses.
	fs2 := []checks.Finding{finding("access_key_unused", "1", "", "v", "AKIAOLD1", checks.ResourceAccessKey)}
	if exp := Apply(fs2, rules, now.Add(-24*time.Hour)); len(exp) != 0 || !fs2[0].Suppressed {
		t.Errorf("day before expiry: expired %v suppressed %v", exp, fs2[0].Suppressed)
	}
	// key rules match access keys only.
	fs3 := []checks.Finding{finding("multiple_active_keys", "1", "", "v", "AKIAOLDX", checks.ResourceUser)}
	Apply(fs3, rules, now.Add(-24*time.Hour))
	if fs3[0].Suppressed {
		t.Error("key rule suppressed a user finding")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("suppressions:\n  - reason: x\n    user: '['\n"))
	f.Add([]byte("suppressions: {}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := Parse("f.yaml", data)
		if err != nil {
			return
		}
		for _, r := range rules {
			if strings.TrimSpace(r.Reason) == "" {
				t.Fatalf("accepted a rule without reason: %+v", r)
			}
		}
		Apply([]checks.Finding{{CheckID: "unused_role", Resource: "x"}}, rules, now)
	})
}
