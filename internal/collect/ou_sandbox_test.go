package collect

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// demoOUs reads the demo Organization's root id and OU ids (by name) from the sandbox.
func demoOUs(t *testing.T, cfg aws.Config) (root string, ous map[string]string) {
	t.Helper()
	c := organizations.NewFromConfig(cfg)
	roots, err := c.ListRoots(context.Background(), &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 {
		t.Fatalf("ListRoots: %v %+v", err, roots)
	}
	root = aws.ToString(roots.Roots[0].Id)
	ous = map[string]string{}
	level := []string{root}
	for len(level) > 0 {
		var next []string
		for _, p := range level {
			out, err := c.ListOrganizationalUnitsForParent(context.Background(), &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(p)})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out.OrganizationalUnits {
				ous[aws.ToString(o.Name)] = aws.ToString(o.Id)
				next = append(next, aws.ToString(o.Id))
			}
		}
		level = next
	}
	return root, ous
}

// --ou against the sandbox's demo Organization (internal/scenario/demo.yaml), which
// serves only the calls docs/permissions.md grants (no DescribeOrganizationalUnit).
// Its subject is the OU selection, not pacing: the sandbox and the client are
// unpaced (with the real Organizations limit, 5/s, the raw client's three attempts
// ran out on a loaded machine).
func TestSelectByOUSandbox(t *testing.T) {
	t.Parallel()
	s, cfg := startFastSandbox(t, scenario.Demo())
	root, ous := demoOUs(t, cfg)
	if !strings.HasPrefix(root, "r-") || ous["Workloads"] == "" || ous["Prod"] == "" {
		t.Fatalf("root %q, OUs %v", root, ous)
	}
	org := organizations.NewFromConfig(cfg)
	accounts, err := listAccounts(context.Background(), org, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ous  []string
		want map[string]string // selected account id → OU path ("" for the SUSPENDED account, not looked up)
	}{
		{"the root: every account", []string{root}, map[string]string{
			"210987654321": "Root", "345678901234": "Root/Workloads/Prod", "456789012345": "Root/Workloads/NonProd",
			"567890123456": "Root/Workloads/NonProd", "678901234567": "Root/Sandbox", "789012345678": ""}},
		{"Workloads, recursively", []string{ous["Workloads"]}, map[string]string{
			"345678901234": "Root/Workloads/Prod", "456789012345": "Root/Workloads/NonProd", "567890123456": "Root/Workloads/NonProd", "789012345678": ""}},
		{"Prod and Sandbox", []string{ous["Prod"], ous["Sandbox"]}, map[string]string{
			"345678901234": "Root/Workloads/Prod", "678901234567": "Root/Sandbox", "789012345678": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, gaps := selectAccounts(context.Background(), org, accounts, Options{OUs: tt.ous})
			if len(gaps) != 0 {
				t.Errorf("gaps %+v", gaps)
			}
			paths := map[string]string{}
			for _, a := range got {
				paths[a.ID] = a.OUPath
				if a.Status == inventory.StatusNotAudited {
					t.Errorf("%s not audited: %s", a.ID, a.Reason)
				}
			}
			if len(paths) != len(tt.want) {
				t.Errorf("selected %v, want %v", paths, tt.want)
			}
			for id, p := range tt.want {
				if gp, ok := paths[id]; !ok || gp != p {
					t.Errorf("%s: path %q (selected %v), want %q", id, gp, ok, p)
				}
			}
		})
	}

	// The whole run with --ou: the accounts under it are audited (Production through
	// its role), the SUSPENDED one is skipped, nothing is not_audited for the OU lookup.
	inv, err := Collect(context.Background(), cfg, fastOptions(Options{Role: "IAMAuditRole", OUs: []string{ous["Prod"]},
		EventNames: []string{"CreateUser"}}))
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, a := range inv.Accounts {
		status[a.ID] = a.Status + " " + a.OUPath
	}
	want := map[string]string{"345678901234": "audited Root/Workloads/Prod", "789012345678": "skipped "}
	if len(status) != len(want) || status["345678901234"] != want["345678901234"] || status["789012345678"] != want["789012345678"] {
		t.Errorf("accounts %v, want %v", status, want)
	}
	if n := s.Stats().Calls["210987654321"]["organizations:DescribeOrganizationalUnit"]; n != 0 {
		t.Errorf("DescribeOrganizationalUnit called %d times", n)
	}
}
