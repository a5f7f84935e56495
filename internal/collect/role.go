package collect

import (
	"fmt"
	"regexp"
	"strings"
)

// IAM's rules for a role's name and path (IAM API Reference, CreateRole): a name of
// 1-64 characters from [\w+=,.@-]; a path of 1-512 characters that is "/" or starts
// and ends with "/" with printable ASCII (U+0021 to U+007E) between.
var (
	roleNameRe = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	rolePathRe = regexp.MustCompile(`^/([\x21-\x7e]*/)?$`)
)

const maxRolePath = 512

// ParseRole splits --role into the role's IAM path and name. "IAMAuditRole" is
// ("/", "IAMAuditRole"); "security/IAMAuditRole" and "/security/IAMAuditRole" are
// ("/security/", "IAMAuditRole"). The error says which rule is broken.
func ParseRole(role string) (path, name string, err error) {
	i := strings.LastIndex(role, "/")
	name = role[i+1:]
	path = "/"
	if i >= 0 {
		path = role[:i+1]
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
	}
	switch {
	case !roleNameRe.MatchString(name):
		return "", "", fmt.Errorf("role name %q is not a valid IAM role name (1-64 letters, digits and +=,.@_-)", name)
	case len(path) > maxRolePath || !rolePathRe.MatchString(path):
		return "", "", fmt.Errorf("role path %q is not a valid IAM path (1-512 printable ASCII characters without spaces, starting and ending with /)", path)
	}
	return path, name, nil
}

// RoleResource is how the role appears after "role/" in its ARN:
// "security/IAMAuditRole" for --role /security/IAMAuditRole, the name alone without
// a path. An invalid --role is returned as given.
func RoleResource(role string) string {
	path, name, err := ParseRole(role)
	if err != nil {
		return role
	}
	return strings.TrimPrefix(path, "/") + name
}

// roleName is the role's name without its path (an assumed-role ARN has no path).
func roleName(role string) string {
	if _, name, err := ParseRole(role); err == nil {
		return name
	}
	return role
}

// roleARN is arn:<partition>:iam::<account>:role/<path><name>.
func roleARN(partition, accountID, role string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, accountID, RoleResource(role))
}
