package checks

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

var awsManagedRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::aws:policy/(?:.*/)?([^/]+)$`)

// isAWSManaged reports whether arn is the AWS managed policy name, in any partition.
func isAWSManaged(arn, name string) bool {
	m := awsManagedRE.FindStringSubmatch(arn)
	return m != nil && m[1] == name
}

// oneOrMany decodes a JSON string or array of strings.
type oneOrMany []string

func (o *oneOrMany) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*o = []string{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("want a string or a list of strings: %w", err)
	}
	*o = l
	return nil
}

type statement struct {
	Effect   string    `json:"Effect"`
	Action   oneOrMany `json:"Action"`
	Resource oneOrMany `json:"Resource"`
}

// allowsStarOnStar reports whether a policy document has a statement that allows
// Action "*" on Resource "*". Statement may be an object or an array. A document that
// does not parse allows nothing (it could not be attached in IAM anyway).
func allowsStarOnStar(doc string) bool {
	if strings.TrimSpace(doc) == "" {
		return false
	}
	var d struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if json.Unmarshal([]byte(doc), &d) != nil || len(d.Statement) == 0 {
		return false
	}
	var stmts []statement
	if json.Unmarshal(d.Statement, &stmts) != nil {
		var one statement
		if json.Unmarshal(d.Statement, &one) != nil {
			return false
		}
		stmts = []statement{one}
	}
	for _, s := range stmts {
		if s.Effect == "Allow" && contains(s.Action, "*") && contains(s.Resource, "*") {
			return true
		}
	}
	return false
}

func contains(l []string, v string) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

// adminSources lists where full admin comes from in a set of policies.
func adminSources(acct *inventory.Account, prefix string, attached []inventory.AttachedPolicy, inline []inventory.InlinePolicy) []string {
	var out []string
	for _, p := range attached {
		if isAWSManaged(p.ARN, "AdministratorAccess") {
			out = append(out, prefix+"attached:"+p.Name)
			continue
		}
		for _, mp := range acct.Policies {
			if mp.ARN == p.ARN && allowsStarOnStar(mp.Document) {
				out = append(out, prefix+"attached:"+p.Name+" (allows * on *)")
			}
		}
	}
	for _, p := range inline {
		if allowsStarOnStar(p.Document) {
			out = append(out, prefix+"inline:"+p.Name+" (allows * on *)")
		}
	}
	return out
}

func checkAdminPolicyOnUser(_ *inventory.Inventory, acct *inventory.Account, _ time.Time, _ Config) []Finding {
	var out []Finding
	for _, u := range acct.Users {
		src := adminSources(acct, "", u.AttachedPolicies, u.InlinePolicies)
		for _, gname := range u.Groups {
			for _, g := range acct.Groups {
				if g.Name == gname {
					src = append(src, adminSources(acct, "group "+g.Name+" ", g.AttachedPolicies, g.InlinePolicies)...)
				}
			}
		}
		if len(src) == 0 {
			continue
		}
		out = append(out, userFinding(acct, u, "User has full administrative privileges ("+strings.Join(src, "; ")+")",
			map[string]string{"sources": strings.Join(src, "; ")}, "users"))
	}
	return out
}
