package sandbox

import (
	"fmt"

	"github.com/iamaudit/iamaudit/internal/scenario"
)

// readOnlyActions are the actions a session of a read-only role may call (the policy
// of deploy/iamaudit-role.yaml), as "service:Operation".
var readOnlyActions = func() map[string]bool {
	m := map[string]bool{}
	for _, a := range scenario.ReadOnlyActions {
		m[a] = true
	}
	return m
}()

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

// authorize enforces a read-only role's policy: its sessions may call only
// readOnlyActions (and sts:GetCallerIdentity, which needs no permission); anything
// else is AWS's AccessDenied naming the caller, the action and the resource.
func (c *call) authorize() *apiError {
	if !c.cred.ReadOnly {
		return nil
	}
	action := c.service + ":" + c.op
	if readOnlyActions[action] || action == "sts:GetCallerIdentity" {
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
	if c.proto == protoJSON {
		return errf(400, "AccessDeniedException", "%s", msg)
	}
	return errf(403, "AccessDenied", "%s", msg)
}

// deniedResource is the ARN a denied call names: the IAM entity its parameters
// target, else the account's resource wildcard.
func (c *call) deniedResource() string {
	p, acct := c.s.org.partition, c.cred.Account
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
