package collect

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/iamaudit/iamaudit/internal/credreport"
	"github.com/iamaudit/iamaudit/internal/inventory"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ts(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestClassifyMFA(t *testing.T) {
	listed := &virtualMFA{bySerial: map[string]types.VirtualMFADevice{"arn:aws:iam::1:mfa/odd-listed": {}, "LISTEDPLAIN": {}}}
	tests := []struct {
		name, serial string
		virtual      *virtualMFA
		want         string
	}{
		{"virtual arn serial (the seed called it Hardware)", "arn:aws:iam::123456789012:mfa/alice", nil, inventory.MFAVirtual},
		{"virtual arn in gov partition", "arn:aws-us-gov:iam::123456789012:mfa/alice", listed, inventory.MFAVirtual},
		{"listed by ListVirtualMFADevices", "LISTEDPLAIN", listed, inventory.MFAVirtual},
		{"FIDO security key", "arn:aws:iam::123456789012:u2f/user/alice/yubi-ABCDEF", listed, inventory.MFAHardware},
		{"hardware TOTP token", "GAHT12345678", listed, inventory.MFAHardware},
		{"serial with the word virtual is not enough", "virtual-token-1", nil, inventory.MFAHardware},
		{"retired SMS", "arn:aws:iam::123456789012:sms-mfa/alice", nil, inventory.MFAHardware},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classifyMFA(tt.serial, tt.virtual); got != tt.want {
				t.Errorf("classifyMFA(%q) = %s, want %s", tt.serial, got, tt.want)
			}
		})
	}
}

func TestMatchKeys(t *testing.T) {
	row := &credreport.Row{AccessKeys: [2]credreport.KeySlot{
		{Active: true, LastRotated: ts("2024-01-01T10:00:00Z"), LastUsedService: "s3"},
		{Active: false, LastRotated: ts("2025-06-01T00:00:00Z"), LastUsedService: "ec2"},
	}}
	key := func(id, created string) types.AccessKeyMetadata {
		return types.AccessKeyMetadata{AccessKeyId: aws.String(id), CreateDate: ts(created)}
	}
	tests := []struct {
		name string
		keys []types.AccessKeyMetadata
		row  *credreport.Row
		want []string // service of the matched slot, "-" when unmatched
	}{
		{"both match, listed in reverse", []types.AccessKeyMetadata{key("B", "2025-06-01T00:00:00.734Z"), key("A", "2024-01-01T10:00:00Z")}, row, []string{"ec2", "s3"}},
		{"key created after the report", []types.AccessKeyMetadata{key("A", "2024-01-01T10:00:00Z"), key("C", "2026-02-01T00:00:00Z")}, row, []string{"s3", "-"}},
		{"a second off does not match", []types.AccessKeyMetadata{key("A", "2024-01-01T10:00:01Z")}, row, []string{"-"}},
		{"no report row", []types.AccessKeyMetadata{key("A", "2024-01-01T10:00:00Z")}, nil, []string{"-"}},
		{"same date matches each slot once", []types.AccessKeyMetadata{key("A", "2024-01-01T10:00:00Z"), key("D", "2024-01-01T10:00:00Z")}, row, []string{"s3", "-"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := matchKeys(tt.keys, tt.row)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d matches", len(got))
			}
			for i, m := range got {
				svc := "-"
				if m.slot != nil {
					svc = m.slot.LastUsedService
				}
				if svc != tt.want[i] {
					t.Errorf("key %s matched %q, want %q", aws.ToString(m.meta.AccessKeyId), svc, tt.want[i])
				}
			}
		})
	}
}

func testOrg() *fakeOrg {
	acct := func(id, name string, state orgtypes.AccountState) orgtypes.Account {
		return orgtypes.Account{Id: aws.String(id), Name: aws.String(name), State: state}
	}
	return &fakeOrg{
		mgmt: "111111111111",
		accounts: []orgtypes.Account{
			acct("111111111111", "Management", orgtypes.AccountStateActive),
			acct("222222222222", "Prod", orgtypes.AccountStateActive),
			acct("333333333333", "Dev", orgtypes.AccountStateActive),
			acct("444444444444", "Old", orgtypes.AccountStateSuspended),
			acct("555555555555", "Orphan", orgtypes.AccountStateActive),
		},
		// Root r-1 ⊃ ou-w (Workloads) ⊃ ou-p (Prod) ∋ 222; ou-w ∋ 333; root ∋ 111, 444.
		parent: map[string]string{"111111111111": "r-1", "222222222222": "ou-p", "333333333333": "ou-w", "444444444444": "r-1",
			"ou-p": "ou-w", "ou-w": "r-1"},
		ouName: map[string]string{"ou-p": "Prod", "ou-w": "Workloads"},
	}
}

