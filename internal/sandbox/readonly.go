package sandbox

import (
	"fmt"
	"strings"

	"github.com/iamaudit/iamaudit/internal/permissions"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// actionSet builds the set of "service:Operation" actions a policy allows; nil
// stays nil (no restriction, for the caller).
func actionSet(actions []string) map[string]bool {
	if actions == nil {
		return nil
	}
	m := make(map[string]bool, len(actions))
	for _, a := range actions {
		m[a] = true
	}
	return m
}

// defaultRoleActions are what a read-only role's session may call when Options name
// nothing else: the audit role's policy (internal/permissions, from which
// deploy/iamaudit-role.yaml is generated).
func defaultRoleActions() []string { return permissions.Strings(permissions.AuditRead()) }

// readOnlyRoleSet is the set of read-only role names (nil: the default set).
func readOnlyRoleSet(names []string) map[string]bool {
	if names == nil {
		names = scenario.DefaultReadOnlyRoles
	}
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// authorize enforces a read-only role's policy: its sessions may call only the
// role actions (Options.RoleActions, by default the audit role's policy) and
// sts:GetCallerIdentity, which needs no permission; with Options.CallerActions, the
// caller's credentials are held to that list too. Anything else is AWS's AccessDenied
// naming the caller, the action and the resource.
func (c *call) authorize() *apiError {
	var allowed map[string]bool
	switch {
	case c.cred.ReadOnly:
		allowed = c.s.roleActions
	case c.cred.AccessKeyID == c.s.org.accessKeyID && c.s.callerActions != nil:
		allowed = c.s.callerActions
	default:
		return nil
	}
	action := c.service + ":" + c.op
	if allowed[action] || action == "sts:GetCallerIdentity" {
		return nil
	}
	switch c.service {
	case "organizations":
		return errf(400, "AccessDeniedException", "You don't have permissions to access this resource.")
	case "sts":
		if c.op == "AssumeRole" {
			return errf(403, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", c.cred.Arn, c.form.Get("RoleArn"))
		}
	}
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action",
		c.cred.Arn, action, c.deniedResource(), action)
	return c.accessDenied(msg)
}

// deniedResource is the ARN a denied call names: the IAM entity its parameters
// target, else the account's resource wildcard.
func (c *call) deniedResource() string {
	p, acct := c.s.org.partition, c.cred.Account
	switch c.service {
	case "sns":
		if v := c.form.Get("TopicArn"); v != "" {
			return v
		}
	case "s3":
		return "arn:" + p + ":s3:::" + strings.TrimPrefix(c.path, "/")
	case "securityhub":
		return fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", p, c.region, acct, acct)
	}
	if c.service == "iam" && c.form != nil {
		for _, r := range []struct{ param, kind string }{
			{"UserName", "user"}, {"GroupName", "group"}, {"RoleName", "role"}, {"VirtualMFADeviceName", "mfa"},
		} {
			if v := c.form.Get(r.param); v != "" {
				return fmt.Sprintf("arn:%s:iam::%s:%s/%s", p, acct, r.kind, v)
			}
		}
		if v := c.form.Get("PolicyArn"); v != "" {
			return v
		}
	}
	return "*"
}
