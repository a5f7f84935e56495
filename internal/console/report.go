package console

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
)

// staleReportNote is the age from which a run says its key last-use data comes from
// an old credential report.
const staleReportNote = 15 * time.Minute

// Files prints the seed's totals and the files written, as the seed script did
// ("Total Access Keys found: 47", "Report exported: …"), then the notes about stale
// credential reports.
func Files(out io.Writer, o *outcome.Outcome, dir string, msgs report.Messages) {
	inv := o.Inventory
	name := func(f func(string) string) string { return filepath.Join(dir, f(inv.RunID)) }
	written := map[string]bool{}
	for _, f := range o.Files {
		written[f] = true
	}
	exported := func(format, path string) {
		if written[path] {
			line(out, format, path)
		}
	}
	fmt.Fprintln(out)
	line(out, "%s", report.TotalKeysLineWith(inv, o.Scores, msgs))
	exported(msgs.ReportExported, name(report.IAMReportName))
	fmt.Fprintln(out)
	line(out, msgs.TotalEvents, report.EventCount(inv))
	exported(msgs.EventsExported, name(report.EventsReportName))
	exported(msgs.InventoryExported, name(report.JSONReportName))
	exported(msgs.FindingsExported, name(report.FindingsReportName))
	exported(msgs.SummaryExported, name(report.MarkdownReportName))
	exported(msgs.HTMLExported, name(report.HTMLReportName))
	for _, a := range inv.Accounts {
		if cr := a.CredentialReport; cr != nil && !cr.FreshKeyData && time.Duration(cr.AgeSeconds)*time.Second >= staleReportNote {
			line(out, msgs.StaleReport, a.Name, report.Age(time.Duration(cr.AgeSeconds)*time.Second, msgs))
		}
		reusedReport(out, a, msgs)
	}
	fmt.Fprintln(out)
}

// maxListedUsers bounds the users a console line names (the JSON has them all).
const maxListedUsers = 10

// reusedReport says that the account's credential report was reused, and what was
// read again or left unknown because of it (docs/checks.md "Credential report
// staleness").
func reusedReport(out io.Writer, a inventory.Account, msgs report.Messages) {
	cr := a.CredentialReport
	if cr == nil || !cr.Reused || cr.Check == "" {
		return
	}
	list := func(names []string) string {
		if len(names) <= maxListedUsers {
			return strings.Join(names, ", ")
		}
		return fmt.Sprintf(msgs.ReusedMoreUsers, strings.Join(names[:maxListedUsers], ", "), len(names)-maxListedUsers)
	}
	line(out, msgs.ReusedReport, a.Name, report.Age(time.Duration(cr.AgeSeconds)*time.Second, msgs))
	if len(cr.RereadSections) > 0 {
		line(out, msgs.ReusedReread, strings.Join(cr.RereadSections, ", "), cr.RereadReason)
	}
	if cr.Check == inventory.ReportCheckedCloudTrail {
		var users []string
		for _, u := range cr.RereadUsers {
			users = append(users, fmt.Sprintf("%s (%s)", u.User, strings.Join(u.Sections, ", ")))
		}
		if len(users) == 0 {
			line(out, "%s", msgs.ReusedNoChange)
		} else {
			line(out, msgs.ReusedChanged, len(users), list(users))
		}
		if cr.CloudTrailCompleteUntil != nil {
			line(out, msgs.ReusedComplete, cr.CloudTrailCompleteUntil.UTC().Format(report.DateLayout))
		}
	}
	if len(cr.UnknownUsers) > 0 {
		line(out, msgs.ReusedUnknown, list(cr.UnknownUsers))
	}
}

// Summary prints the findings summary (report.WriteSummaryWith) pointing to the
// findings CSV in dir.
func Summary(out io.Writer, o *outcome.Outcome, dir string, msgs report.Messages) error {
	resolved := 0
	if o.Bounded != nil { // a streamed run keeps the most severe: the files have them all
		resolved = o.Bounded.Resolved
	}
	return report.WriteSummaryWith(out, o.Findings, o.Scores, o.Expired, report.SummaryOptions{
		Lang: msgs.Lang, FindingsFile: filepath.Join(dir, report.FindingsReportName(o.Inventory.RunID)), Resolved: o.Resolved,
		ResolvedCount: resolved, Inventory: o.Inventory,
	})
}

// maxGapsShown is how many gaps the console lists; the JSON file has them all.
const maxGapsShown = 20

// Incomplete ends the console report with the accounts not audited, the accounts
// never reached (interrupted run), the skipped ones and the sections that could not
// be collected, so no gap is silent.
func Incomplete(out io.Writer, inv *inventory.Inventory, msgs report.Messages) {
	active := inv.NotAudited()
	sort.SliceStable(active, func(i, j int) bool { return active[i].Name < active[j].Name })
	fmt.Fprintln(out)
	line(out, msgs.NotAuditedHeader, len(active))
	for _, a := range active {
		line(out, msgs.NotAuditedLine, a.Name, a.ID, a.Reason)
	}
	if nr := inv.NotReached(); len(nr) > 0 {
		line(out, msgs.NotReachedHeader, len(nr))
		for _, a := range nr {
			line(out, msgs.NotAuditedLine, a.Name, a.ID, a.Reason)
		}
	}
	if skipped := inv.Skipped(); len(skipped) > 0 {
		line(out, msgs.SkippedHeader, len(skipped))
		for _, a := range skipped {
			line(out, msgs.NotAuditedLine, a.Name, a.ID, a.State)
		}
	}
	gaps := append([]inventory.Gap(nil), inv.Gaps...)
	names := map[string]string{}
	for _, a := range inv.Accounts {
		names[a.ID] = a.Name
		if a.Status == inventory.StatusAudited || a.Status == inventory.StatusPartial {
			gaps = append(gaps, a.Gaps...)
		}
	}
	if len(gaps) == 0 {
		return
	}
	line(out, msgs.GapsHeader, len(gaps))
	for i, g := range gaps {
		if i == maxGapsShown {
			line(out, "  … %d more", len(gaps)-maxGapsShown)
			break
		}
		where := names[g.AccountID]
		if where == "" {
			where = g.AccountID
		}
		if where == "" {
			where = "organization"
		}
		subj, op := "", ""
		if g.Subject != "" {
			subj = " (" + g.Subject + ")"
		}
		if g.Operation != "" {
			op = g.Operation
			if g.ErrorCode != "" {
				op += " " + g.ErrorCode
			}
			op += ": "
		}
		line(out, msgs.GapLine, where, g.Section, subj, op, g.Message)
	}
}

// NotWritten names the output files that could not be written (the console report
// goes on: the findings are not lost with them).
func NotWritten(out io.Writer, paths []string, msgs report.Messages) {
	for _, p := range paths {
		line(out, msgs.NotWritten, p)
	}
}

// line prints one console line. Values from AWS (names, reasons, messages) are made
// report.Printable: none can act on the terminal, nor split the line in two.
func line(out io.Writer, format string, args ...any) {
	fmt.Fprintln(out, report.Printable(fmt.Sprintf(format, args...)))
}
