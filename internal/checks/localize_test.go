package checks

import (
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// Remediation commands and fallback ARNs follow the audited partition, region and role.
func TestCommandsFollowPartitionRegionAndRole(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct{ partition, region, role string }{
		{"aws", "us-east-1", "IAMAuditRole"},
		{"aws-us-gov", "us-gov-west-1", "AuditorRole"},
		{"aws-cn", "cn-north-1", "OrganizationAccountAccessRole"},
	} {
		t.Run(tt.partition, func(t *testing.T) {
			inv := &inventory.Inventory{Partition: tt.partition, Region: tt.region, AuditRole: tt.role, Accounts: []inventory.Account{
				{ID: "111122223333", Name: "Prod", State: "ACTIVE", Status: inventory.StatusAudited, PasswordPolicyKnown: true,
					Root: &inventory.Root{MFAType: inventory.MFANone}},
				{ID: "444455556666", Name: "Sandbox", State: "ACTIVE", Status: inventory.StatusNotAudited, Reason: "AccessDenied"},
			}}
			findings := Run(inv, now, DefaultConfig())
			if len(findings) == 0 {
				t.Fatal("no findings")
			}
			sawRole := false
			for _, f := range findings {
				all := f.Resource + "\n" + strings.Join(f.Remediation.Commands, "\n")
				if tt.partition != "aws" && strings.Contains(all, "arn:aws:") {
					t.Errorf("%s: aws partition ARN in %s", f.CheckID, all)
				}
				if tt.region != "us-east-1" && strings.Contains(all, "us-east-1") {
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
