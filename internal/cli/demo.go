package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
	"github.com/spf13/cobra"

	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/outdir"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/scenario"
	"github.com/iamaudit/iamaudit/internal/store"
)

// DemoOptions are the options of `iamaudit demo`.
type DemoOptions struct {
	factory *Factory
	auditFlags
	Scenario string
}

// demoRole is the audit role the demo Organization deploys in its member accounts.
const demoRole = "IAMAuditRole"

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
summary lists it; the demo still exits 0 unless --fail-on is hit or it cannot run.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runF(cmd.Context(), opts)
		},
	}
	opts.addFlags(cmd.Flags())
	opts.demo = true
	cmd.Flags().Lookup("db").Usage = "store of the demo's runs: a SQLite file or postgres://… (default: iamaudit.db in --output-dir; $" + store.EnvDB + " is not read, so a demo never writes into a real history)"
	cmd.Flags().Lookup("output-dir").DefValue = "iamaudit-demo"
	opts.OutputDir = "iamaudit-demo"
	cmd.Flags().StringVar(&opts.Scenario, "scenario", "", "audit this scenario file instead of the built-in demo Organization")
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
	if err := outdir.Check(opts.OutputDir); err != nil {
		return err
	}
	// One clock for the sandbox and the audit: a scenario that pins "now" is audited
	// at that time, so ages and the CloudTrail window agree with its dates.
	clock := opts.factory.Clock
	if sc.Now != nil {
		real := opts.factory.Clock
		base, start := sc.Now.Resolve(real()), real()
		clock = func() time.Time { return base.Add(real().Sub(start)) }
	}
	srv, err := sandbox.Start(sc, sandbox.Options{Clock: clock}, "127.0.0.1:0")
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
	fmt.Fprintf(streams.Out, msgs.DemoServed+"\n\n", sc.Name, srv.URL())
	start := time.Now()
	o, err := runOutcome(ctx, cfg, aopts)
	var ec *ExitCodeError
	if err != nil && !errors.As(err, &ec) {
		return err // nothing was written: say only what went wrong
	}
	fmt.Fprintf(streams.Out, "\n"+msgs.DemoTook+"\n", time.Since(start).Round(time.Millisecond), opts.OutputDir+string(os.PathSeparator))
	if _, ok := aopts.History.(*store.Store); ok && opts.DB == "" {
		db := filepath.Join(opts.OutputDir, "iamaudit.db")
		fmt.Fprintf(streams.Out, msgs.DemoHistory+"\n", db, db)
	}
	// The report to open, then what to do next, last (TestDemoNamesTheHTMLReport).
	if u := htmlReportURL(o); u != "" {
		fmt.Fprintf(streams.Out, msgs.DemoHTML+"\n", u)
	}
	fmt.Fprintln(streams.Out, msgs.DemoNext)
	if ec != nil && ec.Code == ExitIncomplete && ctx.Err() == nil {
		return nil // expected: the demo Organization has an account without the audit role
	}
	return err
}

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
