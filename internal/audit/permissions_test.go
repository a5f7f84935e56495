package audit_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/audit"
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/permissions"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/sandbox/sandboxtest"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// runUnderPolicies audits the clean Organization with the sandbox holding the caller
// to mgmtActions and every audit role session to roleActions.
func runUnderPolicies(t *testing.T, mgmtActions, roleActions []string) *outcome.Outcome {
	t.Helper()
	clock := clockFrom(time.Now().UTC().Truncate(time.Second))
	srv := sandboxtest.Start(t, scenario.Clean(), sandbox.Options{Clock: clock, CallerActions: mgmtActions, RoleActions: roleActions})
	akid, secret := srv.Credentials()
	var out, errw bytes.Buffer
	o, err := audit.Run(context.Background(), sdkConfig(t, srv.URL(), akid, secret, ""), audit.Options{
		// --fresh-key-usage: GetAccessKeyLastUsed is called too.
		Collect:   fastCollect(collect.Options{Role: "IAMAuditRole", Concurrency: 8, FreshKeyUsage: true, MaxAttempts: 2}),
		OutputDir: t.TempDir(), Checks: checks.DefaultConfig(), Clock: clock, Out: &out, Err: &errw,
	})
	if err != nil {
		t.Fatalf("audit.Run: %v\n%s", err, errw.String())
	}
	return o
}

// The whole audit runs with exactly the generated policies (`iamaudit policy
// management --self-audit`, `iamaudit policy audit-role`) enforced by the sandbox,
// and is complete; with any one action removed, the run reports the gap naming that
// action (or, for Organizations, fails saying which call was denied).
func TestAuditUnderTheGeneratedPolicies(t *testing.T) {
	mgmtDoc, err := permissions.ManagementPolicy(permissions.ManagementOptions{SelfAudit: true})
	if err != nil {
		t.Fatal(err)
	}
	mgmt := mgmtDoc.Actions()
	role := permissions.AuditRolePolicy(permissions.AuditRoleOptions{}).Actions()

	o := runUnderPolicies(t, mgmt, role)
	if !o.Inventory.Complete() {
		t.Fatalf("the audit under the generated policies is incomplete: %+v", allGaps(o.Inventory))
	}

	for _, tc := range []struct{ removed, from string }{
		{"iam:ListServerCertificates", "role"},
		{"cloudtrail:LookupEvents", "role"},
		{"organizations:DescribeOrganization", "management"},
	} {
		t.Run("without "+tc.removed, func(t *testing.T) {
			m, r := mgmt, role
			if tc.from == "role" {
				r = slices.DeleteFunc(slices.Clone(role), func(a string) bool { return a == tc.removed })
			} else {
				m = slices.DeleteFunc(slices.Clone(mgmt), func(a string) bool { return a == tc.removed })
			}
			o := runUnderPolicies(t, m, r)
			if o.Inventory.Complete() {
				t.Fatalf("complete without %s", tc.removed)
			}
			named := false
			for _, g := range allGaps(o.Inventory) {
				// Organizations' AccessDeniedException does not repeat the action; IAM's
				// and CloudTrail's messages name it.
				if g.Operation == tc.removed && strings.Contains(g.ErrorCode, "AccessDenied") &&
					(tc.from == "management" || strings.Contains(g.Message, "not authorized to perform: "+tc.removed)) {
					named = true
				}
			}
			if !named {
				t.Errorf("no gap names %s: %+v", tc.removed, allGaps(o.Inventory))
			}
		})
	}
}

func allGaps(inv *inventory.Inventory) []inventory.Gap {
	gaps := slices.Clone(inv.Gaps)
	for _, a := range inv.Accounts {
		gaps = append(gaps, a.Gaps...)
	}
	return gaps
}
