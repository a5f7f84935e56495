package scenario

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func findAccount(t *testing.T, s *Scenario, name string) *Account {
	t.Helper()
	for i := range s.Accounts {
		if s.Accounts[i].Name == name {
			return &s.Accounts[i]
		}
	}
	t.Fatalf("no account %q", name)
	return nil
}

func findUser(t *testing.T, a *Account, name string) *User {
	t.Helper()
	for i := range a.Users {
		if a.Users[i].Name == name {
			return &a.Users[i]
		}
	}
	t.Fatalf("no user %q in %s", name, a.Name)
	return nil
}

func TestDemoContent(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	d := Demo()
	if d.Organization.ManagementAccountID != "210987654321" || findAccount(t, d, "Management").ID != "210987654321" {
		t.Errorf("management account: %+v", d.Organization)
	}
	if d.Organization.AccessKeyID != "AKIAIOSFODNN7SANDBOX" || len(d.Organization.AccessKeyID) != 20 {
		t.Errorf("caller key %q", d.Organization.AccessKeyID)
	}
	if got := findAccount(t, d, "Development-Sandbox").AuditRoles; got["IAMAuditRole"] != RoleMissing {
		t.Errorf("Development-Sandbox audit roles %v, want missing", got)
	}
	if got := findAccount(t, d, "Legacy-Archive").State; got != StateSuspended {
		t.Errorf("Legacy-Archive state %q", got)
	}
	if got := findAccount(t, d, "Management").AuditRoles; len(got) != 0 {
		t.Errorf("management audit roles %v, want none", got)
	}

	prod := findAccount(t, d, "Production")
	legacy := findUser(t, prod, "legacy-etl").AccessKeys[0]
	if legacy.CreatedAt.Resolve(now).Year() != 2018 || legacy.Status != KeyActive || legacy.Service != "s3" || legacy.LastUsed == nil {
		t.Errorf("2018 key: %+v", legacy)
	}
	if u := findUser(t, prod, "carlos.lopez"); u.Password == nil || len(u.MFA) != 0 || now.Sub(u.Password.LastUsed.Resolve(now)) > 30*Day {
		t.Errorf("carlos.lopez must be a recent console user without MFA: %+v", u)
	}
	types := map[string]bool{}
	for _, u := range prod.Users {
		for _, m := range u.MFA {
			types[m.Type] = true
		}
	}
	if !types[MFAVirtual] || !types[MFAHardware] || !types[MFAFIDO] {
		t.Errorf("Production MFA types %v, want all three", types)
	}
	if ks := findUser(t, prod, "ci-deploy").AccessKeys; len(ks) != 2 || ks[0].Status != KeyActive || ks[1].Status != KeyActive {
		t.Errorf("ci-deploy keys: %+v", ks)
	}
	inactive := findUser(t, prod, "data-sync").AccessKeys[0]
	found := false
	for _, e := range prod.Events {
		if e.Name == "UpdateAccessKey" && strings.Contains(strings.Join(e.Resources, ","), inactive.ID) {
			age := now.Sub(e.Time.Resolve(now))
			found = age > 30*Day && age < 90*Day
		}
	}
	if inactive.Status != KeyInactive || !found {
		t.Errorf("inactive key %s needs an UpdateAccessKey event 30..90 days ago", inactive.ID)
	}
	names := map[string]bool{}
	for _, a := range d.Accounts {
		for _, e := range a.Events {
			names[e.Name] = true
			if e.Name == "ConsoleLogin" && (e.Username != "root" || e.Source != "signin.amazonaws.com") {
				t.Errorf("ConsoleLogin event %+v", e)
			}
		}
	}
	for _, n := range []string{"CreateAccessKey", "DeleteAccessKey", "UpdateAccessKey", "CreateUser", "DeleteUser",
		"DeleteLoginProfile", "EnableMFADevice", "DeactivateMFADevice", "PutUserPolicy", "DeleteUserPolicy",
		"CreateLoginProfile", "ConsoleLogin"} {
		if !names[n] {
			t.Errorf("demo has no %s event", n)
		}
	}
}

func TestDemoAndCleanAreFreshCopies(t *testing.T) {
	a, b := Demo(), Demo()
	a.Accounts[0].Name = "changed"
	if b.Accounts[0].Name == "changed" {
		t.Error("Demo() shares state between calls")
	}
	if !reflect.DeepEqual(Clean(), Clean()) {
		t.Error("Clean() is not deterministic")
	}
	if len(Clean().Accounts) < 2 || len(Clean().Accounts) > 3 {
		t.Errorf("clean has %d accounts, want 2 or 3", len(Clean().Accounts))
	}
}

func TestExamplesParse(t *testing.T) {
	for _, tt := range []struct {
		file           string
		accounts, user int
	}{
		{"../../examples/scenario.yaml", 4, 12},
		{"../../examples/generated.yaml", 51, 10001},
		{"../../examples/timeline.yaml", 3, 5},
	} {
		t.Run(tt.file, func(t *testing.T) {
			s, err := Load(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			users := 0
			for _, a := range s.Accounts {
				users += len(a.Users)
			}
			if len(s.Accounts) != tt.accounts || users != tt.user {
				t.Errorf("%d accounts, %d users; want %d, %d", len(s.Accounts), users, tt.accounts, tt.user)
			}
			// A fixed sandbox clock would make `iamaudit run` and `demo` (real clock)
			// compute ages against another date: examples must not set one.
			if s.Now != nil {
				t.Errorf("the example fixes the sandbox clock (now: %v): leave it commented out", s.Now)
			}
		})
	}
}
