package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamaudit/iamaudit/internal/audit"
	"github.com/iamaudit/iamaudit/internal/bench"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/history"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/outdir"
	"github.com/iamaudit/iamaudit/internal/publish"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/store"
)

// auditFlags are the flags `run` and `demo` share: what to collect, how to judge it,
// where to write it.
type auditFlags struct {
	OutputDir       string
	Lang            string
	Days            int
	Accounts        []string
	ExcludeAccounts []string
	OUs             []string
	Concurrency     int
	FreshKeyUsage   bool
	StreamAfter     int
	ConfigPath      string
	Preset          string
	Suppressions    string
	FailOn          string
	NoProgress      bool
	Formats         []string
	DB              string
	NoDB            bool
	// demo: the default store is the demo's own (HistoryPlace.Demo).
	demo bool
	// Deadlines (docs/aws-facts.md "Deadlines").
	AttemptTimeout, CallTimeout, AccountTimeout, ReportTimeout time.Duration
}

func (f *auditFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.OutputDir, "output-dir", ".", "directory for the reports (created if missing)")
	fs.StringVar(&f.Lang, "lang", "en", "language of the console and CSV words: en or es")
	fs.IntVar(&f.Days, "days", 90, "CloudTrail window in days (1-90; CloudTrail event history holds 90 days)")
	fs.StringSliceVar(&f.Accounts, "accounts", nil, "audit only these account ids (comma separated)")
	fs.StringSliceVar(&f.ExcludeAccounts, "exclude-accounts", nil, "skip these account ids (comma separated)")
	fs.StringSliceVar(&f.OUs, "ou", nil, "audit only accounts under these OU ids (ou-…), recursively")
	fs.IntVar(&f.StreamAfter, "stream-after-users", audit.DefaultStreamAfterUsers, "past this many users collected, write each account to the outputs and the store as it finishes, keeping only its summary in memory (docs/streaming.md); 0: stream from the first account")
	fs.IntVar(&f.Concurrency, "concurrency", 0, fmt.Sprintf("accounts audited in parallel (0: derived, %d here: AWS's limits are per account, so every account runs at once, up to %d and as the open-files limit allows; at most %d)",
		collect.DefaultConcurrency(), collect.ConcurrencyCap, collect.MaxConcurrency))
	fs.BoolVar(&f.FreshKeyUsage, "fresh-key-usage", false, "call GetAccessKeyLastUsed per key instead of trusting the credential report (which can be up to 4 hours stale)")
	fs.StringVar(&f.ConfigPath, "config", "", "YAML file of check thresholds and severities")
	fs.StringVar(&f.Preset, "preset", "", "check preset when no --config: default or cis (a --config file names its own with `preset:`)")
	fs.StringVar(&f.Suppressions, "suppressions", "", "YAML file of suppression rules")
	fs.StringVar(&f.FailOn, "fail-on", "", "exit with code 4 when an unsuppressed finding at or above this severity exists: low, medium, high, critical")
	fs.BoolVar(&f.NoProgress, "no-progress", false, "no live progress line, even on a terminal")
	fs.StringSliceVar(&f.Formats, "format", nil, "output files to write (comma separated; default all): "+strings.Join(report.FormatNames(), ", "))
	fs.StringVar(&f.DB, "db", "", "store of runs: a SQLite file or postgres://… (default $"+store.EnvDB+", else ~/.local/state/iamaudit/iamaudit.db; see docs/store-schema.md)")
	fs.BoolVar(&f.NoDB, "no-db", false, "keep no store: compare with the newest run JSON file of --output-dir instead")
	fs.DurationVar(&f.AttemptTimeout, "attempt-timeout", 30*time.Second, "longest wait for the answer to one AWS request before it is retried")
	fs.DurationVar(&f.CallTimeout, "call-timeout", 3*time.Minute, "longest an AWS call may take, retries included, before it is given up (recorded as a gap)")
	fs.DurationVar(&f.AccountTimeout, "account-timeout", time.Hour, "longest the audit of one account may take; what is still missing then is recorded as gaps")
	fs.DurationVar(&f.ReportTimeout, "report-timeout", 5*time.Minute, "longest wait for a credential report before the account is audited with per-user calls")
}

