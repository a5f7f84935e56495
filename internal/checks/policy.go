package checks

import (
	"regexp"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/policy"
)

var awsManagedRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::aws:policy/(?:.*/)?([^/]+)$`)

// isAWSManaged reports whether arn is the AWS managed policy name, in any partition.
func isAWSManaged(arn, name string) bool {
	m := awsManagedRE.FindStringSubmatch(arn)
	return m != nil && m[1] == name
}

// adminGrants gathers, for one user, where full administrative privileges come from
// (sources) and whether a readable policy takes part of IAM away (denied). A policy
// document that does not parse gives neither: what it allows is unknown, and
// collection records it as a gap (inventory.FieldPolicyDocuments), so its silence is
// never read as "allows nothing".
type adminGrants struct {
	sources []string
	denied  bool
}

// add considers one policy document, named by label.
func (a *adminGrants) add(doc, label string) {
	d, err := policy.Parse(doc)
	if err != nil {
		return
	}
	if d.AllowsAll() {
		a.sources = append(a.sources, label+" (allows * on *)")
	}
	a.denied = a.denied || d.DeniesIAM()
}

// policies considers a set of attached and inline policies (a user's, a group's).
func (a *adminGrants) policies(acct *inventory.Account, prefix string, attached []inventory.AttachedPolicy, inline []inventory.InlinePolicy) {
	for _, p := range attached {
		if isAWSManaged(p.ARN, "AdministratorAccess") {
			a.sources = append(a.sources, prefix+"attached:"+p.Name)
			continue
		}
		for _, mp := range acct.Policies {
			if mp.ARN == p.ARN {
				a.add(mp.Document, prefix+"attached:"+p.Name)
			}
		}
	}
	for _, p := range inline {
		a.add(p.Document, prefix+"inline:"+p.Name)
	}
}

// checkAdminPolicyOnUser: the user's policies, directly or through groups, grant full
// administrative privileges (policy.FullAdmin's rule: every action on every resource,
// with exceptions only outside IAM, and no Deny without Condition taking part of IAM
// away).
func checkAdminPolicyOnUser(_ *inventory.Inventory, acct *inventory.Account, _ time.Time, _ Config) []Finding {
	var out []Finding
	for _, u := range acct.Users {
		var a adminGrants
		a.policies(acct, "", u.AttachedPolicies, u.InlinePolicies)
		for _, gname := range u.Groups {
			for _, g := range acct.Groups {
				if g.Name == gname {
					a.policies(acct, "group "+g.Name+" ", g.AttachedPolicies, g.InlinePolicies)
				}
			}
		}
		if len(a.sources) == 0 || a.denied {
			continue
		}
		src := strings.Join(a.sources, "; ")
		out = append(out, userFinding(acct, u, "User has full administrative privileges ("+src+")",
			map[string]string{"sources": src}, inventory.FieldUserPolicies, inventory.FieldUserGroups, inventory.FieldPolicyDocuments))
	}
	return out
}
