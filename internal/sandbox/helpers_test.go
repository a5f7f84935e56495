package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

const (
	mgmtID      = "111111111111"
	prodID      = "222222222222"
	missingID   = "333333333333"
	untrustedID = "444444444444"
	testAKID    = "AKIASANDBOXTEST00001"
	testSecret  = "sandbox/test/secret/0000000000000000000"
)

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testScenario is a small Organization: management, Production (users), an account
// whose audit role is missing, one where it is untrusted, and extra accounts so that
// ListAccounts needs two pages of 20.
func testScenario() *scenario.Scenario {
	sc := &scenario.Scenario{
		Name: "test",
		Organization: scenario.Organization{
			ID: "o-test000001", ManagementAccountID: mgmtID, AccessKeyID: testAKID, SecretAccessKey: testSecret,
			CallerName: "auditor", OUs: []scenario.OU{{Name: "Workloads"}, {Name: "Prod", Parent: "Workloads"}},
		},
		Accounts: []scenario.Account{
			{ID: mgmtID, Name: "Management", Root: scenario.Root{MFA: scenario.MFAVirtual}},
			{ID: prodID, Name: "Production", OU: "Prod",
				PasswordPolicy: &scenario.PasswordPolicy{MinimumPasswordLength: 14, MaxPasswordAge: 90},
				Root:           scenario.Root{AccessKeys: []scenario.Key{{ID: "AKIAROOTKEY000000001", CreatedAt: scenario.DaysAgo(3000)}}},
				Users: []scenario.User{
					{Name: "alice", CreatedAt: scenario.DaysAgo(2000), Tags: map[string]string{"Owner": "alice", "Team": "platform", "Env": "prod"},
						Groups: []string{"admins", "devs"}, AttachedPolicies: []string{"AdministratorAccess", "ReadOnlyAccess"},
						InlinePolicies: map[string]string{"p1": `{"Version":"2012-10-17","Statement":[]}`, "p2": `{"Version":"2012-10-17","Statement":[]}`},
						Password:       &scenario.Password{CreatedAt: scenario.DaysAgo(400), LastUsed: scenario.DaysAgo(1)},
						MFA:            []scenario.MFADevice{{Type: scenario.MFAVirtual}, {Type: scenario.MFAHardware}},
						AccessKeys: []scenario.Key{
							{ID: "AKIAALICE00000000001", CreatedAt: scenario.At(time.Date(2018, 6, 15, 10, 20, 30, 0, time.UTC)), LastUsed: scenario.DaysAgo(2), Service: "s3", Region: "eu-west-1"},
							{ID: "AKIAALICE00000000002", CreatedAt: scenario.DaysAgo(10)},
						}},
					{Name: "bob", CreatedAt: scenario.DaysAgo(100), Password: &scenario.Password{CreatedAt: scenario.DaysAgo(100)}},
					{Name: "carol", CreatedAt: scenario.DaysAgo(50), MFA: []scenario.MFADevice{{Type: scenario.MFAVirtual}}},
				},
				ServerCertificates: []scenario.ServerCertificate{
					{Name: "web", Expiration: scenario.DaysAgo(-30)}, {Name: "api", Expiration: scenario.DaysAgo(10)},
				},
				Policies: []scenario.Policy{{Name: "Custom", Document: `{"Version":"2012-10-17","Statement":[]}`}},
				Roles:    []scenario.Role{{Name: "app", LastUsed: scenario.DaysAgo(3), AttachedPolicies: []string{"AdministratorAccess"}}},
				Events: []scenario.Event{
					{Time: scenario.DaysAgo(30), Name: "CreateAccessKey", Username: "admin", Resources: []string{"alice", "AKIAALICE00000000002"}},
					{Time: scenario.DaysAgo(20), Name: "DeleteAccessKey", Username: "admin", Resources: []string{"bob", "AKIABOBOLD0000000001"}},
					{Time: scenario.DaysAgo(10), Name: "CreateAccessKey", Username: "admin", Resources: []string{"carol", "AKIACAROL0000000001"}},
					{Time: scenario.DaysAgo(5), Name: "ConsoleLogin", Username: "root"},
					{Time: scenario.DaysAgo(200), Name: "CreateAccessKey", Username: "admin"}, // beyond 90 days
				}},
			{ID: missingID, Name: "Legacy", AuditRoles: map[string]string{"IAMAuditRole": scenario.RoleMissing}},
			{ID: untrustedID, Name: "Acquired", State: "SUSPENDED", AuditRoles: map[string]string{"IAMAuditRole": scenario.RoleUntrusted}},
		},
	}
	for i := 0; i < 21; i++ {
		sc.Accounts = append(sc.Accounts, scenario.Account{ID: fmt.Sprintf("5000000000%02d", i), Name: fmt.Sprintf("extra-%d", i)})
	}
	return sc
}

// startTest starts a sandbox with rate limits off unless the knobs say otherwise.
func startTest(t testing.TB, sc *scenario.Scenario, clock *fakeClock, k *scenario.Knobs) *Server {
	t.Helper()
	opts := Options{Knobs: k}
	if clock != nil {
		opts.Clock = clock.Now
	}
	return startTestWith(t, sc, opts)
}

// startTestWith is startTest with all the options (opts.Knobs as in startTest).
func startTestWith(t testing.TB, sc *scenario.Scenario, opts Options) *Server {
	t.Helper()
	k := opts.Knobs
	if k == nil {
		k = &scenario.Knobs{}
	}
	if k.RateLimits == nil {
		k.RateLimits = map[string]float64{"iam": 0, "cloudtrail": 0, "organizations": 0}
	}
	opts.Knobs = k
	s, err := Start(sc, opts, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// sdkConfig is an SDK config pointing at the sandbox with static credentials.
func sdkConfig(s *Server, akid, secret, token string) aws.Config {
	return aws.Config{
		Region:       s.Region(),
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secret, token),
		BaseEndpoint: aws.String(s.URL()),
		HTTPClient:   &http.Client{Timeout: 30 * time.Second},
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 10; o.MaxBackoff = 200 * time.Millisecond })
		},
	}
}

func mgmtConfig(s *Server) aws.Config {
	ak, sk := s.Credentials()
	return sdkConfig(s, ak, sk, "")
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}