func TestSelectAccounts(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		want     string // ids (last 1 digit each) of selected accounts
		wantPath string // OU path of the first selected account
		wantGap  string
	}{
		{name: "all", want: "1,2,3,4,5"},
		{name: "only", opts: Options{Accounts: []string{"333333333333", "222222222222"}}, want: "2,3"},
		{name: "exclude", opts: Options{ExcludeAccounts: []string{"111111111111", "555555555555"}}, want: "2,3,4"},
		{name: "unknown account is a gap", opts: Options{Accounts: []string{"999999999999"}}, want: "", wantGap: "999999999999"},
		// 444 is SUSPENDED: kept (it is reported as skipped) without an OU lookup.
		{name: "ou recursive", opts: Options{OUs: []string{"ou-w"}, ExcludeAccounts: []string{"555555555555"}}, want: "2,3,4", wantPath: "Root/Workloads/Prod"},
		{name: "nested ou", opts: Options{OUs: []string{"ou-p"}, ExcludeAccounts: []string{"555555555555", "444444444444"}}, want: "2", wantPath: "Root/Workloads/Prod"},
		{name: "ou names unreadable: ids in the path, a gap", opts: Options{OUs: []string{"ou-p"}, ExcludeAccounts: []string{"555555555555", "444444444444"}}, want: "2", wantPath: "Root/ou-w/ou-p", wantGap: ""},
		{name: "root ou", opts: Options{OUs: []string{"r-1"}, Accounts: []string{"111111111111"}}, want: "1", wantPath: "Root"},
		// 555 has no parent in the fake: ListParents fails, and the account stays visible.
		{name: "ou lookup failure keeps the account visible", opts: Options{OUs: []string{"ou-w"}, Accounts: []string{"555555555555"}}, want: "5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := testOrg()
			if strings.HasPrefix(tt.name, "ou names unreadable") {
				org.namesErr = apiErr("AccessDeniedException")
			}
			accts, err := listAccounts(context.Background(), org, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, gaps := selectAccounts(context.Background(), org, accts, tt.opts)
			var ids []string
			for _, a := range got {
				ids = append(ids, a.ID[:1])
			}
			if strings.Join(ids, ",") != tt.want {
				t.Errorf("selected %v, want %s", ids, tt.want)
			}
			if tt.wantPath != "" && got[0].OUPath != tt.wantPath {
				t.Errorf("ou path %q, want %q", got[0].OUPath, tt.wantPath)
			}
			if org.namesErr != nil {
				if len(gaps) != 1 || gaps[0].Operation != "organizations:ListOrganizationalUnitsForParent" || gaps[0].Section != inventory.SectionOrganization || !gaps[0].Leaves(inventory.FieldOUNames) {
					t.Errorf("gaps = %+v", gaps)
				}
			} else if (tt.wantGap == "") != (len(gaps) == 0) || (tt.wantGap != "" && gaps[0].AccountID != tt.wantGap) {
				t.Errorf("gaps = %+v", gaps)
			}
			if tt.name == "ou lookup failure keeps the account visible" && (got[0].Status != inventory.StatusNotAudited || !strings.Contains(got[0].Reason, "ListParents")) {
				t.Errorf("account = %+v", got[0])
			}
		})
	}
	t.Run("ou names are cached", func(t *testing.T) {
		org := testOrg()
		accts, _ := listAccounts(context.Background(), org, nil)
		selectAccounts(context.Background(), org, accts, Options{OUs: []string{"ou-w"}, ExcludeAccounts: []string{"555555555555"}})
		// ListParents: 111, 222, ou-p, ou-w, 333 (ou-w cached), none for the SUSPENDED 444;
		// OU names: root, ou-w and ou-p listed once each, for the whole run.
		if org.calls["ListOrganizationalUnitsForParent"] != 3 || org.calls["ListParents"] != 5 || len(org.calls) != 3 {
			t.Errorf("calls = %v", org.calls)
		}
	})
}

// reportCSV builds a credential report: one row per user spec
// "name,password(true/false),mfa(true/false),key1 created or N/A,key2 created or N/A".
func reportCSV(rows ...string) string {
	var b strings.Builder
	b.WriteString("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n")
	b.WriteString("<root_account>,arn:aws:iam::222222222222:root,2020-01-01T00:00:00+00:00,not_supported,2026-01-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n")
	for _, r := range rows {
		f := strings.Split(r, ",")
		slot := func(created string) string {
			if created == "N/A" {
				return "false,N/A,N/A,N/A,N/A"
			}
			return "true," + created + ",2026-02-01T00:00:00+00:00,us-east-1,s3"
		}
		b.WriteString(f[0] + ",arn:aws:iam::222222222222:user/" + f[0] + ",2020-01-01T00:00:00+00:00," + f[1] + ",N/A,N/A,N/A," + f[2] + "," + slot(f[3]) + "," + slot(f[4]) + ",false,N/A,false,N/A\n")
	}
	return b.String()
}

