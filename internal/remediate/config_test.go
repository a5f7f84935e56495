package remediate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The shipped configs/remediation/remediation.yaml is the defaults; bad values are errors that
// say what to give.
func TestConfig(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(filepath.Join("..", "..", "configs", "remediation", "remediation.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := cfg.PlanAge(); d != 24*time.Hour || cfg.RecentUseDays != 7 || cfg.InactiveHours != 48 || len(cfg.AuditRoles) != 1 {
		t.Fatalf("%+v", cfg)
	}
	good := "protected:\n  accounts: [\"111122223333\", Prod]\n  users: [break-glass-*]\n  tags: [{key: Protected, value: \"true\"}]\nmax_plan_age: 2d\n"
	cfg, err = ParseConfig("r.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := cfg.PlanAge(); d != 48*time.Hour || cfg.accountProtected("999999999999", "prod") == "" || cfg.userProtected("break-glass-1") == "" ||
		cfg.tagsProtected(map[string]string{"protected": "true"}) == "" || cfg.tagsProtected(map[string]string{"Protected": "false"}) != "" {
		t.Fatalf("%+v", cfg)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"max_plan_age: soon\n", "max_plan_age"},
		{"inactive_hours: 12\n", "at least 48"},
		{"recent_use_days: -1\n", "recent_use_days"},
		{"protected:\n  users: ['[']\n", "protected.users"},
		{"protected:\n  tags: [{value: x}]\n", "needs a key"},
		{"unknown_key: 1\n", "unknown_key"},
	} {
		if _, err := ParseConfig("r.yaml", []byte(tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.yaml, err, tc.want)
		}
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "none.yaml")); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// APIs lists what a least-privilege remediation role must allow: every change of the
// workflows, their reads and their undo, and never anything else of the fix recipes'
// that remediation does not call (the tests' calls are checked against it too).
func TestAPIs(t *testing.T) {
	t.Parallel()
	all := map[string]bool{}
	for _, a := range APIs() {
		all[apiName(a)] = true
	}
	for _, want := range []string{"iam:UpdateAccessKey", "iam:DeleteUser", "iam:CreateUser", "iam:PutUserPermissionsBoundary",
		"iam:GetAccessKeyLastUsed", "iam:ListServiceSpecificCredentials", "sts:AssumeRole", "sts:GetAccessKeyInfo", "cloudtrail:LookupEvents"} {
		if !all[want] {
			t.Errorf("APIs() lacks %s", want)
		}
	}
	for _, never := range []string{"iam:DeleteRole", "iam:AttachRolePolicy", "iam:UpdateAccountPasswordPolicy", "iam:CreateRole"} {
		if all[never] {
			t.Errorf("APIs() has %s, which no workflow calls", never)
		}
	}
	mfa := map[string]bool{}
	for _, a := range APIs(EnforceMFA) {
		mfa[apiName(a)] = true
	}
	if mfa["iam:DeleteUser"] || !mfa["iam:PutUserPolicy"] || !mfa["iam:DeleteUserPolicy"] {
		t.Errorf("APIs(enforce-mfa) = %v", mfa)
	}
}

// docs/remediation.md names every call of APIs() and every guard rail.
func TestDocsListCallsAndGuards(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "remediation.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, a := range APIs() {
		name := "`" + a.Name + "`"
		if a.Service != "iam" {
			name = "`" + apiName(a) + "`"
		}
		if !strings.Contains(doc, name) {
			t.Errorf("docs/remediation.md does not list %s", name)
		}
	}
	for _, g := range []string{GuardProtected, GuardOwnPrincipal, GuardAuditRole, GuardPlanAge, GuardPlanEdited, GuardEvidenceChanged,
		GuardRecentUse, GuardInactiveTooNew, GuardLastUsableKey, GuardNotOurs} {
		if !strings.Contains(doc, "`"+g+"`") {
			t.Errorf("docs/remediation.md does not describe the guard rail %s", g)
		}
	}
}
