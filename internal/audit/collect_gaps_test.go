package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamaudit/iamaudit/internal/audit"
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/credreport"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/sandbox/sandboxtest"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// The clean Organization's accounts (internal/scenario/clean.yaml).
const (
	cleanManagement  = "310987654321"
	cleanProduction  = "320987654321"
	cleanDevelopment = "330987654321"
)

// auditRun is one audit.Run against a started sandbox.
type auditRun struct {
	res   *outcome.Outcome
	out   string
	stats sandbox.Stats
}

// runAudit audits srv with the given collection options, unpaced where they leave
// the rates and the report poll zero (fastCollect).
func runAudit(t *testing.T, srv *sandbox.Server, clock func() time.Time, copts collect.Options) auditRun {
	t.Helper()
	cfg := sandboxtest.Config(t, srv)
	var out, errw bytes.Buffer
	res, err := audit.Run(context.Background(), cfg, audit.Options{
		Collect: fastCollect(copts), OutputDir: t.TempDir(), Lang: "en", Checks: checks.DefaultConfig(),
		Clock: clock, Version: "test", Out: &out, Err: &errw,
	})
	if err != nil {
		t.Fatalf("audit.Run: %v\n%s", err, errw.String())
	}
	return auditRun{res: res, out: out.String(), stats: srv.Stats()}
}

// startSandbox is a fast sandbox (sandboxtest.Start) serving sc at clock.
func startSandbox(t *testing.T, sc *scenario.Scenario, clock func() time.Time, knobs *scenario.Knobs) *sandbox.Server {
	t.Helper()
	return sandboxtest.Start(t, sc, sandbox.Options{Clock: clock, Knobs: knobs})
}

