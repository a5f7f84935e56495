package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/scenario"
	"github.com/spf13/cobra"
)

// sandboxOptions are the flags of `iamaudit sandbox`.
type sandboxOptions struct {
	factory         *Factory
	Listen          string
	Scenario        string
	Latency         string
	PageCap         int
	Rates           string
	ReportTime      time.Duration
	SessionDuration time.Duration
	Faults          []string
	Verbose         bool
}

func (o *sandboxOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:4599", "address to listen on (127.0.0.1:0 picks a free port)")
	f.StringVar(&o.Scenario, "scenario", "", "scenario YAML file (default: the built-in demo Organization)")
	f.StringVar(&o.Latency, "latency", "", "latency of every service: MEAN[,JITTER], e.g. 100ms,20ms")
	f.IntVar(&o.PageCap, "page-cap", 0, "cap every list page at N items (1 exposes missing pagination)")
	f.StringVar(&o.Rates, "rate", "", "rate limits per account and API family, e.g. iam=20,cloudtrail=2,organizations=5 (0 = off)")
	f.DurationVar(&o.ReportTime, "report-time", 0, "credential report generation time (default: scenario's, else 2s)")
	f.DurationVar(&o.SessionDuration, "session-duration", 0, "every AssumeRole session lasts at most this long, whatever the caller asks (below AWS's 900 s minimum too, to test sessions expiring mid-run); default: what the caller asks, else 1h")
	f.StringArrayVar(&o.Faults, "fault", nil, "inject a fault, e.g. error=Throttling,rate=0.1,service=iam,operation=ListAccessKeys,account=ID (repeatable; error=slow,delay=2s, error=drop, or error=repeat_token to answer a later page with the token it was sent)")
	f.BoolVar(&o.Verbose, "verbose", false, "log diagnostics to stderr")
}

// knobs turns the flags into scenario knob overrides (see sandbox.Options.Knobs).
func (o *sandboxOptions) knobs() (*scenario.Knobs, error) {
	if err := validListen(o.Listen); err != nil {
		return nil, err
	}
	k := &scenario.Knobs{PageCap: o.PageCap}
	if o.PageCap < 0 {
		return nil, usageErrorf("--page-cap %d: use 0 (no cap) or a positive number", o.PageCap)
	}
	if o.Latency != "" {
		l, err := sandbox.ParseLatency(o.Latency)
		if err != nil {
			return nil, &UsageError{Err: fmt.Errorf("--latency: %w", err)}
		}
		k.Latency = map[string]scenario.Latency{"*": l}
	}
	if o.Rates != "" {
		r, err := sandbox.ParseRates(o.Rates)
		if err != nil {
			return nil, &UsageError{Err: fmt.Errorf("--rate: %w", err)}
		}
		k.RateLimits = r
	}
	if o.ReportTime < 0 || o.SessionDuration < 0 {
		return nil, usageErrorf("--report-time and --session-duration must not be negative")
	}
	k.ReportGeneration.Duration = o.ReportTime
	k.SessionDuration.Duration = o.SessionDuration
	for _, s := range o.Faults {
		f, err := sandbox.ParseFault(s)
		if err != nil {
			return nil, &UsageError{Err: fmt.Errorf("--fault: %w", err)}
		}
		k.Faults = append(k.Faults, f)
	}
	return k, nil
}

// validListen checks that --listen is HOST:PORT with a port number (host may be empty).
func validListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err == nil {
		if n, perr := strconv.Atoi(port); perr != nil || n < 0 || n > 65535 {
			err = fmt.Errorf("bad port %q", port)
		}
	}
	if err != nil {
		return usageErrorf("--listen %s: want HOST:PORT, e.g. 127.0.0.1:4599", addr)
	}
	return nil
}

// newSandboxCmd builds `iamaudit sandbox`; runF, when not nil, replaces the work (runSandbox).
func newSandboxCmd(f *Factory, runF func(context.Context, *sandboxOptions) error) *cobra.Command {
	if runF == nil {
		runF = runSandbox
	}
	opts := &sandboxOptions{factory: f}
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve a local AWS-compatible Organization",
		Long: "sandbox serves a synthetic AWS Organization (Organizations, STS, IAM, CloudTrail) on a local\n" +
			"endpoint that any AWS client can use: it prints the environment to export, then serves until\n" +
			"interrupted, and prints call statistics (JSON) to stderr when it stops.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runF(cmd.Context(), opts) },
	}
	opts.AddFlags(cmd)
	return cmd
}

func runSandbox(ctx context.Context, opts *sandboxOptions) error {
	streams := opts.factory.IO
	k, err := opts.knobs()
	if err != nil {
		return err
	}
	sc := scenario.Demo()
	if opts.Scenario != "" {
		if sc, err = scenario.Load(opts.Scenario); err != nil {
			return &UsageError{Err: fmt.Errorf("load scenario: %w", err)}
		}
	}
	logger := slog.New(slog.DiscardHandler)
	if opts.Verbose {
		logger = slog.New(slog.NewTextHandler(streams.Err, nil))
	}
	srv, err := sandbox.Start(sc, sandbox.Options{Knobs: k, Logger: logger}, opts.Listen)
	if err != nil {
		return fmt.Errorf("start the sandbox: %w (is another process using %s? try --listen 127.0.0.1:0)", err, opts.Listen)
	}
	ak, sk := srv.Credentials()
	// AWS_DEFAULT_REGION too: the AWS CLI v1 and older SDKs read only that one.
	fmt.Fprintf(streams.Out, "export AWS_ENDPOINT_URL=%s\nexport AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\nexport AWS_REGION=%s\nexport AWS_DEFAULT_REGION=%s\n",
		srv.URL(), ak, sk, srv.Region(), srv.Region())
	fmt.Fprintf(streams.Out, "# Sandbox Organization %q (%d accounts) is serving: paste the lines above into another shell, then run e.g. `aws organizations list-accounts` or `iamaudit run`. Ctrl-C stops it.\n",
		sc.Name, len(sc.Accounts))
	<-ctx.Done()
	closeErr := srv.Close()
	stats, _ := json.MarshalIndent(srv.Stats(), "", "  ")
	fmt.Fprintf(streams.Err, "%s\n", stats)
	if closeErr != nil {
		return fmt.Errorf("stop the sandbox: %w", closeErr)
	}
	return nil
}