// checkDeadlines refuses deadlines that are not positive, or an attempt longer than
// its call.
func (f *auditFlags) checkDeadlines() error {
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--attempt-timeout", f.AttemptTimeout}, {"--call-timeout", f.CallTimeout}, {"--account-timeout", f.AccountTimeout}, {"--report-timeout", f.ReportTimeout}} {
		if d.v <= 0 {
			return usageErrorf("%s %s: must be a positive duration such as 30s or 5m", d.flag, d.v)
		}
	}
	if f.AttemptTimeout > f.CallTimeout {
		return usageErrorf("--attempt-timeout %s is longer than --call-timeout %s: one attempt cannot outlast its call", f.AttemptTimeout, f.CallTimeout)
	}
	return nil
}

var accountIDRe = regexp.MustCompile(`^\d{12}$`)

// IAM's own patterns for a role session name and an external id (the role's name and
// path: collect.ParseRole).
var sessionNameRe = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
var externalIDRe = regexp.MustCompile(`^[\w+=,.@:/-]+$`)

func (o *RunOptions) validateRole() error {
	switch {
	case o.Role == "":
		return usageErrorf("--role is required: the role to assume in each account, e.g. --role AWSControlTowerExecution")
	case strings.HasPrefix(o.Role, "arn:"):
		return usageErrorf("--role %q: give the role's name, not its ARN (e.g. --role %s); the account ids come from the Organization", o.Role, roleFromARN(o.Role))
	case roleErr(o.Role) != nil:
		return usageErrorf("--role %q: %v; give the role's name, with its path if it has one (--role security/IAMAuditRole)", o.Role, roleErr(o.Role))
	case !sessionNameRe.MatchString(o.SessionName):
		return usageErrorf("--session-name %q: not a valid role session name (2-64 letters, digits and +=,.@_-)", o.SessionName)
	case o.ExternalID != "" && (len(o.ExternalID) < 2 || len(o.ExternalID) > 1224 || !externalIDRe.MatchString(o.ExternalID)):
		return usageErrorf("--external-id: 2-1224 letters, digits and +=,.@:/-")
	}
	return nil
}

// roleFromARN is what follows ":role/" in a role ARN (its path and name).
func roleFromARN(arn string) string {
	if i := strings.Index(arn, ":role/"); i >= 0 {
		return arn[i+len(":role/"):]
	}
	return arn[strings.LastIndex(arn, "/")+1:]
}

func roleErr(role string) error {
	_, _, err := collect.ParseRole(role)
	return err
}

var ouIDRe = regexp.MustCompile(`^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$`)

