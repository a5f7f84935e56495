package collect

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

func describeOrganization(ctx context.Context, c orgAPI) (*inventory.Organization, *inventory.Gap) {
	out, err := c.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		g := gapFrom("", "organization", "", "organizations:DescribeOrganization", err,
			"the Organization (and so its management account) is unknown")
		return nil, &g
	}
	if out.Organization == nil {
		return nil, nil
	}
	return &inventory.Organization{
		ID:                  aws.ToString(out.Organization.Id),
		ARN:                 aws.ToString(out.Organization.Arn),
		ManagementAccountID: aws.ToString(out.Organization.MasterAccountId),
	}, nil
}

// listAccounts returns the Organization's accounts in its order. On an error part
// way it returns what it has and the error.
func listAccounts(ctx context.Context, c orgAPI) ([]inventory.Account, error) {
	var out []inventory.Account
	p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{},
		func(o *organizations.ListAccountsPaginatorOptions) {
			o.Limit = 20 // the most ListAccounts gives per page (MaxResults 1–20, aws-facts.md)
			o.StopOnDuplicateToken = true
		})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, a := range page.Accounts {
			out = append(out, inventory.Account{
				ID:    aws.ToString(a.Id),
				Name:  aws.ToString(a.Name),
				Email: aws.ToString(a.Email),
				State: accountState(a),
			})
		}
	}
	return out, nil
}

// accountState reads State; Status was retired on 2026-09-09 (seed-contract.md), so
// it is only a fallback for endpoints that still send nothing else.
func accountState(a orgtypes.Account) string {
	if a.State != "" {
		return string(a.State)
	}
	if a.Status != "" {
		return string(a.Status)
	}
	return ""
}

// selectAccounts applies --accounts, --exclude-accounts and --ou. OU paths are
// resolved only when --ou is used (one ListParents per account, OUs cached).
func selectAccounts(ctx context.Context, c orgAPI, accounts []inventory.Account, opts Options) ([]inventory.Account, []inventory.Gap) {
	var gaps []inventory.Gap
	present := map[string]bool{}
	for _, a := range accounts {
		present[a.ID] = true
	}
	for _, id := range opts.Accounts {
		if !present[id] {
			gaps = append(gaps, inventory.Gap{AccountID: id, Section: "organization",
				Message: fmt.Sprintf("account %s was asked for (--accounts) but is not in the Organization's account list", id)})
		}
	}
	var out []inventory.Account
	var tree *ouTree
	if len(opts.OUs) > 0 {
		tree = newOUTree(c)
	}
	for _, a := range accounts {
		if len(opts.Accounts) > 0 && !slices.Contains(opts.Accounts, a.ID) {
			continue
		}
		if slices.Contains(opts.ExcludeAccounts, a.ID) {
			continue
		}
		if tree != nil {
			ids, names, err := tree.ancestors(ctx, a.ID)
			if err != nil {
				// Cannot tell whether it is under the OUs: keep it visible rather than
				// silently dropping it.
				a.Status = inventory.StatusNotAudited
				a.Reason = fmt.Sprintf("cannot tell whether the account is under --ou %s: %v; grant organizations:ListParents and organizations:DescribeOrganizationalUnit, or select accounts with --accounts",
					strings.Join(opts.OUs, ","), err)
				out = append(out, a)
				continue
			}
			if !intersects(ids, opts.OUs) {
				continue
			}
			a.OUPath = strings.Join(names, "/")
		}
		out = append(out, a)
	}
	return out, gaps
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// ouTree resolves an account's ancestors (root first), caching what it learns.
type ouTree struct {
	c      orgAPI
	parent map[string]string // child id → parent id
	name   map[string]string // parent id → name
}

func newOUTree(c orgAPI) *ouTree {
	return &ouTree{c: c, parent: map[string]string{}, name: map[string]string{}}
}

// ancestors returns the ids and names of the account's ancestors, root first.
func (t *ouTree) ancestors(ctx context.Context, accountID string) ([]string, []string, error) {
	var ids, names []string
	id := accountID
	for depth := 0; depth < 10; depth++ { // Organizations nests OUs at most 5 deep
		pid, err := t.parentOf(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		if pid == "" {
			break
		}
		name, err := t.nameOf(ctx, pid)
		if err != nil {
			return nil, nil, err
		}
		ids = append([]string{pid}, ids...)
		names = append([]string{name}, names...)
		if strings.HasPrefix(pid, "r-") {
			break
		}
		id = pid
	}
	return ids, names, nil
}

func (t *ouTree) parentOf(ctx context.Context, id string) (string, error) {
	if p, ok := t.parent[id]; ok {
		return p, nil
	}
	out, err := t.c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("organizations:ListParents %s: %w", id, err)
	}
	p := ""
	if len(out.Parents) > 0 {
		p = aws.ToString(out.Parents[0].Id)
	}
	t.parent[id] = p
	return p, nil
}

func (t *ouTree) nameOf(ctx context.Context, id string) (string, error) {
	if strings.HasPrefix(id, "r-") {
		return "Root", nil
	}
	if n, ok := t.name[id]; ok {
		return n, nil
	}
	out, err := t.c.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("organizations:DescribeOrganizationalUnit %s: %w", id, err)
	}
	n := id
	if out.OrganizationalUnit != nil && out.OrganizationalUnit.Name != nil {
		n = *out.OrganizationalUnit.Name
	}
	t.name[id] = n
	return n, nil
}
