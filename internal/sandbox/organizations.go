package sandbox

import (
	"encoding/json"
	"fmt"
)

// Organizations ListAccounts and friends answer at most 20 items per page.
const orgsMaxResults = 20

type orgsRequest struct {
	MaxResults int    `json:"MaxResults"`
	NextToken  string `json:"NextToken"`
	ParentID   string `json:"ParentId"`
	ChildID    string `json:"ChildId"`
	OUID       string `json:"OrganizationalUnitId"`
}

// serveOrganizations answers the management account and the delegated
// administrators; any other member account may call DescribeOrganization only
// (Organizations API Reference: DescribeOrganization "from any account in a
// organization"; ListAccounts, ListParents, ListOrganizationalUnitsForParent,
// ListRoots, DescribeOrganizationalUnit "from the management account or a member
// account that is a delegated administrator"; docs/permissions.md).
func (c *call) serveOrganizations() *apiError {
	g := c.s.org
	if c.cred.Account != g.mgmtID && !g.delegated[c.cred.Account] && c.op != "DescribeOrganization" {
		return errf(400, "AccessDeniedException", "You don't have permissions to access this resource.")
	}
	var req orgsRequest
	if len(c.body) > 0 {
		if err := json.Unmarshal(c.body, &req); err != nil {
			return errf(400, "SerializationException", "could not parse the request body: %v", err)
		}
	}
	if req.MaxResults < 0 || req.MaxResults > orgsMaxResults {
		return errf(400, "InvalidInputException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to %d", req.MaxResults, orgsMaxResults)
	}
	switch c.op {
	case "DescribeOrganization":
		mgmt := g.byID[g.mgmtID]
		return c.okJSON(map[string]any{"Organization": map[string]any{
			"Id": g.id, "Arn": g.orgArn(), "FeatureSet": "ALL",
			"MasterAccountArn": g.accountArn(g.mgmtID), "MasterAccountId": g.mgmtID, "MasterAccountEmail": mgmt.email,
			"AvailablePolicyTypes": []any{},
		}})
	case "ListRoots":
		return c.okJSON(map[string]any{"Roots": []any{map[string]any{
			"Id": g.rootID, "Name": "Root", "PolicyTypes": []any{},
			"Arn": fmt.Sprintf("arn:%s:organizations::%s:root/%s/%s", g.partition, g.mgmtID, g.id, g.rootID),
		}}})
	case "ListAccounts":
		return c.listAccounts(g.accounts, req)
	case "ListAccountsForParent":
		if !g.isParent(req.ParentID) {
			return errf(400, "ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
		}
		var in []*account
		for _, a := range g.accounts {
			if a.parentID == req.ParentID {
				in = append(in, a)
			}
		}
		return c.listAccounts(in, req)
	case "ListOrganizationalUnitsForParent":
		if !g.isParent(req.ParentID) {
			return errf(400, "ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
		}
		var in []*ou
		for _, o := range g.ous {
			if o.parentID == req.ParentID {
				in = append(in, o)
			}
		}
		start, end, next, ok := page(req.NextToken, len(in), c.s.knobs.pageSize(req.MaxResults, orgsMaxResults, orgsMaxResults))
		if !ok {
			return errf(400, "InvalidInputException", "You specified an invalid value for nextToken.")
		}
		out := []any{}
		for _, o := range in[start:end] {
			out = append(out, g.ouJSON(o))
		}
		return c.okJSON(withToken(map[string]any{"OrganizationalUnits": out}, c.nextToken(req.NextToken, next)))
	case "DescribeOrganizationalUnit":
		o, ok := g.ouByID[req.OUID]
		if !ok {
			return errf(400, "OrganizationalUnitNotFoundException", "We can't find an organizational unit (OU) with the OrganizationalUnitId that you specified.")
		}
		return c.okJSON(map[string]any{"OrganizationalUnit": g.ouJSON(o)})
	case "ListParents":
		var parent string
		if a, ok := g.byID[req.ChildID]; ok {
			parent = a.parentID
		} else if o, ok := g.ouByID[req.ChildID]; ok {
			parent = o.parentID
		} else {
			return errf(400, "ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
		}
		typ := "ORGANIZATIONAL_UNIT"
		if parent == g.rootID {
			typ = "ROOT"
		}
		// One parent: a page of any size holds it, and no NextToken follows.
		if _, _, _, ok := page(req.NextToken, 1, c.s.knobs.pageSize(req.MaxResults, orgsMaxResults, orgsMaxResults)); !ok {
			return errf(400, "InvalidInputException", "You specified an invalid value for nextToken.")
		}
		return c.okJSON(map[string]any{"Parents": []any{map[string]any{"Id": parent, "Type": typ}}})
	}
	return errf(400, "UnknownOperationException", "The sandbox does not implement Organizations %s", c.op)
}

func (c *call) listAccounts(in []*account, req orgsRequest) *apiError {
	start, end, next, ok := page(req.NextToken, len(in), c.s.knobs.pageSize(req.MaxResults, orgsMaxResults, orgsMaxResults))
	if !ok {
		return errf(400, "InvalidInputException", "You specified an invalid value for nextToken.")
	}
	out := []any{}
	for _, a := range in[start:end] {
		out = append(out, map[string]any{
			"Id": a.id, "Arn": c.s.org.accountArn(a.id), "Email": a.email, "Name": a.name,
			// State only: AWS retired the Status field on 2026-09-09, so a client that
			// still reads Status finds it empty here as it would on AWS.
			"State": a.state, "JoinedMethod": joinedMethod(a.id == c.s.org.mgmtID),
			"JoinedTimestamp": float64(a.joined.Unix()),
		})
	}
	return c.okJSON(withToken(map[string]any{"Accounts": out}, c.nextToken(req.NextToken, next)))
}

func withToken(m map[string]any, next string) map[string]any {
	if next != "" {
		m["NextToken"] = next
	}
	return m
}

func joinedMethod(mgmt bool) string {
	if mgmt {
		return "INVITED"
	}
	return "CREATED"
}

func (g *org) orgArn() string {
	return fmt.Sprintf("arn:%s:organizations::%s:organization/%s", g.partition, g.mgmtID, g.id)
}

func (g *org) accountArn(id string) string {
	return fmt.Sprintf("arn:%s:organizations::%s:account/%s/%s", g.partition, g.mgmtID, g.id, id)
}

func (g *org) ouJSON(o *ou) map[string]any {
	return map[string]any{"Id": o.id, "Name": o.name,
		"Arn": fmt.Sprintf("arn:%s:organizations::%s:ou/%s/%s", g.partition, g.mgmtID, g.id, o.id)}
}

func (g *org) isParent(id string) bool {
	_, ok := g.ouByID[id]
	return ok || id == g.rootID
}
