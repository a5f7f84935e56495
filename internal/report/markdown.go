package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/score"
)

// MarkdownReportName is the run's Markdown summary file name.
func MarkdownReportName(runID string) string { return "iamaudit_summary_" + runID + ".md" }

// markdownMaxFindings is how many findings the Markdown summary lists; the rest
// are in the findings CSV, which it names.
const markdownMaxFindings = 100

// markdownFormat is a summary for a ticket, a pull request or a wiki page: the
// accounts and their risk, the accounts not audited, the most severe findings, the
// resolved ones and the gaps.
var markdownFormat = Format{
	Name:        "markdown",
	Description: "a summary for tickets and wikis: accounts, risk, top findings, gaps",
	FileName:    MarkdownReportName,
	Analyze:     true,
	Write:       writeMarkdown,
	Stream: func(w io.Writer, _ *outcome.Outcome, m Messages) (Streamer, error) {
		return &viewStreamer{w: w, view: newView(), limit: markdownMaxFindings,
			write: func(w io.Writer, o *outcome.Outcome, v *findingsView) error { return markdownOf(w, o, m, v) }}, nil
	},
}

func writeMarkdown(w io.Writer, o *outcome.Outcome, m Messages) error {
	return markdownOf(w, o, m, viewOf(o))
}

// markdownOf writes the summary with the findings of v (a streamed run's summary
// holds only the most severe; v counts them all).
func markdownOf(w io.Writer, o *outcome.Outcome, m Messages, v *findingsView) error {
	inv := o.Inventory
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	wd := m.summary

	p("# IAM audit %s", md(inv.RunID))
	p("")
	org := "—"
	if inv.Organization != nil {
		org = md(inv.Organization.ID)
	}
	p("Organization %s · partition %s · started %s UTC · %s %s", org, md(inv.Partition),
		fmtTime(inv.StartedAt), md(inv.Tool), md(inv.Version))
	p("")

	p("## %s", strings.TrimSuffix(wd.ByAccount, ":"))
	p("")
	p("| account | status | %s | %s | %s | %s | %s | risk |", wd.Critical, wd.High, wd.Medium, wd.Low, wd.SuppressedCount)
	p("|---|---|--:|--:|--:|--:|--:|---|")
	for _, a := range inv.Accounts {
		s, _ := o.Scores.Account(a.ID)
		c := s.Findings
		p("| %s | %s | %d | %d | %d | %d | %d | %s |", md(accountLabel(a.Name, a.ID)), md(a.Status),
			c.Critical, c.High, c.Medium, c.Low, c.Suppressed, md(riskCell(wd, a, s)))
	}
	p("")
	p("%s", md(riskText(wd, wd.OrgRisk, wd.OrgRiskUnknown, o.Scores.Organization)))
	p("")

	for _, group := range []struct {
		header string
		accts  []inventory.Account
	}{{m.NotAuditedHeader, inv.NotAudited()}, {m.NotReachedHeader, inv.NotReached()}} {
		if len(group.accts) == 0 {
			continue
		}
		sort.SliceStable(group.accts, func(i, j int) bool { return group.accts[i].Name < group.accts[j].Name })
		p("## %s", md(strings.TrimSuffix(fmt.Sprintf(group.header, len(group.accts)), ":")))
		p("")
		for _, a := range group.accts {
			p("- %s: %s", md(accountLabel(a.Name, a.ID)), md(a.Reason))
		}
		p("")
	}

	open := v.open
	p("## %s", md(fmt.Sprintf(wd.Findings, v.nOpen, v.nSup)))
	p("")
	if v.nOpen == 0 {
		p("%s", wd.NoFindings)
	} else {
		p("| severity | account | subject | check | message | state |")
		p("|---|---|---|---|---|---|")
		shown, _ := capped(open, markdownMaxFindings)
		rest := v.nOpen - len(shown)
		for _, f := range shown {
			p("| %s | %s | %s | %s | %s | %s |", wd.tag(f.Severity), md(accountLabel(f.AccountName, f.AccountID)),
				md(subject(f)), md(f.CheckID), md(f.Message), md(f.State))
		}
		if rest > 0 {
			p("")
			p("%s", md(fmt.Sprintf(wd.More, rest, FindingsReportName(inv.RunID))))
		}
	}
	p("")
	if !v.countsKnown {
		p("%s", md(fmt.Sprintf(m.ResolvedElsewhere, JSONReportName(inv.RunID))))
		p("")
	} else if v.nRes > 0 {
		p("## %s", md(fmt.Sprintf(wd.Resolved, v.nRes)))
		p("")
		shown, _ := capped(v.resolved, markdownMaxFindings)
		rest := v.nRes - len(shown)
		for _, f := range shown {
			p("- %s", md(findingLine(wd, f)))
		}
		if rest > 0 {
			p("- %s", md(fmt.Sprintf(strings.TrimSpace(wd.MoreResolved), rest)))
		}
		p("")
	}
	if gaps := allGaps(inv); len(gaps) > 0 {
		p("## %s", md(strings.TrimSuffix(fmt.Sprintf(m.GapsHeader, len(gaps)), ":")))
		p("")
		p("| account | section | subject | operation | error | message |")
		p("|---|---|---|---|---|---|")
		names := accountNames(inv)
		for _, g := range gaps {
			where := names[g.AccountID]
			if where == "" {
				where = g.AccountID
			}
			p("| %s | %s | %s | %s | %s | %s |", md(where), md(string(g.Section)), md(g.Subject), md(g.Operation), md(g.ErrorCode), md(g.Message))
		}
		p("")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// subject names what a finding is about, without its account: a user, or the
// resource type and the last part of its name.
func subject(f checks.Finding) string {
	if f.User != "" {
		return f.User
	}
	if f.ResourceType == checks.ResourceAccount {
		return "account"
	}
	return f.ResourceType + "/" + f.Resource[strings.LastIndex(f.Resource, "/")+1:]
}

func riskCell(wd summaryWords, a inventory.Account, s score.Score) string {
	switch {
	case a.Status == inventory.StatusSkipped || a.Status == inventory.StatusNotReached:
		return "—"
	case !s.Audited:
		return wd.NotAudited
	}
	if s.Risk == nil {
		return fmt.Sprintf("%s (≥ %d)", wd.Unknown, s.RiskAtLeast)
	}
	return fmt.Sprintf("%d (%s)", *s.Risk, wd.label(s.RiskLabel))
}

// allGaps lists the run's gaps: the Organization's, then those of the accounts that
// were audited (an account not audited is listed with its reason instead).
func allGaps(inv *inventory.Inventory) []inventory.Gap {
	gaps := append([]inventory.Gap(nil), inv.Gaps...)
	for _, a := range inv.Accounts {
		if a.Status == inventory.StatusAudited || a.Status == inventory.StatusPartial {
			gaps = append(gaps, a.Gaps...)
		}
	}
	return gaps
}

func accountNames(inv *inventory.Inventory) map[string]string {
	names := map[string]string{}
	for _, a := range inv.Accounts {
		names[a.ID] = a.Name
	}
	return names
}

// md makes text from AWS safe in a Markdown table cell: no line breaks or control
// characters, HTML neutralised (names and tags may hold "<script>"), and the
// characters Markdown would read as syntax escaped, so a user name renders as
// written and cannot become a link, an image or a table column.
func md(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case strings.ContainsRune("\\`*_[]|~", r):
			b.WriteRune('\\')
			b.WriteRune(r)
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteRune(' ')
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
