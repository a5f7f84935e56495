package checks

import (
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/fix/awscli"
	"github.com/iamaudit/iamaudit/internal/inventory"
)

// Remediation commands and fallback ARNs follow the audited partition, region and role.
func TestCommandsFollowPartitionRegionAndRole(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct{ partition, region, role string }{
		{"aws", "us-east-1", "IAMAuditRole"},
		{"aws-us-gov", "us-gov-west-1", "AuditorRole"},
		{"aws-cn", "cn-north-1", "OrganizationAccountAccessRole"},
		{"aws-us-gov", "", "AuditorRole"}, // an inventory without a region: the partition's home region
	} {
		t.Run(tt.partition+"/"+tt.region, func(t *testing.T) {
			t.Parallel()
			inv := &inventory.Inventory{Partition: tt.partition, Region: tt.region, AuditRole: tt.role, Accounts: []inventory.Account{
				{ID: "111122223333", Name: "Prod", State: "ACTIVE", Status: inventory.StatusAudited, PasswordPolicyKnown: true,
					Root: &inventory.Root{MFAType: inventory.MFANone}},
				{ID: "444455556666", Name: "Sandbox", State: "ACTIVE", Status: inventory.StatusNotAudited, Reason: "AccessDenied"},
			}}
			home := inventory.HomeRegion(tt.partition)
			findings := Run(inv, now, DefaultConfig())
			if len(findings) == 0 {
				t.Fatal("no findings")
			}
			sawRole := false
			for _, f := range findings {
				for _, a := range f.Remediation.Actions {
					if a.Partition != tt.partition || a.Region != home {
						t.Errorf("%s: action in %s/%s, want %s/%s", f.CheckID, a.Partition, a.Region, tt.partition, home)
					}
				}
				all := f.Resource + "\n" + strings.Join(awscli.Commands(f.Remediation.Actions), "\n")
				if tt.partition != "aws" && strings.Contains(all, "arn:aws:") {
					t.Errorf("%s: aws partition ARN in %s", f.CheckID, all)
				}
				if home != "us-east-1" && strings.Contains(all, "us-east-1") {
					t.Errorf("%s: us-east-1 in %s", f.CheckID, all)
				}
				if strings.Contains(all, "ROLE_NAME") {
					t.Errorf("%s: role placeholder left in %s", f.CheckID, all)
				}
				if f.CheckID == "account_not_audited" && strings.Contains(all, ":role/"+tt.role+" ") {
					sawRole = true
				}
			}
			if !sawRole {
				t.Errorf("account_not_audited does not name the role %s", tt.role)
			}
		})
	}
}

// Defect 2 of issue 7: in GovCloud and China the commands were rewritten by string
// replacement, which renamed a user called ci-us-east-1 to ci-us-gov-west-1 (and a user
// called ROLE_NAME to the audit role). Names come through unchanged.
func TestCommandsKeepNamesThatLookLikeRegions(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, partition := range []string{"aws-us-gov", "aws-cn"} {
		inv := &inventory.Inventory{Partition: partition, Region: inventory.HomeRegion(partition), AuditRole: "AuditorRole", Accounts: []inventory.Account{
			{ID: "111122223333", Name: "Prod", State: "ACTIVE", Status: inventory.StatusAudited, PasswordPolicyKnown: true, Users: []inventory.User{
				{Name: "ci-us-east-1", ARN: "arn:" + partition + ":iam::111122223333:user/ci-us-east-1", CreatedAt: now.AddDate(-1, 0, 0), PasswordEnabled: true},
				{Name: "ROLE_NAME", ARN: "arn:" + partition + ":iam::111122223333:user/ROLE_NAME", CreatedAt: now.AddDate(-1, 0, 0), PasswordEnabled: true},
			}}}}
		seen := map[string]int{}
		for _, f := range Run(inv, now, DefaultConfig()) {
			if f.User == "" {
				continue
			}
			for _, c := range awscli.Commands(f.Remediation.Actions) {
				if strings.Contains(c, "--user-name") {
					seen[f.User]++
					if !strings.Contains(c, "--user-name "+f.User+" ") {
						t.Errorf("%s %s: command does not name user %s: %s", partition, f.CheckID, f.User, c)
					}
				}
			}
			for _, a := range f.Remediation.Actions {
				if a.Resource.UserName != "" && a.Resource.UserName != f.User {
					t.Errorf("%s %s: action on user %q, want %q", partition, f.CheckID, a.Resource.UserName, f.User)
				}
			}
		}
		for _, u := range []string{"ci-us-east-1", "ROLE_NAME"} {
			if seen[u] == 0 {
				t.Errorf("%s: no command for user %s", partition, u)
			}
		}
	}
}

// Every check plans at least one action for a finding, and only the checks plan: the
// commands are rendered by the reports.
func TestEveryCheckPlans(t *testing.T) {
	t.Parallel()
	for _, c := range All() {
		f := Finding{CheckID: c.ID, AccountID: "111122223333", User: "u", ResourceType: ResourceUser, Resource: "arn:aws:iam::111122223333:user/u"}
		if len(fix.Plan(c.Fix, subject(f, &inventory.Account{}, DefaultConfig()), target(&inventory.Inventory{}))) == 0 {
			t.Errorf("%s: recipe %q plans nothing", c.ID, c.Fix)
		}
	}
}
