package audit_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/mototest"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/sandbox/sandboxtest"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// The conformance suite: the same Organization, seeded through AWS API calls into
// moto (an independent AWS emulator) and into the sandbox, audited by the same code,
// must give the same report rows, apart from the ids and timestamps each emulator
// generates itself.

// seedUser is one IAM user to create through the API.
type seedUser struct {
	name     string
	password bool
	mfa      string   // "", "virtual", "hardware"
	keys     []string // per key: "active", "inactive", "used:<service>"
}

// seedOrg: account name -> users. Covers console passwords, virtual and hardware MFA,
// one and two keys, an inactive key, keys used with a service, a console user
// without keys.
var seedOrg = []struct {
	account string
	users   []seedUser
}{
	{"Alpha", []seedUser{
		{name: "alice", password: true, mfa: "virtual", keys: []string{"used:sts"}},
		{name: "bob", password: true},
		{name: "carol", mfa: "hardware", keys: []string{"used:iam", "active"}},
		{name: "dave", keys: []string{"inactive"}},
	}},
	{"Beta", []seedUser{
		{name: "erin", password: true, mfa: "virtual"},
		{name: "frank", keys: []string{"active"}},
		{name: "grace", password: true, keys: []string{"used:sts", "inactive"}},
	}},
}

// startMoto runs moto_server until the test ends. It fails, never skips, when
// moto_server is missing.
func startMoto(t *testing.T) string {
	t.Helper()
	m, err := mototest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return m.URL
}

func sdkConfig(t testing.TB, url, akid, secret, token string) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(akid, secret, token)),
		config.WithBaseEndpoint(url),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// assume returns a config for an account through the role.
func assume(t *testing.T, base aws.Config, accountID, role string) aws.Config {
	t.Helper()
	out, err := sts.NewFromConfig(base).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn:         aws.String(fmt.Sprintf("arn:aws:iam::%s:role/%s", accountID, role)),
		RoleSessionName: aws.String("seed"),
	})
	if err != nil {
		t.Fatalf("assume role in %s: %v", accountID, err)
	}
	c := out.Credentials
	cfg := base.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	return cfg
}

// seedIAM creates the users of one account through the IAM API, and uses the keys
// marked used:<service> with that service so the emulator records their last use.
func seedIAM(t *testing.T, cfg aws.Config, url string, users []seedUser) {
	t.Helper()
	ctx := context.Background()
	c := iam.NewFromConfig(cfg)
	for _, u := range users {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u.name)}); err != nil {
			t.Fatalf("CreateUser %s: %v", u.name, err)
		}
		if u.password {
			if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(u.name), Password: aws.String("Correct-Horse-9!")}); err != nil {
				t.Fatalf("CreateLoginProfile %s: %v", u.name, err)
			}
		}
		switch u.mfa {
		case "virtual":
			d, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(u.name)})
			if err != nil {
				t.Fatalf("CreateVirtualMFADevice %s: %v", u.name, err)
			}
			enableMFA(t, c, u.name, *d.VirtualMFADevice.SerialNumber)
		case "hardware":
			enableMFA(t, c, u.name, "GAHT"+fmt.Sprintf("%08d", len(u.name)*1234567%100000000))
		}
		for _, k := range u.keys {
			out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(u.name)})
			if err != nil {
				t.Fatalf("CreateAccessKey %s: %v", u.name, err)
			}
			key := out.AccessKey
			switch {
			case k == "inactive":
				if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(u.name), AccessKeyId: key.AccessKeyId, Status: iamtypes.StatusTypeInactive}); err != nil {
					t.Fatalf("UpdateAccessKey: %v", err)
				}
			case strings.HasPrefix(k, "used:"):
				ucfg := sdkConfig(t, url, *key.AccessKeyId, *key.SecretAccessKey, "")
				var err error
				switch strings.TrimPrefix(k, "used:") {
				case "sts":
					_, err = sts.NewFromConfig(ucfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				case "iam":
					_, err = iam.NewFromConfig(ucfg).GetUser(ctx, &iam.GetUserInput{})
				}
				if err != nil {
					t.Fatalf("using the key of %s: %v", u.name, err)
				}
			}
		}
	}
}

