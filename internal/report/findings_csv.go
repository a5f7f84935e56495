package report

import (
	"bytes"
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
	if err := writeFindingRows(cw, findings, Commands); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write findings csv: %w", err)
	}
	return nil
}

// writeFindingRows writes the rows of findings (not flushed), their commands those
// of cmds (Commands, or a part's: partCommands).
func writeFindingRows(cw *csv.Writer, findings []checks.Finding, cmds func(checks.Finding) []string) error {
	for _, f := range findings {
		expires := ""
		if f.SuppressionExpires != nil {
			expires = f.SuppressionExpires.UTC().Format("2006-01-02")
		}
		row := []string{
			f.ID, f.Severity.String(), f.CheckID, f.Title, f.AccountID, f.AccountName,
			f.ResourceType, f.Resource, f.User, f.Message, evidenceCell(f.Evidence),
			strings.Join(f.CIS, "; "), strings.Join(f.SecurityHub, "; "),
			f.Remediation.Workflow, strings.Join(cmds(f), CommandSeparator),
			f.State, strconv.FormatBool(f.Suppressed), f.SuppressionReason, expires,
		}
		for i := range row {
			row[i] = safeCell(row[i]) // line breaks too: one line per finding
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write findings csv: %w", err)
		}
	}
	return nil
}

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
	Stream: func(w io.Writer, _ *outcome.Outcome, _ Messages) (Streamer, error) {
		sp, err := newSpool(w)
		if err != nil {
			return nil, err
		}
		return &findingsCSV{w: w, sp: sp, accounts: map[string]bool{}, severities: map[checks.Severity]bool{}}, nil
	},
}

// findingsCSV streams the findings CSV: each part's rows are spooled under their
// severity and account, and copied at Close in checks.Sort's order across all
// accounts, so the file is byte for byte Write's (whose findings are in that order)
// whatever order the accounts finish in. The summary's bounded findings are not
// used: the parts carry them all.
type findingsCSV struct {
	w          io.Writer
	sp         *spool
	accounts   map[string]bool
	severities map[checks.Severity]bool
	buf        bytes.Buffer
}

func (c *findingsCSV) Account(p outcome.Part) error {
	fs := sortedFindings(p.Findings)
	for i := 0; i < len(fs); {
		j := i
		for j < len(fs) && findingKey(fs[j]) == findingKey(fs[i]) {
			j++
		}
		c.buf.Reset()
		cw := csv.NewWriter(&c.buf)
		if err := writeFindingRows(cw, fs[i:j], partCommands(p)); err != nil {
			return err
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write findings csv: %w", err)
		}
		if err := c.sp.add(findingKey(fs[i]), c.buf.Bytes()); err != nil {
			return err
		}
		c.accounts[fs[i].AccountID], c.severities[fs[i].Severity] = true, true
		i = j
	}
	return nil
}

func (c *findingsCSV) Close(*outcome.Outcome) error {
	defer c.sp.close()
	cw := csv.NewWriter(c.w)
	if err := cw.Write(FindingsColumns); err != nil {
		return fmt.Errorf("write findings csv: %w", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write findings csv: %w", err)
	}
	for _, key := range findingOrder(c.accounts, c.severities) {
		if _, err := c.sp.copy(c.w, key, 0); err != nil {
			return fmt.Errorf("write findings csv: %w", err)
		}
	}
	return c.sp.close()
}
