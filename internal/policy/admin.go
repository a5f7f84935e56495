package policy

import "strings"

// What counts as full administrative privileges (docs/checks.md, admin_policy_on_user):
// every action on every resource. Exceptions outside IAM do not change that, because a
// principal allowed every IAM action can grant itself whatever was left out; an
// exception that takes away any IAM action does. So:
//
//   - An Allow statement grants full administrative privileges when its actions are
//     all actions (Action "*" or "*:*"), or all but some non-IAM ones (NotAction whose
//     every pattern names a service other than IAM), and its resources are all
//     resources (Resource "*"), or all but some non-IAM ones (NotResource whose every
//     pattern is an ARN of another service). Its Condition does not matter: it is
//     full administrative access whenever the condition holds. NotAction "iam:*" on
//     "*" (AWS's PowerUserAccess) is therefore not full administrative access, broad
//     as it is.
//   - A Deny statement without Condition takes that away when it denies some IAM
//     action on some IAM resource, in any policy of the same principal. A Deny with a
//     Condition does not (whenever it does not apply, the access is full).
//
// Patterns are matched as IAM matches them: "*" and "?" wildcards, actions without
// regard to case.

// AllowsAll reports whether one of d's Allow statements grants full administrative
// privileges (every action on every resource, or all but non-IAM exceptions).
func (d Document) AllowsAll() bool {
	for _, s := range d.Statements {
		if s.Effect == Allow && allActions(s) && allResources(s) {
			return true
		}
	}
	return false
}

// DeniesIAM reports whether one of d's Deny statements, without Condition, denies some
// IAM action on some IAM resource: whatever else the principal's policies allow, it
// does not have full administrative privileges.
func (d Document) DeniesIAM() bool {
	for _, s := range d.Statements {
		if s.Effect == Deny && !s.Conditional && hitsIAMActions(s) && hitsIAMResources(s) {
			return true
		}
	}
	return false
}

// FullAdmin reports whether a principal whose policies are docs has full
// administrative privileges: one of them allows everything and none takes part of
// IAM away.
func FullAdmin(docs ...Document) bool {
	allows := false
	for _, d := range docs {
		if d.DeniesIAM() {
			return false
		}
		allows = allows || d.AllowsAll()
	}
	return allows
}

func allActions(s Statement) bool {
	if s.NotActions != nil {
		for _, p := range s.NotActions {
			if actionCouldBeIAM(p) {
				return false
			}
		}
		return true
	}
	for _, p := range s.Actions {
		if p == "*" || p == "*:*" {
			return true
		}
	}
	return false
}

func allResources(s Statement) bool {
	if s.NotResources != nil {
		for _, p := range s.NotResources {
			if resourceCouldBeIAM(p) {
				return false
			}
		}
		return true
	}
	for _, p := range s.Resources {
		if p == "*" {
			return true
		}
	}
	return false
}

// hitsIAMActions: the statement's actions include some IAM action.
func hitsIAMActions(s Statement) bool {
	if s.NotActions != nil { // everything but these: some IAM action unless they cover all of IAM
		for _, p := range s.NotActions {
			if actionCoversIAM(p) {
				return false
			}
		}
		return true
	}
	for _, p := range s.Actions {
		if actionCouldBeIAM(p) {
			return true
		}
	}
	return false
}

// hitsIAMResources: the statement's resources include some IAM resource.
func hitsIAMResources(s Statement) bool {
	if s.NotResources != nil {
		for _, p := range s.NotResources {
			if resourceCoversIAM(p) {
				return false
			}
		}
		return true
	}
	for _, p := range s.Resources {
		if resourceCouldBeIAM(p) {
			return true
		}
	}
	return false
}

// actionCouldBeIAM: the action pattern matches some IAM action ("*", "iam:*",
// "iam:Get*", "i*:*").
func actionCouldBeIAM(p string) bool {
	if p == "*" {
		return true
	}
	service, _, _ := strings.Cut(strings.ToLower(p), ":")
	return glob(service, "iam")
}

// actionCoversIAM: the action pattern matches every IAM action.
func actionCoversIAM(p string) bool {
	if p == "*" {
		return true
	}
	service, action, _ := strings.Cut(strings.ToLower(p), ":")
	return glob(service, "iam") && strings.Trim(action, "*") == ""
}

// resourceCouldBeIAM: the resource pattern may match an IAM resource
// (arn:PARTITION:iam::ACCOUNT:…). A wildcard before the service segment may span it.
func resourceCouldBeIAM(p string) bool {
	if p == "*" {
		return true
	}
	parts := strings.SplitN(p, ":", 6)
	if len(parts) < 3 || strings.ContainsAny(parts[0]+parts[1], "*?") {
		return strings.ContainsAny(p, "*?")
	}
	return glob(strings.ToLower(parts[2]), "iam")
}

// resourceCoversIAM: the resource pattern matches every IAM resource of an account.
func resourceCoversIAM(p string) bool {
	if strings.Trim(p, "*") == "" {
		return true
	}
	parts := strings.SplitN(p, ":", 6)
	return len(parts) == 6 && glob(strings.ToLower(parts[2]), "iam") && strings.Trim(parts[3], "*") == "" &&
		strings.Trim(parts[5], "*") == ""
}

// glob matches s against a pattern with "*" (any run of characters) and "?" (one).
func glob(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if glob(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		default:
			if s == "" || pattern[0] != s[0] {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		}
	}
	return s == ""
}
