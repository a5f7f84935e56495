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
		g := gapFrom("", failDescribeOrg, "", err,
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

// listAccounts returns the Organization's accounts in its order, and gives each page
// to perPage (nil: none) as it arrives. On an error part way it returns what it has
// and the error.
func listAccounts(ctx context.Context, c orgAPI, perPage func([]inventory.Account)) ([]inventory.Account, error) {
	var out []inventory.Account
	p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{},
		func(o *organizations.ListAccountsPaginatorOptions) {
			o.Limit = 20 // the most ListAccounts gives per page (MaxResults 1–20, docs/aws-facts.md)
			o.StopOnDuplicateToken = true
		})
	tk := newTokens(failListAccounts.op)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err == nil {
			err = tk.next(page.NextToken)
		}
		if err != nil {
			return out, err
		}
		got := make([]inventory.Account, 0, len(page.Accounts))
		for _, a := range page.Accounts {
			got = append(got, inventory.Account{
				ID:    aws.ToString(a.Id),
				Name:  aws.ToString(a.Name),
				Email: aws.ToString(a.Email),
				State: accountState(a),
			})
		}
		out = append(out, got...)
		if perPage != nil {
			perPage(got)
		}
	}
	return out, nil
}

// accountState reads State; Status was retired on 2026-09-09 (docs/seed-contract.md), so
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

// selectAccounts applies --accounts, --exclude-accounts and --ou. With --ou, an
// account that is not ACTIVE is kept without any OU lookup (it is reported as
// skipped, never audited); an ACTIVE account is kept when one of its ancestors
// (ListParents, walked up to the root) is one of the OUs, and dropped otherwise.
// The OU path's names come from ListOrganizationalUnitsForParent, from the root
// down, once per run. Both calls are in docs/permissions.md's policy.
func selectAccounts(ctx context.Context, c orgAPI, accounts []inventory.Account, opts Options) ([]inventory.Account, []inventory.Gap) {
	gaps := missingAccounts(accounts, opts)
	var out []inventory.Account
	var tree *ouTree
	if len(opts.OUs) > 0 {
		tree = newOUTree(c)
	}
	for _, a := range pickedByID(accounts, opts) {
		if tree != nil && a.State == "ACTIVE" {
			ids, err := tree.ancestors(ctx, a.ID)
			if err != nil {
				// Cannot tell whether it is under the OUs: keep it visible rather than
				// silently dropping it.
				a.Status = inventory.StatusNotAudited
				a.Reason = fmt.Sprintf("cannot tell whether the account is under --ou %s: %v; grant organizations:ListParents (docs/permissions.md), or select accounts with --accounts",
					strings.Join(opts.OUs, ","), err)
				out = append(out, a)
				continue
			}
			if !intersects(ids, opts.OUs) {
				continue
			}
			a.OUPath = tree.path(ctx, ids)
		}
		out = append(out, a)
	}
	if tree != nil && tree.namesErr != nil {
		gaps = append(gaps, gapFrom("", failOUNames, "", tree.namesErr,
			"OU names are unknown: OU paths show OU ids"))
	}
	return out, gaps
}

// missingAccounts are the gaps of the --accounts ids the Organization's list lacks.
func missingAccounts(accounts []inventory.Account, opts Options) []inventory.Gap {
	var gaps []inventory.Gap
	present := map[string]bool{}
	for _, a := range accounts {
		present[a.ID] = true
	}
	for _, id := range opts.Accounts {
		if !present[id] {
			gaps = append(gaps, noteGap(id, inventory.SectionOrganization, []inventory.Field{inventory.FieldAccount},
				fmt.Sprintf("account %s was asked for (--accounts) but is not in the Organization's account list", id)))
		}
	}
	return gaps
}

// pickedByID keeps the accounts --accounts and --exclude-accounts select, in order.
func pickedByID(accounts []inventory.Account, opts Options) []inventory.Account {
	var out []inventory.Account
	for _, a := range accounts {
		if len(opts.Accounts) > 0 && !slices.Contains(opts.Accounts, a.ID) {
			continue
		}
		if slices.Contains(opts.ExcludeAccounts, a.ID) {
			continue
		}
		out = append(out, a)
	}
	return out
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// ouTree resolves an account's ancestors, caching what it learns during one run.
type ouTree struct {
	c      orgAPI
	parent map[string]string // child id → parent id (ListParents)
	// name maps OU id → name (ListOrganizationalUnitsForParent from the root down),
	// read once, when the first path is needed; namesErr is why it failed.
	name     map[string]string
	namesErr error
}

func newOUTree(c orgAPI) *ouTree {
	return &ouTree{c: c, parent: map[string]string{}}
}

// ancestors returns the ids of the account's ancestors, root first.
func (t *ouTree) ancestors(ctx context.Context, accountID string) ([]string, error) {
	var ids []string
	id := accountID
	for depth := 0; depth < 10; depth++ { // Organizations nests OUs at most 5 deep
		pid, err := t.parentOf(ctx, id)
		if err != nil {
			return nil, err
		}
		if pid == "" {
			break
		}
		ids = append([]string{pid}, ids...)
		if strings.HasPrefix(pid, "r-") {
			break
		}
		id = pid
	}
	return ids, nil
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

// path names the ancestors ("Root/Workloads/Prod"); an OU whose name could not be
// read shows its id.
func (t *ouTree) path(ctx context.Context, ids []string) string {
	if t.name == nil && len(ids) > 0 && strings.HasPrefix(ids[0], "r-") {
		t.name, t.namesErr = ouNames(ctx, t.c, ids[0])
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		switch n, ok := t.name[id]; {
		case strings.HasPrefix(id, "r-"):
			names[i] = "Root"
		case ok:
			names[i] = n
		default:
			names[i] = id
		}
	}
	return strings.Join(names, "/")
}

// ouNames lists every OU under root, level by level. On an error it returns the names
// read so far and the error.
func ouNames(ctx context.Context, c orgAPI, root string) (map[string]string, error) {
	names := map[string]string{}
	level := []string{root}
	for depth := 0; depth < 10 && len(level) > 0; depth++ { // OUs nest at most 5 deep
		var next []string
		for _, parent := range level {
			p := organizations.NewListOrganizationalUnitsForParentPaginator(c, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent)},
				func(o *organizations.ListOrganizationalUnitsForParentPaginatorOptions) {
					o.Limit = 20 // the most Organizations list calls give per page (docs/aws-facts.md)
					o.StopOnDuplicateToken = true
				})
			tk := newTokens(failOUNames.op)
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err == nil {
					err = tk.next(page.NextToken)
				}
				if err != nil {
					return names, fmt.Errorf("organizations:ListOrganizationalUnitsForParent %s: %w", parent, err)
				}
				for _, ou := range page.OrganizationalUnits {
					id := aws.ToString(ou.Id)
					names[id] = aws.ToString(ou.Name)
					next = append(next, id)
				}
			}
		}
		level = next
	}
	return names, nil
}
