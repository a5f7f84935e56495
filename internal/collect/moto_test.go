package collect

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/mototest"
)

// motoURL is the endpoint of the moto_server started by TestMain.
var motoURL string

func TestMain(m *testing.M) {
	os.Exit(runWithMoto(m))
}

func runWithMoto(m *testing.M) int {
	moto, err := mototest.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: the collect tests need moto_server: %v\n", err)
		return 1
	}
	defer moto.Stop()
	motoURL = moto.URL
	return m.Run()
}

// motoMu gives one test at a time the shared moto_server.
var motoMu sync.Mutex

// resetMoto takes the shared moto_server for the rest of the test (the moto tests
// run in parallel with the others, one at a time among themselves) and empties its
// state so the test starts from nothing.
func resetMoto(t *testing.T) {
	t.Helper()
	motoMu.Lock()
	t.Cleanup(motoMu.Unlock)
	resp, err := http.Post(motoURL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatalf("reset moto: %v", err)
	}
	resp.Body.Close()
}

func motoConfig(key, secret, token string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(motoURL),
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, token),
	}
}

// fixtureError carries a fixture call's error to buildMotoOrg's recover.
type fixtureError struct{ err error }

// must returns v, or aborts the fixture (see buildMotoOrg) when err is set.
func must[T any](v T, err error) T {
	if err != nil {
		panic(fixtureError{err})
	}
	return v
}

// motoOrg is what the fixture built.
type motoOrg struct {
	mgmt, prod, dev, sandbox, closed string
	ouID                             string
	usedKey                          string // alice's key, used once with sts
}

