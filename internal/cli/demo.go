package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
	"github.com/spf13/cobra"

	"github.com/iamaudit/iamaudit/internal/audit"
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/history"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/outdir"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/scenario"
	"github.com/iamaudit/iamaudit/internal/score"
	"github.com/iamaudit/iamaudit/internal/store"
)

// DemoOptions are the options of `iamaudit demo`.
type DemoOptions struct {
	factory *Factory
	auditFlags
	Scenario string
	// Months audits the Organization once per simulated month, the last one today
	// (1: one audit, the plain demo).
	Months int
}

// demoRole is the audit role the demo Organization deploys in its member accounts.
const demoRole = "IAMAuditRole"

// maxDemoMonths bounds --months: two years of monthly runs (the store's trend
// benchmark measures 24 runs).
const maxDemoMonths = 24

// demoMonthsDir is the default output directory of `demo --months N`: its own
// store, so the simulated past never interleaves with the runs of a plain demo.
const demoMonthsDir = "iamaudit-demo-months"

// newDemoCmd builds `iamaudit demo`; runF, when not nil, replaces the work (runDemo).
func newDemoCmd(f *Factory, runF func(context.Context, *DemoOptions) error) *cobra.Command {
	if runF == nil {
		runF = runDemo
	}
	opts := &DemoOptions{factory: f}
	cmd := &cobra.Command{
		Use:   "demo [flags]",
		Short: "Audit the built-in demo Organization (no AWS account needed)",
		Long: `Start the sandbox (a local AWS-compatible Organization) in this process with the built-in
demo Organization, and run exactly the audit of 'iamaudit run' against it, through the AWS SDK
over HTTP. It writes the same files as 'run' and tells you where they are.

The demo Organization is incomplete on purpose (one account lacks the audit role), so the
summary lists it; the demo still exits 0 unless --fail-on is hit or it cannot run.

With --months N (6 makes a trend worth looking at) the demo has a past: it audits the
Organization once per simulated month, N months ending today, while the sandbox's clock
moves forward and the scenario's timeline (its changes dated after the start) changes
the Organization between audits: MFA enabled, keys rotated and deleted, users removed,
a new key left unused, the missing audit role deployed. Every month is a run in the
demo's store (by default iamaudit-demo-months/iamaudit.db), dated that month. The
sandbox's rate limits are off for these runs and credential reports are ready at once,
so a month takes about a second; the last month's report is printed in full, and
--fail-on judges it.`,
		Example: `  iamaudit demo
  iamaudit demo --months 6
  iamaudit demo --scenario examples/timeline.yaml --months 4 --output-dir my-demo`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Months < 1 || opts.Months > maxDemoMonths {
				return usageErrorf("--months %d: must be between 1 and %d (6 makes a trend worth looking at)", opts.Months, maxDemoMonths)
			}
			if opts.Months > 1 && !cmd.Flags().Changed("output-dir") {
				opts.OutputDir = demoMonthsDir
			}
			return runF(cmd.Context(), opts)
		},
	}
	opts.addFlags(cmd.Flags())
	opts.demo = true
	cmd.Flags().Lookup("db").Usage = "store of the demo's runs: a SQLite file or postgres://… (default: iamaudit.db in --output-dir; $" + store.EnvDB + " is not read, so a demo never writes into a real history)"
	cmd.Flags().Lookup("output-dir").DefValue = "iamaudit-demo"
	opts.OutputDir = "iamaudit-demo"
	cmd.Flags().StringVar(&opts.Scenario, "scenario", "", "audit this scenario file instead of the built-in demo Organization")
	cmd.Flags().IntVar(&opts.Months, "months", 1, "audit once per simulated month, N months ending today, while the scenario's timeline changes the Organization (6 makes a trend worth looking at; default output directory "+demoMonthsDir+")")
	return cmd
}

