package collect

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/sandbox/sandboxtest"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

const (
	sbMgmt    = "100000000001"
	sbProd    = "100000000002"
	sbLegacy  = "100000000003"
	sbSuspend = "100000000004"
)

func sandboxScenario(users int) *scenario.Scenario {
	prodUsers := []scenario.User{
		{Name: "alice", CreatedAt: scenario.DaysAgo(2000), Tags: map[string]string{"Owner": "alice"},
			Password: &scenario.Password{CreatedAt: scenario.DaysAgo(400), LastUsed: scenario.DaysAgo(1)},
			MFA:      []scenario.MFADevice{{Type: scenario.MFAVirtual}, {Type: scenario.MFAHardware}},
			AccessKeys: []scenario.Key{
				{ID: "AKIAALICE00000000001", CreatedAt: scenario.At(time.Date(2018, 6, 15, 10, 20, 30, 0, time.UTC)), LastUsed: scenario.DaysAgo(2), Service: "s3", Region: "eu-west-1"},
				{ID: "AKIAALICE00000000002", CreatedAt: scenario.DaysAgo(10)},
			}},
		{Name: "bob", CreatedAt: scenario.DaysAgo(100), Password: &scenario.Password{CreatedAt: scenario.DaysAgo(100)}},
		{Name: "erin", CreatedAt: scenario.DaysAgo(100), MFA: []scenario.MFADevice{{Type: scenario.MFAHardware}}},
	}
	for i := 0; i < users; i++ {
		prodUsers = append(prodUsers, scenario.User{Name: fmt.Sprintf("svc-%03d", i), CreatedAt: scenario.DaysAgo(300),
			AccessKeys: []scenario.Key{{ID: fmt.Sprintf("AKIASVC%013d", i), CreatedAt: scenario.DaysAgo(200), LastUsed: scenario.DaysAgo(1), Service: "sts", Region: "us-east-1"}}})
	}
	return &scenario.Scenario{
		Name: "collect",
		Organization: scenario.Organization{ID: "o-collect0001", ManagementAccountID: sbMgmt,
			AccessKeyID: "AKIAMGMTCALLER000001", SecretAccessKey: "mgmt-secret-for-tests", CallerName: "auditor",
			OUs: []scenario.OU{{Name: "Workloads"}}},
		Accounts: []scenario.Account{
			{ID: sbMgmt, Name: "Management", Root: scenario.Root{MFA: scenario.MFAVirtual}},
			{ID: sbProd, Name: "Production", OU: "Workloads",
				Root:  scenario.Root{AccessKeys: []scenario.Key{{ID: "AKIAROOTKEY000000001", CreatedAt: scenario.DaysAgo(3000)}}},
				Users: prodUsers,
				Events: []scenario.Event{
					{Time: scenario.DaysAgo(30), Name: "CreateAccessKey", Username: "admin", Resources: []string{"alice", "AKIAALICE00000000002"}},
					{Time: scenario.DaysAgo(5), Name: "ConsoleLogin", Username: "root"},
					{Time: scenario.DaysAgo(4), Name: "ConsoleLogin", Username: "alice"},      // an IAM user's sign-in: not kept
					{Time: scenario.DaysAgo(200), Name: "CreateAccessKey", Username: "admin"}, // outside the window
				}},
			{ID: sbLegacy, Name: "Legacy", AuditRoles: map[string]string{"IAMAuditRole": scenario.RoleMissing}},
			{ID: sbSuspend, Name: "Gone", State: "SUSPENDED"},
		},
		Knobs: scenario.Knobs{ReportGeneration: scenario.Duration{Duration: 300 * time.Millisecond}},
	}
}

// startSandbox serves sc with its own knobs and the sandbox's default realism (AWS's
// rate limits, the scenario's report time), for the tests of pacing.
func startSandbox(t *testing.T, sc *scenario.Scenario) (*sandbox.Server, aws.Config) {
	t.Helper()
	s, err := sandbox.Start(sc, sandbox.Options{}, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, sandboxConfig(s)
}

// startFastSandbox serves sc without pacing (sandboxtest.Start); pair it with
// fastOptions.
func startFastSandbox(t *testing.T, sc *scenario.Scenario) (*sandbox.Server, aws.Config) {
	t.Helper()
	s := sandboxtest.Start(t, sc, sandbox.Options{})
	return s, sandboxConfig(s)
}

// fastOptions lifts the client-side limits and shortens the report poll, for a
// sandbox that paces nothing.
func fastOptions(o Options) Options {
	o.IAMRate, o.EventsRate, o.OrgRate = sandboxtest.ClientRate, sandboxtest.ClientRate, sandboxtest.ClientRate
	o.ReportPoll = sandboxtest.ReportPoll
	return o
}

// sandboxConfig is a bare SDK configuration for the management caller of s.
func sandboxConfig(s *sandbox.Server) aws.Config {
	ak, sk := s.Credentials()
	return aws.Config{Region: s.Region(), BaseEndpoint: aws.String(s.URL()),
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""), HTTPClient: &http.Client{Timeout: 30 * time.Second}}
}

