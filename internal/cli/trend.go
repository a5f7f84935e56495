package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/score"
	"github.com/iamaudit/iamaudit/internal/store"
	"github.com/iamaudit/iamaudit/internal/trend"
)

// TrendOptions are the flags of `iamaudit trend`.
type TrendOptions struct {
	factory  *Factory
	DB       string
	By       string
	Accounts []string
	Since    string
	Until    string
	// Format is table, plain, csv or json; "" is table on a terminal, plain when piped.
	Format string
}

// AddFlags registers the options' flags.
func (o *TrendOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DB, "db", "", "store of runs: a SQLite file or postgres://… (default $"+store.EnvDB+", else ~/.local/state/iamaudit/iamaudit.db)")
	fs.StringVar(&o.By, "by", "month", "one row per month (the month's last run) or per run: month or run")
	fs.StringSliceVar(&o.Accounts, "account", nil, "rows for these accounts (ids, repeat or comma-separate) instead of the Organization")
	fs.StringVar(&o.Since, "since", "", "only runs from this date (YYYY-MM-DD, UTC)")
	fs.StringVar(&o.Until, "until", "", "only runs up to this date (YYYY-MM-DD, UTC, inclusive)")
	fs.StringVar(&o.Format, "format", "", "table, plain (tab-separated), csv or json (default: table on a terminal, plain when piped)")
}

