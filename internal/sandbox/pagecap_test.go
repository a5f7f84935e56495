package sandbox

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

func TestPageCapOneStillReturnsEverything(t *testing.T) {
	s := startTest(t, testScenario(), nil, &scenario.Knobs{PageCap: 1})
	cfg := assume(t, s, prodID, 3600)
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
			p := organizations.NewListAccountsPaginator(org, &organizations.ListAccountsInput{})
			return drainPages(t, p, func() (int, error) {
				o, err := p.NextPage(c)
				return lenOr(o, err, func() int { return len(o.Accounts) })
			})
		}},
		{"ListAccountsForParent", 24, func() (int, int) {
			p := organizations.NewListAccountsForParentPaginator(org, &organizations.ListAccountsForParentInput{ParentId: rootID})
			return drainPages(t, p, func() (int, error) {
				o, err := p.NextPage(c)
				return lenOr(o, err, func() int { return len(o.Accounts) })
			})
		}},
		{"ListOrganizationalUnitsForParent", 1, func() (int, int) {
			p := organizations.NewListOrganizationalUnitsForParentPaginator(org, &organizations.ListOrganizationalUnitsForParentInput{ParentId: rootID})
			return drainPages(t, p, func() (int, error) {
				o, err := p.NextPage(c)
				return lenOr(o, err, func() int { return len(o.OrganizationalUnits) })
			})
		}},
		{"ListUsers", 3, func() (int, int) {
			p := iam.NewListUsersPaginator(ic, &iam.ListUsersInput{})
			return drainPages(t, p, func() (int, error) { o, err := p.NextPage(c); return lenOr(o, err, func() int { return len(o.Users) }) })
		}},
		{"ListAccessKeys", 2, func() (int, int) {
			p := iam.NewListAccessKeysPaginator(ic, &iam.ListAccessKeysInput{UserName: alice})
			return drainPages(t, p, func() (int, error) {
				o, err := p.NextPage(c)
				return lenOr(o, err, func() int { return len(o.AccessKeyMetadata) })
			})
		}},
		{"ListMFADevices", 2, func() (int, int) {
			p := iam.NewListMFADevicesPaginator(ic, &iam.ListMFADevicesInput{UserName: alice})
			return drainPages(t, p, func() (int, error) {
				o, err := p.NextPage(c)
				return lenOr(o, err, func() int { return len(o.MFADevices) })
			})
		}},
		{"ListVirtualMFADevices", 2, func() (int, int) {
			p := iam.NewListVirtualMFADevicesPaginator(ic, &iam.ListVirtualMFADevicesInput{})
			return drainPages(t, p, func() (int, error) {
				o, err := p.NextPage(c)
				return lenOr(o, err, func() int { return len(o.VirtualMFADevices) })
			})
		}},
		{"GetAccountAuthorizationDetails", 3 + 2 + 3 + 1 + 3, func() (int, int) {
			p := iam.NewGetAccountAuthorizationDetailsPaginator(ic, &iam.GetAccountAuthorizationDetailsInput{})
			return drainPages(t, p, func() (int, error) {
				o, err := p.NextPage(c)
				return lenOr(o, err, func() int {
					return len(o.UserDetailList) + len(o.GroupDetailList) + len(o.RoleDetailList) + len(o.Policies)
				})
			})
		}},
		{"ListUserTags", 3, func() (int, int) {
			p := iam.NewListUserTagsPaginator(ic, &iam.ListUserTagsInput{UserName: alice})
			return drainPages(t, p, func() (int, error) { o, err := p.NextPage(c); return lenOr(o, err, func() int { return len(o.Tags) }) })
		}},
		{"ListGroupsForUser", 2, func() (int, int) {
			p := iam.NewListGroupsForUserPaginator(ic, &iam.ListGroupsForUserInput{UserName: alice})
			return drainPages(t, p, func() (int, error) {
				o, err := p.NextPage(c)
				return lenOr(o, err, func() int { return len(o.Groups) })
			})
		}},
		{"ListAttachedUserPolicies", 2, func() (int, int) {
			p := iam.NewListAttachedUserPoliciesPaginator(ic, &iam.ListAttachedUserPoliciesInput{UserName: alice})
			return drainPages(t, p, func() (int, error) {
				o, err := p.NextPage(c)
				return lenOr(o, err, func() int { return len(o.AttachedPolicies) })
			})
		}},
		{"ListUserPolicies", 2, func() (int, int) {
			p := iam.NewListUserPoliciesPaginator(ic, &iam.ListUserPoliciesInput{UserName: alice})
			return drainPages(t, p, func() (int, error) {
				o, err := p.NextPage(c)
				return lenOr(o, err, func() int { return len(o.PolicyNames) })
			})
		}},
		{"ListServerCertificates", 2, func() (int, int) {
			p := iam.NewListServerCertificatesPaginator(ic, &iam.ListServerCertificatesInput{})
			return drainPages(t, p, func() (int, error) {
				o, err := p.NextPage(c)
				return lenOr(o, err, func() int { return len(o.ServerCertificateMetadataList) })
			})
		}},
		{"ListEntitiesForPolicy", 2, func() (int, int) {
			p := iam.NewListEntitiesForPolicyPaginator(ic, &iam.ListEntitiesForPolicyInput{PolicyArn: admin})
			return drainPages(t, p, func() (int, error) {
				o, err := p.NextPage(c)
				return lenOr(o, err, func() int { return len(o.PolicyUsers) + len(o.PolicyGroups) + len(o.PolicyRoles) })
			})
		}},
		{"ListRoles", 3, func() (int, int) {
			p := iam.NewListRolesPaginator(ic, &iam.ListRolesInput{})
			return drainPages(t, p, func() (int, error) { o, err := p.NextPage(c); return lenOr(o, err, func() int { return len(o.Roles) }) })
		}},
		{"ListGroups", 2, func() (int, int) {
			p := iam.NewListGroupsPaginator(ic, &iam.ListGroupsInput{})
			return drainPages(t, p, func() (int, error) {
				o, err := p.NextPage(c)
				return lenOr(o, err, func() int { return len(o.Groups) })
			})
		}},
		{"ListVirtualMFADevices(management)", 1, func() (int, int) {
			p := iam.NewListVirtualMFADevicesPaginator(mgmtIAM, &iam.ListVirtualMFADevicesInput{})
			return drainPages(t, p, func() (int, error) {
				o, err := p.NextPage(c)
				return lenOr(o, err, func() int { return len(o.VirtualMFADevices) })
			})
		}},
		{"LookupEvents", 4, func() (int, int) {
			p := cloudtrail.NewLookupEventsPaginator(ct, &cloudtrail.LookupEventsInput{})
			return drainPages(t, p, func() (int, error) {
				o, err := p.NextPage(c)
				return lenOr(o, err, func() int { return len(o.Events) })
			})
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

func lenOr[O any](o O, err error, n func() int) (int, error) {
	if err != nil {
		return 0, err
	}
	return n(), nil
}

func drainPages(t *testing.T, p interface{ HasMorePages() bool }, next func() (int, error)) (items, pages int) {
	t.Helper()
	for p.HasMorePages() {
		n, err := next()
		if err != nil {
			t.Fatal(err)
		}
		items += n
		pages++
		if pages > 1000 {
			t.Fatal("paginator does not end")
		}
	}
	return items, pages
}
