package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamaudit/iamaudit/internal/audit"
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/credreport"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/outdir"
	"github.com/iamaudit/iamaudit/internal/report"
)

// analyzeOptions are the flags and arguments of `iamaudit analyze`.
type analyzeOptions struct {
	factory      *Factory
	Files        []string
	Config       string
	Preset       string
	Suppressions string
	FailOn       string
	OutputDir    string
	Lang         string
	Now          string
}

// AddFlags registers the options' flags.
func (o *analyzeOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Config, "config", "", "check configuration YAML (thresholds, severities, disabled checks); see configs/iamaudit.yaml")
	fs.StringVar(&o.Preset, "preset", "", `threshold preset when no --config: "default" or "cis"`)
	fs.StringVar(&o.Suppressions, "suppressions", "", "suppression rules YAML")
	fs.StringVar(&o.FailOn, "fail-on", "", "exit with code 4 when an unsuppressed finding has this severity or higher (low, medium, high, critical)")
	fs.StringVar(&o.OutputDir, "output-dir", "", "write the findings CSV, the JSON document and the Markdown summary into this directory")
	fs.StringVar(&o.Lang, "lang", "en", "language of the summary: en or es")
	fs.StringVar(&o.Now, "now", "", "reference time for ages (RFC 3339, e.g. 2026-03-05T00:00:00Z); default: when the JSON input's run started (its finished_at if unknown), else the current time")
}

