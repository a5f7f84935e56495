package importer

import (
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
)

const header = "account_id,account_name,username,password_status,password_last_used,access_key_id,status,created_date,last_used_date,service_name,mfa_status\n"

func read(t *testing.T, body string) *inventory.Inventory {
	t.Helper()
	inv, err := ReadSeed("iam_audit_report_20260305_143022.csv", []byte(body), "", nil, SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func unknownFor(a *inventory.Account, user string, f inventory.Field) bool {
	_, gap := checks.UserGap(a, user, f)
	return gap
}

// The run's time is the file name's; Spanish and English words mean the same;
// Unknown / Desconocido is a gap of that user, never "none" or "never".
func TestReadSeedWords(t *testing.T) {
	inv := read(t, header+
		"111111111111,Producción,ana,Configurada,Nunca,AKIA1,Active,2018-06-15 10:20:30,Nunca utilizada,N/A,None\n"+
		"111111111111,Producción,ben,Configured,2026-03-04 15:30:00,AKIA2,Inactive,2024-01-01 00:00:00,2026-03-05 08:45:00,s3,Virtual\n"+
		"111111111111,Producción,cho,Desconocido,Unknown,,,,,,Desconocido\n"+
		"111111111111,Producción,'=dan,No configurada,Nunca,,Active,2025-01-01 00:00:00,Unknown,Unknown,Hardware\n")
	if inv.RunID != "20260305_143022" || !inv.StartedAt.Equal(time.Date(2026, 3, 5, 14, 30, 22, 0, time.UTC)) {
		t.Fatalf("run %s at %s", inv.RunID, inv.StartedAt)
	}
	a := &inv.Accounts[0]
	if a.Name != "Producción" || len(a.Users) != 4 {
		t.Fatalf("%+v", a)
	}
	ana, ben, cho, dan := a.Users[0], a.Users[1], a.Users[2], a.Users[3]
	if !ana.PasswordEnabled || ana.PasswordLastUsed != nil || ana.AccessKeys[0].LastUsedAt != nil || ana.MFAActive {
		t.Errorf("ana %+v", ana)
	}
	if !ben.PasswordEnabled || ben.PasswordLastUsed == nil || !ben.MFAActive || ben.AccessKeys[0].Status != inventory.KeyInactive ||
		ben.AccessKeys[0].LastUsedService != "s3" || len(ben.MFADevices) != 1 || ben.MFADevices[0].Type != inventory.MFAVirtual {
		t.Errorf("ben %+v", ben)
	}
	for _, f := range []inventory.Field{inventory.FieldPassword, inventory.FieldPasswordLastUsed, inventory.FieldMFA} {
		if !unknownFor(a, "cho", f) {
			t.Errorf("cho's %s is not unknown", f)
		}
		if unknownFor(a, "ana", f) {
			t.Errorf("ana's %s is unknown", f)
		}
	}
	if cho.PasswordEnabled || len(cho.AccessKeys) != 0 {
		t.Errorf("cho %+v", cho)
	}
	// The CSV-injection guard is undone; a key without its id keeps its data.
	if dan.Name != "=dan" || dan.AccessKeys[0].ID != "" || !unknownFor(a, "=dan", inventory.FieldKeyIDs) || !unknownFor(a, "=dan", inventory.FieldKeyLastUse) {
		t.Errorf("dan %+v", dan)
	}
	// A row for a user without keys and Unknown words: iamaudit wrote it. The user
	// list is whole; the MFA types are one per user.
	if _, gap := checks.UserGap(a, "ana", inventory.FieldKeylessUsers); gap {
		t.Error("iamaudit's report taken for the original script's")
	}
	if !unknownFor(a, "ana", inventory.FieldMFATypes) || !unknownFor(a, "ana", inventory.FieldUserCreated) || !unknownFor(a, "ana", inventory.FieldUserPolicies) {
		t.Error("what a seed report lacks is not unknown")
	}
	if !inv.EventWindowStart.IsZero() || len(inv.EventNames) != 0 {
		t.Errorf("no events file, yet a window %s %v", inv.EventWindowStart, inv.EventNames)
	}
}

// The original script's report: a row per key, Python dates, MFA types guessed;
// its earlier version without password_last_used.
func TestReadSeedOriginalScript(t *testing.T) {
	inv := read(t, "account_id,account_name,username,password_status,access_key_id,status,created_date,last_used_date,service_name,mfa_status\n"+
		"111111111111,Prod,ana,Configured,AKIA1,Active,2018-06-15 10:20:30+00:00,2026-03-05 08:45:00.123000+00:00,s3,Hardware\n")
	a := &inv.Accounts[0]
	u := a.Users[0]
	if !u.AccessKeys[0].CreatedAt.Equal(time.Date(2018, 6, 15, 10, 20, 30, 0, time.UTC)) || u.AccessKeys[0].LastUsedAt == nil {
		t.Errorf("dates %+v", u.AccessKeys[0])
	}
	if !u.MFAActive || len(u.MFADevices) != 0 {
		t.Errorf("the script's guessed type kept: %+v", u)
	}
	for _, f := range []inventory.Field{inventory.FieldKeylessUsers, inventory.FieldMFATypes, inventory.FieldPasswordLastUsed} {
		if !unknownFor(a, "ana", f) {
			t.Errorf("%s not unknown", f)
		}
	}
	if unknownFor(a, "ana", inventory.FieldPassword) || unknownFor(a, "ana", inventory.FieldAccessKeys) {
		t.Error("what the report says is unknown")
	}
}

func TestReadSeedErrors(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"iam_audit_report_20260305_143022.csv", "", "empty file"},
		{"iam_audit_report_20260305_143022.csv", "account_id,username\n", `no "access_key_id" column`},
		{"report.csv", header, "cannot tell the run's time"},
		{"iam_audit_report_20260305_143022.csv", header + "1234,P,ana,Configured,Never,,,,,,None\n", ":2: account_id \"1234\""},
		{"iam_audit_report_20260305_143022.csv", header + "111111111111,P,ana,Maybe,Never,,,,,,None\n", ":2: password_status \"Maybe\""},
		{"iam_audit_report_20260305_143022.csv", header + "111111111111,P,ana,Configured,Never,AKIA1,Active,2020-01-01 00:00:00,Never used,N/A,None\n" +
			"111111111111,P,ana,Not configured,Never,AKIA2,Active,2020-01-01 00:00:00,Never used,N/A,None\n", ":3: user ana has password_status"},
		{"iam_audit_report_20260305_143022.csv", header + "111111111111,P,ana,Configured,Never,AKIA1,Enabled,2020-01-01 00:00:00,Never used,N/A,None\n", ":2: status \"Enabled\""},
	} {
		_, err := ReadSeed(c.name, []byte(c.body), "", nil, SeedOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.body, err, c.want)
		}
	}
}

