package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/score"
	"github.com/iamaudit/iamaudit/internal/store"
)

// HistoryOptions are the options `iamaudit history` and its subcommands share.
type HistoryOptions struct {
	factory *Factory
	DB      string
	// Format is table, plain or json; "" is table on a terminal, plain when piped.
	Format string
	// RunID: `history show RUN`.
	RunID string
	// Prune: `history prune`.
	Keep      int
	OlderThan string
	DryRun    bool
}

func (o *HistoryOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DB, "db", "", "store of runs: a SQLite file or postgres://… (default $"+store.EnvDB+", else ~/.local/state/iamaudit/iamaudit.db; a demo's is iamaudit-demo/iamaudit.db)")
	fs.StringVar(&o.Format, "format", "", "table, plain (tab-separated) or json (default: table on a terminal, plain when piped)")
}

// newHistoryCmd builds `iamaudit history` with `show` and `prune`; runF, when not
// nil, replaces the work of all three (runHistory) so that flag parsing is tested apart.
func newHistoryCmd(f *Factory, runF func(context.Context, string, *HistoryOptions) error) *cobra.Command {
	if runF == nil {
		runF = runHistory
	}
	opts := &HistoryOptions{factory: f}
	cmd := &cobra.Command{
		Use:   "history [flags]",
		Short: "List the runs kept in the store",
		Long: `List the runs kept in the store (--db): when each ran, the accounts audited and not
audited, the open findings by severity and the risk score, oldest first.

'iamaudit run' and 'iamaudit demo' record every run in the store; docs/store-schema.md
describes its tables for sqlite3 and psql.`,
		Example: `  iamaudit history
  iamaudit history show latest
  iamaudit history prune --keep 24
  iamaudit history --db postgres://iamaudit@db.example/iamaudit --format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runF(cmd.Context(), "list", opts)
		},
	}
	opts.addFlags(cmd.PersistentFlags())

	show := &cobra.Command{
		Use:   "show RUN",
		Short: "Show one stored run: its accounts, findings, gaps and settings",
		Long:  "Show one stored run (a run id such as 20260301_120000, or latest): when and how it ran, its accounts with their findings and risk, its finding states and its gaps.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("%s takes one run id (or latest); iamaudit history lists them", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.RunID = args[0]
			return runF(cmd.Context(), "show", opts)
		},
	}
	prune := &cobra.Command{
		Use:   "prune --keep N | --older-than D",
		Short: "Delete old runs from the store",
		Long: `Delete old runs from the store, in one transaction. A run is kept when it is one of the
newest --keep N runs, or when it is younger than --older-than D (90d, 12w, 720h); with
both, a run is deleted only when neither keeps it. A deleted run goes whole: its accounts,
users, access keys, MFA devices, root keys, CloudTrail events, gaps, findings, scores and
stored JSON document. The lifecycle of findings still open (their first_seen) is kept;
that of findings a deleted run resolved goes with it. --dry-run lists what would go.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Keep < 0 {
				return usageErrorf("--keep %d: give a number of runs, 1 or more", opts.Keep)
			}
			if opts.Keep == 0 && opts.OlderThan == "" {
				return usageErrorf("say which runs to keep: --keep N (the newest N) or --older-than D (e.g. 180d)")
			}
			if opts.OlderThan != "" {
				if _, err := parseAge(opts.OlderThan); err != nil {
					return &UsageError{Err: fmt.Errorf("--older-than: %w", err)}
				}
			}
			return runF(cmd.Context(), "prune", opts)
		},
	}
	prune.Flags().IntVar(&opts.Keep, "keep", 0, "keep the newest N runs")
	prune.Flags().StringVar(&opts.OlderThan, "older-than", "", "delete runs older than this: 90d, 12w or a Go duration such as 720h")
	prune.Flags().BoolVar(&opts.DryRun, "dry-run", false, "list the runs that would be deleted; delete nothing")
	cmd.AddCommand(show, prune)
	return cmd
}

var ageRe = regexp.MustCompile(`^(\d+)([dw])$`)

// parseAge reads 90d, 12w or a Go duration.
func parseAge(s string) (time.Duration, error) {
	if m := ageRe.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		unit := 24 * time.Hour
		if m[2] == "w" {
			unit *= 7
		}
		return time.Duration(n) * unit, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: give days (90d), weeks (12w) or a duration (720h)", s)
	}
	return d, nil
}

