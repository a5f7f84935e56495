package checks

import (
	"strings"

	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/inventory"
)

// plan is a finding's remediation actions: the check's recipe (fix.Plan) for the
// finding's resource, in the audited Organization's partition and home region, with the
// role the audit assumed.
func plan(f Finding, c Check, inv *inventory.Inventory, acct *inventory.Account, cfg Config) []fix.Action {
	if c.Fix == "" {
		return nil
	}
	return fix.Plan(c.Fix, subject(f, acct, cfg), target(inv))
}

// target is where the run's fixes apply.
func target(inv *inventory.Inventory) fix.Target {
	p := inv.Partition
	if p == "" {
		p = "aws"
	}
	r := inv.Region
	if r == "" {
		r = inventory.HomeRegion(p)
	}
	return fix.Target{Partition: p, Region: r, AuditRole: inv.AuditRole}
}

// subject is what the plan needs of a finding, from the finding and the account's
// inventory (names by ARN, the user's direct policies).
func subject(f Finding, acct *inventory.Account, cfg Config) fix.Subject {
	s := fix.Subject{AccountID: f.AccountID,
		PasswordMinLength: cfg.Thresholds.PasswordMinLength, PasswordReusePrevention: cfg.Thresholds.PasswordReusePrevention}
	if len(cfg.OwnerTags) > 0 {
		s.OwnerTag = cfg.OwnerTags[0]
	}
	switch f.ResourceType {
	case ResourceUser, ResourceAccessKey:
		s.User = f.User
		if f.ResourceType == ResourceAccessKey && !strings.HasPrefix(f.Resource, "arn:") {
			s.AccessKeyID = f.Resource // a credential report's key slot is named by ARN and has no id
		}
		for _, u := range acct.Users {
			if u.Name != f.User {
				continue
			}
			for _, p := range u.AttachedPolicies {
				s.AttachedPolicies = append(s.AttachedPolicies, fix.Policy{Name: p.Name, ARN: p.ARN})
			}
			for _, p := range u.InlinePolicies {
				s.InlinePolicies = append(s.InlinePolicies, p.Name)
			}
			break
		}
	case ResourceRole:
		s.Role = nameFromARN(f.Resource)
		for _, r := range acct.Roles {
			if r.ARN == f.Resource {
				s.Role = r.Name
			}
		}
	case ResourceGroup:
		s.Group = nameFromARN(f.Resource)
		for _, g := range acct.Groups {
			if g.ARN == f.Resource {
				s.Group = g.Name
			}
		}
	case ResourceServerCertificate:
		s.ServerCertificate = nameFromARN(f.Resource)
		for _, c := range acct.ServerCertificates {
			if c.ARN == f.Resource {
				s.ServerCertificate = c.Name
			}
		}
	}
	return s
}

// nameFromARN is the last segment of an IAM ARN's path: the name of a role, group or
// certificate (arn:aws:iam::111122223333:role/path/Name).
func nameFromARN(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
