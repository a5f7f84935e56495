package credreport

import (
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// keyCols is the ten access key columns of a row (both slots).
func row(user, keyCols string) string {
	return user + ",arn:aws:iam::123456789012:user/" + user + ",2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false," + keyCols + ",false,N/A,false,N/A"
}

// TestKeySlots: keys from a report keep their slot number; a slot that is inactive
// with no last_rotated but a last_used_date is a key that exists.
func TestKeySlots(t *testing.T) {
	const none = "false,N/A,N/A,N/A,N/A"
	cases := []struct {
		name      string
		keyCols   string
		wantSlots []int
		wantState []string
	}{
		{"slot 2 only (key 1 deleted)", none + ",true,2024-05-01T00:00:00+00:00,2026-03-01T00:00:00+00:00,us-east-1,s3", []int{2}, []string{"Active"}},
		{"slot 1 only", "true,2024-05-01T00:00:00+00:00,N/A,N/A,N/A," + none, []int{1}, []string{"Active"}},
		{"both, slot 1 inactive", "false,2019-01-01T00:00:00+00:00,N/A,N/A,N/A,true,2024-05-01T00:00:00+00:00,N/A,N/A,N/A", []int{1, 2}, []string{"Inactive", "Active"}},
		{"both, slot 2 inactive", "true,2024-05-01T00:00:00+00:00,N/A,N/A,N/A,false,2019-01-01T00:00:00+00:00,N/A,N/A,N/A", []int{1, 2}, []string{"Active", "Inactive"}},
		{"inactive, no last_rotated, used: kept", none + ",false,N/A,2025-07-01T00:00:00+00:00,eu-west-1,ec2", []int{2}, []string{"Inactive"}},
		{"inactive, nothing at all: no key", none + "," + none, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Parse(strings.NewReader(header + "\n" + row("svc", c.keyCols) + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			u := UserFromRow(rep.Users()[0])
			var slots []int
			var states []string
			for _, k := range u.AccessKeys {
				slots, states = append(slots, k.Slot), append(states, k.Status)
			}
			if len(slots) != len(c.wantSlots) || strings.Join(states, ",") != strings.Join(c.wantState, ",") {
				t.Fatalf("keys %+v, want slots %v states %v", u.AccessKeys, c.wantSlots, c.wantState)
			}
			for i := range slots {
				if slots[i] != c.wantSlots[i] {
					t.Errorf("key %d slot %d, want %d", i, slots[i], c.wantSlots[i])
				}
			}
		})
	}
	// The undated inactive slot keeps its last use.
	rep, err := Parse(strings.NewReader(header + "\n" + row("svc", "false,N/A,N/A,N/A,N/A,false,N/A,2025-07-01T00:00:00+00:00,eu-west-1,ec2") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	k := UserFromRow(rep.Users()[0]).AccessKeys[0]
	if k.LastUsedAt == nil || !k.LastUsedAt.Equal(*tp("2025-07-01T00:00:00Z")) || k.LastUsedService != "ec2" || k.LastUsedRegion != "eu-west-1" || !k.CreatedAt.IsZero() {
		t.Errorf("undated slot: %+v", k)
	}
}

// TestRootCredentials reads whether the root user has any credential from its row:
// password_last_used N/A means no password (the root's password_enabled is always
// not_supported).
func TestRootCredentials(t *testing.T) {
	const noKeys = "false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A"
	root := func(pwUsed, mfa, keys, certs string) string {
		return "<root_account>,arn:aws:iam::123456789012:root,2024-01-02T03:04:05+00:00,not_supported," + pwUsed + ",not_supported,not_supported," + mfa + "," + keys + "," + certs
	}
	cases := []struct {
		name, line, want string
	}{
		{"every field N/A or not_supported", root("N/A", "false", noKeys, "false,N/A,false,N/A"), inventory.RootCredentialsNone},
		{"empty password_last_used counts as N/A", root("", "false", noKeys, "false,N/A,false,N/A"), inventory.RootCredentialsNone},
		{"password never used", root("no_information", "false", noKeys, "false,N/A,false,N/A"), inventory.RootCredentialsPresent},
		{"password used", root("2026-01-01T00:00:00+00:00", "false", noKeys, "false,N/A,false,N/A"), inventory.RootCredentialsPresent},
		{"password_last_used not_supported", root("not_supported", "false", noKeys, "false,N/A,false,N/A"), inventory.RootCredentialsUnknown},
		{"MFA only", root("N/A", "true", noKeys, "false,N/A,false,N/A"), inventory.RootCredentialsPresent},
		{"an active key", root("N/A", "false", "true,2020-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A", "false,N/A,false,N/A"), inventory.RootCredentialsPresent},
		{"an inactive key in slot 2", root("N/A", "false", "false,N/A,N/A,N/A,N/A,false,2020-01-01T00:00:00+00:00,N/A,N/A,N/A", "false,N/A,false,N/A"), inventory.RootCredentialsPresent},
		{"a signing certificate", root("N/A", "false", noKeys, "false,N/A,true,2021-01-01T00:00:00+00:00"), inventory.RootCredentialsPresent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Parse(strings.NewReader(header + "\n" + c.line + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			r, ok := rep.Root()
			if !ok {
				t.Fatal("no root row")
			}
			if got := RootFromRow(r).Credentials; got != c.want {
				t.Errorf("credentials %q, want %q", got, c.want)
			}
		})
	}
}
