package permissions

import (
	"slices"

	"github.com/iamaudit/iamaudit/internal/fix"
)

// remediationSubjects cover every branch of fix.Plan: a user with a key id, attached
// and inline policies; a user whose key has no id; a group; a role. Planning every
// recipe on each gives every operation a remediation can make (a test checks that
// every fix.API the package declares is reached).
var remediationSubjects = []fix.Subject{
	{AccountID: "111122223333", User: "u", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", ServerCertificate: "c",
		AttachedPolicies: []fix.Policy{{Name: "p", ARN: "arn:aws:iam::111122223333:policy/p"}}, InlinePolicies: []string{"i"}},
	{AccountID: "111122223333", User: "u"},
	{AccountID: "111122223333", Group: "g"},
	{AccountID: "111122223333", Role: "r"},
}

// RemediationActions are the operations the remediation of every fix recipe makes
// with credentials of the given kind (fix.InAccount: the remediation role in each
// account; fix.InManagement: the management identity), reads and writes, derived
// from fix.Recipes and fix.Plan so that the role cannot drift from the fixes. Manual
// steps (the root user's console) need no permission.
func RemediationActions(creds fix.Credentials) []Action {
	seen := map[Action]bool{}
	var out []Action
	target := fix.Target{Partition: "aws", Region: "us-east-1", AuditRole: "IAMAuditRole"}
	for _, r := range fix.Recipes() {
		for _, s := range remediationSubjects {
			for _, a := range fix.Plan(r, s, target) {
				if a.Kind == fix.Manual || a.Credentials != creds {
					continue
				}
				act := Action{a.API.Service, a.API.Name}
				if !seen[act] {
					seen[act] = true
					out = append(out, act)
				}
			}
		}
	}
	slices.SortFunc(out, compareActions)
	return out
}

// RemediationWrites are the RemediationActions that change the account (fix.Change).
func RemediationWrites(creds fix.Credentials) []Action {
	seen := map[Action]bool{}
	var out []Action
	target := fix.Target{Partition: "aws", Region: "us-east-1", AuditRole: "IAMAuditRole"}
	for _, r := range fix.Recipes() {
		for _, s := range remediationSubjects {
			for _, a := range fix.Plan(r, s, target) {
				act := Action{a.API.Service, a.API.Name}
				if a.Kind == fix.Change && a.Credentials == creds && !seen[act] {
					seen[act] = true
					out = append(out, act)
				}
			}
		}
	}
	slices.SortFunc(out, compareActions)
	return out
}

func compareActions(a, b Action) int {
	if a.Service != b.Service {
		if a.Service < b.Service {
			return -1
		}
		return 1
	}
	switch {
	case a.Name < b.Name:
		return -1
	case a.Name > b.Name:
		return 1
	}
	return 0
}
