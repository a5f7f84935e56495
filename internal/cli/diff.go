package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/diff"
	"github.com/iamaudit/iamaudit/internal/importer"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/store"
)

// DiffOptions are the flags and arguments of `iamaudit diff`.
type DiffOptions struct {
	factory *Factory
	DB      string
	// Format is table, plain, json, markdown or csv; "" is table on a terminal,
	// plain when piped.
	Format string
	// Args are RUN_A and RUN_B: run ids of the store, "latest", or files.
	Args []string
}

// AddFlags registers the options' flags.
func (o *DiffOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DB, "db", "", "store of runs: a SQLite file or postgres://… (default $"+store.EnvDB+", else ~/.local/state/iamaudit/iamaudit.db)")
	fs.StringVar(&o.Format, "format", "", "table, plain (tab-separated), json, markdown or csv (default: table on a terminal, plain when piped)")
}

// newDiffCmd builds `iamaudit diff`; runF, when not nil, replaces the work (runDiff).
func newDiffCmd(f *Factory, runF func(context.Context, *DiffOptions) error) *cobra.Command {
	if runF == nil {
		runF = runDiff
	}
	opts := &DiffOptions{factory: f}
	cmd := &cobra.Command{
		Use:   "diff [RUN_A [RUN_B]]",
		Short: "Show what changed between two runs",
		Long: `Show what changed between two runs: users added and removed; access keys created,
deleted, deactivated, reactivated and rotated; MFA added and removed; console access
enabled and disabled; findings new, resolved and changed in severity; accounts that
became auditable or stopped being so.

Without arguments it compares the last two runs of the store (--db); with one, that
run with the newest. A run is a run id (iamaudit history lists them) or "latest". Two
files can be compared instead: seed reports (iam_audit_report_*.csv, English or
Spanish), IAM credential reports, or iamaudit run JSON files.

What a run does not know (a gap: a user list that may be incomplete, keys that could
not be listed, a check that could not run) is shown as unknown, never as a change.`,
		Example: `  iamaudit diff
  iamaudit diff 20260201_090000 20260301_090000 --format markdown
  iamaudit diff iam_audit_report_20260105_090000.csv iam_audit_report_20260205_090000.csv
  iamaudit diff cred-report-2026-01-12.csv cred-report-2026-02-12.csv --format csv`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 2 {
				return usageErrorf("diff compares two runs: give at most RUN_A and RUN_B")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if _, err := opts.format(); err != nil {
				return err
			}
			return runF(cmd.Context(), opts)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

func (o *DiffOptions) format() (string, error) {
	switch o.Format {
	case "":
		if isTerminal(o.factory.IO.Out) {
			return "table", nil
		}
		return "plain", nil
	case "table", "plain", "json", "markdown", "csv":
		return o.Format, nil
	}
	return "", usageErrorf("--format %q: use table, plain, json, markdown or csv", o.Format)
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

func runDiff(ctx context.Context, o *DiffOptions) error {
	format, err := o.format()
	if err != nil {
		return err
	}
	args := o.Args
	files := 0
	for _, a := range args {
		if isFile(a) {
			files++
		}
	}
	if len(args) == 1 && files == 1 {
		return usageErrorf("%s is a file: give two files to compare (or run ids of the store)", args[0])
	}
	var s *store.Store
	if files < len(args) || len(args) == 0 {
		if s, err = openStore(ctx, o.DB, true); err != nil {
			return err
		}
		defer s.Close()
	}
	labels := make([]string, 2)
	sides := make([]*outcome.Outcome, 2)
	switch len(args) {
	case 0:
		runs, err := s.Runs(ctx, store.RunFilter{Baselines: true})
		if err != nil {
			return err
		}
		if len(runs) < 2 {
			return fmt.Errorf("the %s holds %d complete runs: diff needs two (or give two files)", s.Name(), len(runs))
		}
		labels[0], labels[1] = runs[len(runs)-2].RunID, runs[len(runs)-1].RunID
	case 1:
		labels[0] = args[0]
		runs, err := s.Runs(ctx, store.RunFilter{Baselines: true})
		if err != nil {
			return err
		}
		if len(runs) == 0 {
			return fmt.Errorf("the %s holds no complete run to compare %s with", s.Name(), args[0])
		}
		labels[1] = runs[len(runs)-1].RunID
	default:
		labels[0], labels[1] = args[0], args[1]
	}
	for i, l := range labels {
		if isFile(l) {
			sides[i], err = diffFile(l, o.factory.IO.Err)
		} else {
			sides[i], labels[i], err = diffRun(ctx, s, l)
		}
		if err != nil {
			return err
		}
	}
	if labels[0] == labels[1] && !isFile(labels[0]) {
		return usageErrorf("%s is compared with itself: give another run (iamaudit history lists them)", labels[0])
	}
	res := diff.Compare(sides[0], sides[1], displayName(labels[0]), displayName(labels[1]))
	return writeDiff(o.factory.IO.Out, res, format)
}

// displayName is a file's base name, a run id as it is.
func displayName(l string) string {
	if isFile(l) {
		return filepath.Base(l)
	}
	return l
}

// openStore opens --db, else $IAMAUDIT_DB, else the default store.
func openStore(ctx context.Context, db string, mustExist bool) (*store.Store, error) {
	target := db
	if target == "" {
		var err error
		if target, err = defaultStore(); err != nil {
			return nil, err
		}
	}
	return store.Open(ctx, target, store.Options{MustExist: mustExist})
}

// diffRun loads a stored run whole: its findings from the tables and its
// inventory from the run's document (lossless: every gap with what it leaves unknown).
func diffRun(ctx context.Context, s *store.Store, runID string) (*outcome.Outcome, string, error) {
	if runID == "latest" {
		id, err := s.Latest(ctx)
		if err != nil {
			return nil, "", err
		}
		runID = id
	}
	o, err := s.Load(ctx, runID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", usageErrorf("%s is neither a file nor a run of the %s (iamaudit history lists them)", runID, s.Name())
	}
	if err != nil {
		return nil, "", err
	}
	if inv, err := s.Inventory(ctx, runID); err == nil {
		o.Inventory = inv
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, "", err
	}
	return o, runID, nil
}

var nameDate = regexp.MustCompile(`(20\d{2})-?(\d{2})-?(\d{2})`)

// diffFile reads a file as a run: a run JSON file with the findings it reported; a
// seed report or a credential report evaluated with the default checks at the
// file's time (its name's date, else its modification time).
func diffFile(path string, errw io.Writer) (*outcome.Outcome, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErrorf("read %s: %w", path, err)
	}
	kind, err := importer.Classify(path, data)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	settings := outcome.Settings{Checks: checks.DefaultConfig()}
	switch kind {
	case importer.RunJSON:
		doc, err := importer.ReadRunJSON(path, data)
		if err != nil {
			return nil, &UsageError{Err: err}
		}
		at := doc.FinishedAt
		if at.IsZero() {
			at = doc.StartedAt
		}
		return &outcome.Outcome{Command: doc.Command, Inventory: doc.Inventory, Now: at, Findings: doc.Findings,
			Resolved: doc.ResolvedFindings, Scores: doc.Scores}, nil
	case importer.SeedReport:
		var evName string
		var evData []byte
		if id := importer.SeedRunID(path); id != "" {
			evName = filepath.Join(filepath.Dir(path), "cloudtrail_events_"+id+".csv")
			if evData, err = os.ReadFile(evName); err != nil {
				evName, evData = "", nil
			}
		}
		inv, err := importer.ReadSeed(path, data, evName, evData, importer.SeedOptions{})
		if err != nil {
			return nil, &UsageError{Err: err}
		}
		return outcome.Evaluate(outcome.CommandAnalyze, inv, inv.StartedAt, settings, nil), nil
	case importer.CredentialReport:
		acct, err := reportAccount(path, data)
		if err != nil {
			return nil, err
		}
		at, from := fileTime(path)
		fmt.Fprintf(errw, "%s: ages measured at %s (%s).\n", filepath.Base(path), at.Format(time.RFC3339), from)
		inv := &inventory.Inventory{Schema: inventory.Schema, Tool: "iamaudit", RunID: inventory.RunID(at), StartedAt: at, FinishedAt: at,
			Partition: "aws", EventNames: []string{}, Accounts: []inventory.Account{acct}, Gaps: []inventory.Gap{}}
		return outcome.Evaluate(outcome.CommandAnalyze, inv, at, settings, nil), nil
	}
	return nil, usageErrorf("%s is a seed events file: diff compares the iam_audit_report files (their events are read beside them)", path)
}

// fileTime is when a credential report was taken: a date in its name
// (cred-report-2026-01-12.csv), else the file's modification time.
func fileTime(path string) (time.Time, string) {
	if m := nameDate.FindStringSubmatch(filepath.Base(path)); m != nil {
		if t, err := time.Parse("20060102", m[1]+m[2]+m[3]); err == nil {
			return t.UTC(), "the date in its name"
		}
	}
	if fi, err := os.Stat(path); err == nil {
		return fi.ModTime().UTC().Truncate(time.Second), "its modification time"
	}
	return time.Time{}, "unknown"
}

// kindText is a change's kind as a person reads it.
func kindText(k diff.Kind) string {
	switch k {
	case diff.FindingSeverity:
		return "finding severity"
	case diff.AccountAuditable:
		return "account auditable"
	case diff.AccountNotAuditable:
		return "account not auditable"
	}
	return strings.ReplaceAll(string(k), "_", " ")
}

// diffCSVHeader are the columns of `diff --format csv`.
var diffCSVHeader = []string{"kind", "account_id", "account_name", "user", "key", "new_key", "finding_id", "check_id",
	"resource", "before", "after", "unknown_in", "items", "detail"}

func writeDiff(w io.Writer, r diff.Result, format string) error {
	side := func(s string) string {
		switch s {
		case "a":
			return r.A.Label
		case "b":
			return r.B.Label
		}
		return ""
	}
	switch format {
	case "json":
		return writeJSON(w, r)
	case "csv":
		rows := make([][]string, 0, len(r.Changes))
		for _, c := range r.Changes {
			rows = append(rows, []string{string(c.Kind), c.AccountID, c.AccountName, c.User, c.Key, c.NewKey, c.FindingID,
				c.CheckID, c.Resource, c.Before, c.After, side(c.Side), strings.Join(c.Items, "; "), c.Detail})
		}
		return report.WriteSafeCSV(w, diffCSVHeader, rows)
	case "markdown":
		var b strings.Builder
		md := report.MarkdownCell
		fmt.Fprintf(&b, "# Changes from %s to %s\n\n", md(r.A.Label), md(r.B.Label))
		fmt.Fprintf(&b, "%s: %s · %s: %s\n\n", md(r.A.Label), r.A.At.UTC().Format("2006-01-02 15:04 UTC"), md(r.B.Label), r.B.At.UTC().Format("2006-01-02 15:04 UTC"))
		b.WriteString("| change | count |\n|---|--:|\n")
		for _, k := range diff.Kinds() {
			if r.Counts[k] > 0 {
				fmt.Fprintf(&b, "| %s | %d |\n", kindText(k), r.Counts[k])
			}
		}
		if len(r.Changes) == 0 {
			b.WriteString("\nNo change.\n")
		} else {
			b.WriteString("\n| account | change | detail |\n|---|---|---|\n")
			for _, c := range r.Changes {
				fmt.Fprintf(&b, "| %s | %s | %s |\n", md(accountLabel(c.AccountName, c.AccountID)), kindText(c.Kind), md(c.Detail))
			}
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	if format == "table" {
		fmt.Fprintf(w, "Changes from %s (%s) to %s (%s):\n\n", r.A.Label, r.A.At.UTC().Format("2006-01-02 15:04"),
			r.B.Label, r.B.At.UTC().Format("2006-01-02 15:04"))
	}
	t := newTable(w, format)
	t.row("ACCOUNT", "CHANGE", "DETAIL")
	for _, c := range r.Changes {
		t.row(c.AccountID, kindText(c.Kind), oneLine(c.Detail))
	}
	t.flush()
	if format == "table" {
		var parts []string
		for _, k := range diff.Kinds() {
			if r.Counts[k] > 0 {
				parts = append(parts, strconv.Itoa(r.Counts[k])+" "+kindText(k))
			}
		}
		if len(parts) == 0 {
			parts = []string{"no change"}
		}
		fmt.Fprintf(w, "\n%s.\n", strings.Join(parts, ", "))
	}
	return nil
}

// accountLabel is "Name (id)", or the id when the name is the id or unknown.
func accountLabel(name, id string) string {
	if name == "" || name == id {
		return id
	}
	return name + " (" + id + ")"
}