func runDemo(ctx context.Context, opts *DemoOptions) error {
	streams := opts.factory.IO
	aopts, err := opts.auditOptions(opts.factory)
	if err != nil {
		return err
	}
	defer closeHistory(aopts.History)
	sc := scenario.Demo()
	if opts.Scenario != "" {
		if sc, err = scenario.Load(opts.Scenario); err != nil {
			return &UsageError{Err: err}
		}
	}
	undo, err := outdir.Prepare(opts.OutputDir)
	if err != nil {
		return err
	}
	written := false
	defer func() {
		if !written {
			undo() // nothing was written: leave no empty output directory behind
		}
	}()
	// One clock for the sandbox and the audit: a scenario that pins "now" is audited
	// at that time, so ages and the CloudTrail window agree with its dates.
	real := opts.factory.Clock
	clock := real
	today := real().UTC()
	if sc.Now != nil {
		today = sc.Now.Resolve(today)
	}
	months := demoMonths(today, opts.Months)
	var at atomic.Int64 // --months: the instant the clock shows (UnixNano)
	moveTo := func(t time.Time) { at.Store(t.UnixNano()) }
	switch {
	case opts.Months > 1:
		// Each month is audited at one instant, its month's time: the clock stands
		// still during a run (credential reports are ready at once, below) and moves
		// a month between runs, so a run's id, start, end and the finding lifecycle
		// times in the store are exactly the months', whatever the machine's speed.
		clock = func() time.Time { return time.Unix(0, at.Load()).UTC() }
		moveTo(months[0])
	case sc.Now != nil:
		base, start := today, real()
		clock = func() time.Time { return base.Add(real().Sub(start)) }
	}
	var knobs *scenario.Knobs
	if opts.Months > 1 {
		if err := checkNoLaterRuns(ctx, aopts.History, opts.OutputDir, months[0]); err != nil {
			return err
		}
		// Simulated months are not timed: no rate limit (the collector's own buckets
		// are raised to match), credential reports ready at once (docs/aws-facts.md
		// has the real pacing, which the plain demo keeps).
		knobs = &scenario.Knobs{
			RateLimits:       map[string]float64{"iam": 0, "cloudtrail": 0, "organizations": 0, "sts": 0},
			ReportGeneration: scenario.Duration{Duration: -1},
		}
		aopts.Collect.IAMRate, aopts.Collect.EventsRate, aopts.Collect.OrgRate = unpacedRate, unpacedRate, unpacedRate
		aopts.Collect.ReportPoll = 50 * time.Millisecond
	}
	// The plain demo paces CloudTrail at demoEventsRate rather than AWS's 2/s (unless
	// its scenario sets a rate of its own), so that it takes a second or two, not the
	// 13 lookups' 6.5 s; it says so, and what the lookups cost on AWS. Everything else
	// keeps AWS's pace, and the reports are the same.
	paced := opts.Months == 1 && !hasRate(sc.Knobs, "cloudtrail")
	if paced {
		knobs = &scenario.Knobs{RateLimits: map[string]float64{"cloudtrail": demoEventsRate}}
		aopts.Collect.EventsRate = demoEventsRate
	}
	srv, err := sandbox.Start(sc, sandbox.Options{Clock: clock, Knobs: knobs}, "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("cannot start the sandbox: %w", err)
	}
	defer srv.Close()
	akid, secret := srv.Credentials()
	cfg, err := sandboxConfig(ctx, srv.URL(), srv.Region(), akid, secret)
	if err != nil {
		return err
	}
	msgs, _ := report.MessagesFor(opts.Lang) // validated by auditOptions
	aopts.Collect.Role = demoRole
	aopts.Collect.SessionName = "iamaudit-demo"
	aopts.Clock = clock
	fmt.Fprintf(streams.Out, "%s\n", report.Printable(fmt.Sprintf(msgs.DemoServed, sc.Name, srv.URL())))
	if paced {
		n := len(collect.DefaultEventNames)
		fmt.Fprintf(streams.Out, msgs.DemoPacing+"\n", float64(demoEventsRate), float64(awsEventsRate), n, float64(n)/awsEventsRate)
	}
	fmt.Fprintln(streams.Out)
	start := time.Now()
	if len(months) > 1 {
		fmt.Fprintf(streams.Out, msgs.DemoMonths+"\n\n", len(months), demoDate(months[0]), demoDate(today))
		if err := runPastMonths(ctx, cfg, aopts, srv, months[:len(months)-1], moveTo, msgs, streams.Out); err != nil {
			return err
		}
		moveTo(today)
		fmt.Fprintf(streams.Out, "\n"+msgs.DemoToday+"\n\n", len(months), len(months), demoDate(today))
	}
	o, err := runOutcome(ctx, cfg, aopts)
	var ec *ExitCodeError
	if err != nil && !errors.As(err, &ec) {
		return err // nothing was written: say only what went wrong
	}
	if err := timelineFailure(srv); err != nil {
		return err
	}
	written = true
	fmt.Fprintf(streams.Out, "\n"+msgs.DemoTook+"\n", time.Since(start).Round(time.Millisecond), opts.OutputDir+string(os.PathSeparator))
	if u := htmlReportURL(o); u != "" {
		fmt.Fprintf(streams.Out, msgs.DemoHTML+"\n", u)
	}
	if _, ok := aopts.History.(*store.Store); ok && opts.DB == "" {
		db := filepath.Join(opts.OutputDir, "iamaudit.db")
		fmt.Fprintf(streams.Out, msgs.DemoHistory+"\n", db)
	}
	fmt.Fprintln(streams.Out, msgs.DemoNext)
	if ec != nil && ec.Code == ExitIncomplete && ctx.Err() == nil {
		return nil // expected: the demo Organization has an account without the audit role
	}
	return err
}

// demoEventsRate is the plain demo's LookupEvents pace (requests per second, per
// account), in its sandbox and its collector; awsEventsRate is AWS's (documented,
// docs/aws-facts.md).
const (
	demoEventsRate = 20
	awsEventsRate  = 2
)

// hasRate tells whether the scenario's knobs set the family's rate limit.
func hasRate(k scenario.Knobs, family string) bool {
	_, ok := k.RateLimits[family]
	return ok
}

// unpacedRate is the collector's rate limit (requests per second, per account and
// API family) for the simulated months: high enough never to wait.
const unpacedRate = 10000