func enableMFA(t *testing.T, c *iam.Client, user, serial string) {
	t.Helper()
	_, err := c.EnableMFADevice(context.Background(), &iam.EnableMFADeviceInput{
		UserName: aws.String(user), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321"),
	})
	if err != nil {
		t.Fatalf("EnableMFADevice %s %s: %v", user, serial, err)
	}
}

// normalRows are the IAM report rows without what each emulator generates itself:
// account id, key id, dates (kept as "date" / "Never used").
func normalRows(inv *inventory.Inventory, only map[string]bool) []string {
	m, _ := report.MessagesFor("en")
	var out []string
	for _, r := range report.IAMReportRows(inv, m) {
		if !only[r[1]] {
			continue
		}
		if r[5] != "" {
			r[5] = "KEY"
		}
		if r[7] != "" {
			r[7] = "date"
		}
		if r[8] != "" && r[8] != m.KeyNeverUsed {
			r[8] = "date"
		}
		if r[4] != m.PasswordNever {
			r[4] = "date"
		}
		out = append(out, strings.Join(r[1:], ","))
	}
	sort.Strings(out)
	return out
}

func TestConformanceMotoAndSandbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	names := map[string]bool{}
	for _, a := range seedOrg {
		names[a.account] = true
	}
	// moto answers LookupEvents with HTTP 500 (not implemented): two attempts are enough
	// to record the gap without waiting on the SDK's backoff.
	// Neither emulator is paced here (moto never is; the sandbox is a fast one).
	copts := fastCollect(collect.Options{Role: "OrganizationAccountAccessRole", Days: 90, Concurrency: 4,
		MaxAttempts: 2, MaxBackoff: 100 * time.Millisecond})

	// moto: create the Organization and its accounts through the Organizations API.
	motoURL := startMoto(t)
	mcfg := sdkConfig(t, motoURL, "AKIAMOTOMGMT00000000", "moto-secret", "")
	org := organizations.NewFromConfig(mcfg)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatalf("moto CreateOrganization: %v", err)
	}
	for _, a := range seedOrg {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(a.account), Email: aws.String(strings.ToLower(a.account) + "@example.com")})
		if err != nil {
			t.Fatalf("moto CreateAccount: %v", err)
		}
		id := aws.ToString(out.CreateAccountStatus.AccountId)
		seedIAM(t, assume(t, mcfg, id, copts.Role), motoURL, a.users)
	}
	motoInv, err := collect.Collect(ctx, mcfg, copts)
	if err != nil {
		t.Fatalf("audit of moto: %v", err)
	}

	// The sandbox: the same accounts, empty, then the same API calls.
	sc := &scenario.Scenario{Name: "conformance", Organization: scenario.Organization{
		ID: "o-conformance1", ManagementAccountID: "100000000001", AccessKeyID: "AKIASANDBOXMGMT00001",
		SecretAccessKey: "sandbox-secret", CallerName: "seed-runner"}}
	sc.Accounts = append(sc.Accounts, scenario.Account{ID: "100000000001", Name: "Management", State: "ACTIVE"})
	for i, a := range seedOrg {
		sc.Accounts = append(sc.Accounts, scenario.Account{ID: fmt.Sprintf("2000000000%02d", i+1), Name: a.account, State: "ACTIVE",
			AuditRoles: map[string]string{copts.Role: scenario.RolePresent}})
	}
	srv := sandboxtest.Start(t, sc, sandbox.Options{})
	scfg := sandboxtest.Config(t, srv)
	for i, a := range seedOrg {
		seedIAM(t, assume(t, scfg, fmt.Sprintf("2000000000%02d", i+1), copts.Role), srv.URL(), a.users)
	}
	sbInv, err := collect.Collect(ctx, scfg, copts)
	if err != nil {
		t.Fatalf("audit of the sandbox: %v", err)
	}

	for _, inv := range []*inventory.Inventory{motoInv, sbInv} {
		for _, a := range inv.Accounts {
			if names[a.Name] && a.Status == inventory.StatusNotAudited {
				t.Fatalf("account %s not audited: %s", a.Name, a.Reason)
			}
		}
	}
	got, want := normalRows(sbInv, names), normalRows(motoInv, names)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("sandbox and moto audits differ\n--- sandbox ---\n%s\n--- moto ---\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(want) != 9 {
		t.Errorf("moto audit has %d rows, want 9:\n%s", len(want), strings.Join(want, "\n"))
	}
}
