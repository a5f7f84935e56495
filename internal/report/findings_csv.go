package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

// FindingsColumns are the findings CSV's columns, in order (docs/checks.md). New
// columns go at the end only.
var FindingsColumns = []string{
	"finding_id", "severity", "check_id", "title", "account_id", "account_name",
	"resource_type", "resource", "user", "message", "evidence", "cis", "security_hub",
	"remediation_workflow", "remediation_commands", "state", "suppressed",
	"suppression_reason", "suppression_expires",
}

// CommandSeparator joins the remediation commands of a finding in its CSV cell. It is
// ";;", which a shell rejects as a syntax error, so pasting a whole cell runs nothing
// by accident: split the cell on it and run the commands one by one.
const CommandSeparator = " ;; "

// WriteFindingsCSV writes one row per finding, in the order given, each on exactly one
// line (no cell holds a line break: line breaks in free text become spaces). Evidence
// is "key=value" pairs, sorted by key and joined with "; "; CIS and Security Hub
// references are joined with "; "; remediation commands are joined with
// CommandSeparator (rendered from the finding's actions, Commands). Every cell is CSV-injection safe (safeCell).
func WriteFindingsCSV(w io.Writer, findings []checks.Finding) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(FindingsColumns); err != nil {
		return fmt.Errorf("write findings csv: %w", err)
	}
	for _, f := range findings {
		expires := ""
		if f.SuppressionExpires != nil {
			expires = f.SuppressionExpires.UTC().Format("2006-01-02")
		}
		row := []string{
			f.ID, f.Severity.String(), f.CheckID, f.Title, f.AccountID, f.AccountName,
			f.ResourceType, f.Resource, f.User, f.Message, evidenceCell(f.Evidence),
			strings.Join(f.CIS, "; "), strings.Join(f.SecurityHub, "; "),
			f.Remediation.Workflow, strings.Join(Commands(f), CommandSeparator),
			f.State, strconv.FormatBool(f.Suppressed), f.SuppressionReason, expires,
		}
		for i := range row {
			row[i] = safeCell(oneLine.Replace(row[i]))
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write findings csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write findings csv: %w", err)
	}
	return nil
}

// oneLine turns line breaks into spaces, so that each finding is one line of the file.
var oneLine = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// evidenceCell joins evidence as "k=v; k=v", keys sorted.
func evidenceCell(ev map[string]string) string {
	keys := make([]string, 0, len(ev))
	for k := range ev {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + ev[k]
	}
	return strings.Join(parts, "; ")
}

// findingsCSVFormat is one row per finding (docs/checks.md).
var findingsCSVFormat = Format{
	Name:        "findings-csv",
	Description: "one row per finding with its evidence, references, remediation and state",
	FileName:    FindingsReportName,
	Analyze:     true,
	Write:       func(w io.Writer, o *outcome.Outcome, _ Messages) error { return WriteFindingsCSV(w, o.Findings) },
}