func fakeAccount() *fakeIAM {
	user := func(name string) types.UserDetail {
		return types.UserDetail{UserName: aws.String(name), Arn: aws.String("arn:aws:iam::222222222222:user/" + name), UserId: aws.String("AID" + name),
			CreateDate: ts("2020-01-01T00:00:00Z"), GroupList: []string{"devs"}}
	}
	return &fakeIAM{
		report: reportCSV(
			"alice,true,true,2024-01-01T00:00:00+00:00,N/A",
			"bob,true,false,N/A,N/A",
			"carol,false,false,2024-02-01T00:00:00+00:00,2024-03-01T00:00:00+00:00",
		),
		generated: t0.Add(-time.Hour),
		users:     []types.UserDetail{user("carol"), user("alice"), user("bob")},
		virtual: []types.VirtualMFADevice{
			{SerialNumber: aws.String("arn:aws:iam::222222222222:mfa/alice"), User: &types.User{Arn: aws.String("arn:aws:iam::222222222222:user/alice")}},
			{SerialNumber: aws.String("arn:aws:iam::222222222222:mfa/root-account-mfa-device"), User: &types.User{Arn: aws.String("arn:aws:iam::222222222222:root")}},
		},
		mfa: map[string][]types.MFADevice{"alice": {{SerialNumber: aws.String("arn:aws:iam::222222222222:mfa/alice")},
			{SerialNumber: aws.String("arn:aws:iam::222222222222:u2f/user/alice/fido1")}}},
		keys: map[string][]types.AccessKeyMetadata{
			"alice": {{AccessKeyId: aws.String("AKIAALICE0000000001"), Status: types.StatusTypeActive, CreateDate: ts("2024-01-01T00:00:00Z")}},
			"carol": {{AccessKeyId: aws.String("AKIACAROL0000000002"), Status: types.StatusTypeInactive, CreateDate: ts("2024-03-01T00:00:00Z")},
				{AccessKeyId: aws.String("AKIACAROL0000000001"), Status: types.StatusTypeActive, CreateDate: ts("2024-02-01T00:00:00Z")}},
		},
		lastUsed: map[string]types.AccessKeyLastUsed{"AKIAALICE0000000001": {LastUsedDate: ts("2026-02-28T00:00:00Z"), ServiceName: aws.String("iam"), Region: aws.String("eu-west-1")}},
		login:    map[string]bool{"alice": true, "bob": true},
	}
}

func fakeDeps(ia iamAPI, tr trailAPI) *deps {
	return &deps{
		caller: inventory.Caller{AccountID: "111111111111", ARN: "arn:aws:iam::111111111111:user/admin"}, partition: "aws", region: "us-east-1",
		sleep: func(context.Context, time.Duration) error { return nil },
		assume: func(context.Context, inventory.Account, *callCounter) (accountClients, error) {
			return accountClients{iam: ia, trail: tr, auditedAs: "role"}, nil
		},
		own: func(inventory.Account, *callCounter) accountClients {
			return accountClients{iam: ia, trail: tr, auditedAs: "caller"}
		},
	}
}

func unitOptions() Options {
	return Options{Role: "Audit", Clock: func() time.Time { return t0 }, EventNames: []string{"CreateUser", "DeleteUser"}}.withDefaults()
}

var prodAccount = inventory.Account{ID: "222222222222", Name: "Prod", State: "ACTIVE"}

