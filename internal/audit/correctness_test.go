package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/audit"
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// correctnessScenario: Production holds a user whose only key is in slot 2 (key 1
// deleted) and a root that failed to sign in twice and signed in once, long ago;
// Member's root has no credentials at all; Legacy's slot-2 key is read from the
// report alone (ListAccessKeys is denied there by a fault). Every audit role has the
// path /security/.
const correctnessScenario = `name: correctness
organization:
  management_account_id: "100000000001"
accounts:
  - id: "100000000001"
    name: Management
    audit_roles: {"/security/IAMAuditRole": present}
    root: {mfa: hardware}
  - id: "200000000002"
    name: Production
    audit_roles: {"/security/IAMAuditRole": present}
    root: {mfa: none, password_last_used: -200d}
    users:
      - name: svc
        tags: {Owner: platform}
        access_keys:
          - {id: AKIASVCSLOT200000002, slot: 2, created_at: -200d, last_used: -1d, service: s3}
      - name: old-key
        tags: {Owner: platform}
        access_keys:
          - {id: AKIAEXPIREDKEY000001, status: Expired, created_at: -300d}
    events:
      - {time: -3d, name: ConsoleLogin, username: root, result: Failure, source_ip: 192.0.2.10}
      - {time: -2d, name: ConsoleLogin, username: root, result: Failure, source_ip: 203.0.113.5}
      - {time: -1d, name: ConsoleLogin, username: svc, result: Failure}
  - id: "300000000003"
    name: Member
    audit_roles: {"/security/IAMAuditRole": present}
    root: {password: false}
  - id: "400000000004"
    name: Legacy
    audit_roles: {"/security/IAMAuditRole": present}
    root: {mfa: virtual}
    users:
      - name: etl
        tags: {Owner: data}
        access_keys:
          - {slot: 2, created_at: -200d, last_used: -1d, service: s3}
`

type scenarioRun struct {
	res *outcome.Outcome
	out string
	doc map[string]any
}

// fast are knobs without rate limits and with a quick credential report; faults, when given.
func fast(faults ...scenario.Fault) *scenario.Knobs {
	return &scenario.Knobs{Faults: faults, RateLimits: map[string]float64{"iam": 0, "cloudtrail": 0, "organizations": 0},
		ReportGeneration: scenario.Duration{Duration: 100 * time.Millisecond}}
}