// Events get stable ids: the same event in two files is one event.
func TestReadSeedEvents(t *testing.T) {
	ev := "eventTime,eventName,username,account_id,account_name,resources\n" +
		"2026-01-20 10:00:00+00:00,CreateAccessKey,N/A,111111111111,Prod,\"ana, AKIA1\"\n" +
		"2026-01-21 10:00:00,ConsoleLogin,root,333333333333,Other,\n"
	since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	read := func() *inventory.Inventory {
		inv, err := ReadSeed("iam_audit_report_20260305_143022.csv", []byte(header+"111111111111,Prod,ana,Configured,Never,,,,,,None\n"),
			"cloudtrail_events_20260305_143022.csv", []byte(ev), SeedOptions{CloudTrailSince: since})
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	a, b := read(), read()
	if len(a.Accounts) != 2 || a.Accounts[1].ID != "333333333333" || a.Accounts[1].Status != inventory.StatusPartial {
		t.Fatalf("an account with events only: %+v", a.Accounts)
	}
	e := a.Accounts[0].Events[0]
	if e.ID == "" || e.ID != b.Accounts[0].Events[0].ID || e.Username != "" || len(e.Resources) != 2 || e.Resources[1].Name != "AKIA1" {
		t.Errorf("event %+v", e)
	}
	if a.Accounts[1].Events[0].Source != "signin.amazonaws.com" || !contains(a.EventNames, "ConsoleLogin") || !contains(a.EventNames, "DeleteUser") {
		t.Errorf("names %v", a.EventNames)
	}
	// The window starts at --cloudtrail-since, but never more than 90 days back.
	if want := a.StartedAt.Add(-90 * 24 * time.Hour); !a.EventWindowStart.Equal(want) {
		t.Errorf("window starts %s, want %s", a.EventWindowStart, want)
	}
}

func FuzzReadSeed(f *testing.F) {
	f.Add([]byte(header + "111111111111,P,ana,Configurada,Nunca,AKIA1,Active,2018-06-15 10:20:30+00:00,Nunca utilizada,N/A,None\n"))
	f.Add([]byte(header + "111111111111,P,'=x,Unknown,Unknown,,,,,,Unknown\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := ReadSeed("iam_audit_report_20260305_143022.csv", data, "cloudtrail_events_20260305_143022.csv", data, SeedOptions{})
		if err != nil {
			return
		}
		for _, a := range inv.Accounts {
			for _, g := range a.Gaps {
				if len(g.Unknown) == 0 {
					t.Fatalf("a gap that leaves nothing unknown: %+v", g)
				}
			}
		}
	})
}