func accountByID(t *testing.T, inv *inventory.Inventory, id string) inventory.Account {
	t.Helper()
	for _, a := range inv.Accounts {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("account %s not in the inventory", id)
	return inventory.Account{}
}

// section renders part of an account for comparison; times come from the same
// scenario dates in both runs.
func section(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// withoutKeys is the account's users with their access keys removed.
func withoutKeys(users []inventory.User) []inventory.User {
	out := make([]inventory.User, len(users))
	for i, u := range users {
		u.AccessKeys = nil
		out[i] = u
	}
	return out
}

// An error in one part of one account loses only that part, and says so: the rest
// of the account is collected (compared with an audit without the fault), the gap
// names its section, operation and error code, the account is partial, the run is
// incomplete, the console lists the gap, and the other accounts are unaffected.
func TestFaultLosesOnlyItsPart(t *testing.T) {
	t.Parallel()
	base := time.Now().UTC().Truncate(time.Second)
	// Nothing is paced (fast sandbox, fastCollect); the limits themselves are tested
	// elsewhere. Three attempts with a short backoff bound the retries of the faults.
	copts := collect.Options{MaxAttempts: 3, MaxBackoff: 20 * time.Millisecond}

	clock := sandboxtest.NewClock(base).Now
	baseline := runAudit(t, startSandbox(t, scenario.Clean(), clock, nil), clock, copts)
	if baseline.res.Incomplete() {
		t.Fatalf("the clean Organization's audit is incomplete without faults: %+v", baseline.res.Inventory.Gaps)
	}
	want := accountByID(t, baseline.res.Inventory, cleanProduction)
	if len(want.Users) != 3 || len(want.Events) != 3 || len(want.Roles) != 5 || report.KeyCount(baseline.res.Inventory) == 0 {
		t.Fatalf("baseline Production: %d users, %d events, %d roles", len(want.Users), len(want.Events), len(want.Roles))
	}

	for _, tc := range []struct {
		name     string
		fault    scenario.Fault
		section  inventory.Section
		unknown  []inventory.Field // what the gap leaves unknown
		op, code string
		subjects []string // gap subjects expected (nil: one gap without subject)
		eachName bool     // one gap per CloudTrail event name
		same     func(a inventory.Account) any
		lost     func(t *testing.T, a inventory.Account)
	}{
		{
			name:    "ListAccessKeys denied",
			fault:   scenario.Fault{Account: cleanProduction, Service: "iam", Operation: "ListAccessKeys", Error: "AccessDenied", Rate: 1},
			section: inventory.SectionAccessKeys, op: "iam:ListAccessKeys", code: "AccessDenied",
			unknown:  []inventory.Field{inventory.FieldKeyIDs}, // the report's key slots are kept
			subjects: []string{"ci-deploy", "maria.garcia"},    // the users the report shows with keys
			same: func(a inventory.Account) any {
				return []any{withoutKeys(a.Users), a.Groups, a.Roles, a.Policies, a.Events, a.ServerCertificates, a.Root, a.PasswordPolicy, a.Summary}
			},
			lost: func(t *testing.T, a inventory.Account) {
				// The key ids are lost; what the credential report knows is kept.
				for _, u := range a.Users {
					for _, k := range u.AccessKeys {
						if k.ID != "" || k.LastUsedSource != "credential_report" || k.CreatedAt.IsZero() {
							t.Errorf("%s: key %+v, want the report's slot without an id", u.Name, k)
						}
					}
					if (u.Name == "ci-deploy" || u.Name == "maria.garcia") && len(u.AccessKeys) == 0 {
						t.Errorf("%s lost the keys the credential report shows", u.Name)
					}
				}
			},
		},
		{
			name:    "GetAccountAuthorizationDetails denied",
			fault:   scenario.Fault{Account: cleanProduction, Service: "iam", Operation: "GetAccountAuthorizationDetails", Error: "AccessDenied", Rate: 1},
			section: inventory.SectionUsers, op: "iam:GetAccountAuthorizationDetails", code: "AccessDenied",
			unknown: []inventory.Field{inventory.FieldUserPolicies, inventory.FieldUserGroups, inventory.FieldUserTags,
				inventory.FieldGroups, inventory.FieldRoles, inventory.FieldManagedPolicies},
			same: func(a inventory.Account) any {
				// The credential report and the per-user calls still give every user, its
				// password, MFA and keys.
				type user struct {
					Name, ARN       string
					Password, MFA   bool
					LastUsed        *time.Time
					MFADevices      []inventory.MFADevice
					AccessKeys      []inventory.AccessKey
					PasswordChanged *time.Time
				}
				var us []user
				for _, u := range a.Users {
					us = append(us, user{u.Name, u.ARN, u.PasswordEnabled, u.MFAActive, u.PasswordLastUsed, u.MFADevices, u.AccessKeys, u.PasswordLastChanged})
				}
				return []any{us, a.Events, a.ServerCertificates, a.Root, a.PasswordPolicy, a.Summary}
			},
			lost: func(t *testing.T, a inventory.Account) {
				if len(a.Roles) != 0 || len(a.Groups) != 0 {
					t.Errorf("roles %d, groups %d: only GetAccountAuthorizationDetails gives them", len(a.Roles), len(a.Groups))
				}
			},
		},
		{
			name:    "LookupEvents throttled for ever",
			fault:   scenario.Fault{Account: cleanProduction, Service: "cloudtrail", Operation: "LookupEvents", Error: "ThrottlingException", Rate: 1},
			section: inventory.SectionEvents, op: "cloudtrail:LookupEvents", code: "ThrottlingException", eachName: true,
			unknown: []inventory.Field{inventory.FieldEvents},
			same: func(a inventory.Account) any {
				return []any{a.Users, a.Groups, a.Roles, a.Policies, a.ServerCertificates, a.Root, a.PasswordPolicy, a.Summary}
			},
			lost: func(t *testing.T, a inventory.Account) {
				if len(a.Events) != 0 {
					t.Errorf("events found although every LookupEvents was throttled: %+v", a.Events)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := sandboxtest.NewClock(base).Now
			srv := startSandbox(t, scenario.Clean(), clock, &scenario.Knobs{Faults: []scenario.Fault{tc.fault}})
			r := runAudit(t, srv, clock, copts)
			inv := r.res.Inventory
			got := accountByID(t, inv, cleanProduction)
			t.Logf("Production calls %v", got.APICalls)
			if r.stats.FaultTotal == 0 {
				t.Fatalf("the fault never fired: %+v", r.stats)
			}

			// The rest of the account is collected, as without the fault.
			if g, w := section(t, tc.same(got)), section(t, tc.same(want)); g != w {
				t.Errorf("what the fault did not touch differs from the audit without it:\n got %s\nwant %s", g, w)
			}
			tc.lost(t, got)

			// The gap says what, where and why.
			if got.Status != inventory.StatusPartial {
				t.Errorf("Production status %s, want partial", got.Status)
			}
			var subjects []string
			for _, g := range got.Gaps {
				if g.Section != tc.section || g.Operation != tc.op || g.ErrorCode != tc.code || g.AccountID != cleanProduction || g.Message == "" ||
					!slices.Equal(g.Unknown, tc.unknown) {
					t.Errorf("unexpected gap %+v", g)
					continue
				}
				subjects = append(subjects, g.Subject)
			}
			switch {
			case tc.eachName:
				// Every event name is covered by a gap: one per name tried, and one
				// naming the names given up on after repeated failures.
				var names []string
				for _, s := range subjects {
					names = append(names, strings.Split(s, ",")...)
				}
				if strings.Join(sortedCopy(names), ",") != strings.Join(sortedCopy(collect.DefaultEventNames), ",") {
					t.Errorf("events gaps name %v, want every event name %v", subjects, collect.DefaultEventNames)
				}
				// It gives up after two names fail in a row: 2 names × 3 attempts, by
				// collect's count and by the sandbox's (retries are bounded; no clock needed).
				if n := got.APICalls["cloudtrail:LookupEvents"]; n != 2*copts.MaxAttempts {
					t.Errorf("%d LookupEvents attempts in a storm, want %d", n, 2*copts.MaxAttempts)
				}
				if n := r.stats.Calls[cleanProduction]["cloudtrail:LookupEvents"]; n != int64(2*copts.MaxAttempts) {
					t.Errorf("the sandbox served %d LookupEvents in a storm, want %d", n, 2*copts.MaxAttempts)
				}
			case tc.subjects != nil:
				if strings.Join(subjects, ",") != strings.Join(tc.subjects, ",") {
					t.Errorf("gap subjects %v, want %v", subjects, tc.subjects)
				}
			default:
				if len(subjects) != 1 || subjects[0] != "" {
					t.Errorf("gaps %+v, want one for the account", got.Gaps)
				}
			}
			if !r.res.Incomplete() {
				t.Error("the run is not marked incomplete")
			}
			// The console lists the gap with its operation and code.
			line := fmt.Sprintf("  - Production: %s", tc.section)
			opCode := tc.op + " " + tc.code + ": "
			if !strings.Contains(r.out, "Incomplete data (") || !containsLineWith(r.out, line, opCode) {
				t.Errorf("console does not list the gap (%q … %q):\n%s", line, opCode, r.out)
			}

			// The other accounts are unaffected.
			for _, id := range []string{cleanManagement, cleanDevelopment} {
				a, b := accountByID(t, inv, id), accountByID(t, baseline.res.Inventory, id)
				if a.Status != inventory.StatusAudited || len(a.Gaps) != 0 {
					t.Errorf("%s: %s %+v", a.Name, a.Status, a.Gaps)
				}
				if id == cleanManagement {
					continue // its caller's key is used by the audit itself: last use moves
				}
				if g, w := section(t, []any{a.Users, a.Roles, a.Groups, a.Events}), section(t, []any{b.Users, b.Roles, b.Groups, b.Events}); g != w {
					t.Errorf("%s differs from the audit without the fault:\n got %s\nwant %s", a.Name, g, w)
				}
			}
		})
	}
}

// With a fault that never stops and the SDK's retry settings, LookupEvents is
// attempted exactly MaxAttempts times per event name: retries are bounded and
// nothing hangs.
func TestThrottlingStormRetriesAreBounded(t *testing.T) {
	t.Parallel()
	clock := sandboxtest.NewClockNow().Now
	srv := startSandbox(t, scenario.Clean(), clock, &scenario.Knobs{
		Faults: []scenario.Fault{{Service: "cloudtrail", Operation: "LookupEvents", Error: "ThrottlingException", Rate: 1}}})
	const attempts = 2
	r := runAudit(t, srv, clock, collect.Options{MaxAttempts: attempts, MaxBackoff: 10 * time.Millisecond,
		EventNames: []string{"CreateUser", "CreateAccessKey"}})
	for _, id := range []string{cleanManagement, cleanProduction, cleanDevelopment} {
		if got := r.stats.Calls[id]["cloudtrail:LookupEvents"]; got != 2*attempts {
			t.Errorf("account %s: %d LookupEvents calls, want %d (2 names × %d attempts)", id, got, 2*attempts, attempts)
		}
		a := accountByID(t, r.res.Inventory, id)
		if a.Status != inventory.StatusPartial || len(a.Gaps) != 2 {
			t.Errorf("%s: %s %+v", a.Name, a.Status, a.Gaps)
		}
		if a.APICalls["cloudtrail:LookupEvents"] != 2*attempts {
			t.Errorf("%s: collect counted %d LookupEvents attempts, want %d", a.Name, a.APICalls["cloudtrail:LookupEvents"], 2*attempts)
		}
	}
}

// A credential report reused from earlier (older than 15 minutes) is flagged in the
// inventory and on the console; --fresh-key-usage reads every key's last use live.
func TestStaleCredentialReport(t *testing.T) {
	t.Parallel()
	clk := sandboxtest.NewClockNow()
	srv := startSandbox(t, scenario.Clean(), clk.Now, nil)
	cfg := sandboxtest.Config(t, srv)

	// Production's report is generated an hour before the audit.
	prod := assume(t, cfg, cleanProduction, "IAMAuditRole")
	if _, err := iam.NewFromConfig(prod).GenerateCredentialReport(context.Background(), &iam.GenerateCredentialReportInput{}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)

	en, err := report.MessagesFor("en")
	if err != nil {
		t.Fatal(err)
	}
	// The note up to the age: "Note: Production: key last-use data comes from a credential report".
	staleNote := func(name string) string {
		return strings.SplitN(fmt.Sprintf(en.StaleReport, name, "AGE"), " AGE", 2)[0]
	}
	for _, fresh := range []bool{false, true} {
		t.Run(fmt.Sprintf("fresh key usage %v", fresh), func(t *testing.T) {
			r := runAudit(t, srv, clk.Now, collect.Options{FreshKeyUsage: fresh})
			inv := r.res.Inventory
			p := accountByID(t, inv, cleanProduction)
			cr := p.CredentialReport
			if cr == nil || !cr.Reused || cr.AgeSeconds < 55*60 || cr.AgeSeconds > 65*60 || cr.FreshKeyData != fresh {
				t.Fatalf("Production report: %+v, want reused, about 3600 s old, fresh key data %v", cr, fresh)
			}
			for _, id := range []string{cleanManagement, cleanDevelopment} {
				a := accountByID(t, inv, id)
				if cr := a.CredentialReport; cr == nil || (!fresh && cr.Reused) || cr.AgeSeconds > 5*60 {
					t.Errorf("%s report: %+v, want just generated", a.Name, cr)
				}
			}
			wantNote := !fresh // the note is for report data; live data needs none
			if got := strings.Contains(r.out, staleNote("Production")); got != wantNote {
				t.Errorf("stale note for Production printed %v, want %v:\n%s", got, wantNote, r.out)
			}
			if strings.Contains(r.out, staleNote("Development")) || strings.Contains(r.out, staleNote("Management")) {
				t.Errorf("a stale note for a fresh report:\n%s", r.out)
			}
			keys := 0
			for _, a := range inv.Accounts {
				for _, u := range a.Users {
					for _, k := range u.AccessKeys {
						keys++
						if want := map[bool]string{true: collect.LastUsedSourceAPI, false: credreport.LastUsedSourceReport}[fresh]; k.LastUsedSource != want {
							t.Errorf("%s/%s key %s last use from %q, want %q", a.Name, u.Name, k.ID, k.LastUsedSource, want)
						}
					}
				}
			}
			if keys == 0 {
				t.Fatal("no keys audited")
			}
		})
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func containsLineWith(text string, parts ...string) bool {
	for _, l := range strings.Split(text, "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return true
		}
	}
	return false
}
