package checks

import (
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// Run applies every enabled check to every account and returns the findings sorted by
// severity (highest first), account, resource and check. An account that was not
// audited yields only account_not_audited. A check whose inventory section has an
// account-wide gap does not run for that account (the gap is reported on its own).
func Run(inv *inventory.Inventory, now time.Time, cfg Config) []Finding {
	all := All()
	out := []Finding{}
	for ai := range inv.Accounts {
		acct := &inv.Accounts[ai]
		if acct.Status == inventory.StatusSkipped {
			continue // not ACTIVE: only ACTIVE accounts are audited
		}
		for _, c := range all {
			if !cfg.Enabled(c.ID) {
				continue
			}
			if acct.Status == inventory.StatusNotAudited && c.ID != "account_not_audited" {
				continue
			}
			if missing(acct, c.Needs) {
				continue
			}
			for _, f := range c.Run(inv, acct, now, cfg) {
				out = append(out, complete(f, c, acct, cfg))
			}
		}
	}
	Sort(out)
	return out
}

func missing(acct *inventory.Account, sections []string) bool {
	for _, s := range sections {
		if _, ok := accountGap(acct, s); ok {
			return true
		}
	}
	return false
}

// complete fills what the table knows about a check's finding.
func complete(f Finding, c Check, acct *inventory.Account, cfg Config) Finding {
	f.CheckID, f.Title = c.ID, c.Title
	f.AccountID, f.AccountName = acct.ID, acct.Name
	if f.Severity == SeverityUnset {
		f.Severity = c.Severity
	}
	if s, ok := cfg.Severity[c.ID]; ok && s != SeverityUnset {
		f.Severity = s
	}
	f.ID = FindingID(c.ID, acct.ID, f.Resource)
	f.CIS, f.SecurityHub = c.CIS(), append([]string(nil), c.SecurityHub...)
	f.Remediation = Remediation{Workflow: c.Workflow}
	if c.Commands != nil {
		f.Remediation.Commands = c.Commands(f, cfg)
	}
	if f.State == "" {
		f.State = StateOpen
	}
	return f
}