func runHistory(ctx context.Context, what string, opts *HistoryOptions) error {
	format, err := opts.format()
	if err != nil {
		return err
	}
	target := opts.DB
	if target == "" {
		if target, err = defaultStore(); err != nil {
			return err
		}
	}
	s, err := store.Open(ctx, target, store.Options{MustExist: true})
	if err != nil {
		return err
	}
	defer s.Close()
	out := opts.factory.IO.Out
	switch what {
	case "show":
		return historyShow(ctx, s, opts.RunID, format, out)
	case "prune":
		return historyPrune(ctx, s, opts, format, out)
	}
	return historyList(ctx, s, format, out)
}

func (o *HistoryOptions) format() (string, error) {
	switch o.Format {
	case "":
		if isTerminal(o.factory.IO.Out) {
			return "table", nil
		}
		return "plain", nil
	case "table", "plain", "json":
		return o.Format, nil
	}
	return "", usageErrorf("--format %q: use table, plain or json", o.Format)
}

// table writes rows aligned (table) or tab-separated (plain).
type table struct {
	w     io.Writer
	tw    *tabwriter.Writer
	plain bool
}

func newTable(w io.Writer, format string) *table {
	t := &table{w: w, plain: format == "plain"}
	if !t.plain {
		t.tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	}
	return t
}

func (t *table) row(cells ...string) {
	line := strings.Join(cells, "\t") + "\n"
	if t.plain {
		io.WriteString(t.w, line)
		return
	}
	io.WriteString(t.tw, line)
}

