package checks

import (
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/credreport"
	"github.com/iamaudit/iamaudit/internal/inventory"
)

// reportKey is a key as a credential report gives it: no id, its slot.
func reportKey(status string, slot, createdDays int, lastUsed *time.Time) inventory.AccessKey {
	return inventory.AccessKey{Status: status, Slot: slot, CreatedAt: agoT(createdDays), LastUsedAt: lastUsed, LastUsedSource: credreport.LastUsedSourceReport}
}

const svcARN = "arn:aws:iam::111122223333:user/svc"

// TestKeySlots: a key without an id keeps its report slot in the finding's resource,
// message, evidence and stable id (a user whose key 1 was deleted has only slot 2).
func TestKeySlots(t *testing.T) {
	cases := []struct {
		name, check string
		inv         *inventory.Inventory
		resource    string // "": must not fire
		msg, slot   string
	}{
		{"slot 2 only: not rotated", "access_key_not_rotated", keysInv(reportKey("Active", 2, 200, ago(1))), svcARN + "/access_key_2", "Access key 2 is 200 days old", "2"},
		{"slot 2 only: never used", "access_key_never_used", keysInv(reportKey("Active", 2, 30, nil)), svcARN + "/access_key_2", "Access key 2 has never been used", "2"},
		{"slot 2 only: unused", "access_key_unused", keysInv(reportKey("Active", 2, 400, ago(200))), svcARN + "/access_key_2", "Access key 2 unused for 200 days", "2"},
		{"both slots, slot 1 inactive: the active key is 2", "access_key_not_rotated",
			keysInv(reportKey("Inactive", 1, 800, nil), reportKey("Active", 2, 200, ago(1))), svcARN + "/access_key_2", "Access key 2 ", "2"},
		{"both slots, slot 2 inactive: the active key is 1", "access_key_not_rotated",
			keysInv(reportKey("Active", 1, 200, ago(1)), reportKey("Inactive", 2, 800, nil)), svcARN + "/access_key_1", "Access key 1 ", "1"},
		{"inactive slot without last_rotated, with last use: kept, not active", "access_key_unused",
			keysInv(inventory.AccessKey{Status: "Inactive", Slot: 2, LastUsedAt: ago(300)}), "", "", ""},
		{"an inventory without slots: position", "access_key_not_rotated", keysInv(inventory.AccessKey{Status: "Active", CreatedAt: agoT(200)}), svcARN + "/access_key_1", "Access key 1 ", ""},
		{"a key id wins over the slot", "access_key_not_rotated", keysInv(inventory.AccessKey{ID: "AKIAK2", Status: "Active", Slot: 2, CreatedAt: agoT(200)}), "AKIAK2", "Access key AKIAK2 ", "2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Run(c.inv, now, only(c.check, DefaultConfig()))
			if c.resource == "" {
				if len(got) != 0 {
					t.Fatalf("fired: %+v", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1: %+v", len(got), got)
			}
			f := got[0]
			if f.Resource != c.resource || f.ID != FindingID(c.check, "111122223333", c.resource) {
				t.Errorf("resource %s id %s, want %s (id %s)", f.Resource, f.ID, c.resource, FindingID(c.check, "111122223333", c.resource))
			}
			if !strings.Contains(f.Message, c.msg) || f.Evidence["slot"] != c.slot {
				t.Errorf("message %q evidence %v, want %q and slot %q", f.Message, f.Evidence, c.msg, c.slot)
			}
		})
	}
	// multiple_active_keys names the keys by slot.
	got := Run(keysInv(reportKey("Active", 1, 10, nil), reportKey("Active", 2, 5, nil)), now, only("multiple_active_keys", DefaultConfig()))
	if len(got) != 1 || got[0].Evidence["active_keys"] != "1,2" {
		t.Fatalf("multiple_active_keys: %+v", got)
	}
}

// reportCSV is a credential report with the given root row columns after the ARN and
// creation time: password_enabled … cert_2_last_rotated.
func reportRoot(t *testing.T, rest string) *inventory.Root {
	t.Helper()
	const header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active," +
		"access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service," +
		"access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service," +
		"cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"
	rep, err := credreport.Parse(strings.NewReader(header + "<root_account>,arn:aws:iam::111122223333:root,2024-01-02T03:04:05+00:00," + rest + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	row, ok := rep.Root()
	if !ok {
		t.Fatal("no root row")
	}
	return credreport.RootFromRow(row)
}

// TestRootWithoutCredentials: a root user with no password, keys, certificates or MFA
// gets no root_mfa_disabled (CIS v5.0 1.4); unknown credentials still fire, saying so.
func TestRootWithoutCredentials(t *testing.T) {
	const noKeys = "false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
	withRoot := func(r *inventory.Root) *inventory.Inventory {
		return account().with(func(a *inventory.Account) { a.Root = r }).inv()
	}
	rootOf := func(creds string) *inventory.Root {
		return &inventory.Root{ARN: "arn:aws:iam::111122223333:root", Credentials: creds, MFAType: inventory.MFANone}
	}
	runTable(t, "root_mfa_disabled", []tc{
		{name: "no credentials", inv: withRoot(rootOf(inventory.RootCredentialsNone))},
		{name: "credentials present", inv: withRoot(rootOf(inventory.RootCredentialsPresent)), want: []Severity{Critical}, msg: "does not have MFA enabled"},
		{name: "credentials unknown: fires, saying so", inv: withRoot(rootOf(inventory.RootCredentialsUnknown)), want: []Severity{Critical},
			msg: "whether the root user has a password is unknown", ev: map[string]string{"root_credentials": "unknown"}},
		{name: "an inventory without the field: fires", inv: withRoot(rootOf("")), want: []Severity{Critical}},
		// The report's root row itself.
		{name: "report: every field N/A or not_supported", inv: withRoot(reportRoot(t, "not_supported,N/A,not_supported,not_supported,false,"+noKeys))},
		{name: "report: password never used (no_information) is a password", inv: withRoot(reportRoot(t, "not_supported,no_information,not_supported,not_supported,false,"+noKeys)),
			want: []Severity{Critical}},
		{name: "report: password used", inv: withRoot(reportRoot(t, "not_supported,2026-01-02T03:04:05+00:00,not_supported,not_supported,false,"+noKeys)), want: []Severity{Critical}},
		{name: "report: password_last_used not_supported: unknown", inv: withRoot(reportRoot(t, "not_supported,not_supported,not_supported,not_supported,false,"+noKeys)),
			want: []Severity{Critical}, ev: map[string]string{"root_credentials": "unknown"}},
		{name: "report: no password but an inactive key", inv: withRoot(reportRoot(t,
			"not_supported,N/A,not_supported,not_supported,false,false,2020-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A")), want: []Severity{Critical}},
		{name: "report: no password but a signing certificate", inv: withRoot(reportRoot(t,
			"not_supported,N/A,not_supported,not_supported,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,true,2020-01-01T00:00:00+00:00,false,N/A")), want: []Severity{Critical}},
	})
	if r := reportRoot(t, "not_supported,N/A,not_supported,not_supported,false,"+noKeys); r.Credentials != inventory.RootCredentialsNone {
		t.Errorf("credentials %q, want none", r.Credentials)
	}
	// Without a credential report, GetAccountSummary cannot tell the password.
	noReport := func(summary map[string]int32, creds string) *inventory.Inventory {
		return account().with(func(a *inventory.Account) {
			a.Root, a.Summary, a.Status = rootOf(creds), summary, inventory.StatusPartial
			a.Gaps = []inventory.Gap{
				inventory.NewGap(a.ID, inventory.SectionCredentialReport, inventory.LegacyUnknown(inventory.SectionCredentialReport, "", "iam:GetCredentialReport"), "AccessDenied"),
				inventory.NewGap(a.ID, inventory.SectionRoot, []inventory.Field{inventory.FieldRoot}, "no <root_account> row in the credential report")}
		}).inv()
	}
	runTable(t, "root_mfa_disabled", []tc{
		{name: "summary: MFA off, no key: password unknown", inv: noReport(map[string]int32{"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0}, inventory.RootCredentialsUnknown),
			want: []Severity{Critical}, msg: "(whether the root user has a password is unknown)", ev: map[string]string{"root_credentials": "unknown", "source": "GetAccountSummary"}},
		{name: "summary: MFA off, a key: credentials known", inv: noReport(map[string]int32{"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 1}, inventory.RootCredentialsPresent),
			want: []Severity{Critical}, ev: map[string]string{"root_credentials": ""}},
	})
}

func signIn(user, userType, result, errMsg, ip string, d int) inventory.Event {
	return inventory.Event{Name: "ConsoleLogin", Source: "signin.amazonaws.com", EventType: "AwsConsoleSignIn", Username: user, UserType: userType,
		LoginResult: result, ErrorMessage: errMsg, SourceIP: ip, MFAUsed: "No", Time: agoT(d)}
}

// TestRootSignIns: a failed root sign-in (no errorCode: errorMessage and
// ConsoleLogin=Failure) is not a use of the root; root_failed_signin reports it.
func TestRootSignIns(t *testing.T) {
	events := func(es ...inventory.Event) *inventory.Inventory {
		return account().with(func(a *inventory.Account) { a.Events = es }).inv()
	}
	failed := signIn("root", "Root", inventory.LoginFailure, "Failed authentication", "192.0.2.10", 2)
	ok := signIn("root", "Root", inventory.LoginSuccess, "", "198.51.100.7", 3)
	runTable(t, "root_used_recently", []tc{
		{name: "failed root sign-in (AWS's shape) is not a use", inv: events(failed)},
		{name: "successful root sign-in", inv: events(ok), want: []Severity{Medium}, msg: "3 days ago"},
		{name: "failed and successful: the success counts", inv: events(failed, ok), want: []Severity{Medium}, msg: "3 days ago"},
		{name: "failure result without errorMessage", inv: events(signIn("root", "Root", inventory.LoginFailure, "", "192.0.2.10", 2))},
		{name: "no result, errorMessage only", inv: events(signIn("root", "Root", "", "Failed authentication", "192.0.2.10", 2))},
		{name: "no result, no error (older inventory)", inv: events(inventory.Event{Name: "ConsoleLogin", Username: "root", Time: agoT(2)}), want: []Severity{Medium}},
		{name: "an IAM user named root is not the root", inv: events(signIn("root", "IAMUser", inventory.LoginSuccess, "", "192.0.2.10", 2))},
	})
	runTable(t, "root_failed_signin", []tc{
		{name: "two failures from two addresses, one success", inv: events(failed, ok, signIn("root", "Root", inventory.LoginFailure, "Failed authentication", "203.0.113.5", 10)),
			want: []Severity{Medium}, msg: "2 failed root sign-in attempts since " + date(agoT(90)) + ", from 192.0.2.10, 203.0.113.5",
			ev: map[string]string{"attempts": "2", "source_ips": "192.0.2.10 (1), 203.0.113.5 (1)", "first_attempt": agoT(10).Format(time.RFC3339),
				"last_attempt": agoT(2).Format(time.RFC3339), "mfa_used": "No (2)"}},
		{name: "one failure", inv: events(failed), want: []Severity{Medium}, msg: "1 failed root sign-in attempt since"},
		{name: "same address twice", inv: events(failed, signIn("root", "Root", inventory.LoginFailure, "Failed authentication", "192.0.2.10", 5)),
			want: []Severity{Medium}, ev: map[string]string{"source_ips": "192.0.2.10 (2)"}},
		{name: "no source address", inv: events(signIn("root", "Root", inventory.LoginFailure, "Failed authentication", "", 5)), want: []Severity{Medium}, ev: map[string]string{"source_ips": "unknown (1)"}},
		{name: "successes only", inv: events(ok)},
		{name: "an IAM user's failure", inv: events(signIn("alice", "IAMUser", inventory.LoginFailure, "Failed authentication", "192.0.2.10", 2))},
		{name: "ConsoleLogin not looked up", inv: func() *inventory.Inventory {
			i := events(failed)
			i.EventNames = []string{"CreateAccessKey"}
			return i
		}()},
		{name: "ConsoleLogin events gap", inv: func() *inventory.Inventory {
			i := events(failed)
			g := inventory.NewGap(i.Accounts[0].ID, inventory.SectionEvents, []inventory.Field{inventory.FieldEvents}, "throttled")
			g.Subject, g.Operation = "ConsoleLogin", "cloudtrail:LookupEvents"
			i.Accounts[0].Gaps = []inventory.Gap{g}
			return i
		}()},
		{name: "account-wide events gap", inv: func() *inventory.Inventory {
			i := events(failed)
			g := inventory.NewGap(i.Accounts[0].ID, inventory.SectionEvents, []inventory.Field{inventory.FieldEvents}, "AccessDenied")
			g.Operation = "cloudtrail:LookupEvents"
			i.Accounts[0].Gaps = []inventory.Gap{g}
			return i
		}()},
		{name: "no root data at all still names the root", inv: func() *inventory.Inventory {
			i := events(failed)
			i.Accounts[0].Root = nil
			return i
		}(), want: []Severity{Medium}},
	})
}

// TestExpiredKeys: an Expired key (IAM statusType) is not active and is reported by
// inactive_key_not_deleted, with or without CloudTrail events.
func TestExpiredKeys(t *testing.T) {
	expired := key("AKIAEXPIRED", inventory.KeyExpired, 400, ago(200))
	noEvents := func() *inventory.Inventory {
		i := keysInv(expired)
		i.EventNames = nil
		return i
	}()
	runTable(t, "inactive_key_not_deleted", []tc{
		{name: "expired key", inv: keysInv(expired), want: []Severity{Low}, msg: "Access key AKIAEXPIRED has expired and still exists", ev: map[string]string{"status": "Expired"}},
		{name: "expired key, UpdateAccessKey not looked up", inv: noEvents, want: []Severity{Low}},
		{name: "expired key beside an active one", inv: keysInv(key("AKIAOK", "Active", 10, ago(1)), expired), want: []Severity{Low}},
	})
	for _, id := range []string{"access_key_not_rotated", "access_key_never_used", "access_key_unused", "multiple_active_keys"} {
		runTable(t, id, []tc{
			{name: "expired keys are not active", inv: keysInv(expired, key("AKIAEXP2", inventory.KeyExpired, 400, nil))},
		})
	}
	runTable(t, "user_without_owner", []tc{
		{name: "an expired key is not an active credential", inv: account().user(inventory.User{Name: "nobody", AccessKeys: []inventory.AccessKey{expired}}).inv()},
		{name: "an active key is", inv: account().user(inventory.User{Name: "nobody", AccessKeys: []inventory.AccessKey{key("AKIAOK", "Active", 10, ago(1))}}).inv(), want: []Severity{Low}},
	})
}