// newAnalyzeCmd builds `iamaudit analyze`; runF, when not nil, replaces the work (runAnalyze).
func newAnalyzeCmd(f *Factory, runF func(context.Context, *analyzeOptions) error) *cobra.Command {
	if runF == nil {
		runF = runAnalyze
	}
	opts := &analyzeOptions{factory: f}
	cmd := &cobra.Command{
		Use:   "analyze FILE...",
		Short: "Run the checks offline on credential reports or a JSON inventory",
		Long: `analyze runs the checks on files collected earlier, without calling AWS.

Each FILE is either an IAM credential report CSV, as
  aws iam get-credential-report --query Content --output text | base64 -d > 123456789012.csv
gives (the account id comes from the <root_account> row, a user ARN, or a 12-digit
file name), or the JSON document of an earlier iamaudit run.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("analyze needs at least one file: a credential report CSV or an iamaudit JSON inventory")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			return runF(cmd.Context(), opts)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

func runAnalyze(_ context.Context, o *analyzeOptions) error {
	streams := o.factory.IO
	// stamp names the outputs; now is the reference time of the checks.
	stamp := o.factory.Clock().UTC()
	nowGiven := o.Now != ""
	if nowGiven {
		t, err := time.Parse(time.RFC3339, o.Now)
		if err != nil {
			return usageErrorf("--now %q: use RFC 3339, e.g. 2026-03-05T00:00:00Z", o.Now)
		}
		stamp = t.UTC()
	}
	now := stamp
	msgs, err := report.MessagesFor(o.Lang)
	if err != nil {
		return &UsageError{Err: fmt.Errorf("--lang: %w", err)}
	}
	j, err := loadJudgement(o.Config, o.Preset, o.Suppressions, o.FailOn)
	if err != nil {
		return err
	}
	inv, reportOnly, at, from, err := loadInputs(o.Files, stamp, o.factory.Version)
	if err != nil {
		return err
	}
	if !nowGiven && !at.IsZero() {
		// Ages are measured from when the data was collected, not from today: a
		// year-old run analysed again must give the same findings.
		now = at
		fmt.Fprintf(streams.Err, "Reference time: %s, the %s of the run in the JSON input (give --now to measure ages from another time).\n",
			now.Format(time.RFC3339), from)
	}
	res := outcome.Evaluate(outcome.CommandAnalyze, inv, now,
		outcome.Settings{Checks: j.Checks, Suppressions: j.Suppressions, FailOn: j.FailOn}, nil)

	if reportOnly {
		writeReportLimits(streams.Err)
	}
	sopts := report.SummaryOptions{Lang: msgs.Lang, Inventory: res.Inventory}
	if o.OutputDir != "" {
		sopts.FindingsFile = filepath.Join(o.OutputDir, report.FindingsReportName(res.Inventory.RunID))
	}
	if err := report.WriteSummaryWith(streams.Out, res.Findings, res.Scores, res.Expired, sopts); err != nil {
		return err
	}
	if o.OutputDir != "" {
		if err := writeAnalyzeOutputs(o.OutputDir, res, o.Files, msgs, streams.Err); err != nil {
			return err
		}
	}
	if j.FailOn != nil {
		n := 0
		for _, f := range res.Findings {
			if !f.Suppressed && f.Severity >= *j.FailOn {
				n++
			}
		}
		if n > 0 {
			return &ExitCodeError{Code: ExitFindings, Msg: fmt.Sprintf("%d unsuppressed findings at or above %s", n, *j.FailOn)}
		}
	}
	return nil
}

// writeReportLimits lists the checks a credential report cannot answer.
func writeReportLimits(w io.Writer) {
	fmt.Fprintln(w, "A credential report cannot answer these checks (they were not run on report-only accounts):")
	for _, c := range checks.NotAnsweredByReport() {
		fmt.Fprintf(w, "  - %s: the report has no %s\n", c.ID, c.ReportLacks)
	}
	fmt.Fprintln(w, "Key findings name keys by slot (the report has no key ids). Run `iamaudit run` for a full audit.")
}

var twelveDigits = regexp.MustCompile(`(^|[^0-9])([0-9]{12})([^0-9]|$)`)
var arnAccount = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):`)

// loadInputs reads every file and merges them into one inventory. The first JSON
// inventory gives the run's metadata, its start and finish times included; without
// one, they are now. runAt is the first JSON inventory's run time (inputRunTime),
// zero without one.
func loadInputs(files []string, now time.Time, version string) (inv *inventory.Inventory, reportOnly bool, runAt time.Time, runAtField string, err error) {
	merged := &inventory.Inventory{Schema: inventory.Schema, Tool: "iamaudit", Version: version,
		RunID: inventory.RunID(now), StartedAt: now, FinishedAt: now, Accounts: []inventory.Account{}, Gaps: []inventory.Gap{}}
	seen := map[string]string{}
	haveJSON := false
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, false, time.Time{}, "", usageErrorf("read %s: %w", f, err)
		}
		var accts []inventory.Account
		if isInventoryJSON(data) {
			inv, err := decodeInventory(f, data)
			if err != nil {
				return nil, false, time.Time{}, "", err
			}
			if !haveJSON { // the first inventory gives the run's metadata (event window, time …)
				merged.Partition, merged.Region, merged.AuditRole = inv.Partition, inv.Region, inv.AuditRole
				merged.StartedAt, merged.FinishedAt = inv.StartedAt, inv.FinishedAt
				runAt, runAtField = inputRunTime(inv)
				merged.EventWindowStart, merged.EventWindowEnd, merged.EventNames = inv.EventWindowStart, inv.EventWindowEnd, inv.EventNames
				merged.Organization, merged.Caller = inv.Organization, inv.Caller
				haveJSON = true
			}
			merged.Gaps = append(merged.Gaps, inv.Gaps...)
			accts = inv.Accounts
		} else {
			acct, err := reportAccount(f, data)
			if err != nil {
				return nil, false, time.Time{}, "", err
			}
			accts = []inventory.Account{acct}
			reportOnly = true
		}
		for _, a := range accts {
			if prev, ok := seen[a.ID]; ok {
				return nil, false, time.Time{}, "", usageErrorf("account %s is in both %s and %s: give each account once", a.ID, prev, f)
			}
			seen[a.ID] = f
			merged.Accounts = append(merged.Accounts, a)
		}
	}
	return merged, reportOnly, runAt, runAtField, nil
}