func (t *table) flush() {
	if t.tw != nil {
		t.tw.Flush()
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// riskText is a risk figure as a person reads it: "47 medium", or "unknown (at
// least 47)" when findings may be missing, with the formula when it is not today's.
func riskText(r store.Risk) string {
	s := "unknown (at least " + strconv.Itoa(r.AtLeast) + ")"
	if r.Score != nil {
		s = strconv.Itoa(*r.Score) + " " + r.Label
	}
	if r.Formula != "" && r.Formula != score.RiskFormula {
		s += " [" + r.Formula + "]"
	}
	return s
}

func runStatus(r store.RunSummary) string {
	switch {
	case r.Interrupted:
		return "interrupted"
	case r.Command != outcome.CommandRun:
		return r.Command
	case r.Complete:
		return "complete"
	}
	return "incomplete"
}

func historyList(ctx context.Context, s *store.Store, format string, out io.Writer) error {
	runs, err := s.Runs(ctx, store.RunFilter{})
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSON(out, runs)
	}
	if len(runs) == 0 && format == "table" {
		fmt.Fprintf(out, "No run in the %s yet: iamaudit run records one.\n", s.Name())
		return nil
	}
	t := newTable(out, format)
	t.row("RUN", "FINISHED (UTC)", "ORGANIZATION", "AUDITED", "NOT AUDITED", "CRITICAL", "HIGH", "MEDIUM", "LOW", "SUPPRESSED", "RISK", "STATUS")
	for _, r := range runs {
		org := r.OrganizationID
		if org == "" {
			org = "-"
		}
		t.row(r.RunID, r.FinishedAt.UTC().Format("2006-01-02 15:04"), org,
			strconv.Itoa(r.Accounts.Audited+r.Accounts.Partial), strconv.Itoa(r.Accounts.NotAudited),
			strconv.Itoa(r.Findings.Critical), strconv.Itoa(r.Findings.High), strconv.Itoa(r.Findings.Medium),
			strconv.Itoa(r.Findings.Low), strconv.Itoa(r.Findings.Suppressed), riskText(r.Risk), runStatus(r))
	}
	t.flush()
	return nil
}

// runDetail is `history show --format json`.
type runDetail struct {
	store.RunSummary
	Partition     string                  `json:"partition,omitempty"`
	Region        string                  `json:"region,omitempty"`
	AuditRole     string                  `json:"audit_role,omitempty"`
	Caller        *inventory.Caller       `json:"caller,omitempty"`
	Settings      outcome.Settings        `json:"settings"`
	Files         []string                `json:"files"`
	States        map[string]int          `json:"finding_states"`
	AccountScores []accountDetail         `json:"account_details"`
	Gaps          []inventory.Gap         `json:"gaps"`
	Organization  *inventory.Organization `json:"organization,omitempty"`
}

type accountDetail struct {
	ID     string       `json:"id"`
	Name   string       `json:"name"`
	Status string       `json:"status"`
	Reason string       `json:"reason,omitempty"`
	Gaps   int          `json:"gaps"`
	Score  *score.Score `json:"score,omitempty"`
}

func historyShow(ctx context.Context, s *store.Store, runID, format string, out io.Writer) error {
	if runID == "latest" {
		id, err := s.Latest(ctx)
		if err != nil {
			return err
		}
		runID = id
	}
	sum, err := s.RunSummaryOf(ctx, runID)
	if errors.Is(err, store.ErrNotFound) {
		// A run id the store does not hold is bad input (exit 2), as in diff.
		return usageErrorf("%w: iamaudit history lists the runs of the %s", err, s.Name())
	}
	if err != nil {
		return err
	}
	o, err := s.Load(ctx, runID)
	if err != nil {
		return err
	}
	inv := o.Inventory
	d := runDetail{RunSummary: sum, Partition: inv.Partition, Region: inv.Region, AuditRole: inv.AuditRole, Caller: inv.Caller,
		Organization: inv.Organization, Settings: o.Settings, Files: o.Files, States: map[string]int{},
		AccountScores: []accountDetail{}, Gaps: append([]inventory.Gap{}, inv.Gaps...)}
	for _, st := range []string{checks.StateNew, checks.StateOpen, checks.StateSuppressed, checks.StateResolved} {
		d.States[st] = 0
	}
	for _, f := range o.Findings {
		d.States[f.State]++
	}
	d.States[checks.StateResolved] += len(o.Resolved)
	for _, a := range inv.Accounts {
		ad := accountDetail{ID: a.ID, Name: a.Name, Status: a.Status, Reason: a.Reason, Gaps: len(a.Gaps)}
		if sc, ok := o.Scores.Account(a.ID); ok {
			ad.Score = &sc
		}
		d.AccountScores = append(d.AccountScores, ad)
		d.Gaps = append(d.Gaps, a.Gaps...)
	}
	if format == "json" {
		return writeJSON(out, d)
	}
	kv := newTable(out, format)
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	org := "-"
	if inv.Organization != nil {
		org = inv.Organization.ID + " (management account " + inv.Organization.ManagementAccountID + ")"
	}
	caller := "-"
	if inv.Caller != nil {
		caller = inv.Caller.ARN
	}
	fail := "none"
	if o.Settings.FailOn != nil {
		fail = o.Settings.FailOn.String()
	}
	kv.row("Run", sum.RunID)
	kv.row("Command", sum.Command+" (recorded by "+sum.Source+", iamaudit "+dash(sum.ToolVersion)+")")
	kv.row("Started", sum.StartedAt.UTC().Format(time.RFC3339))
	kv.row("Finished", sum.FinishedAt.UTC().Format(time.RFC3339))
	kv.row("Organization", org)
	kv.row("Caller", caller)
	kv.row("Audit role", dash(inv.AuditRole))
	kv.row("Compared with", dash(sum.BaselineRunID))
	kv.row("Status", runStatus(sum)+fmt.Sprintf(" (%d gaps)", len(d.Gaps)))
	kv.row("Accounts", fmt.Sprintf("%d audited, %d partial, %d not audited, %d skipped, %d not reached",
		sum.Accounts.Audited, sum.Accounts.Partial, sum.Accounts.NotAudited, sum.Accounts.Skipped, sum.Accounts.NotReached))
	kv.row("Findings", fmt.Sprintf("%d critical, %d high, %d medium, %d low, %d suppressed",
		sum.Findings.Critical, sum.Findings.High, sum.Findings.Medium, sum.Findings.Low, sum.Findings.Suppressed))
	kv.row("States", fmt.Sprintf("%d new, %d open, %d suppressed, %d resolved", d.States[checks.StateNew],
		d.States[checks.StateOpen], d.States[checks.StateSuppressed], d.States[checks.StateResolved]))
	kv.row("Risk", riskText(sum.Risk)+" ("+sum.Risk.Formula+")")
	kv.row("Settings", fmt.Sprintf("preset %s, %d suppression rules, --fail-on %s", dash(o.Settings.Checks.Preset), len(o.Settings.Suppressions), fail))
	kv.row("Files", dash(strings.Join(o.Files, ", ")))
	kv.flush()

	fmt.Fprintln(out)
	t := newTable(out, format)
	t.row("ACCOUNT", "NAME", "STATUS", "USERS", "ACTIVE KEYS", "MFA COVERAGE", "CRITICAL", "HIGH", "MEDIUM", "LOW", "RISK")
	for _, a := range d.AccountScores {
		cells := []string{a.ID, a.Name, a.Status}
		if a.Score == nil || !a.Score.Audited {
			cells = append(cells, "unknown", "unknown", "unknown", "-", "-", "-", "-", "unknown")
			if a.Score != nil {
				c := a.Score.Findings
				cells[6], cells[7], cells[8], cells[9] = strconv.Itoa(c.Critical), strconv.Itoa(c.High), strconv.Itoa(c.Medium), strconv.Itoa(c.Low)
			}
			t.row(cells...)
			continue
		}
		sc := a.Score
		cov := "unknown"
		if sc.MFACoverage != nil {
			cov = strconv.FormatFloat(*sc.MFACoverage, 'f', 0, 64) + "%"
		}
		t.row(append(cells, strconv.Itoa(sc.Users), strconv.Itoa(sc.ActiveKeys), cov, strconv.Itoa(sc.Findings.Critical),
			strconv.Itoa(sc.Findings.High), strconv.Itoa(sc.Findings.Medium), strconv.Itoa(sc.Findings.Low),
			riskText(store.Risk{Formula: sc.RiskFormula, Score: sc.Risk, AtLeast: sc.RiskAtLeast, Label: sc.RiskLabel}))...)
	}
	t.flush()
	if len(d.Gaps) > 0 {
		fmt.Fprintln(out)
		g := newTable(out, format)
		g.row("GAP ACCOUNT", "SECTION", "UNKNOWN", "SUBJECT", "OPERATION", "ERROR", "MESSAGE")
		sort.SliceStable(d.Gaps, func(i, j int) bool { return d.Gaps[i].AccountID < d.Gaps[j].AccountID })
		for _, gap := range d.Gaps {
			unknown := make([]string, len(gap.Unknown))
			for i, f := range gap.Unknown {
				unknown[i] = string(f)
			}
			g.row(dash(gap.AccountID), string(gap.Section), dash(strings.Join(unknown, ", ")), dash(gap.Subject), dash(gap.Operation),
				dash(gap.ErrorCode), oneLine(gap.Message))
		}
		g.flush()
	}
	return nil
}

// oneLine keeps a message on one line of a table.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func historyPrune(ctx context.Context, s *store.Store, opts *HistoryOptions, format string, out io.Writer) error {
	po := store.PruneOptions{Keep: opts.Keep, DryRun: opts.DryRun}
	if opts.OlderThan != "" {
		age, _ := parseAge(opts.OlderThan) // validated with the flags
		po.Before = opts.factory.Clock().Add(-age)
	}
	res, err := s.Prune(ctx, po)
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSON(out, res)
	}
	verb := "Deleted"
	if opts.DryRun {
		verb = "Would delete"
	}
	if len(res.Deleted) == 0 {
		fmt.Fprintf(out, "Nothing to delete: the %d runs of the %s are all kept.\n", res.Kept, s.Name())
		return nil
	}
	fmt.Fprintf(out, "%s %d runs from the %s (each with its accounts, users, access keys, MFA devices, root keys, events, gaps, findings, scores and JSON document); %d kept.\n",
		verb, len(res.Deleted), s.Name(), res.Kept)
	t := newTable(out, format)
	t.row("RUN")
	for _, id := range res.Deleted {
		t.row(id)
	}
	t.flush()
	if !opts.DryRun {
		var parts []string
		for _, k := range []string{"runs", "accounts", "users", "access_keys", "mfa_devices", "root_access_keys", "events", "gaps", "findings", "scores", "run_documents", "finding_lifecycle"} {
			parts = append(parts, fmt.Sprintf("%s %d", k, res.Rows[k]))
		}
		fmt.Fprintf(out, "Rows deleted: %s.\n", strings.Join(parts, ", "))
	}
	return nil
}