func TestAuditAccountBulk(t *testing.T) {
	f := fakeAccount()
	a := auditAccount(context.Background(), fakeDeps(f, &fakeTrail{}), unitOptions(), prodAccount)
	if a.Status != inventory.StatusAudited || len(a.Gaps) != 0 {
		t.Fatalf("status %s gaps %+v", a.Status, a.Gaps)
	}
	if a.Root == nil || a.Root.MFAType != inventory.MFAVirtual || !a.Root.MFAActive || a.Root.PasswordLastUsed == nil {
		t.Errorf("root = %+v", a.Root)
	}
	if a.CredentialReport.AgeSeconds != 3600 || a.CredentialReport.Reused {
		t.Errorf("report = %+v", a.CredentialReport)
	}
	alice, bob, carol := a.Users[0], a.Users[1], a.Users[2]
	if alice.Name != "alice" || len(alice.MFADevices) != 2 || alice.MFAType() != inventory.MFAVirtual || alice.MFADevices[0].Type != inventory.MFAVirtual || alice.MFADevices[1].Type != inventory.MFAHardware {
		t.Errorf("alice mfa = %+v", alice.MFADevices)
	}
	if k := alice.AccessKeys[0]; k.LastUsedService != "s3" || k.LastUsedSource != "credential_report" {
		t.Errorf("alice key = %+v", k)
	}
	if bob.Name != "bob" || !bob.PasswordEnabled || bob.MFAActive || len(bob.AccessKeys) != 0 {
		t.Errorf("bob = %+v", bob)
	}
	if len(carol.AccessKeys) != 2 || carol.AccessKeys[0].ID != "AKIACAROL0000000001" || carol.AccessKeys[1].Status != "Inactive" {
		t.Errorf("carol keys = %+v", carol.AccessKeys)
	}
	// ListAccessKeys only for alice and carol, ListMFADevices only for alice, no per-key calls.
	if f.calls["ListAccessKeys"] != 2 || f.calls["ListMFADevices"] != 1 || f.calls["GetAccessKeyLastUsed"] != 0 || f.calls["GetLoginProfile"] != 0 {
		t.Errorf("calls = %v", f.calls)
	}
}

func TestAuditAccountGaps(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fakeIAM, tr *fakeTrail)
		check func(t *testing.T, a inventory.Account, f *fakeIAM, tr *fakeTrail)
	}{
		{"ListAccessKeys denied for one user", func(f *fakeIAM, _ *fakeTrail) {
			f.fail = map[string]error{"ListAccessKeys": apiErr("AccessDenied")}
			f.failUser = map[string]string{"ListAccessKeys": "carol"}
		}, func(t *testing.T, a inventory.Account, _ *fakeIAM, _ *fakeTrail) {
			if len(a.Gaps) != 1 || !reflect.DeepEqual(a.Gaps[0], inventory.Gap{AccountID: "222222222222", Section: SectionAccessKeys, Subject: "carol", Operation: "iam:ListAccessKeys",
				ErrorCode: "AccessDenied", Message: a.Gaps[0].Message, Unknown: []inventory.Field{inventory.FieldKeyIDs}}) || !strings.Contains(a.Gaps[0].Message, "AccessDenied") {
				t.Errorf("gaps = %+v", a.Gaps)
			}
			// carol keeps the report's two key slots, without ids (unknowns_test.go details them).
			if len(a.Users[2].AccessKeys) != 2 || a.Users[2].AccessKeys[0].ID != "" || len(a.Users[0].AccessKeys) != 1 || len(a.Users[0].MFADevices) != 2 {
				t.Errorf("users = %+v", a.Users)
			}
		}},
		{"password policy denied; none is not a gap", func(f *fakeIAM, _ *fakeTrail) {
			f.fail = map[string]error{"GetAccountPasswordPolicy": apiErr("AccessDenied")}
		}, func(t *testing.T, a inventory.Account, _ *fakeIAM, _ *fakeTrail) {
			if a.PasswordPolicyKnown || !hasGap(a, inventory.SectionPasswordPolicy, "") || len(a.Users) != 3 {
				t.Errorf("known %v gaps %+v", a.PasswordPolicyKnown, a.Gaps)
			}
		}},
		{"no password policy", func(f *fakeIAM, _ *fakeTrail) {
			f.fail = map[string]error{"GetAccountPasswordPolicy": apiErr("NoSuchEntity")}
		}, func(t *testing.T, a inventory.Account, _ *fakeIAM, _ *fakeTrail) {
			if !a.PasswordPolicyKnown || a.PasswordPolicy != nil || len(a.Gaps) != 0 {
				t.Errorf("known %v policy %+v gaps %+v", a.PasswordPolicyKnown, a.PasswordPolicy, a.Gaps)
			}
		}},
		{"credential report fails: per-user fallback", func(f *fakeIAM, _ *fakeTrail) {
			f.fail = map[string]error{"GenerateCredentialReport": apiErr("AccessDenied")}
		}, func(t *testing.T, a inventory.Account, f *fakeIAM, _ *fakeTrail) {
			if !hasGap(a, inventory.SectionCredentialReport, "") || !hasGap(a, inventory.SectionRoot, "") || a.CredentialReport != nil {
				t.Errorf("gaps %+v", a.Gaps)
			}
			if f.calls["ListUsers"] != 1 || f.calls["GetLoginProfile"] != 3 || f.calls["ListMFADevices"] != 3 || f.calls["ListAccessKeys"] != 3 || f.calls["GetAccessKeyLastUsed"] != 3 {
				t.Errorf("calls = %v", f.calls)
			}
			alice := a.Users[0]
			if !alice.PasswordEnabled || alice.AccessKeys[0].LastUsedSource != LastUsedSourceAPI || alice.AccessKeys[0].LastUsedService != "iam" || alice.MFAType() != inventory.MFAVirtual {
				t.Errorf("alice = %+v", alice)
			}
			if a.Users[2].PasswordEnabled || !a.Users[1].PasswordEnabled {
				t.Errorf("passwords from GetLoginProfile wrong: %+v", a.Users)
			}
			if a.Root == nil || a.Root.MFAType != inventory.MFAVirtual {
				t.Errorf("root from summary + virtual list = %+v", a.Root)
			}
		}},
		{"authorization details fail: users from the report", func(f *fakeIAM, _ *fakeTrail) {
			f.fail = map[string]error{"GetAccountAuthorizationDetails": apiErr("Throttling")}
		}, func(t *testing.T, a inventory.Account, f *fakeIAM, _ *fakeTrail) {
			if len(a.Users) != 3 || a.Users[0].UserID != "" || len(a.Users[2].AccessKeys) != 2 || !hasGap(a, inventory.SectionUsers, "") {
				t.Errorf("users %+v gaps %+v", a.Users, a.Gaps)
			}
		}},
		{"GetAccessKeyLastUsed fails with fresh usage: report data kept", func(f *fakeIAM, _ *fakeTrail) {
			f.fail = map[string]error{"GetAccessKeyLastUsed": apiErr("ServiceFailure")}
		}, func(t *testing.T, a inventory.Account, _ *fakeIAM, _ *fakeTrail) {
			if k := a.Users[0].AccessKeys[0]; k.LastUsedSource != "credential_report" || k.LastUsedService != "s3" {
				t.Errorf("key = %+v", k)
			}
			for _, g := range a.Gaps {
				if strings.Contains(g.Message, "AKIAALICE0000000001") {
					t.Errorf("gap shows a whole key id: %s", g.Message)
				}
			}
		}},
		{"LookupEvents denied: one gap, no more calls", func(_ *fakeIAM, tr *fakeTrail) {
			tr.err = apiErr("AccessDeniedException")
		}, func(t *testing.T, a inventory.Account, _ *fakeIAM, tr *fakeTrail) {
			if tr.calls != 1 || !hasGap(a, inventory.SectionEvents, "CreateUser,DeleteUser") || len(a.Users) != 3 || a.Events == nil {
				t.Errorf("calls %d gaps %+v", tr.calls, a.Gaps)
			}
		}},
		{"LookupEvents failing otherwise: a gap per name", func(_ *fakeIAM, tr *fakeTrail) {
			tr.err = apiErr("InternalFailure")
		}, func(t *testing.T, a inventory.Account, _ *fakeIAM, tr *fakeTrail) {
			if tr.calls != 2 || !hasGap(a, inventory.SectionEvents, "CreateUser") || !hasGap(a, inventory.SectionEvents, "DeleteUser") {
				t.Errorf("calls %d gaps %+v", tr.calls, a.Gaps)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, tr := fakeAccount(), &fakeTrail{}
			tt.setup(f, tr)
			opts := unitOptions()
			opts.FreshKeyUsage = strings.Contains(tt.name, "fresh usage")
			a := auditAccount(context.Background(), fakeDeps(f, tr), opts, prodAccount)
			if a.Status != inventory.StatusPartial && len(a.Gaps) > 0 {
				t.Errorf("status %s with gaps", a.Status)
			}
			tt.check(t, a, f, tr)
		})
	}
}