// buildMotoOrg creates an Organization with four member accounts (one closed) and,
// through AssumeRole into each, IAM users with passwords, MFA and keys.
func buildMotoOrg(t *testing.T) (o motoOrg) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			fe, ok := r.(fixtureError)
			if !ok {
				panic(r)
			}
			t.Fatalf("moto fixture: %v", fe.err)
		}
	}()
	ctx := context.Background()
	cfg := motoConfig("testing", "testing", "")
	org := organizations.NewFromConfig(cfg)
	created := must(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}))
	o.mgmt = aws.ToString(created.Organization.MasterAccountId)
	newAcct := func(name string) string {
		out := must(org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(strings.ToLower(name) + "@example.com")}))
		return aws.ToString(out.CreateAccountStatus.AccountId)
	}
	o.prod, o.dev, o.sandbox, o.closed = newAcct("Production"), newAcct("Development"), newAcct("Sandbox"), newAcct("Closed")
	must(org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(o.closed)}))
	roots := must(org.ListRoots(ctx, &organizations.ListRootsInput{}))
	rootID := aws.ToString(roots.Roots[0].Id)
	ou := must(org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(rootID), Name: aws.String("Workloads")}))
	o.ouID = aws.ToString(ou.OrganizationalUnit.Id)
	must(org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(o.sandbox), SourceParentId: aws.String(rootID), DestinationParentId: aws.String(o.ouID)}))

	stsc := sts.NewFromConfig(cfg)
	iamIn := func(acct string) *iam.Client {
		out := must(stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("fixture")}))
		c := out.Credentials
		return iam.NewFromConfig(motoConfig(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)))
	}

	// Production: alice (console, virtual MFA, one used key, tag), bob (console, no MFA,
	// no key: defect 1), carol (no console, two keys, the second inactive, inline policy).
	p := iamIn(o.prod)
	for _, u := range []string{"alice", "bob", "carol"} {
		must(p.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}))
	}
	must(p.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("alice"), Tags: []iamtypes.Tag{{Key: aws.String("Owner"), Value: aws.String("team-a")}}}))
	for _, u := range []string{"alice", "bob"} {
		must(p.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(u), Password: aws.String("Str0ng!Passw0rd-" + u)}))
	}
	vmfa := must(p.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("alice")}))
	must(p.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: vmfa.VirtualMFADevice.SerialNumber,
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")}))
	ak := must(p.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}))
	o.usedKey = aws.ToString(ak.AccessKey.AccessKeyId)
	// Use alice's key once so moto records its last use (service sts).
	must(sts.NewFromConfig(motoConfig(o.usedKey, aws.ToString(ak.AccessKey.SecretAccessKey), "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	must(p.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("carol")}))
	time.Sleep(1100 * time.Millisecond) // distinct creation seconds, so key order is by date
	k2 := must(p.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("carol")}))
	must(p.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("carol"), AccessKeyId: k2.AccessKey.AccessKeyId, Status: "Inactive"}))
	must(p.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("carol"), PolicyName: aws.String("s3read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`)}))
	must(p.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("billing"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aws-portal:View*","Resource":"*"}]}`)}))
	must(p.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}))

	// Development: dave (console, a hardware TOTP token, one never-used key).
	d := iamIn(o.dev)
	must(d.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dave")}))
	must(d.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("dave"), Password: aws.String("Str0ng!Passw0rd-dave")}))
	must(d.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("dave"), SerialNumber: aws.String("GAHT12345678"),
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")}))
	must(d.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dave")}))
	return o
}

// motoOptions are fast settings for moto: it answers LookupEvents with HTTP 500,
// which the SDK would otherwise retry with backoff up to 20 s.
func motoOptions(now time.Time) Options {
	return Options{
		Role:        "OrganizationAccountAccessRole",
		Clock:       func() time.Time { return now },
		IAMRate:     200,
		EventsRate:  200,
		OrgRate:     200,
		ReportPoll:  20 * time.Millisecond,
		MaxAttempts: 2,
		MaxBackoff:  10 * time.Millisecond,
	}
}

func accountByID(t *testing.T, inv *inventory.Inventory, id string) inventory.Account {
	t.Helper()
	for _, a := range inv.Accounts {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("account %s not in inventory", id)
	return inventory.Account{}
}

func userByName(t *testing.T, a inventory.Account, name string) inventory.User {
	t.Helper()
	for _, u := range a.Users {
		if u.Name == name {
			return u
		}
	}
	t.Fatalf("user %s not in account %s", name, a.ID)
	return inventory.User{}
}

func hasGap(a inventory.Account, section inventory.Section, subject string) bool {
	for _, g := range a.Gaps {
		if g.Section == section && (subject == "" || g.Subject == subject) {
			return true
		}
	}
	return false
}

func TestCollectMoto(t *testing.T) {
	t.Parallel()
	resetMoto(t)
	o := buildMotoOrg(t)
	now := time.Now().UTC().Add(time.Hour)
	var events []ProgressEvent
	var mu sync.Mutex
	opts := motoOptions(now)
	opts.Progress = func(e ProgressEvent) { mu.Lock(); events = append(events, e); mu.Unlock() }

	inv, err := Collect(context.Background(), motoConfig("testing", "testing", ""), opts)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("run", func(t *testing.T) {
		if inv.Schema != inventory.Schema || inv.Partition != "aws" || inv.Region != "us-east-1" || inv.Caller == nil || inv.Caller.AccountID != o.mgmt {
			t.Errorf("inventory header = %+v caller %+v", inv, inv.Caller)
		}
		if inv.Organization == nil || inv.Organization.ManagementAccountID != o.mgmt {
			t.Errorf("organization = %+v", inv.Organization)
		}
		if !inv.EventWindowEnd.Equal(now) || !inv.EventWindowStart.Equal(now.AddDate(0, 0, -90)) || len(inv.EventNames) != len(DefaultEventNames) {
			t.Errorf("window %v..%v names %v", inv.EventWindowStart, inv.EventWindowEnd, inv.EventNames)
		}
		if inv.RunID != now.Format("20060102_150405") {
			t.Errorf("run id %q", inv.RunID)
		}
		if len(inv.Accounts) != 5 {
			t.Fatalf("accounts = %d, want 5", len(inv.Accounts))
		}
		if inv.Accounts[0].ID != o.mgmt || !inv.Accounts[0].IsManagement {
			t.Errorf("first account %+v: Organizations order puts the management account first", inv.Accounts[0].ID)
		}
		mu.Lock()
		defer mu.Unlock()
		kinds := map[ProgressKind]int{}
		for _, e := range events {
			kinds[e.Kind]++
		}
		if kinds[AccountStarted] != 4 || kinds[AccountDone] != 5 || kinds[PhaseStarted] != 8 {
			t.Errorf("progress = %v", kinds)
		}
	})

	t.Run("closed account not audited", func(t *testing.T) {
		a := accountByID(t, inv, o.closed)
		if a.Status != inventory.StatusSkipped || a.Reason != "account state is SUSPENDED (only ACTIVE accounts are audited)" || a.State != "SUSPENDED" {
			t.Errorf("closed = %s %q %s", a.Status, a.Reason, a.State)
		}
	})

	t.Run("production", func(t *testing.T) {
		a := accountByID(t, inv, o.prod)
		if a.Name != "Production" || a.Status != inventory.StatusPartial || a.State != "ACTIVE" {
			t.Errorf("account = %s %s %s", a.Name, a.Status, a.State)
		}
		if a.AuditedAs != "arn:aws:sts::"+o.prod+":assumed-role/OrganizationAccountAccessRole/iamaudit" {
			t.Errorf("audited as %s", a.AuditedAs)
		}
		if a.CredentialReport == nil || a.CredentialReport.GeneratedAt.IsZero() || a.CredentialReport.AgeSeconds <= 0 || a.CredentialReport.FreshKeyData || a.CredentialReport.Reused {
			t.Errorf("credential report = %+v", a.CredentialReport)
		}
		var names []string
		for _, u := range a.Users {
			names = append(names, u.Name)
		}
		if strings.Join(names, ",") != "alice,bob,carol" {
			t.Fatalf("users = %v", names)
		}
		alice := userByName(t, a, "alice")
		if !alice.PasswordEnabled || !alice.MFAActive || alice.MFAType() != inventory.MFAVirtual || len(alice.MFADevices) != 1 ||
			!strings.Contains(alice.MFADevices[0].Serial, ":mfa/alice") || alice.Tags["Owner"] != "team-a" || alice.UserID == "" {
			t.Errorf("alice = %+v", alice)
		}
		if len(alice.AccessKeys) != 1 || alice.AccessKeys[0].ID != o.usedKey || alice.AccessKeys[0].Status != "Active" ||
			alice.AccessKeys[0].LastUsedAt == nil || alice.AccessKeys[0].LastUsedService != "sts" ||
			// moto's report gives the date of use but not the service, so the key is asked about.
			alice.AccessKeys[0].LastUsedSource != "GetAccessKeyLastUsed" {
			t.Errorf("alice keys = %+v", alice.AccessKeys)
		}
		bob := userByName(t, a, "bob")
		if !bob.PasswordEnabled || bob.MFAActive || bob.MFAType() != inventory.MFANone || len(bob.AccessKeys) != 0 || bob.AccessKeys == nil {
			t.Errorf("bob = %+v", bob)
		}
		carol := userByName(t, a, "carol")
		if carol.PasswordEnabled || len(carol.AccessKeys) != 2 || carol.AccessKeys[0].Status != "Active" || carol.AccessKeys[1].Status != "Inactive" ||
			!carol.AccessKeys[0].CreatedAt.Before(carol.AccessKeys[1].CreatedAt) || carol.AccessKeys[0].LastUsedAt != nil {
			t.Errorf("carol keys = %+v", carol.AccessKeys)
		}
		if len(carol.InlinePolicies) != 1 || !strings.Contains(carol.InlinePolicies[0].Document, `"s3:Get*"`) {
			t.Errorf("carol inline = %+v", carol.InlinePolicies)
		}
		if len(a.Policies) != 1 || a.Policies[0].Name != "billing" || !strings.Contains(a.Policies[0].Document, "aws-portal:View*") {
			t.Errorf("policies = %+v", a.Policies)
		}
		found := false
		for _, r := range a.Roles {
			found = found || (r.Name == "deployer" && strings.Contains(r.TrustPolicy, "ec2.amazonaws.com"))
		}
		if !found {
			t.Errorf("role deployer missing: %+v", a.Roles)
		}
		if a.Root == nil || a.Root.ARN != "arn:aws:iam::"+o.prod+":root" || a.Root.MFAType != inventory.MFANone {
			t.Errorf("root = %+v", a.Root)
		}
		if !a.PasswordPolicyKnown || a.PasswordPolicy != nil || a.Summary["Users"] != 3 {
			t.Errorf("policy known %v %+v summary %v", a.PasswordPolicyKnown, a.PasswordPolicy, a.Summary)
		}
		// moto has no LookupEvents and no <root_account> row: both must be gaps, not silence.
		if !hasGap(a, inventory.SectionEvents, "CreateUser") || !hasGap(a, inventory.SectionRoot, "") {
			t.Errorf("gaps = %+v", a.Gaps)
		}
		for _, g := range a.Gaps {
			if g.Section == inventory.SectionEvents && (g.Operation != "cloudtrail:LookupEvents" || !g.Leaves(inventory.FieldEvents)) {
				t.Errorf("event gap = %+v", g)
			}
		}
		// Bulk approach: per-user calls only where the report shows keys or MFA.
		want := map[string]int{
			"iam:GenerateCredentialReport": 1, "iam:GetCredentialReport": 1, "iam:GetAccountAuthorizationDetails": 1,
			"iam:ListVirtualMFADevices": 1, "iam:GetAccountSummary": 1, "iam:GetAccountPasswordPolicy": 1, "iam:ListServerCertificates": 1,
			"iam:ListAccessKeys": 2, "iam:ListMFADevices": 1, "sts:AssumeRole": 1,
			"iam:GetAccessKeyLastUsed": 1, // the used key: moto's report lacks its service
		}
		for op, n := range want {
			if a.APICalls[op] != n {
				t.Errorf("APICalls[%s] = %d, want %d (all: %v)", op, a.APICalls[op], n, a.APICalls)
			}
		}
		for _, op := range []string{"iam:GetLoginProfile", "iam:ListUsers"} {
			if a.APICalls[op] != 0 {
				t.Errorf("APICalls[%s] = %d, want 0", op, a.APICalls[op])
			}
		}
		t.Logf("production API calls: %v", a.APICalls)
	})

	t.Run("development hardware mfa", func(t *testing.T) {
		a := accountByID(t, inv, o.dev)
		dave := userByName(t, a, "dave")
		if !dave.MFAActive || dave.MFAType() != inventory.MFAHardware || len(dave.MFADevices) != 1 || dave.MFADevices[0].Serial != "GAHT12345678" {
			t.Errorf("dave = %+v", dave)
		}
		if len(dave.AccessKeys) != 1 || dave.AccessKeys[0].LastUsedAt != nil || dave.AccessKeys[0].LastUsedSource != "credential_report" {
			t.Errorf("dave keys = %+v", dave.AccessKeys)
		}
	})

	t.Run("sandbox and management have no users", func(t *testing.T) {
		for _, id := range []string{o.sandbox, o.mgmt} {
			a := accountByID(t, inv, id)
			if a.Status != inventory.StatusPartial || len(a.Users) != 0 || a.Users == nil {
				t.Errorf("%s: status %s users %v", id, a.Status, a.Users)
			}
		}
	})
}

func TestCollectMotoFreshKeysAndFilters(t *testing.T) {
	t.Parallel()
	resetMoto(t)
	o := buildMotoOrg(t)
	now := time.Now().UTC()
	opts := motoOptions(now)
	opts.FreshKeyUsage = true
	opts.OUs = []string{o.ouID}
	opts.Accounts = []string{o.prod, o.sandbox, "999999999999"}
	opts.EventNames = []string{"CreateAccessKey"}

	t.Run("ou filter and missing account", func(t *testing.T) {
		inv, err := Collect(context.Background(), motoConfig("testing", "testing", ""), opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Accounts) != 1 || inv.Accounts[0].ID != o.sandbox || inv.Accounts[0].OUPath != "Root/Workloads" {
			t.Fatalf("accounts = %+v", inv.Accounts)
		}
		if len(inv.Gaps) != 1 || inv.Gaps[0].AccountID != "999999999999" || inv.Gaps[0].Section != inventory.SectionOrganization || !inv.Gaps[0].Leaves(inventory.FieldAccount) {
			t.Errorf("gaps = %+v", inv.Gaps)
		}
	})

	t.Run("fresh key usage", func(t *testing.T) {
		opts := opts
		opts.OUs = nil
		opts.Accounts = []string{o.prod}
		inv, err := Collect(context.Background(), motoConfig("testing", "testing", ""), opts)
		if err != nil {
			t.Fatal(err)
		}
		a := accountByID(t, inv, o.prod)
		alice := userByName(t, a, "alice")
		k := alice.AccessKeys[0]
		if k.LastUsedSource != "GetAccessKeyLastUsed" || k.LastUsedService != "sts" || k.LastUsedRegion != "us-east-1" || k.LastUsedAt == nil {
			t.Errorf("alice key = %+v", k)
		}
		if !a.CredentialReport.FreshKeyData || a.CredentialReport.Reused {
			t.Errorf("report = %+v (first run in this account)", a.CredentialReport)
		}
		if a.APICalls["iam:GetAccessKeyLastUsed"] != 3 || a.APICalls["cloudtrail:LookupEvents"] != 2 {
			t.Errorf("calls = %v", a.APICalls)
		}
		again, err := Collect(context.Background(), motoConfig("testing", "testing", ""), opts)
		if err != nil {
			t.Fatal(err)
		}
		if r := accountByID(t, again, o.prod).CredentialReport; !r.Reused {
			t.Errorf("second run: report = %+v, want reused", r)
		}
	})
}
