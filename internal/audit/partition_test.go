package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/audit"
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/sandbox/sandboxtest"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// partitionScenario is a small Organization in another partition: a management
// account audited with the caller's own credentials, a member with the audit role
// (users with keys, virtual and FIDO MFA, a group with an AWS managed policy, a
// role, events) and a member without it. Some regions are left to the scenario's
// defaults on purpose: those must follow the partition too.
const partitionScenario = `
name: partition-%[1]s
organization:
  id: o-part1t10n0
  management_account_id: "410000000001"
  partition: %[1]s
  caller_name: audit-runner
accounts:
  - id: "410000000001"
    name: Management
    root: {mfa: virtual}
    users:
      - name: audit-runner
        created_at: -300d
  - id: "410000000002"
    name: Workload
    root: {mfa: hardware}
    groups:
      - name: Readers
        attached_policies: [ReadOnlyAccess]
    users:
      - name: alice
        created_at: -500d
        groups: [Readers]
        password: {last_used: -2d}
        mfa: [{type: virtual}]
        access_keys:
          - {created_at: -400d, last_used: -3d, service: s3, region: %[2]s}
          - {created_at: -30d, last_used: -1d, service: ec2}
      - name: bob
        created_at: -200d
        password: {last_used: -10d}
        mfa: [{type: fido}]
        access_keys:
          - {created_at: -100d}
    roles:
      - name: deployer
        created_at: -300d
        last_used: -5d
        attached_policies: [AdministratorAccess]
    events:
      - {time: -10d, name: CreateAccessKey, username: alice, resources: [alice]}
      - {time: -9d, name: CreateUser, username: alice, resources: [bob]}
  - id: "410000000003"
    name: NoRole
    audit_roles: {}
`