// auditOptions validates the flags and loads the files they name.
func (f *auditFlags) auditOptions(fac *Factory) (audit.Options, error) {
	var o audit.Options
	if _, err := report.MessagesFor(f.Lang); err != nil {
		return o, &UsageError{Err: fmt.Errorf("--lang: %w", err)}
	}
	if f.Days < 1 || f.Days > 90 {
		return o, usageErrorf("--days %d: must be between 1 and 90 (CloudTrail event history holds 90 days)", f.Days)
	}
	if f.StreamAfter < 0 {
		return o, usageErrorf("--stream-after-users %d: give a number of users (0: stream from the first account)", f.StreamAfter)
	}
	if f.Concurrency < 0 || f.Concurrency > collect.MaxConcurrency {
		return o, usageErrorf("--concurrency %d: must be between 1 and %d, or 0 for the derived default (%d here)", f.Concurrency, collect.MaxConcurrency, collect.DefaultConcurrency())
	}
	for _, list := range [][]string{f.Accounts, f.ExcludeAccounts} {
		for _, id := range list {
			if !accountIDRe.MatchString(id) {
				return o, usageErrorf("account id %q: must be 12 digits, e.g. 123456789012", id)
			}
		}
	}
	for _, id := range f.OUs {
		if !ouIDRe.MatchString(id) {
			return o, usageErrorf("--ou %q: not an OU id (ou-xxxx-xxxxxxxx) or root id (r-xxxx)", id)
		}
	}
	if err := f.checkDeadlines(); err != nil {
		return o, err
	}
	j, err := loadJudgement(f.ConfigPath, f.Preset, f.Suppressions, f.FailOn)
	if err != nil {
		return o, err
	}
	formats, err := report.SelectFormats(f.Formats)
	if err != nil {
		return o, &UsageError{Err: fmt.Errorf("--format: %w", err)}
	}
	if f.NoDB && f.DB != "" {
		return o, usageErrorf("give --db or --no-db, not both")
	}
	if f.demo && !f.NoDB && f.DB == "" {
		// The demo's store is in its output directory: check that first, so that
		// an unusable --output-dir is reported as such.
		if err := outdir.Check(f.OutputDir); err != nil {
			return o, err
		}
	}
	hist, err := fac.History(context.Background(), HistoryPlace{OutputDir: f.OutputDir, DB: f.DB, NoDB: f.NoDB, Demo: f.demo})
	if err != nil {
		return o, err
	}
	o.Collect = collect.Options{
		Days:            f.Days,
		Accounts:        f.Accounts,
		ExcludeAccounts: f.ExcludeAccounts,
		OUs:             f.OUs,
		Concurrency:     f.Concurrency,
		FreshKeyUsage:   f.FreshKeyUsage,
		AttemptTimeout:  f.AttemptTimeout,
		CallTimeout:     f.CallTimeout,
		AccountTimeout:  f.AccountTimeout,
		ReportTimeout:   f.ReportTimeout,
	}
	if fac.TuneCollect != nil {
		fac.TuneCollect(&o.Collect)
	}
	o.OutputDir, o.Lang, o.Version = f.OutputDir, f.Lang, fac.Version
	o.Checks, o.Suppressions, o.FailOn = j.Checks, j.Suppressions, j.FailOn
	o.Formats, o.History, o.Clock = formats, hist, fac.Clock
	o.Out, o.Err = fac.IO.Out, fac.IO.Err
	o.Live = !f.NoProgress && isTerminal(fac.IO.Err)
	o.StreamAfterUsers = f.StreamAfter
	if f.StreamAfter == 0 {
		o.StreamAfterUsers = -1
	}
	return o, nil
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// RunOptions are the options of `iamaudit run`.
type RunOptions struct {
	factory *Factory
	auditFlags
	destinationFlags
	Role        string
	Profile     string
	Region      string
	ExternalID  string
	SessionName string
	// IAMRate and EventsRate are the client-side limits per account (requests per
	// second; 0: the collector's defaults).
	IAMRate, EventsRate float64
	// CPUProfile is a file for the run's CPU profile (hidden: `iamaudit bench
	// --cpu-profile` passes it to the audit it measures; docs/bench.md).
	CPUProfile string
}

// newRunCmd builds `iamaudit run`; runF, when not nil, replaces the work (runAudit)
// so that flag parsing is tested apart.
func newRunCmd(f *Factory, runF func(context.Context, *RunOptions) error) *cobra.Command {
	if runF == nil {
		runF = runAudit
	}
	opts := &RunOptions{factory: f}
	cmd := &cobra.Command{
		Use:   "run --role ROLE [flags]",
		Short: "Audit every ACTIVE account of the Organization",
		Long: `Audit every ACTIVE account of the AWS Organization: assume --role in each account (the
management account is audited with your own credentials when the role is absent there),
collect users, console passwords, MFA devices, access keys, the root user, policies and
CloudTrail IAM events, evaluate the checks, and write:

  iam_audit_report_YYYYMMDD_HHMMSS.csv    one row per access key (and per user without keys)
  cloudtrail_events_YYYYMMDD_HHMMSS.csv   IAM events of the last --days days
  iamaudit_YYYYMMDD_HHMMSS.json           the whole inventory, findings and scores
  iamaudit_findings_YYYYMMDD_HHMMSS.csv   one row per finding

Credentials and endpoints come from the standard AWS chain (--profile, AWS_PROFILE, SSO,
environment, AWS_ENDPOINT_URL), as the AWS CLI does.

Every AWS request is abandoned and retried after --attempt-timeout, every call given up
after --call-timeout (a gap), every account after --account-timeout (its missing parts are
gaps); the credential report is awaited --report-timeout at most.

Exit codes: 0 audit complete; 1 the audit could not run (nothing written); 2 usage error;
3 some account or section could not be audited, or the run was interrupted (outputs
written); 4 a finding at or above --fail-on (takes precedence over 3); 5 some output files
could not be written (each is named; the findings summary is printed; takes precedence
over 3 and 4).`,
		Example: `  iamaudit run --profile mgmt --role AWSControlTowerExecution
  iamaudit run --role IAMAuditRole --lang es --output-dir reports --fail-on high`,
		Args: noArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyEnv(cmd, f)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.validateRole(); err != nil {
				return err
			}
			if err := opts.validateDestinations(); err != nil {
				return err
			}
			if err := opts.validateRates(cmd.Flags()); err != nil {
				return err
			}
			if opts.CPUProfile != "" {
				stop, err := bench.StartCPUProfile("--cpu-profile", opts.CPUProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			return runF(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	opts.addFlags(fs)
	fs.StringVar(&opts.Role, "role", "", "role name to assume in every account (required)")
	fs.StringVar(&opts.Profile, "profile", "", "AWS CLI profile of the management account (default: the standard chain)")
	fs.StringVar(&opts.Region, "region", "", "AWS region for the SDK (IAM and CloudTrail calls go to the partition's home region)")
	fs.StringVar(&opts.ExternalID, "external-id", "", "external id required by the role's trust policy")
	fs.StringVar(&opts.SessionName, "session-name", "iamaudit", "role session name (shows in CloudTrail)")
	fs.Float64Var(&opts.IAMRate, "iam-rate", 0,
		"IAM requests per second per account (default 18, the collector's: AWS publishes no IAM rate, peers use 10-20); lower it for an account busy with other IAM callers, raise it only against an endpoint that allows more, such as the sandbox")
	fs.Float64Var(&opts.EventsRate, "events-rate", 0,
		"CloudTrail LookupEvents requests per second per account (default 2, the rate AWS documents); raise it only against an endpoint that allows more, such as the sandbox")
	fs.StringVar(&opts.CPUProfile, "cpu-profile", "", "write the run's CPU profile (go tool pprof) to this file")
	_ = fs.MarkHidden("cpu-profile")
	opts.addDestinationFlags(fs)
	return cmd
}

// validateRates refuses a client-side rate that is not a positive number.
func (o *RunOptions) validateRates(fs *pflag.FlagSet) error {
	for _, r := range []struct {
		flag string
		v    float64
	}{{"iam-rate", o.IAMRate}, {"events-rate", o.EventsRate}} {
		if fs.Changed(r.flag) && (!(r.v > 0) || math.IsInf(r.v, 0)) {
			return usageErrorf("--%s %v: must be a positive number of requests per second per account (leave it out for the default)", r.flag, r.v)
		}
	}
	return nil
}

// applyRates sets the client-side rates given with --iam-rate and --events-rate (the
// others stay the collector's defaults).
func (o *RunOptions) applyRates(c *collect.Options) {
	if o.IAMRate > 0 {
		c.IAMRate = o.IAMRate
	}
	if o.EventsRate > 0 {
		c.EventsRate = o.EventsRate
	}
}

func runAudit(ctx context.Context, opts *RunOptions) error {
	aopts, err := opts.auditOptions(opts.factory)
	if err != nil {
		return err
	}
	defer closeHistory(aopts.History)
	aopts.Collect.Role = opts.Role
	aopts.Collect.ExternalID = opts.ExternalID
	aopts.Collect.SessionName = opts.SessionName
	opts.applyRates(&aopts.Collect)
	if opts.Region != "" && !regionRe.MatchString(opts.Region) {
		return usageErrorf("--region %q: not a region name (letters, digits and -, e.g. us-east-1)", opts.Region)
	}
	cfg, err := opts.factory.AWSConfig(ctx, opts.Profile, opts.Region)
	if err != nil {
		return err
	}
	if !regionRe.MatchString(cfg.Region) {
		return usageErrorf("the AWS region %q (from AWS_REGION, AWS_DEFAULT_REGION or the profile's region) is not a region name: set --region or AWS_REGION to one such as us-east-1", cfg.Region)
	}
	aopts.Collect.Profile = opts.Profile
	if aopts.Collect.Profile == "" {
		aopts.Collect.Profile = os.Getenv("AWS_PROFILE")
	}
	aopts.Destinations = opts.destinationFlags.destinations(cfg,
		publish.AuditRole{Role: opts.Role, ExternalID: opts.ExternalID, SessionName: opts.SessionName}, opts.Lang)
	return runAndExit(ctx, cfg, aopts)
}

// regionRe is what the SDK accepts as a region: a host label (it builds endpoint
// host names from it, and refuses anything else with "invalid input region").
var regionRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// closeHistory closes a history that holds a database.
func closeHistory(h history.History) {
	if c, ok := h.(io.Closer); ok {
		c.Close()
	}
}

// runAndExit runs the audit and turns its result into the documented exit code.
func runAndExit(ctx context.Context, cfg aws.Config, aopts audit.Options) error {
	_, err := runOutcome(ctx, cfg, aopts)
	return err
}

// runOutcome is runAndExit that also returns the outcome (nil when nothing was
// written), for `demo` to name its files.
func runOutcome(ctx context.Context, cfg aws.Config, aopts audit.Options) (*outcome.Outcome, error) {
	tuneGC()
	o, err := audit.Run(ctx, cfg, aopts)
	if err == nil {
		if s, ok := aopts.History.(*store.Store); ok {
			fmt.Fprintf(aopts.Err, "iamaudit: run %s recorded in the %s (iamaudit history)\n", o.Inventory.RunID, s.Name())
		}
	}
	return o, judge(ctx, o, err, aopts)
}

// judge turns what audit.Run returned into the error that carries the documented
// exit code (exitCode).
func judge(ctx context.Context, o *outcome.Outcome, err error, aopts audit.Options) error {
	if errors.Is(err, audit.ErrEmptySelection) {
		return &UsageError{Err: err}
	}
	var oe *audit.OutputsError
	if errors.As(err, &oe) {
		return &ExitCodeError{Code: ExitOutputs, Msg: fmt.Sprintf("the findings are printed above, but %d output files could not be written (%s): %v; free space or choose another --output-dir, then run again",
			len(oe.Failed), strings.Join(oe.Failed, ", "), oe.Err)}
	}
	var undelivered *publish.Error
	if errors.As(err, &undelivered) {
		err = nil // the run is complete locally: the exit code says what did not arrive
	}
	if err != nil {
		return err
	}
	return exitFor(ctx, o, aopts, undelivered)
}

// exitFor is the documented exit code of a run that wrote its outputs; undelivered
// (nil: none) names what a destination (Security Hub, S3, SNS) did not receive.
func exitFor(ctx context.Context, o *outcome.Outcome, aopts audit.Options, undelivered *publish.Error) error {
	if ctx.Err() != nil {
		return &ExitCodeError{Code: ExitIncomplete, Msg: "interrupted: the outputs hold what was collected until then"}
	}
	if o.FailOnHit(aopts.FailOn) {
		return &ExitCodeError{Code: ExitFindings, Msg: fmt.Sprintf("findings at or above --fail-on %s", *aopts.FailOn)}
	}
	if undelivered != nil {
		return &ExitCodeError{Code: ExitUndelivered, Msg: undelivered.Error()}
	}
	if o.Incomplete() {
		return &ExitCodeError{Code: ExitIncomplete, Msg: "the audit is incomplete: some accounts or sections could not be audited (listed above)"}
	}
	return nil
}