func runScenario(t *testing.T, sc *scenario.Scenario, role string, knobs *scenario.Knobs) scenarioRun {
	t.Helper()
	if knobs == nil {
		knobs = fast()
	}
	clock := clockFrom(time.Now().UTC().Truncate(time.Second))
	srv, err := sandbox.Start(sc, sandbox.Options{Clock: clock, Knobs: knobs}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	akid, secret := srv.Credentials()
	var out, errw bytes.Buffer
	res, err := audit.Run(context.Background(), sdkConfig(t, srv.URL(), akid, secret, ""), audit.Options{
		Collect: collect.Options{Role: role, Days: 90, Concurrency: 4, ReportPoll: 50 * time.Millisecond,
			IAMRate: 1000, EventsRate: 1000}, // the sandbox has no limits here
		OutputDir: t.TempDir(), Lang: "en", Checks: checks.DefaultConfig(), Clock: clock, Version: "test", Out: &out, Err: &errw,
	})
	if err != nil {
		t.Fatalf("audit.Run: %v\n%s", err, errw.String())
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(readFile(t, res.Files[2])), &doc); err != nil {
		t.Fatal(err)
	}
	return scenarioRun{res: res, out: out.String(), doc: doc}
}

func findingsOf(res *outcome.Outcome, account, check string) []checks.Finding {
	var out []checks.Finding
	for _, f := range res.Findings {
		if f.AccountID == account && f.CheckID == check {
			out = append(out, f)
		}
	}
	return out
}

// jsonAccount is the account's object in the run's JSON file.
func jsonAccount(t *testing.T, doc map[string]any, id string) map[string]any {
	t.Helper()
	for _, a := range doc["accounts"].([]any) {
		if m := a.(map[string]any); m["id"] == id {
			return m
		}
	}
	t.Fatalf("account %s not in the JSON", id)
	return nil
}

// TestCorrectnessEndToEnd runs the audit through the sandbox with an audit role
// under a path, and checks slot-2 keys, a root without credentials, failed root
// sign-ins and an Expired key in the findings, the JSON and the console.
func TestCorrectnessEndToEnd(t *testing.T) {
	t.Parallel()
	sc, err := scenario.Parse("correctness.yaml", []byte(correctnessScenario))
	if err != nil {
		t.Fatal(err)
	}
	r := runScenario(t, sc, "/security/IAMAuditRole", fast(scenario.Fault{Account: "400000000004", Service: "iam", Operation: "ListAccessKeys", Error: "AccessDenied"}))
	inv := r.res.Inventory

	t.Run("role with a path", func(t *testing.T) {
		if inv.AuditRole != "security/IAMAuditRole" {
			t.Errorf("audit_role %q", inv.AuditRole)
		}
		for _, a := range inv.Accounts {
			if a.Status == inventory.StatusNotAudited || !strings.HasSuffix(a.AuditedAs, ":assumed-role/IAMAuditRole/iamaudit") {
				t.Errorf("%s: %s %s (%s)", a.Name, a.Status, a.AuditedAs, a.Reason)
			}
		}
	})
	t.Run("slot 2 only", func(t *testing.T) {
		prod := accountByID(t, inv, "200000000002")
		for _, u := range prod.Users {
			if u.Name == "svc" && (len(u.AccessKeys) != 1 || u.AccessKeys[0].Slot != 2 || u.AccessKeys[0].ID != "AKIASVCSLOT200000002") {
				t.Errorf("svc keys %+v, want its key with slot 2", u.AccessKeys)
			}
		}
		keys := jsonAccount(t, r.doc, "400000000004")["users"].([]any)[0].(map[string]any)["access_keys"].([]any)
		if len(keys) != 1 || keys[0].(map[string]any)["slot"] != float64(2) || keys[0].(map[string]any)["id"] != "" {
			t.Errorf("Legacy etl keys in the JSON: %v", keys)
		}
		fs := findingsOf(r.res, "400000000004", "access_key_not_rotated")
		want := "arn:aws:iam::400000000004:user/etl/access_key_2"
		if len(fs) != 1 || fs[0].Resource != want || !strings.HasPrefix(fs[0].Message, "Access key 2 is 200 days old") ||
			fs[0].ID != checks.FindingID("access_key_not_rotated", "400000000004", want) {
			t.Errorf("Legacy findings %+v, want one on %s", fs, want)
		}
		csv := readFile(t, r.res.Files[3])
		if !strings.Contains(csv, want) || strings.Contains(csv, "etl/access_key_1") {
			t.Errorf("findings CSV does not name slot 2:\n%s", csv)
		}
	})
	t.Run("root without credentials", func(t *testing.T) {
		member := accountByID(t, inv, "300000000003")
		if member.Root == nil || member.Root.Credentials != inventory.RootCredentialsNone {
			t.Fatalf("Member root %+v", member.Root)
		}
		if fs := findingsOf(r.res, "300000000003", "root_mfa_disabled"); len(fs) != 0 {
			t.Errorf("root_mfa_disabled for a root without credentials: %+v", fs)
		}
		if got := jsonAccount(t, r.doc, "300000000003")["root"].(map[string]any)["credentials"]; got != "none" {
			t.Errorf("JSON root.credentials %v", got)
		}
		if !strings.Contains(r.out, "Member (300000000003): ") || !strings.Contains(r.out, "; root: no root credentials") {
			t.Errorf("console summary does not say it:\n%s", r.out)
		}
		// Production's root has a password and no MFA: the finding stays.
		if fs := findingsOf(r.res, "200000000002", "root_mfa_disabled"); len(fs) != 1 {
			t.Errorf("Production root_mfa_disabled: %+v", fs)
		}
	})
	t.Run("failed root sign-ins", func(t *testing.T) {
		if fs := findingsOf(r.res, "200000000002", "root_used_recently"); len(fs) != 0 {
			t.Errorf("failed sign-ins counted as root use: %+v", fs)
		}
		fs := findingsOf(r.res, "200000000002", "root_failed_signin")
		if len(fs) != 1 || fs[0].Severity != checks.Medium || fs[0].Evidence["attempts"] != "2" ||
			fs[0].Evidence["source_ips"] != "192.0.2.10 (1), 203.0.113.5 (1)" || !strings.Contains(fs[0].Message, "from 192.0.2.10, 203.0.113.5") {
			t.Fatalf("root_failed_signin %+v", fs)
		}
		var logins int
		for _, e := range accountByID(t, inv, "200000000002").Events {
			if e.Name == "ConsoleLogin" {
				logins++
				if e.LoginResult != inventory.LoginFailure || e.ErrorMessage != "Failed authentication" || e.ErrorCode != "" || e.EventType != "AwsConsoleSignIn" || e.UserType != "Root" {
					t.Errorf("event %+v", e)
				}
			}
		}
		if logins != 2 { // the IAM user's failed sign-in is not kept
			t.Errorf("%d ConsoleLogin events, want the root's 2", logins)
		}
	})
	t.Run("expired key", func(t *testing.T) {
		fs := findingsOf(r.res, "200000000002", "inactive_key_not_deleted")
		if len(fs) != 1 || fs[0].Resource != "AKIAEXPIREDKEY000001" || !strings.Contains(fs[0].Message, "has expired and still exists") {
			t.Errorf("expired key findings %+v", fs)
		}
		for _, id := range []string{"access_key_not_rotated", "access_key_never_used"} {
			for _, f := range findingsOf(r.res, "200000000002", id) {
				if f.Resource == "AKIAEXPIREDKEY000001" {
					t.Errorf("%s on an Expired key: %s", id, f.Message)
				}
			}
		}
		if iamCSV := readFile(t, r.res.Files[0]); !strings.Contains(iamCSV, ",AKIAEXPIREDKEY000001,Expired,") {
			t.Errorf("seed CSV does not show the Expired status:\n%s", iamCSV)
		}
	})
	// Without the path, the role is not found: the accounts are not audited.
	t.Run("role without its path", func(t *testing.T) {
		r := runScenario(t, sc, "IAMAuditRole", nil)
		for _, a := range r.res.Inventory.Accounts {
			if a.ID != "100000000001" && (a.Status != inventory.StatusNotAudited || !strings.Contains(a.Reason, "arn:aws:iam::"+a.ID+":role/IAMAuditRole")) {
				t.Errorf("%s: %s %s", a.Name, a.Status, a.Reason)
			}
		}
	})
}

// delegatedScenario: the audit runs from Security, a delegated administrator; the
// management account has the audit role, trusting Security.
const delegatedScenario = `name: delegated
organization:
  management_account_id: "100000000001"
  caller_account_id: "500000000005"
  delegated_administrators: ["500000000005"]
  ous: [{name: Workloads}]
accounts:
  - id: "100000000001"
    name: Management
    audit_roles: {IAMAuditRole: present}
  - id: "200000000002"
    name: Production
    ou: Workloads
  - id: "500000000005"
    name: Security
`

// TestAuditFromDelegatedAdministrator: the Organization is listed and every account,
// the management account included, is audited from a delegated administrator; from a
// member that is not one, the run stops with what to do.
func TestAuditFromDelegatedAdministrator(t *testing.T) {
	t.Parallel()
	sc, err := scenario.Parse("delegated.yaml", []byte(delegatedScenario))
	if err != nil {
		t.Fatal(err)
	}
	r := runScenario(t, sc, "IAMAuditRole", nil)
	inv := r.res.Inventory
	if inv.Caller == nil || inv.Caller.AccountID != "500000000005" || inv.Organization == nil || inv.Organization.ManagementAccountID != "100000000001" {
		t.Fatalf("caller %+v organization %+v", inv.Caller, inv.Organization)
	}
	if len(inv.Accounts) != 3 || len(inv.Gaps) != 0 {
		t.Fatalf("accounts %d gaps %+v", len(inv.Accounts), inv.Gaps)
	}
	for _, a := range inv.Accounts {
		if a.Status != inventory.StatusAudited || a.IsManagement != (a.ID == "100000000001") ||
			a.AuditedAs != "arn:aws:sts::"+a.ID+":assumed-role/IAMAuditRole/iamaudit" {
			t.Errorf("%s: %s managed=%v as %s (%s) gaps %+v", a.Name, a.Status, a.IsManagement, a.AuditedAs, a.Reason, a.Gaps)
		}
	}
	if !strings.Contains(r.out, "Management (100000000001)") {
		t.Errorf("console:\n%s", r.out)
	}

	// From a member account that is not a delegated administrator.
	sc2, err := scenario.Parse("member.yaml", []byte(strings.Replace(delegatedScenario, `  delegated_administrators: ["500000000005"]`+"\n", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	clock := clockFrom(time.Now().UTC())
	srv, err := sandbox.Start(sc2, sandbox.Options{Clock: clock, Knobs: fast()}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	akid, secret := srv.Credentials()
	var out, errw bytes.Buffer
	_, err = audit.Run(context.Background(), sdkConfig(t, srv.URL(), akid, secret, ""), audit.Options{
		Collect: collect.Options{Role: "IAMAuditRole", Days: 90}, OutputDir: t.TempDir(), Checks: checks.DefaultConfig(), Clock: clock, Out: &out, Err: &errw,
	})
	if err == nil || !strings.Contains(err.Error(), "organizations:ListAccounts was denied") || !strings.Contains(err.Error(), "delegated administrator") {
		t.Fatalf("err = %v", err)
	}
}
