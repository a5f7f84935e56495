package cli

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamaudit/iamaudit/internal/bench"
)

// BenchOptions are the flags of `iamaudit bench`.
type BenchOptions struct {
	factory     *Factory
	Accounts    int
	Users       int
	Events      int
	Profile     string
	Concurrency int
	JSON        bool
	Runs        int
	CPUProfile  string
	SandboxProf string
	// executable and env, when set, are the audit's binary and additions to its
	// environment (tests: the test binary acting as the command line).
	executable string
	env        []string
}

// AddFlags registers the options' flags.
func (o *BenchOptions) AddFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.Accounts, "accounts", 10, "generated member accounts (the management account is added)")
	fs.IntVar(&o.Users, "users", 20, "users per generated account")
	fs.IntVar(&o.Events, "events", 60, "CloudTrail events per generated account, over the last 90 days")
	fs.StringVar(&o.Profile, "profile", "realistic", "latency and rate profile of the sandbox: "+strings.Join(bench.ProfileNames(), " or ")+" (docs/bench.md)")
	fs.IntVar(&o.Concurrency, "concurrency", 0, "accounts the audit runs in parallel, passed to `run --concurrency` (default: the audit's own)")
	fs.BoolVar(&o.JSON, "json", false, "one JSON object per run instead of the text lines")
	fs.IntVar(&o.Runs, "runs", 1, "how many times to run the benchmark (each on a fresh sandbox)")
	fs.StringVar(&o.CPUProfile, "cpu-profile", "", "write the audit's CPU profile (go tool pprof) to this file (with --runs, the last run's)")
	fs.StringVar(&o.SandboxProf, "sandbox-cpu-profile", "", "write the sandbox's CPU profile (this process's, while the audit runs) to this file")
}

func newBenchCmd(f *Factory, runF func(context.Context, *BenchOptions) error) *cobra.Command {
	if runF == nil {
		runF = runBench
	}
	opts := &BenchOptions{factory: f}
	cmd := &cobra.Command{
		Use:   "bench [flags]",
		Short: "Measure a whole audit against a generated Organization and its floor",
		Long: `Generate an Organization (--accounts × --users, --events CloudTrail events per
account), serve it with the sandbox in this process with a latency and rate profile,
run the real audit (iamaudit run) against it as a child process, and print one line
per run: wall time, the floor AWS's per-account limits allow (docs/bench.md), their
ratio, calls per minute per account, throttles, retries, peak RSS of the audit,
failed accounts, time per user and the setup time (generation and sandbox start),
then the calls by operation against the minimum. --json prints one JSON object per
run instead.

Profiles: realistic (30 ms ± 10 ms latency, IAM 20/s, LookupEvents 2/s,
Organizations 5/s per account, 5 s credential reports) and fast (no latency, no
limits, reports at once: the audit's own cost; it has no floor).`,
		Example: `  iamaudit bench --accounts 10 --users 20
  iamaudit bench --accounts 20 --users 50 --profile fast --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.validate(); err != nil {
				return err
			}
			return runF(cmd.Context(), opts)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

func (o *BenchOptions) validate() error {
	switch {
	case o.Accounts < 1:
		return usageErrorf("--accounts %d: give at least 1 account to generate", o.Accounts)
	case o.Users < 0:
		return usageErrorf("--users %d: give 0 or more users per account", o.Users)
	case o.Events < 0:
		return usageErrorf("--events %d: give 0 or more events per account", o.Events)
	case o.Concurrency < 0 || o.Concurrency > 64:
		return usageErrorf("--concurrency %d: must be between 1 and 64 (leave it out for the audit's default)", o.Concurrency)
	case o.Runs < 1:
		return usageErrorf("--runs %d: give at least 1 run", o.Runs)
	}
	if _, err := bench.LookupProfile(o.Profile); err != nil {
		return usageErrorf("--profile: %v", err)
	}
	return nil
}

func runBench(ctx context.Context, o *BenchOptions) error {
	profile, err := bench.LookupProfile(o.Profile)
	if err != nil {
		return usageErrorf("--profile: %v", err)
	}
	if os.Getenv("GOGC") == "" {
		// This process is the sandbox, holding the whole generated Organization: its
		// collector, at Go's default, took CPU the audit it measures needs. The
		// audit's own process is not affected.
		debug.SetGCPercent(400)
	}
	out := o.factory.IO.Out
	for i := 1; i <= o.Runs; i++ {
		res, err := bench.Run(ctx, bench.Options{
			Accounts: o.Accounts, Users: o.Users, Events: o.Events, Profile: profile,
			Concurrency: o.Concurrency, CPUProfile: o.CPUProfile, SandboxCPUProfile: o.SandboxProf, Executable: o.executable, Env: o.env,
		})
		if err != nil {
			return err
		}
		res.Run = i
		if o.JSON {
			if err := res.WriteJSON(out); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintln(out, res.Line())
		fmt.Fprint(out, res.CallsTable())
	}
	return nil
}