// TestCollectSandbox runs against the project's own AWS-compatible endpoint with its
// default rate limits (IAM 20/s, LookupEvents 2/s): our limiters must keep us under them.
// A test of pacing: it keeps the real rates on both sides (about 6 s: 12 LookupEvents
// at 2/s).
func TestCollectSandbox(t *testing.T) {
	t.Parallel()
	const extra = 40
	s, cfg := startSandbox(t, sandboxScenario(extra))
	opts := Options{Role: "IAMAuditRole", ReportPoll: 100 * time.Millisecond}
	start := time.Now()
	inv, err := Collect(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("collected in %v", time.Since(start).Round(time.Millisecond))

	mgmt := accountByID(t, inv, sbMgmt)
	if mgmt.Status != inventory.StatusAudited || !mgmt.IsManagement || !strings.HasSuffix(mgmt.AuditedAs, ":user/auditor") {
		t.Errorf("management = %s %q %q gaps %+v", mgmt.Status, mgmt.AuditedAs, mgmt.Reason, mgmt.Gaps)
	}
	if mgmt.Root == nil || mgmt.Root.MFAType != inventory.MFAVirtual {
		t.Errorf("management root = %+v", mgmt.Root)
	}
	legacy := accountByID(t, inv, sbLegacy)
	if legacy.Status != inventory.StatusNotAudited || !strings.Contains(legacy.Reason, "deploy the role IAMAuditRole to account "+sbLegacy) {
		t.Errorf("legacy = %s %q", legacy.Status, legacy.Reason)
	}
	if gone := accountByID(t, inv, sbSuspend); gone.Status != inventory.StatusSkipped || gone.Reason != "account state is SUSPENDED (only ACTIVE accounts are audited)" {
		t.Errorf("suspended = %s %q", gone.Status, gone.Reason)
	}

	p := accountByID(t, inv, sbProd)
	if p.Status != inventory.StatusAudited || len(p.Gaps) != 0 {
		t.Fatalf("production = %s gaps %+v", p.Status, p.Gaps)
	}
	if len(p.Users) != 3+extra {
		t.Errorf("users = %d", len(p.Users))
	}
	alice := userByName(t, p, "alice")
	if alice.MFAType() != inventory.MFAVirtual || len(alice.MFADevices) != 2 || len(alice.AccessKeys) != 2 || alice.AccessKeys[0].ID != "AKIAALICE00000000001" ||
		alice.AccessKeys[0].LastUsedService != "s3" || alice.AccessKeys[0].LastUsedRegion != "eu-west-1" || alice.AccessKeys[1].LastUsedAt != nil || alice.Tags["Owner"] != "alice" {
		t.Errorf("alice = %+v", alice)
	}
	if bob := userByName(t, p, "bob"); !bob.PasswordEnabled || bob.MFAType() != inventory.MFANone || len(bob.AccessKeys) != 0 {
		t.Errorf("bob = %+v", bob)
	}
	if erin := userByName(t, p, "erin"); erin.MFAType() != inventory.MFAHardware {
		t.Errorf("erin = %+v", erin)
	}
	if p.Root == nil || len(p.Root.AccessKeys) != 1 || !p.Root.AccessKeys[0].Active || p.Root.MFAType != inventory.MFANone {
		t.Errorf("root = %+v", p.Root)
	}
	if len(p.Events) != 2 || p.Events[0].Name != "CreateAccessKey" || p.Events[1].Name != "ConsoleLogin" || p.Events[1].Username != "root" {
		t.Errorf("events = %+v", p.Events)
	}
	if st := s.Stats(); st.ThrottleTotal != 0 {
		t.Errorf("throttled %d times: %v", st.ThrottleTotal, st.Throttles)
	}
	iamCalls := 0
	for op, n := range p.APICalls {
		if strings.HasPrefix(op, "iam:") {
			iamCalls += n
		}
	}
	users := 3 + extra
	keys := 2 + extra
	usersWithKeys := 1 + extra
	seed := 3*users + keys
	t.Logf("production: %d users (%d with keys, %d keys): %d IAM calls (seed: (3+K)·U = %d); all calls %v", users, usersWithKeys, keys, iamCalls, seed, p.APICalls)
	// 7 bulk calls + ListAccessKeys per user with keys + ListMFADevices per user with MFA
	// (+ report polls: every 0.5 s through the sandbox's 2 s generation, so up to 5).
	// The seed would need 3 per user + 1 per key.
	if want := 7 + usersWithKeys + 2; iamCalls < want || iamCalls > want+5 {
		t.Errorf("IAM calls = %d, want %d (+ up to 5 report polls)", iamCalls, want)
	}
}