func TestManagementAccountFallback(t *testing.T) {
	f := fakeAccount()
	d := fakeDeps(f, &fakeTrail{})
	var assumed []string
	var mu sync.Mutex
	d.assume = func(_ context.Context, a inventory.Account, _ *callCounter) (accountClients, error) {
		mu.Lock()
		assumed = append(assumed, a.ID)
		mu.Unlock()
		return accountClients{}, errors.New("AccessDenied: not authorized to perform sts:AssumeRole")
	}
	opts := unitOptions()
	mgmt := auditAccount(context.Background(), d, opts, inventory.Account{ID: "111111111111", State: "ACTIVE", IsManagement: true})
	if mgmt.Status != inventory.StatusAudited || mgmt.AuditedAs != "caller" || len(mgmt.Users) != 3 {
		t.Errorf("management account = %s %q %q", mgmt.Status, mgmt.AuditedAs, mgmt.Reason)
	}
	member := auditAccount(context.Background(), d, opts, prodAccount)
	if member.Status != inventory.StatusNotAudited || len(member.Users) != 0 ||
		!strings.Contains(member.Reason, "deploy the role Audit to account 222222222222") || !strings.Contains(member.Reason, "arn:aws:iam::222222222222:role/Audit") {
		t.Errorf("member = %s %q", member.Status, member.Reason)
	}
	if strings.Join(assumed, ",") != "111111111111,222222222222" {
		t.Errorf("assumed %v: once per account", assumed)
	}
}