// runPastMonths audits the months before today, one run each at its month's time,
// quietly (one line per month; the files and the store get the whole run).
func runPastMonths(ctx context.Context, cfg aws.Config, aopts audit.Options, srv *sandbox.Server, months []time.Time,
	moveTo func(time.Time), msgs report.Messages, out io.Writer) error {
	quiet := aopts
	quiet.Out, quiet.Live = io.Discard, false
	for i, at := range months {
		moveTo(at)
		o, err := audit.Run(ctx, cfg, quiet)
		if errors.Is(err, audit.ErrEmptySelection) {
			return &UsageError{Err: err}
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return &ExitCodeError{Code: ExitIncomplete, Msg: fmt.Sprintf("interrupted in month %d: the months before it are recorded", i+1)}
		}
		if err := timelineFailure(srv); err != nil {
			return err
		}
		fmt.Fprintf(out, msgs.DemoMonth+"\n", i+1, len(months)+1, demoDate(at), len(o.Findings), countState(o.Findings, checks.StateNew),
			len(o.Resolved), demoRisk(msgs, o.Scores.Organization), o.Inventory.RunID)
	}
	return nil
}

// timelineFailure is the error of the scenario's changes that could not be made
// when their time came (nil: none).
func timelineFailure(srv *sandbox.Server) error {
	if errs := srv.Stats().TimelineErrors; len(errs) > 0 {
		return fmt.Errorf("the scenario's timeline failed (fix the change, see examples/timeline.yaml): %s", strings.Join(errs, "; "))
	}
	return nil
}

// demoMonths are the times of the demo's audits: n months ending at today, a
// calendar month apart, on today's day of the month (the month's last day when it
// is shorter) and time of day.
func demoMonths(today time.Time, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		back := n - 1 - i
		y, m, d := today.Date()
		first := time.Date(y, m-time.Month(back), 1, today.Hour(), today.Minute(), today.Second(), today.Nanosecond(), time.UTC)
		if last := first.AddDate(0, 1, -1).Day(); d > last {
			d = last
		}
		out[i] = first.AddDate(0, 0, d-1)
	}
	return out
}

func demoDate(t time.Time) string { return t.UTC().Format("2006-01-02") }

func demoRisk(msgs report.Messages, s score.Score) string {
	if s.Risk == nil {
		return fmt.Sprintf(msgs.DemoRiskUnknown, s.RiskAtLeast)
	}
	return fmt.Sprintf(msgs.DemoRisk, *s.Risk)
}

func countState(fs []checks.Finding, state string) int {
	n := 0
	for _, f := range fs {
		if f.State == state {
			n++
		}
	}
	return n
}

// checkNoLaterRuns refuses a demo with a past whose history already holds runs at
// or after its first month: the simulated months would interleave with them, and
// each would be compared with the wrong run.
func checkNoLaterRuns(ctx context.Context, h history.History, outputDir string, first time.Time) error {
	var later []string
	switch h := h.(type) {
	case *store.Store:
		runs, err := h.Runs(ctx, store.RunFilter{Since: first.Truncate(time.Second)})
		if err != nil {
			return fmt.Errorf("reading the %s: %w", h.Name(), err)
		}
		for _, r := range runs {
			later = append(later, r.RunID)
		}
	case *history.Dir:
		files, _ := filepath.Glob(filepath.Join(outputDir, "iamaudit_*.json"))
		for _, f := range files {
			m := runFileRe.FindStringSubmatch(filepath.Base(f))
			if m == nil {
				continue
			}
			if t, err := time.Parse(inventory.RunIDLayout, m[1]); err == nil && !t.Before(first.Truncate(time.Second)) {
				later = append(later, m[1]+m[2])
			}
		}
		sort.Strings(later)
	}
	if len(later) == 0 {
		return nil
	}
	return fmt.Errorf("the %s already holds a run dated at or after %s (%s, %d in all): the simulated months would interleave with its runs; "+
		"give another --output-dir (or --db), or delete the old one", h.Name(), first.UTC().Format(time.DateTime), later[len(later)-1], len(later))
}

// runFileRe is a run JSON file of the output directory (history.Dir's names).
var runFileRe = regexp.MustCompile(`^iamaudit_(\d{8}_\d{6})(_\d+)?\.json$`)

// htmlReportURL is the file:// URL of the run's HTML report, "" when it was not
// written (--format without html).
func htmlReportURL(o *outcome.Outcome) string {
	if o == nil {
		return ""
	}
	want := report.HTMLReportName(o.Inventory.RunID)
	for _, f := range o.Files {
		if filepath.Base(f) != want {
			continue
		}
		abs, err := filepath.Abs(f)
		if err != nil {
			return ""
		}
		return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	}
	return ""
}

// sandboxConfig is an SDK configuration for a sandbox: its endpoint and the
// management account's credentials, ignoring the user's own AWS profile files.
func sandboxConfig(ctx context.Context, url, region, akid, secret string) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(region),
		config.WithLogger(logging.Nop{}),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(akid, secret, "")),
		config.WithBaseEndpoint(url),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		return aws.Config{}, fmt.Errorf("sdk configuration for the sandbox: %w", err)
	}
	return cfg, nil
}
