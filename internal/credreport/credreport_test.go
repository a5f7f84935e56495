package credreport

import (
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

const header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

// realReport looks like what AWS returns: root row first, every sentinel present.
var realReport = strings.Join([]string{
	header,
	"<root_account>,arn:aws:iam::123456789012:root,2017-03-01T10:00:00+00:00,not_supported,2026-02-01T09:15:00+00:00,not_supported,not_supported,true,true,2018-06-15T10:20:30+00:00,2026-03-01T08:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
	"alice,arn:aws:iam::123456789012:user/alice,2018-06-15T10:00:00+00:00,true,2026-03-04T15:30:00+00:00,2025-12-01T00:00:00+00:00,N/A,true,true,2018-06-15T10:20:30+00:00,2026-03-05T08:45:00+00:00,eu-west-1,ec2,false,2024-01-01T00:00:00+00:00,2024-02-01T00:00:00+00:00,us-east-1,iam,false,N/A,false,N/A",
	"bob,arn:aws:iam::123456789012:user/ops/bob,2020-01-01T00:00:00+00:00,true,no_information,2020-01-01T00:00:00+00:00,2026-06-01T00:00:00+00:00,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,true,2021-01-01T00:00:00+00:00,false,N/A",
	"ci-bot,arn:aws:iam::123456789012:user/ci-bot,2019-05-05T05:05:05+00:00,false,N/A,N/A,N/A,false,true,2019-05-05T05:06:00+00:00,N/A,N/A,N/A,true,2025-01-01T00:00:00+00:00,2026-03-01T00:00:00+00:00,us-west-2,sts,false,N/A,false,N/A",
}, "\n") + "\n"

func tp(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestParseRealReport(t *testing.T) {
	rep, err := Parse(strings.NewReader(realReport))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 4 {
		t.Fatalf("rows = %d, want 4", len(rep.Rows))
	}
	root, ok := rep.Root()
	if !ok || !root.IsRoot || root.Line != 2 {
		t.Fatalf("root = %+v, %v", root, ok)
	}
	if root.PasswordEnabledKnown {
		t.Error("root password_enabled not_supported must be unknown")
	}
	if root.PasswordLastChanged != nil {
		t.Error("root password_last_changed not_supported must be nil")
	}
	if !root.MFAActive || !root.AccessKeys[0].Active || root.AccessKeys[0].LastUsedService != "s3" {
		t.Errorf("root = %+v", root)
	}
	if got := len(rep.Users()); got != 3 {
		t.Errorf("users = %d", got)
	}

	tests := []struct {
		user  string
		check func(t *testing.T, r Row)
	}{
		{"alice", func(t *testing.T, r Row) {
			if !r.PasswordEnabled || !r.PasswordEnabledKnown || !r.MFAActive || r.Line != 3 {
				t.Errorf("%+v", r)
			}
			if !r.PasswordLastUsed.Equal(*tp("2026-03-04T15:30:00Z")) || r.PasswordLastUsedInfo != "" {
				t.Errorf("password_last_used = %v %q", r.PasswordLastUsed, r.PasswordLastUsedInfo)
			}
			if r.PasswordNextRotation != nil {
				t.Errorf("next rotation = %v", r.PasswordNextRotation)
			}
			k1, k2 := r.AccessKeys[0], r.AccessKeys[1]
			if !k1.Active || !k1.LastRotated.Equal(*tp("2018-06-15T10:20:30Z")) || k1.LastUsedRegion != "eu-west-1" || k1.LastUsedService != "ec2" {
				t.Errorf("key1 = %+v", k1)
			}
			if k2.Active || !k2.Present() || k2.LastUsedService != "iam" {
				t.Errorf("key2 = %+v", k2)
			}
		}},
		{"bob", func(t *testing.T, r Row) {
			if r.PasswordLastUsed != nil || r.PasswordLastUsedInfo != NoInformation {
				t.Errorf("password_last_used = %v %q", r.PasswordLastUsed, r.PasswordLastUsedInfo)
			}
			if r.PasswordNextRotation == nil || !r.PasswordNextRotation.Equal(*tp("2026-06-01T00:00:00Z")) {
				t.Errorf("next rotation = %v", r.PasswordNextRotation)
			}
			if r.AccessKeys[0].Present() || r.AccessKeys[1].Present() {
				t.Errorf("keys = %+v", r.AccessKeys)
			}
			if r.AccessKeys[0].LastUsedInfo != NA || r.AccessKeys[0].LastUsedRegion != "" {
				t.Errorf("sentinels = %+v", r.AccessKeys[0])
			}
			if !r.Certs[0].Active || r.Certs[0].LastRotated == nil || r.Certs[1].Active {
				t.Errorf("certs = %+v", r.Certs)
			}
		}},
		{"ci-bot", func(t *testing.T, r Row) {
			if r.PasswordEnabled || r.PasswordLastUsedInfo != NA || r.PasswordLastChanged != nil {
				t.Errorf("%+v", r)
			}
			if r.AccessKeys[0].LastUsedDate != nil || r.AccessKeys[0].LastUsedInfo != NA {
				t.Errorf("never-used key = %+v", r.AccessKeys[0])
			}
			if !r.AccessKeys[1].Active || r.AccessKeys[1].LastUsedRegion != "us-west-2" {
				t.Errorf("key2 = %+v", r.AccessKeys[1])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			r, ok := rep.User(tt.user)
			if !ok {
				t.Fatalf("user %s missing", tt.user)
			}
			tt.check(t, r)
		})
	}
}

func TestParseTolerates(t *testing.T) {
	// Reordered columns plus an extra one, no cert/next-rotation columns, CRLF, BOM,
	// fractional seconds, the moto form (not_supported region/service, no root row).
	cols := []string{"arn", "user", "extra", "mfa_active", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
		"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service",
		"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service"}
	rows := []string{
		strings.Join(cols, ","),
		"arn:aws:iam::1:user/x,x,zzz,false,2024-01-01T00:00:00.123Z,false,not_supported,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,N/A,true,2024-01-02T03:04:05+00:00,2024-01-03T00:00:00+00:00,not_supported,not_supported",
	}
	tests := []struct {
		name string
		in   string
	}{
		{"lf", strings.Join(rows, "\n")},
		{"crlf+bom", "\uFEFF" + strings.Join(rows, "\r\n") + "\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Parse(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := rep.Root(); ok {
				t.Error("no root row expected")
			}
			r, ok := rep.User("x")
			if !ok {
				t.Fatal("x missing")
			}
			if r.ARN != "arn:aws:iam::1:user/x" || r.UserCreationTime.Nanosecond() != 123000000 || r.UserCreationTime.Location() != time.UTC {
				t.Errorf("%+v", r)
			}
			k := r.AccessKeys[0]
			if !k.Active || k.LastUsedRegion != "" || k.LastUsedService != "" || k.LastUsedDate == nil {
				t.Errorf("key1 = %+v", k)
			}
			if r.PasswordLastUsedInfo != NotSupported {
				t.Errorf("info = %q", r.PasswordLastUsedInfo)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	good := "alice,arn:aws:iam::1:user/alice,2018-06-15T10:00:00+00:00,true,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
	bad := func(col int, v string) string {
		f := strings.Split(good, ",")
		f[col] = v
		return strings.Join(f, ",")
	}
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "header row is required"},
		{"bom only", "\uFEFF", "header row is required"},
		{"no header", good + "\n", "line 1: not a credential report header: missing column(s)"},
		{"missing column", strings.Replace(header, ",mfa_active", "", 1) + "\n", "missing column(s) mfa_active"},
		{"duplicate column", header + ",user\n", `duplicate column "user"`},
		{"bad date", header + "\n" + good + "\n" + good + "\n" + bad(9, "2018-13-45") + "\n",
			`line 4: access_key_1_last_rotated: invalid date "2018-13-45"`},
		{"bad date after crlf", header + "\r\n" + good + "\r\n" + bad(2, "yesterday") + "\r\n",
			`line 3: user_creation_time: invalid date "yesterday"`},
		{"creation sentinel", header + "\n" + bad(2, "N/A") + "\n", `line 2: user_creation_time: invalid date "N/A"`},
		{"bad bool", header + "\n" + bad(7, "yes") + "\n", `line 2: mfa_active: invalid boolean "yes"`},
		{"bad password_enabled", header + "\n" + bad(3, "1") + "\n", `line 2: password_enabled: invalid boolean "1"`},
		{"empty user", header + "\n" + bad(0, "") + "\n", "line 2: user: empty"},
		{"short row", header + "\n" + good + "\nbob,arn\n", "line 3: wrong number of fields"},
		{"bare quote", header + "\n" + good + "\n" + `bo"b` + good[5:] + "\n", "line 3:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestToAccount(t *testing.T) {
	rep, err := Parse(strings.NewReader(realReport))
	if err != nil {
		t.Fatal(err)
	}
	rep.GeneratedAt = *tp("2026-03-06T00:00:00Z")
	a := ToAccount(rep, "123456789012", "Production")
	if a.ID != "123456789012" || a.Name != "Production" || a.Status != inventory.StatusPartial {
		t.Errorf("account = %+v", a)
	}
	if a.CredentialReport == nil || !a.CredentialReport.GeneratedAt.Equal(rep.GeneratedAt) {
		t.Errorf("credential report = %+v", a.CredentialReport)
	}
	if a.Root == nil || a.Root.ARN != "arn:aws:iam::123456789012:root" || !a.Root.MFAActive || a.Root.MFAType != "" {
		t.Fatalf("root = %+v", a.Root)
	}
	if len(a.Root.AccessKeys) != 1 || a.Root.AccessKeys[0].Slot != 1 || !a.Root.AccessKeys[0].Active || a.Root.AccessKeys[0].LastUsedService != "s3" {
		t.Errorf("root keys = %+v", a.Root.AccessKeys)
	}
	var names []string
	for _, u := range a.Users {
		names = append(names, u.Name)
	}
	if strings.Join(names, ",") != "alice,bob,ci-bot" {
		t.Errorf("users = %v", names)
	}
	alice, bob, bot := a.Users[0], a.Users[1], a.Users[2]
	if !alice.MFAActive || len(alice.MFADevices) != 0 || !alice.PasswordEnabled || alice.PasswordLastUsed == nil {
		t.Errorf("alice = %+v", alice)
	}
	if len(alice.AccessKeys) != 2 || alice.AccessKeys[0].ID != "" || alice.AccessKeys[0].Status != "Active" ||
		alice.AccessKeys[1].Status != "Inactive" || alice.AccessKeys[0].LastUsedSource != LastUsedSourceReport ||
		!alice.AccessKeys[0].CreatedAt.Equal(*tp("2018-06-15T10:20:30Z")) {
		t.Errorf("alice keys = %+v", alice.AccessKeys)
	}
	if bob.MFAActive || len(bob.AccessKeys) != 0 || bob.PasswordLastUsed != nil || !bob.PasswordEnabled {
		t.Errorf("bob = %+v", bob)
	}
	if len(bot.AccessKeys) != 2 || bot.AccessKeys[0].LastUsedAt != nil || bot.PasswordEnabled {
		t.Errorf("ci-bot = %+v", bot)
	}
	sections := map[inventory.Section]bool{}
	for _, g := range a.Gaps {
		sections[g.Section] = true
		if g.AccountID != "123456789012" || g.Message == "" || len(g.Unknown) == 0 || g.Operation != "" {
			t.Errorf("gap = %+v: want an account, a message, what it leaves unknown and no operation (nothing failed)", g)
		}
	}
	for _, s := range []inventory.Section{inventory.SectionAccessKeys, inventory.SectionMFA, inventory.SectionUsers,
		inventory.SectionRoles, inventory.SectionPasswordPolicy, inventory.SectionEvents} {
		if !sections[s] {
			t.Errorf("no gap for %s", s)
		}
	}
	if sections[inventory.SectionRoot] {
		t.Error("root gap although the report has a root row")
	}

	t.Run("no root row", func(t *testing.T) {
		rep := &Report{Rows: rep.Users()}
		a := ToAccount(rep, "1", "x")
		if a.Root != nil {
			t.Error("root without a root row")
		}
		found := false
		for _, g := range a.Gaps {
			found = found || g.Section == inventory.SectionRoot && g.Leaves(inventory.FieldRoot)
		}
		if !found {
			t.Error("no root gap")
		}
	})
	t.Run("root without mfa", func(t *testing.T) {
		root, _ := rep.Root()
		root.MFAActive = false
		if r := RootFromRow(root); r.MFAType != inventory.MFANone {
			t.Errorf("mfa type = %q", r.MFAType)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add(realReport)
	f.Add("\uFEFF" + strings.ReplaceAll(realReport, "\n", "\r\n"))
	f.Add(header + "\n")
	f.Add("")
	f.Add(header + "\nx,\"a\nb\",2024-01-01T00:00:00Z\n")
	f.Fuzz(func(t *testing.T, in string) {
		rep, err := Parse(strings.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") && !strings.Contains(err.Error(), "header row is required") {
				t.Fatalf("error does not name the line: %v", err)
			}
			return
		}
		for _, r := range rep.Rows {
			if r.Line < 2 {
				t.Fatalf("row line %d", r.Line)
			}
			if r.User == "" {
				t.Fatal("empty user accepted")
			}
		}
		_ = ToAccount(rep, "1", "x")
	})
}
