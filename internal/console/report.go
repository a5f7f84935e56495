package console

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
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
	line := func(format, path string) {
		if written[path] {
			fmt.Fprintf(out, format+"\n", path)
		}
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, msgs.TotalKeys+"\n", report.KeyCount(inv))
	line(msgs.ReportExported, name(report.IAMReportName))
	fmt.Fprintln(out)
	fmt.Fprintf(out, msgs.TotalEvents+"\n", report.EventCount(inv))
	line(msgs.EventsExported, name(report.EventsReportName))
	line(msgs.InventoryExported, name(report.JSONReportName))
	line(msgs.FindingsExported, name(report.FindingsReportName))
	line(msgs.SummaryExported, name(report.MarkdownReportName))
	for _, a := range inv.Accounts {
		if cr := a.CredentialReport; cr != nil && !cr.FreshKeyData && time.Duration(cr.AgeSeconds)*time.Second >= staleReportNote {
			fmt.Fprintf(out, msgs.StaleReport+"\n", a.Name, report.Age(time.Duration(cr.AgeSeconds)*time.Second, msgs))
		}
	}
	fmt.Fprintln(out)
}

// Summary prints the findings summary (report.WriteSummaryWith) pointing to the
// findings CSV in dir.
func Summary(out io.Writer, o *outcome.Outcome, dir string, msgs report.Messages) error {
	return report.WriteSummaryWith(out, o.Findings, o.Scores, o.Expired, report.SummaryOptions{
		Lang: msgs.Lang, FindingsFile: filepath.Join(dir, report.FindingsReportName(o.Inventory.RunID)), Resolved: o.Resolved,
		Inventory: o.Inventory,
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
	fmt.Fprintf(out, msgs.NotAuditedHeader+"\n", len(active))
	for _, a := range active {
		fmt.Fprintf(out, msgs.NotAuditedLine+"\n", a.Name, a.ID, a.Reason)
	}
	if nr := inv.NotReached(); len(nr) > 0 {
		fmt.Fprintf(out, msgs.NotReachedHeader+"\n", len(nr))
		for _, a := range nr {
			fmt.Fprintf(out, msgs.NotAuditedLine+"\n", a.Name, a.ID, a.Reason)
		}
	}
	if skipped := inv.Skipped(); len(skipped) > 0 {
		fmt.Fprintf(out, msgs.SkippedHeader+"\n", len(skipped))
		for _, a := range skipped {
			fmt.Fprintf(out, msgs.NotAuditedLine+"\n", a.Name, a.ID, a.State)
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
	fmt.Fprintf(out, msgs.GapsHeader+"\n", len(gaps))
	for i, g := range gaps {
		if i == maxGapsShown {
			fmt.Fprintf(out, "  … %d more\n", len(gaps)-maxGapsShown)
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
		fmt.Fprintf(out, msgs.GapLine+"\n", where, g.Section, subj, op, g.Message)
	}
}
