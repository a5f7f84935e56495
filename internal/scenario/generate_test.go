package scenario

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func generated(t *testing.T, seed int64) *Scenario {
	t.Helper()
	src := base + fmt.Sprintf("generator: {seed: %d, accounts: 20, users_per_account: 100, events_per_account: 50, missing_role_every: 5}\n", seed)
	s, err := Parse("g.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGenerateDeterministic(t *testing.T) {
	a, b, c := generated(t, 1), generated(t, 1), generated(t, 2)
	if !reflect.DeepEqual(a, b) {
		t.Error("the same seed gave different Organizations")
	}
	if reflect.DeepEqual(a.Accounts[1:], c.Accounts[1:]) {
		t.Error("different seeds gave the same Organization")
	}
	if len(a.Accounts) != 21 {
		t.Errorf("%d accounts, want 21", len(a.Accounts))
	}
}

func TestGenerateAvoidsReservedIDs(t *testing.T) {
	g := Generator{Seed: 3, Accounts: 10}
	first := Generate(g, "aws", nil)
	reserved := []string{first[0].ID, first[3].ID}
	again := Generate(g, "aws", reserved)
	for _, a := range again {
		if a.ID == reserved[0] || a.ID == reserved[1] {
			t.Errorf("generated id %s collides with a listed account", a.ID)
		}
	}
}

func TestGenerateRealisticMix(t *testing.T) {
	s := generated(t, 7)
	var users, console, consoleNoMFA, twoKeys, inactive, neverUsed, tagged, missingRole int
	mfaTypes := map[string]int{}
	keyIDs := map[string]bool{}
	for _, a := range s.Accounts[1:] {
		if a.AuditRoles["IAMAuditRole"] == RoleMissing {
			missingRole++
		}
		if len(a.Events) != 50 {
			t.Errorf("account %s has %d events, want 50", a.Name, len(a.Events))
		}
		for _, e := range a.Events {
			if e.Time.Rel > 0 || e.Time.Rel < -90*Day {
				t.Errorf("event %s at %s is outside the last 90 days", e.Name, e.Time)
			}
		}
		names := map[string]bool{}
		for _, u := range a.Users {
			users++
			if names[u.Name] {
				t.Errorf("user %s twice in %s", u.Name, a.Name)
			}
			names[u.Name] = true
			if u.Password != nil {
				console++
				if len(u.MFA) == 0 {
					consoleNoMFA++
				}
			}
			for _, m := range u.MFA {
				mfaTypes[m.Type]++
			}
			if len(u.AccessKeys) == 2 {
				twoKeys++
			}
			if u.Tags["Owner"] != "" {
				tagged++
			}
			for _, k := range u.AccessKeys {
				if keyIDs[k.ID] {
					t.Errorf("key id %s twice", k.ID)
				}
				keyIDs[k.ID] = true
				if k.Status == KeyInactive {
					inactive++
				}
				if k.LastUsed == nil {
					neverUsed++
				}
			}
		}
	}
	pct := func(n, of int) float64 { return 100 * float64(n) / float64(of) }
	checks := []struct {
		what     string
		got      float64
		lo, high float64
	}{
		{"console users %", pct(console, users), 50, 70},
		{"console users with MFA %", pct(console-consoleNoMFA, console), 60, 80},
		{"users with Owner tags %", pct(tagged, users), 70, 90},
		{"two-key users", float64(twoKeys), 1, 1e9},
		{"inactive keys", float64(inactive), 1, 1e9},
		{"never-used keys", float64(neverUsed), 1, 1e9},
		{"hardware MFA devices", float64(mfaTypes[MFAHardware]), 1, 1e9},
		{"fido MFA devices", float64(mfaTypes[MFAFIDO]), 1, 1e9},
		{"accounts without audit role", float64(missingRole), 4, 4},
	}
	for _, c := range checks {
		if c.got < c.lo || c.got > c.high {
			t.Errorf("%s = %.1f, want %v..%v", c.what, c.got, c.lo, c.high)
		}
	}
	if mfaTypes[MFAVirtual] <= mfaTypes[MFAHardware]+mfaTypes[MFAFIDO] {
		t.Errorf("MFA mix %v: virtual should dominate", mfaTypes)
	}
	ids := map[string]bool{}
	for _, a := range s.Accounts {
		if ids[a.ID] || !reAccountID.MatchString(a.ID) {
			t.Errorf("account id %q invalid or repeated", a.ID)
		}
		ids[a.ID] = true
		if strings.TrimSpace(a.Name) == "" {
			t.Error("generated account without a name")
		}
	}
}