func newTrendCmd(f *Factory, runF func(context.Context, *TrendOptions) error) *cobra.Command {
	if runF == nil {
		runF = runTrend
	}
	opts := &TrendOptions{factory: f}
	cmd := &cobra.Command{
		Use:   "trend [flags]",
		Short: "Show how the Organization's credentials changed over the stored runs",
		Long: `Show the trend of the stored runs (--db), one row per month or per run: seed 004's
tracking table (total keys, active keys older than 90 days and one year, MFA coverage,
inactive users) with never-used keys, the median age of active keys, the open findings
by severity, the risk score, and the CloudTrail CreateAccessKey, DeleteAccessKey and
DeleteUser events of the period (each event once, whichever runs saw it).

A figure the runs do not know is "unknown", with what is known as a lower bound; a
change of risk formula is said where it happens. --format csv is the seed's "simple
tracking spreadsheet".`,
		Example: `  iamaudit trend
  iamaudit trend --by run --account 123456789012
  iamaudit trend --format csv > tracking.csv`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.By != string(trend.ByMonth) && opts.By != string(trend.ByRun) {
				return usageErrorf("--by %q: use month or run", opts.By)
			}
			for _, a := range opts.Accounts {
				if !accountIDRe.MatchString(a) {
					return usageErrorf("--account %q: give a 12-digit account id", a)
				}
			}
			if _, _, err := opts.bounds(); err != nil {
				return err
			}
			if _, err := opts.format(); err != nil {
				return err
			}
			return runF(cmd.Context(), opts)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

func (o *TrendOptions) bounds() (since, until time.Time, err error) {
	parse := func(flag, v string) (time.Time, error) {
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return time.Time{}, usageErrorf("--%s %q: give a date, YYYY-MM-DD", flag, v)
		}
		return t, nil
	}
	if since, err = parse("since", o.Since); err != nil {
		return
	}
	if until, err = parse("until", o.Until); err != nil {
		return
	}
	if !until.IsZero() {
		until = until.AddDate(0, 0, 1).Add(-time.Microsecond)
	}
	return
}

func (o *TrendOptions) format() (string, error) {
	switch o.Format {
	case "":
		if isTerminal(o.factory.IO.Out) {
			return "table", nil
		}
		return "plain", nil
	case "table", "plain", "csv", "json":
		return o.Format, nil
	}
	return "", usageErrorf("--format %q: use table, plain, csv or json", o.Format)
}

func runTrend(ctx context.Context, o *TrendOptions) error {
	format, err := o.format()
	if err != nil {
		return err
	}
	since, until, err := o.bounds()
	if err != nil {
		return err
	}
	s, err := openStore(ctx, o.DB, true)
	if err != nil {
		return err
	}
	defer s.Close()
	t, err := trend.Load(ctx, s, trend.Query{By: trend.By(o.By), Accounts: o.Accounts, Since: since, Until: until})
	if err != nil {
		return err
	}
	for _, a := range o.Accounts {
		found := false
		for _, r := range t.Rows {
			found = found || r.Scope == a
		}
		if !found {
			fmt.Fprintf(o.factory.IO.Err, "iamaudit: account %s is in no stored run of the period\n", a)
		}
	}
	out := o.factory.IO.Out
	if len(t.Rows) == 0 && format == "table" {
		fmt.Fprintf(out, "No run to show in the %s: iamaudit run (or iamaudit import of earlier reports) records them.\n", s.Name())
		return nil
	}
	return writeTrend(out, t, format, len(o.Accounts) > 0)
}

// trendColumns are the CSV columns: the seed's tracking spreadsheet first.
var trendColumns = []string{"period", "run_id", "scope", "account_name", "accounts_audited", "total_keys",
	"keys_over_90_days", "keys_over_1_year", "mfa_coverage", "inactive_users", "never_used_keys",
	"median_key_age_days", "critical", "high", "medium", "low", "suppressed", "findings_complete",
	"risk", "risk_formula"}

func accountsText(r trend.Row) string {
	if r.Scope != trend.Organization {
		return "-"
	}
	s := fmt.Sprintf("%d/%d", r.AccountsAudited, r.AccountsTotal)
	if r.AccountListIncomplete {
		s += " (list incomplete)"
	}
	return s
}

func trendRisk(r trend.Row) string {
	s := riskText(r.Risk)
	if r.Risk.Formula == "" {
		return "unknown"
	}
	return s
}

func writeTrend(w io.Writer, t *trend.Trend, format string, perAccount bool) error {
	if format == "json" {
		return writeJSON(w, t)
	}
	cells := func(r trend.Row) []string {
		c := r.Findings
		return []string{accountsText(r), r.Keys.Text(""), r.KeysOver90Days.Text(""), r.KeysOver1Year.Text(""),
			r.MFACoverage.Text("%"), r.InactiveUsers.Text(""), r.NeverUsedKeys.Text(""), r.MedianKeyAgeDays.Text(""),
			strconv.Itoa(c.Critical), strconv.Itoa(c.High), strconv.Itoa(c.Medium), strconv.Itoa(c.Low)}
	}
	events := func(r trend.Row) []string {
		var out []string
		for _, n := range t.EventNames {
			out = append(out, r.Events[n].Text(""))
		}
		return out
	}
	if format == "csv" {
		header := append(append([]string{}, trendColumns...), t.EventNames...)
		var rows [][]string
		for _, r := range t.Rows {
			c := r.Findings
			name := r.AccountName
			accts := ""
			if r.Scope == trend.Organization {
				accts = accountsText(r)
			}
			rows = append(rows, append([]string{r.Period, r.RunID, r.Scope, name, accts, r.Keys.Text(""),
				r.KeysOver90Days.Text(""), r.KeysOver1Year.Text(""), r.MFACoverage.Text("%"), r.InactiveUsers.Text(""),
				r.NeverUsedKeys.Text(""), r.MedianKeyAgeDays.Text(""), strconv.Itoa(c.Critical), strconv.Itoa(c.High),
				strconv.Itoa(c.Medium), strconv.Itoa(c.Low), strconv.Itoa(c.Suppressed), strconv.FormatBool(r.FindingsComplete),
				trendRisk(r), r.Risk.Formula}, events(r)...))
		}
		for _, r := range rows {
			for i, c := range r {
				if c == "-" {
					r[i] = "n/a" // nothing to measure (a median without active keys); "-" would read as a formula
				}
			}
		}
		return report.WriteSafeCSV(w, header, rows)
	}
	period := strings.ToUpper(string(t.By))
	head := []string{period}
	if perAccount {
		head = append(head, "ACCOUNT")
	}
	head = append(head, "ACCOUNTS", "KEYS", "KEYS >90D", "KEYS >1Y", "MFA", "INACTIVE USERS", "NEVER-USED KEYS",
		"MEDIAN KEY AGE (D)", "CRITICAL", "HIGH", "MEDIUM", "LOW", "RISK")
	head = append(head, t.EventNames...)
	tb := newTable(w, format)
	tb.row(head...)
	for _, r := range t.Rows {
		line := []string{r.Period}
		if perAccount {
			line = append(line, accountLabel(r.AccountName, r.Scope))
		}
		line = append(append(line, cells(r)...), trendRisk(r))
		tb.row(append(line, events(r)...)...)
	}
	tb.flush()
	if format != "table" {
		return nil
	}
	var notes []string
	for _, c := range t.FormulaChanges {
		who := "the Organization's"
		if c.Scope != trend.Organization {
			who = "account " + c.Scope + "'s"
		}
		notes = append(notes, fmt.Sprintf("The risk formula of %s risk changed at %s (%s → %s): the risks before and after are not comparable.",
			who, c.Period, c.From, c.To))
	}
	for _, inc := range t.Increases("CreateAccessKey") {
		who := ""
		if inc.Scope != trend.Organization {
			who = " in account " + inc.Scope
		}
		notes = append(notes, fmt.Sprintf("CreateAccessKey events went up%s from %d (%s) to %d (%s): investigate why new long-term credentials are being created.",
			who, inc.From, inc.FromPeriod, inc.To, inc.ToPeriod))
	}
	unknownEvents := false
	for _, r := range t.Rows {
		for _, n := range t.EventNames {
			unknownEvents = unknownEvents || r.Events[n].Unknown
		}
	}
	if unknownEvents {
		notes = append(notes, "Events are unknown for a period that no stored run's CloudTrail window covers whole (or where a lookup failed); imported seed reports have a window only with iamaudit import --cloudtrail-since.")
	}
	by := "the last run of each month"
	if t.By == trend.ByRun {
		by = "every run; events since the previous run"
	}
	notes = append(notes, fmt.Sprintf("Rows: %s. KEYS counts every access key; KEYS >90D, >1Y and the median age count active keys. Risk: %s unless marked.", by, score.RiskFormula))
	fmt.Fprintln(w)
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	return nil
}