// inputRunTime is when the JSON input's run collected its data: its started_at, or
// its finished_at when the start is unknown; zero without a JSON input.
func inputRunTime(inv *inventory.Inventory) (time.Time, string) {
	switch {
	case !inv.StartedAt.IsZero():
		return inv.StartedAt.UTC(), "started_at"
	case !inv.FinishedAt.IsZero():
		return inv.FinishedAt.UTC(), "finished_at"
	}
	return time.Time{}, ""
}

// isInventoryJSON: a JSON object whose "schema" starts with "iamaudit.inventory/".
func isInventoryJSON(data []byte) bool {
	trim := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(trim) == 0 || trim[0] != '{' {
		return false
	}
	return true // an object is never a credential report; decodeInventory checks the schema
}

func decodeInventory(name string, data []byte) (*inventory.Inventory, error) {
	var inv inventory.Inventory // extra top-level keys ("findings", "scores") are ignored
	if err := json.Unmarshal(data, &inv); err != nil {
		return nil, &UsageError{Err: fmt.Errorf("%s:%s: not a valid iamaudit JSON inventory: %w", name, jsonLine(data, err), err)}
	}
	if !strings.HasPrefix(inv.Schema, "iamaudit.inventory/") {
		return nil, usageErrorf("%s:1: JSON without \"schema\": \"iamaudit.inventory/…\": give an iamaudit run's JSON file or a credential report CSV", name)
	}
	if inv.Schema != inventory.Schema {
		return nil, usageErrorf("%s:1: schema %q is not supported (this iamaudit reads %q)", name, inv.Schema, inventory.Schema)
	}
	return &inv, nil
}

// jsonLine turns a JSON error's byte offset into a line number.
func jsonLine(data []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return "1"
	}
	return fmt.Sprint(bytes.Count(data[:off], []byte("\n")) + 1)
}

func reportAccount(name string, data []byte) (inventory.Account, error) {
	rep, err := credreport.Parse(bytes.NewReader(data))
	if err != nil {
		return inventory.Account{}, &UsageError{Err: fmt.Errorf("%s: not a credential report CSV: %w", name, err)}
	}
	id := ""
	if row, ok := rep.Root(); ok {
		if m := arnAccount.FindStringSubmatch(row.ARN); m != nil {
			id = m[1]
		}
	}
	if id == "" {
		for _, row := range rep.Users() {
			if m := arnAccount.FindStringSubmatch(row.ARN); m != nil {
				id = m[1]
				break
			}
		}
	}
	if id == "" {
		if m := twelveDigits.FindStringSubmatch(filepath.Base(name)); m != nil {
			id = m[2]
		}
	}
	if id == "" {
		return inventory.Account{}, usageErrorf("%s: cannot tell the account id (no ARN in the report): name the file after the 12-digit account id", name)
	}
	return credreport.ToAccount(rep, id, id), nil
}

// writeAnalyzeOutputs writes the formats `analyze` produces (report.Format.Analyze:
// the findings CSV, the JSON document, the Markdown summary) as `run` does
// (audit.WriteOutputs: directory 0700, files 0600, written atomically, never over an
// existing file). An output that would replace one of the inputs is refused.
func writeAnalyzeOutputs(dir string, res *outcome.Outcome, inputs []string, msgs report.Messages, errw io.Writer) error {
	if err := outdir.Check(dir); err != nil {
		return err
	}
	var formats []report.Format
	for _, f := range report.Formats() {
		if f.Analyze {
			formats = append(formats, f)
		}
	}
	for _, f := range formats {
		out := filepath.Join(dir, f.FileName(res.Inventory.RunID))
		for _, in := range inputs {
			if sameFile(out, in) {
				return usageErrorf("%s would overwrite the input %s: give another --output-dir or --now", out, in)
			}
		}
	}
	err := audit.WriteOutputs(dir, res, formats, msgs)
	for _, f := range res.Files {
		fmt.Fprintf(errw, "Exported: %s\n", f)
	}
	return err
}

func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}