// The audit follows the caller's partition: every ARN it builds (roles to assume,
// the principal it audited as, the root user) and every region it calls are the
// partition's, not the aws partition's.
func TestPartitionFollowsCaller(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		partition, home, regionPrefix string
	}{
		{"aws-us-gov", "us-gov-west-1", "us-gov-"},
		{"aws-cn", "cn-north-1", "cn-"},
	} {
		t.Run(tc.partition, func(t *testing.T) {
			t.Parallel()
			sc, err := scenario.Parse(tc.partition+".yaml", fmt.Appendf(nil, partitionScenario, tc.partition, tc.home))
			if err != nil {
				t.Fatal(err)
			}
			base := time.Now().UTC().Truncate(time.Second)
			clock := sandboxtest.NewClock(base).Now
			srv, err := sandbox.New(sc, sandbox.Options{Clock: clock, Knobs: sandboxtest.Knobs(nil)})
			if err != nil {
				t.Fatal(err)
			}
			if srv.Region() != tc.home {
				t.Fatalf("sandbox region = %s, want the partition's home region %s", srv.Region(), tc.home)
			}
			// Every request's signing scope is recorded: the region each call went to.
			signed := &scopeRecorder{regions: map[string]int{}}
			hs := httptest.NewServer(signed.wrap(srv))
			defer hs.Close()
			akid, secret := srv.Credentials()
			cfg := sandboxtest.ConfigFor(t, hs.URL, srv.Region(), akid, secret, "")
			var out, errw bytes.Buffer
			dir := t.TempDir()
			res, err := audit.Run(context.Background(), cfg, audit.Options{
				Collect:   fastCollect(collect.Options{Days: 90}),
				OutputDir: dir, Lang: "en", Checks: checks.DefaultConfig(), Clock: clock, Version: "test",
				Out: &out, Err: &errw,
			})
			if err != nil {
				t.Fatalf("audit.Run: %v\n%s", err, errw.String())
			}
			inv := res.Inventory
			prefix := "arn:" + tc.partition + ":"

			if inv.Partition != tc.partition || inv.Region != tc.home {
				t.Errorf("inventory partition/region = %s/%s, want %s/%s", inv.Partition, inv.Region, tc.partition, tc.home)
			}
			if inv.Caller == nil || !strings.HasPrefix(inv.Caller.ARN, prefix+"iam::410000000001:user/") {
				t.Errorf("caller = %+v", inv.Caller)
			}
			acct := map[string]*inventory.Account{}
			for i := range inv.Accounts {
				acct[inv.Accounts[i].Name] = &inv.Accounts[i]
			}
			mgmt, work, norole := acct["Management"], acct["Workload"], acct["NoRole"]
			if mgmt == nil || work == nil || norole == nil {
				t.Fatalf("accounts: %+v", inv.Accounts)
			}

			t.Run("audited as", func(t *testing.T) {
				if want := prefix + "sts::410000000002:assumed-role/IAMAuditRole/iamaudit"; work.AuditedAs != want {
					t.Errorf("Workload audited as %q, want %q", work.AuditedAs, want)
				}
				if mgmt.AuditedAs != inv.Caller.ARN {
					t.Errorf("Management audited as %q, want the caller %q", mgmt.AuditedAs, inv.Caller.ARN)
				}
				if work.Status != inventory.StatusAudited || mgmt.Status != inventory.StatusAudited {
					t.Errorf("status: Workload %s %+v, Management %s %+v", work.Status, work.Gaps, mgmt.Status, mgmt.Gaps)
				}
				// The role that could not be assumed is named in the partition.
				if norole.Status != inventory.StatusNotAudited || !strings.Contains(norole.Reason, prefix+"iam::410000000003:role/IAMAuditRole") {
					t.Errorf("NoRole: %s %q", norole.Status, norole.Reason)
				}
			})

			t.Run("ARNs", func(t *testing.T) {
				if len(work.Users) != 2 {
					t.Fatalf("Workload users: %+v", work.Users)
				}
				for _, u := range work.Users {
					if want := prefix + "iam::410000000002:user/" + u.Name; u.ARN != want {
						t.Errorf("user ARN %q, want %q", u.ARN, want)
					}
					if len(u.MFADevices) != 1 || !strings.HasPrefix(u.MFADevices[0].Serial, prefix+"iam::410000000002:") {
						t.Errorf("%s MFA devices: %+v", u.Name, u.MFADevices)
					}
				}
				if work.Root == nil || work.Root.ARN != prefix+"iam::410000000002:root" {
					t.Errorf("Workload root: %+v", work.Root)
				}
				if mgmt.Root == nil || mgmt.Root.MFAType != inventory.MFAVirtual {
					t.Errorf("Management root MFA (virtual device %sroot-account-mfa-device): %+v", prefix, mgmt.Root)
				}
				if len(work.Roles) == 0 || len(work.Groups) != 1 || len(work.Groups[0].AttachedPolicies) != 1 {
					t.Fatalf("roles %+v, groups %+v", work.Roles, work.Groups)
				}
				for _, r := range work.Roles {
					if !strings.HasPrefix(r.ARN, prefix+"iam::410000000002:role/") {
						t.Errorf("role ARN %q", r.ARN)
					}
				}
				if got := work.Groups[0].AttachedPolicies[0].ARN; got != prefix+"iam::aws:policy/ReadOnlyAccess" {
					t.Errorf("group policy ARN %q", got)
				}
				if len(work.Events) != 2 {
					t.Errorf("Workload events (IAM events live in %s): %+v", tc.home, work.Events)
				}
			})

			t.Run("regions", func(t *testing.T) {
				// Every call was signed for the partition's home region.
				scopes := signed.snapshot()
				t.Logf("calls by signing scope: %v", scopes)
				if len(scopes) < 4 { // sts, organizations, iam, cloudtrail
					t.Errorf("signing scopes %v: the recorder saw too little", scopes)
				}
				for scope, n := range scopes {
					if !strings.HasSuffix(scope, "/"+tc.home) {
						t.Errorf("%d calls signed for %s, want %s", n, scope, tc.home)
					}
				}
				// Every region the inventory reports is one of the partition's.
				for _, a := range inv.Accounts {
					for _, u := range a.Users {
						for _, k := range u.AccessKeys {
							if k.LastUsedRegion != "" && !strings.HasPrefix(k.LastUsedRegion, tc.regionPrefix) {
								t.Errorf("%s/%s key %s last used in %q, outside %s", a.Name, u.Name, k.ID, k.LastUsedRegion, tc.partition)
							}
						}
					}
					for _, r := range a.Roles {
						if r.LastUsedRegion != "" && !strings.HasPrefix(r.LastUsedRegion, tc.regionPrefix) {
							t.Errorf("%s role %s last used in %q, outside %s", a.Name, r.Name, r.LastUsedRegion, tc.partition)
						}
					}
				}
			})

			// No ARN of the plain aws partition anywhere in what the run wrote.
			plain := regexp.MustCompile(`arn:aws:[^"\s,]*`)
			t.Run("no aws-partition ARN in the outputs", func(t *testing.T) {
				for _, f := range res.Files {
					body := readFile(t, f)
					for i, line := range strings.Split(body, "\n") {
						if m := plain.FindString(line); m != "" {
							t.Errorf("%s line %d has %q: %s", f[len(dir)+1:], i+1, m, clip(line, 300))
						}
					}
				}
				if m := plain.FindString(out.String()); m != "" {
					t.Errorf("console output has %q:\n%s", m, out.String())
				}
			})
		})
	}
}

// scopeRecorder counts requests by "service/region" of their SigV4 credential scope.
type scopeRecorder struct {
	mu      sync.Mutex
	regions map[string]int
}

var credentialScope = regexp.MustCompile(`Credential=[^/]+/[0-9]+/([^/]+)/([^/]+)/aws4_request`)

func (s *scopeRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := "unsigned"
		if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
			key = m[2] + "/" + m[1]
		}
		s.mu.Lock()
		s.regions[key]++
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (s *scopeRecorder) snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.regions)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