func TestRun(t *testing.T) {
	t.Run("organization, order, progress", func(t *testing.T) {
		org := testOrg()
		d := fakeDeps(fakeAccount(), &fakeTrail{})
		d.org = org
		opts := unitOptions()
		opts.Concurrency = 3
		var mu sync.Mutex
		var done []int
		opts.Progress = func(e ProgressEvent) {
			if e.Kind == AccountDone {
				mu.Lock()
				done = append(done, e.Done)
				mu.Unlock()
			}
		}
		inv, err := run(context.Background(), d, opts, t0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range inv.Accounts {
			ids = append(ids, a.ID[:1]+":"+a.Status)
		}
		if strings.Join(ids, ",") != "1:audited,2:audited,3:audited,4:skipped,5:audited" {
			t.Errorf("accounts = %v", ids)
		}
		if !inv.Accounts[0].IsManagement || inv.Organization.ID != "o-fake" || len(inv.Gaps) != 0 || !inv.Complete() || len(inv.NotAudited()) != 0 || len(inv.Skipped()) != 1 {
			t.Errorf("inventory = %+v", inv)
		}
		if len(done) != 5 || done[4] != 5 {
			t.Errorf("progress done = %v", done)
		}
	})
	t.Run("ListAccounts denied", func(t *testing.T) {
		org := testOrg()
		org.accounts = nil
		org.listErr = apiErr("AccessDeniedException")
		d := fakeDeps(fakeAccount(), &fakeTrail{})
		d.org = org
		_, err := run(context.Background(), d, unitOptions(), t0)
		if err == nil || !strings.Contains(err.Error(), "organizations:ListAccounts was denied for arn:aws:iam::111111111111:user/admin") ||
			!strings.Contains(err.Error(), "--profile") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("ListAccounts fails part way", func(t *testing.T) {
		org := testOrg()
		org.listErr = apiErr("TooManyRequestsException")
		d := fakeDeps(fakeAccount(), &fakeTrail{})
		d.org = org
		inv, err := run(context.Background(), d, unitOptions(), t0)
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Accounts) != 2 || len(inv.Gaps) != 1 || inv.Gaps[0].Operation != "organizations:ListAccounts" {
			t.Errorf("accounts %d gaps %+v", len(inv.Accounts), inv.Gaps)
		}
	})
}

func TestFetchReportWaits(t *testing.T) {
	tests := []struct {
		name      string
		generate  []error
		get       []error
		wantErr   string
		wantSleep int
	}{
		{"immediate", nil, nil, "", 0},
		{"limit exceeded then in progress", []error{apiErr("LimitExceeded"), apiErr("LimitExceeded")}, []error{apiErr("ReportInProgress"), apiErr("ReportInProgress")}, "", 4},
		{"expired regenerates", nil, []error{apiErr("ReportExpired")}, "", 0},
		{"other error", nil, []error{apiErr("AccessDenied")}, "iam:GetCredentialReport", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fakeAccount()
			f.generateSteps, f.reportSteps = tt.generate, tt.get
			var sleeps []time.Duration
			d := fakeDeps(f, nil)
			d.sleep = func(_ context.Context, dur time.Duration) error { sleeps = append(sleeps, dur); return nil }
			rep, info, err := fetchReport(context.Background(), d, unitOptions(), f)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil || len(rep.Users()) != 3 || info.AgeSeconds != 3600 {
				t.Fatalf("rep %v info %+v err %v", rep, info, err)
			}
			if len(sleeps) != tt.wantSleep {
				t.Errorf("sleeps = %v", sleeps)
			}
			// LimitExceeded backs off from 4x the poll interval (0.5 s) with jitter, then
			// doubles; the report is then polled every 0.5 s (±10%).
			want := [][2]time.Duration{{time.Second, 3 * time.Second}, {2 * time.Second, 6 * time.Second},
				{450 * time.Millisecond, 550 * time.Millisecond}, {450 * time.Millisecond, 550 * time.Millisecond}}
			for i, s := range sleeps {
				if i < len(want) && (s < want[i][0] || s > want[i][1]) {
					t.Errorf("sleep %d = %v, want in %v", i, s, want[i])
				}
			}
		})
	}
}

// A report ready 5 s after generation is read within about half a second of it,
// and a slow one is polled less often.
func TestReportPollSchedule(t *testing.T) {
	tests := []struct {
		n        int
		min, max time.Duration
	}{
		{0, 450 * time.Millisecond, 550 * time.Millisecond},
		{19, 450 * time.Millisecond, 550 * time.Millisecond},
		{20, 900 * time.Millisecond, 1100 * time.Millisecond},
		{45, 1800 * time.Millisecond, 2200 * time.Millisecond},
	}
	for _, tt := range tests {
		for range 50 {
			if d := reportPoll(500*time.Millisecond, tt.n); d < tt.min || d > tt.max {
				t.Fatalf("poll %d waits %v, want %v–%v", tt.n, d, tt.min, tt.max)
			}
		}
	}
	// Whatever the jitter, a report ready at 5 s is read by 5.6 s, at the 11th wait
	// at most (the first GetCredentialReport is sent at once, before any wait).
	for range 50 {
		at, n := time.Duration(0), 0
		for at < 5*time.Second {
			at += reportPoll(500*time.Millisecond, n)
			n++
		}
		if at > 5600*time.Millisecond || n > 11 {
			t.Fatalf("a report ready at 5 s is read at %v, after %d waits", at, n)
		}
	}
}

func TestBuildRoot(t *testing.T) {
	withRoot := &virtualMFA{root: &types.VirtualMFADevice{}}
	noRoot := &virtualMFA{}
	tests := []struct {
		name    string
		summary map[string]int32
		virtual *virtualMFA
		want    string
		keys    int
	}{
		{"virtual root device", map[string]int32{"AccountMFAEnabled": 1}, withRoot, inventory.MFAVirtual, 0},
		{"mfa on without a virtual device is hardware", map[string]int32{"AccountMFAEnabled": 1}, noRoot, inventory.MFAHardware, 0},
		{"mfa on, virtual list failed: unknown", map[string]int32{"AccountMFAEnabled": 1}, nil, "", 0},
		{"no mfa", map[string]int32{"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 1}, noRoot, inventory.MFANone, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gaps := &gapList{acct: "1"}
			r := buildRoot("aws-cn", "1", nil, reportAge{}, tt.summary, true, tt.virtual, gaps)
			if r.MFAType != tt.want || r.ARN != "arn:aws-cn:iam::1:root" || len(r.AccessKeys) != tt.keys || len(gaps.list()) != 1 {
				t.Errorf("root = %+v gaps %+v", r, gaps.list())
			}
		})
	}
}

func TestConvertEvent(t *testing.T) {
	e := convertEvent(cttypes.Event{
		EventId: aws.String("e1"), EventName: aws.String("ConsoleLogin"), EventTime: ts("2026-02-01T10:00:00+02:00"),
		CloudTrailEvent: aws.String(`{"eventSource":"signin.amazonaws.com","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root","accessKeyId":""},"requestParameters":{"userName":"x"},"errorCode":"Failed"}`),
		Resources:       []cttypes.Resource{{ResourceType: aws.String("AWS::IAM::User"), ResourceName: aws.String("x")}},
	})
	if e.Username != "root" || e.Source != "signin.amazonaws.com" || e.ErrorCode != "Failed" || e.RequestParameters["userName"] != "x" ||
		e.Time.Location() != time.UTC || e.Time.Hour() != 8 || len(e.Resources) != 1 {
		t.Errorf("event = %+v", e)
	}
	ev := []inventory.Event{{ID: "b", Time: t0}, {ID: "a", Time: t0}, {ID: "c", Time: t0.Add(-time.Hour)}}
	sortEvents(ev)
	if ev[0].ID != "c" || ev[1].ID != "a" || ev[2].ID != "b" {
		t.Errorf("order = %+v", ev)
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := Options{}.withDefaults()
	if o.SessionName != "iamaudit" || o.Days != 90 || o.Concurrency != DefaultConcurrency() || o.IAMRate != 18 || o.EventsRate != 2 || o.OrgRate != 4 ||
		o.ReportPoll != 500*time.Millisecond || len(o.EventNames) != 13 || o.MaxAttempts != 10 || o.MaxBackoff != 20*time.Second {
		t.Errorf("defaults = %+v", o)
	}
	if homeRegion("aws-us-gov") != "us-gov-west-1" || homeRegion("aws-cn") != "cn-north-1" || homeRegion("aws") != "us-east-1" {
		t.Error("home regions")
	}
}

// The users a virtual MFA device is assigned to have their ListMFADevices asked while
// the credential report is being generated, once each, and their devices are the same.
func TestMFAListedDuringReportGeneration(t *testing.T) {
	f := fakeAccount()
	f.reportSteps = []error{apiErr("ReportInProgress"), apiErr("ReportInProgress")}
	d := fakeDeps(f, &fakeTrail{})
	listed := func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.calls["ListMFADevices"] > 0
	}
	// The report "takes" until alice's devices were listed (at most 2 s: without the
	// early listing, they are asked after the report and the order check fails).
	d.sleep = func(ctx context.Context, _ time.Duration) error {
		for deadline := time.Now().Add(2 * time.Second); !listed() && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		return nil
	}
	a := auditAccount(context.Background(), d, unitOptions(), prodAccount)
	if a.Status != inventory.StatusAudited {
		t.Fatalf("status %s gaps %+v", a.Status, a.Gaps)
	}
	firstMFA, lastReport := -1, -1
	for i, op := range f.seq {
		if op == "ListMFADevices" && firstMFA < 0 {
			firstMFA = i
		}
		if op == "GetCredentialReport" {
			lastReport = i
		}
	}
	if firstMFA < 0 || firstMFA > lastReport {
		t.Errorf("ListMFADevices at %d, the report read at %d: want it asked while the report is generated (%v)", firstMFA, lastReport, f.seq)
	}
	if n := f.calls["ListMFADevices"]; n != 1 {
		t.Errorf("ListMFADevices called %d times, want 1 (alice's, once)", n)
	}
	if alice := a.Users[0]; alice.Name != "alice" || len(alice.MFADevices) != 2 || alice.MFADevices[1].Type != inventory.MFAHardware {
		t.Errorf("alice's devices = %+v", alice.MFADevices)
	}
}

// The users in flight are bounded: an account waits for its share until another
// account hands its users back; one heavier than the budget runs alone.
func TestUsersBudget(t *testing.T) {
	b := newUsersBudget(100)
	ctx := context.Background()
	first := b.acquire(ctx, 60)
	got := make(chan struct{})
	go func() {
		release := b.acquire(ctx, 60)
		close(got)
		release()
	}()
	select {
	case <-got:
		t.Fatal("the second account got 60 users of a budget of 100 while the first holds 60")
	case <-time.After(50 * time.Millisecond):
	}
	first()
	first() // releasing twice gives back once
	select {
	case <-got:
	case <-time.After(2 * time.Second):
		t.Fatal("the second account never got its share after the first released it")
	}
	heavy := b.acquire(ctx, 5000) // clamped to the whole budget
	if b.sem.TryAcquire(1) {
		t.Error("an account heavier than the budget should hold all of it")
	}
	heavy()
	if !b.sem.TryAcquire(100) {
		t.Error("the budget was not given back whole")
	}
	if n := summaryUsers(nil, errors.New("denied")); n != unknownUsers {
		t.Errorf("weight of an unknown account = %d", n)
	}
	if n := summaryUsers(&iam.GetAccountSummaryOutput{SummaryMap: map[string]int32{"Users": 42}}, nil); n != 42 {
		t.Errorf("weight = %d, want 42", n)
	}
}

// The run learns how long reports take: an account whose report is generating
// waits for most of the shortest seen before its first poll, and a read report
// teaches the time it took.
func TestReportHeadLearnt(t *testing.T) {
	var r reportTimes
	steps := []struct {
		observe, head time.Duration
	}{
		{0, 0}, {5 * time.Second, 3750 * time.Millisecond}, {8 * time.Second, 3750 * time.Millisecond},
		{2 * time.Second, 1500 * time.Millisecond},
	}
	for _, s := range steps {
		r.observe(s.observe)
		if got := r.head(); got != s.head {
			t.Errorf("after %v: head %v, want %v", s.observe, got, s.head)
		}
	}
	slow := reportTimes{shortest: time.Hour}
	if got := slow.head(); got != maxReportHead {
		t.Errorf("head of an hour: %v, want %v", got, maxReportHead)
	}
	if got := (*reportTimes)(nil).head(); got != 0 {
		t.Errorf("nil head %v", got)
	}

	f := fakeAccount()
	f.reportSteps = []error{apiErr("ReportInProgress")}
	d := fakeDeps(f, nil)
	d.reports = &reportTimes{shortest: 4 * time.Second}
	now := t0
	var sleeps []time.Duration
	d.sleep = func(_ context.Context, dur time.Duration) error {
		sleeps = append(sleeps, dur)
		now = now.Add(dur)
		return nil
	}
	opts := unitOptions()
	opts.Clock = func() time.Time { return now }
	if _, _, err := fetchReport(context.Background(), d, opts, f); err != nil {
		t.Fatal(err)
	}
	if len(sleeps) != 2 || sleeps[0] != 3*time.Second || sleeps[1] < 450*time.Millisecond || sleeps[1] > 550*time.Millisecond {
		t.Errorf("sleeps %v: want 3 s before the first poll, then one poll interval", sleeps)
	}
	if want := sleeps[0] + sleeps[1]; d.reports.head() != min(4*time.Second, want)*3/4 {
		t.Errorf("head %v after a report read in %v", d.reports.head(), want)
	}
}
