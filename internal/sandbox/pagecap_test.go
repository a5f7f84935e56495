package sandbox

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

func TestPageCapOneStillReturnsEverything(t *testing.T) {
	s := startTest(t, testScenario(), nil, &scenario.Knobs{PageCap: 1})
	cfg := assumeRole(t, s, prodID, adminRole, 3600) // ListUserTags and friends are beyond the read-only audit role
	org := organizations.NewFromConfig(mgmtConfig(s))
	ic := iam.NewFromConfig(cfg)
	mgmtIAM := iam.NewFromConfig(mgmtConfig(s))
	ct := cloudtrail.NewFromConfig(cfg)
	roots, err := org.ListRoots(ctx(t), &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	rootID := roots.Roots[0].Id
	alice := aws.String("alice")
	admin := aws.String("arn:aws:iam::aws:policy/AdministratorAccess")
	c := ctx(t)
	cases := []struct {
		name string
		want int
		run  func() (items, pages int)
	}{
		{"ListAccounts", 25, func() (int, int) {
			return drain(c, t, organizations.NewListAccountsPaginator(org, &organizations.ListAccountsInput{}), func(o *organizations.ListAccountsOutput) int { return len(o.Accounts) })
		}},
		{"ListAccountsForParent", 24, func() (int, int) {
			return drain(c, t, organizations.NewListAccountsForParentPaginator(org, &organizations.ListAccountsForParentInput{ParentId: rootID}), func(o *organizations.ListAccountsForParentOutput) int { return len(o.Accounts) })
		}},
		{"ListOrganizationalUnitsForParent", 1, func() (int, int) {
			return drain(c, t, organizations.NewListOrganizationalUnitsForParentPaginator(org, &organizations.ListOrganizationalUnitsForParentInput{ParentId: rootID}), func(o *organizations.ListOrganizationalUnitsForParentOutput) int { return len(o.OrganizationalUnits) })
		}},
		{"ListUsers", 3, func() (int, int) {
			return drain(c, t, iam.NewListUsersPaginator(ic, &iam.ListUsersInput{}), func(o *iam.ListUsersOutput) int { return len(o.Users) })
		}},
		{"ListAccessKeys", 2, func() (int, int) {
			return drain(c, t, iam.NewListAccessKeysPaginator(ic, &iam.ListAccessKeysInput{UserName: alice}), func(o *iam.ListAccessKeysOutput) int { return len(o.AccessKeyMetadata) })
		}},
		{"ListMFADevices", 2, func() (int, int) {
			return drain(c, t, iam.NewListMFADevicesPaginator(ic, &iam.ListMFADevicesInput{UserName: alice}), func(o *iam.ListMFADevicesOutput) int { return len(o.MFADevices) })
		}},
		{"ListVirtualMFADevices", 2, func() (int, int) {
			return drain(c, t, iam.NewListVirtualMFADevicesPaginator(ic, &iam.ListVirtualMFADevicesInput{}), func(o *iam.ListVirtualMFADevicesOutput) int { return len(o.VirtualMFADevices) })
		}},
		{"GetAccountAuthorizationDetails", 3 + 2 + 3 + 1 + 3, func() (int, int) {
			return drain(c, t, iam.NewGetAccountAuthorizationDetailsPaginator(ic, &iam.GetAccountAuthorizationDetailsInput{}), func(o *iam.GetAccountAuthorizationDetailsOutput) int {
				return len(o.UserDetailList) + len(o.GroupDetailList) + len(o.RoleDetailList) + len(o.Policies)
			})
		}},
		{"ListUserTags", 3, func() (int, int) {
			return drain(c, t, iam.NewListUserTagsPaginator(ic, &iam.ListUserTagsInput{UserName: alice}), func(o *iam.ListUserTagsOutput) int { return len(o.Tags) })
		}},
		{"ListGroupsForUser", 2, func() (int, int) {
			return drain(c, t, iam.NewListGroupsForUserPaginator(ic, &iam.ListGroupsForUserInput{UserName: alice}), func(o *iam.ListGroupsForUserOutput) int { return len(o.Groups) })
		}},
		{"ListAttachedUserPolicies", 2, func() (int, int) {
			return drain(c, t, iam.NewListAttachedUserPoliciesPaginator(ic, &iam.ListAttachedUserPoliciesInput{UserName: alice}), func(o *iam.ListAttachedUserPoliciesOutput) int { return len(o.AttachedPolicies) })
		}},
		{"ListUserPolicies", 2, func() (int, int) {
			return drain(c, t, iam.NewListUserPoliciesPaginator(ic, &iam.ListUserPoliciesInput{UserName: alice}), func(o *iam.ListUserPoliciesOutput) int { return len(o.PolicyNames) })
		}},
		{"ListServerCertificates", 2, func() (int, int) {
			return drain(c, t, iam.NewListServerCertificatesPaginator(ic, &iam.ListServerCertificatesInput{}), func(o *iam.ListServerCertificatesOutput) int { return len(o.ServerCertificateMetadataList) })
		}},
		{"ListEntitiesForPolicy", 2, func() (int, int) {
			return drain(c, t, iam.NewListEntitiesForPolicyPaginator(ic, &iam.ListEntitiesForPolicyInput{PolicyArn: admin}), func(o *iam.ListEntitiesForPolicyOutput) int {
				return len(o.PolicyUsers) + len(o.PolicyGroups) + len(o.PolicyRoles)
			})
		}},
		{"ListRoles", 3, func() (int, int) {
			return drain(c, t, iam.NewListRolesPaginator(ic, &iam.ListRolesInput{}), func(o *iam.ListRolesOutput) int { return len(o.Roles) })
		}},
		{"ListGroups", 2, func() (int, int) {
			return drain(c, t, iam.NewListGroupsPaginator(ic, &iam.ListGroupsInput{}), func(o *iam.ListGroupsOutput) int { return len(o.Groups) })
		}},
		{"ListVirtualMFADevices(management)", 1, func() (int, int) {
			return drain(c, t, iam.NewListVirtualMFADevicesPaginator(mgmtIAM, &iam.ListVirtualMFADevicesInput{}), func(o *iam.ListVirtualMFADevicesOutput) int { return len(o.VirtualMFADevices) })
		}},
		{"LookupEvents", 4, func() (int, int) {
			return drain(c, t, cloudtrail.NewLookupEventsPaginator(ct, &cloudtrail.LookupEventsInput{}), func(o *cloudtrail.LookupEventsOutput) int { return len(o.Events) })
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			items, pages := tc.run()
			if items != tc.want {
				t.Fatalf("got %d items, want %d", items, tc.want)
			}
			if tc.want > 1 && pages < tc.want {
				t.Fatalf("%d items in %d pages: the page cap of 1 was not applied", items, pages)
			}
		})
	}
}

// pager is an SDK paginator of outputs O; F is its service's option function type.
type pager[O, F any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...F) (*O, error)
}

// drain reads every page of p and counts the items (n of each page) and pages.
func drain[O, F any](c context.Context, t *testing.T, p pager[O, F], n func(*O) int) (items, pages int) {
	t.Helper()
	for p.HasMorePages() {
		o, err := p.NextPage(c)
		if err != nil {
			t.Fatal(err)
		}
		items += n(o)
		pages++
		if pages > 1000 {
			t.Fatal("paginator does not end")
		}
	}
	return items, pages
}
