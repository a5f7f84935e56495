package sandbox

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// TestOrganizationalUnitsWithPageCapOne walks the OU tree as a tool resolving OU
// paths does: ListOrganizationalUnitsForParent and ListParents page by page with a
// page cap of 1, and DescribeOrganizationalUnit for the names.
func TestOrganizationalUnitsWithPageCapOne(t *testing.T) {
	sc := testScenario()
	sc.Organization.OUs = append(sc.Organization.OUs, scenario.OU{Name: "Sandbox"}, scenario.OU{Name: "Security"}, scenario.OU{Name: "Dev", Parent: "Workloads"})
	s := startTest(t, sc, nil, &scenario.Knobs{PageCap: 1})
	org := organizations.NewFromConfig(mgmtConfig(s))
	c := ctx(t)
	roots, err := org.ListRoots(c, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	rootID := aws.ToString(roots.Roots[0].Id)

	// The root holds Workloads, Sandbox and Security: three pages of one.
	names := map[string]string{} // id -> name, from the listing
	var under []string
	items, pages := drain(c, t, organizations.NewListOrganizationalUnitsForParentPaginator(org, &organizations.ListOrganizationalUnitsForParentInput{ParentId: &rootID}),
		func(o *organizations.ListOrganizationalUnitsForParentOutput) int {
			for _, u := range o.OrganizationalUnits {
				names[aws.ToString(u.Id)] = aws.ToString(u.Name)
				under = append(under, aws.ToString(u.Name))
			}
			return len(o.OrganizationalUnits)
		})
	if items != 3 || pages != 3 {
		t.Fatalf("OUs under the root: %d in %d pages (%v), want 3 in 3", items, pages, under)
	}

	// Production sits in Workloads/Prod: climb with ListParents, name each OU with
	// DescribeOrganizationalUnit.
	var path, pathIDs []string
	child := prodID
	for hops := 0; child != rootID; hops++ {
		if hops > 5 {
			t.Fatalf("no root after %v", path)
		}
		n, p := drain(c, t, organizations.NewListParentsPaginator(org, &organizations.ListParentsInput{ChildId: aws.String(child)}),
			func(o *organizations.ListParentsOutput) int {
				if len(o.Parents) == 1 {
					child = aws.ToString(o.Parents[0].Id)
				}
				return len(o.Parents)
			})
		if n != 1 || p != 1 {
			t.Fatalf("ListParents: %d parents in %d pages, want 1 in 1", n, p)
		}
		if child == rootID {
			break
		}
		ou, err := org.DescribeOrganizationalUnit(c, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(child)})
		if err != nil {
			t.Fatalf("describe %s: %v", child, err)
		}
		u := ou.OrganizationalUnit
		if aws.ToString(u.Id) != child || aws.ToString(u.Arn) != "arn:aws:organizations::"+mgmtID+":ou/o-test000001/"+child {
			t.Fatalf("describe %s: %+v", child, u)
		}
		path = append([]string{aws.ToString(u.Name)}, path...)
		pathIDs = append([]string{child}, pathIDs...)
	}
	if len(path) != 2 || path[0] != "Workloads" || path[1] != "Prod" {
		t.Fatalf("OU path of Production: %v, want [Workloads Prod]", path)
	}
	for id, n := range names {
		ou, err := org.DescribeOrganizationalUnit(c, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(id)})
		if err != nil || aws.ToString(ou.OrganizationalUnit.Name) != n {
			t.Fatalf("describe %s: %v, want name %s", id, err, n)
		}
	}

	t.Run("unknown OU", func(t *testing.T) {
		_, err := org.DescribeOrganizationalUnit(c, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String("ou-zzzz-zzzzzzzz")})
		wantAPIError(t, err, "OrganizationalUnitNotFoundException")
	})
	t.Run("member account", func(t *testing.T) {
		_, err := organizations.NewFromConfig(assume(t, s, prodID, 900)).DescribeOrganizationalUnit(c,
			&organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(pathIDs[0])})
		wantAPIError(t, err, "AccessDeniedException")
	})
}
