package checks

import (
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// TestFiresOnWhatIsKnown (issue 13, defect 2): a finding whose deciding data is known
// fires, at the severity the known data supports, and says what is unknown; only a
// gap over the deciding data silences it.
func TestFiresOnWhatIsKnown(t *testing.T) {
	t.Parallel()
	noRow := gapOf(inventory.SectionRoot, "", inventory.FieldRoot) // no <root_account> row (no credential report)
	virtualRoot := func(a *inventory.Account) {
		a.Root = &inventory.Root{ARN: "arn:aws:iam::111122223333:root", MFAActive: true, MFAType: inventory.MFAVirtual,
			Credentials: inventory.RootCredentialsPresent}
	}
	rootLogin := func(daysAgo int) inventory.Event {
		return inventory.Event{ID: "e1", Time: agoT(daysAgo), Name: "ConsoleLogin", UserType: "Root", Username: "root",
			LoginResult: inventory.LoginSuccess}
	}
	cases := []struct {
		name, check string
		acct        func(a *inventory.Account)
		// want: the finding's severity and evidence it must hold; "" severity: none.
		severity Severity
		evidence map[string]string
		message  string
	}{
		{
			name: "console user without MFA, last sign-in unknown: high, not dropped", check: "console_without_mfa",
			acct: func(a *inventory.Account) {
				a.Users = []inventory.User{{Name: "amy", ARN: "arn:aws:iam::111122223333:user/amy", PasswordEnabled: true, CreatedAt: agoT(400)}}
				a.Gaps = []inventory.Gap{gapOf(inventory.SectionPassword, "amy", inventory.FieldPasswordLastUsed)}
			},
			severity: High, evidence: map[string]string{"password_last_used": "unknown"}, message: "last sign-in unknown",
		},
		{
			name: "console user without MFA who signed in yesterday: critical", check: "console_without_mfa",
			acct: func(a *inventory.Account) {
				a.Users = []inventory.User{{Name: "amy", ARN: "arn:aws:iam::111122223333:user/amy", PasswordEnabled: true, CreatedAt: agoT(400), PasswordLastUsed: ago(1)}}
			},
			severity: Critical, message: "password used 1 day ago",
		},
		{
			name: "console user whose MFA is unknown: silent", check: "console_without_mfa",
			acct: func(a *inventory.Account) {
				a.Users = []inventory.User{{Name: "amy", ARN: "arn:aws:iam::111122223333:user/amy", PasswordEnabled: true, CreatedAt: agoT(400)}}
				a.Gaps = []inventory.Gap{gapOf(inventory.SectionMFA, "amy", inventory.FieldMFA)}
			},
		},
		{
			name: "root MFA virtual without a report row: the device type is known", check: "root_hardware_mfa_missing",
			acct: func(a *inventory.Account) {
				virtualRoot(a)
				a.Gaps = []inventory.Gap{noRow}
			},
			severity: Low, evidence: map[string]string{"mfa_type": inventory.MFAVirtual, "source": "ListVirtualMFADevices"},
		},
		{
			name: "root MFA type unknown (ListVirtualMFADevices failed): silent", check: "root_hardware_mfa_missing",
			acct: func(a *inventory.Account) {
				virtualRoot(a)
				a.Gaps = []inventory.Gap{noRow, gapOf(inventory.SectionMFA, "", inventory.FieldMFATypes)}
			},
		},
		{
			name: "root signed in 3 days ago, seen in CloudTrail, without a report row", check: "root_used_recently",
			acct: func(a *inventory.Account) {
				a.Events = []inventory.Event{rootLogin(3)}
				a.Gaps = []inventory.Gap{noRow}
			},
			severity: Medium, evidence: map[string]string{"uses": "ConsoleLogin event " + date(agoT(3)), "password_and_key_last_use": "unknown"},
		},
		{
			name: "root signed in 3 days ago, root user itself unknown", check: "root_used_recently",
			acct: func(a *inventory.Account) {
				a.Root = nil
				a.Events = []inventory.Event{rootLogin(3)}
				a.Gaps = []inventory.Gap{noRow}
			},
			severity: Medium,
		},
		{
			name: "root sign-in older than the threshold: silent", check: "root_used_recently",
			acct: func(a *inventory.Account) {
				a.Events = []inventory.Event{rootLogin(60)}
				a.Gaps = []inventory.Gap{noRow}
			},
		},
		{
			name: "inactive key and GetAccountAuthorizationDetails failed: the key and its events are known", check: "inactive_key_not_deleted",
			acct: func(a *inventory.Account) {
				a.Users = []inventory.User{{Name: "svc", ARN: "arn:aws:iam::111122223333:user/svc", CreatedAt: agoT(400),
					AccessKeys: []inventory.AccessKey{{ID: "AKIASVC", Status: inventory.KeyInactive, CreatedAt: agoT(300)}}}}
				a.Events = []inventory.Event{{ID: "e2", Time: agoT(60), Name: "UpdateAccessKey",
					RequestParameters: map[string]any{"accessKeyId": "AKIASVC", "status": "Inactive"}}}
				a.Gaps = []inventory.Gap{gapOf(inventory.SectionUsers, "", inventory.FieldUserPolicies, inventory.FieldUserGroups,
					inventory.FieldUserTags, inventory.FieldGroups, inventory.FieldRoles, inventory.FieldManagedPolicies)}
			},
			severity: Low,
		},
		{
			name: "fresh key use unknown, the credential report's known: the key's findings stand", check: "access_key_unused",
			acct: func(a *inventory.Account) {
				a.Users = []inventory.User{{Name: "svc", ARN: "arn:aws:iam::111122223333:user/svc", CreatedAt: agoT(400),
					AccessKeys: []inventory.AccessKey{{ID: "AKIASVC", Status: inventory.KeyActive, CreatedAt: agoT(300), LastUsedAt: ago(200), LastUsedSource: "credential_report"}}}}
				a.Gaps = []inventory.Gap{gapOf(inventory.SectionAccessKeys, "svc", inventory.FieldKeyLastUseRecent)}
			},
			severity: Medium,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			inv := account().with(func(a *inventory.Account) {
				a.Status = inventory.StatusPartial
				c.acct(a)
			}).inv()
			got := Run(inv, now, only(c.check, DefaultConfig()))
			if c.severity == SeverityUnset {
				if len(got) > 0 {
					t.Fatalf("%s fired on unknown deciding data: %+v", c.check, got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%s: %d findings, want 1 (its deciding data is known)", c.check, len(got))
			}
			f := got[0]
			if f.Severity != c.severity {
				t.Errorf("severity %s, want %s (what the known data supports)", f.Severity, c.severity)
			}
			for k, v := range c.evidence {
				if f.Evidence[k] != v {
					t.Errorf("evidence %s = %q, want %q (evidence %v)", k, f.Evidence[k], v, f.Evidence)
				}
			}
			if !strings.Contains(f.Message, c.message) {
				t.Errorf("message %q does not say %q", f.Message, c.message)
			}
		})
	}
}
