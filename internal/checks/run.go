package checks

import (
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// Run applies every enabled check to every account and returns the findings sorted by
// severity (highest first), account, resource and check. An account that was not
// audited yields only account_not_audited. A check whose inventory section has an
// account-wide gap does not run for that account (the gap is reported on its own; its Fallback, if any,
// answers from what was collected),
// and a finding about a user is dropped when a gap naming that user leaves one of
// the check's UserNeeds unknown: no finding is built on data that was not collected.
func Run(inv *inventory.Inventory, now time.Time, cfg Config) []Finding {
	all := All()
	out := []Finding{}
	for ai := range inv.Accounts {
		acct := &inv.Accounts[ai]
		if acct.Status == inventory.StatusSkipped || acct.Status == inventory.StatusNotReached {
			continue // not ACTIVE (only ACTIVE accounts are audited), or never reached: nothing is known
		}
		for _, c := range all {
			if !cfg.Enabled(c.ID) {
				continue
			}
			if acct.Status == inventory.StatusNotAudited && c.ID != "account_not_audited" {
				continue
			}
			run := c.Run
			if missing(acct, c.Needs) {
				if c.Fallback == nil {
					continue
				}
				run = c.Fallback
			}
			for _, f := range run(inv, acct, now, cfg) {
				if userUnknown(acct, f, c.UserNeeds) {
					continue
				}
				out = append(out, complete(f, c, inv, acct, cfg))
			}
		}
	}
	Sort(out)
	return out
}

func missing(acct *inventory.Account, needs []inventory.Field) bool {
	for _, f := range needs {
		if _, ok := accountGap(acct, f); ok {
			return true
		}
	}
	return false
}

// userUnknown reports whether a finding about a user rests on a section that a
// gap left unknown for that user.
func userUnknown(acct *inventory.Account, f Finding, needs []inventory.Field) bool {
	if f.User == "" || (f.ResourceType != ResourceUser && f.ResourceType != ResourceAccessKey) {
		return false
	}
	_, ok := UserGap(acct, f.User, append([]inventory.Field{inventory.FieldUsers}, needs...)...)
	return ok
}

// complete fills what the table knows about a check's finding.
func complete(f Finding, c Check, inv *inventory.Inventory, acct *inventory.Account, cfg Config) Finding {
	f.CheckID, f.Title = c.ID, c.Title
	f.AccountID, f.AccountName = acct.ID, acct.Name
	if f.Severity == SeverityUnset {
		f.Severity = c.Severity
	}
	if s, ok := cfg.Severity[c.ID]; ok && s != SeverityUnset {
		f.Severity = s
	}
	if p := inv.Partition; p != "" && p != "aws" && strings.HasPrefix(f.Resource, "arn:aws:") {
		f.Resource = "arn:" + p + ":" + strings.TrimPrefix(f.Resource, "arn:aws:") // fallback ARNs built without a partition
	}
	f.ID = FindingID(c.ID, acct.ID, f.Resource)
	f.CIS, f.SecurityHub = c.CIS(), append([]string(nil), c.SecurityHub...)
	f.Remediation = Remediation{Workflow: c.Workflow, Actions: plan(f, c, inv, acct, cfg)}
	if f.State == "" {
		f.State = StateOpen
	}
	return f
}
