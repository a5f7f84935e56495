// Package cli holds iamaudit's commands: flag parsing (cobra) and the wiring of each
// command's options into the packages that do the work. Nothing below main exits.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/iamaudit/iamaudit/internal/report"
)

// Main runs the command line and returns the process exit code.
func Main(args []string, version string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal stops the run cleanly (what was collected is written); a second
	// one, while that is going on, ends the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	if len(args) == 0 && os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		// The Lambda runtime (provided.al2023) starts the binary, named bootstrap,
		// without arguments.
		args = []string{"lambda"}
	}
	return Run(ctx, args, version, IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
}

// tuneGC trades memory the audit has for less garbage collection (a tenth to a
// quarter of a large run's CPU at Go's default; docs/streaming.md "What it costs"):
// the collector runs when the heap has grown by 400% (GOGC=400) rather than 100%,
// and harder as it nears a soft limit (GOMEMLIMIT), so a streamed run's memory stays
// bounded: 896 MiB, or in AWS Lambda 80% of the function's memory
// (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, MB). GOGC and GOMEMLIMIT in the environment win.
// Only an audit tunes it (runOutcome; the demo's in-process sandbox too, a small
// Organization): the sandbox of `iamaudit bench` and `iamaudit sandbox` holds a whole
// generated Organization, for which a soft limit would mean collecting without end.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit(os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")))
	}
}

// defaultMemoryLimit is an audit's soft memory limit outside Lambda.
const defaultMemoryLimit = 896 << 20

// memoryLimit is the soft limit for a Lambda function of lambdaMB megabytes ("":
// not in Lambda).
func memoryLimit(lambdaMB string) int64 {
	if mb, err := strconv.ParseInt(lambdaMB, 10, 64); err == nil && mb > 0 {
		return mb << 20 * 8 / 10
	}
	return defaultMemoryLimit
}

// Run is Main with injected context and streams (used by tests).
func Run(ctx context.Context, args []string, version string, streams IO) int {
	return RunWith(ctx, args, NewFactory(version, streams))
}

// RunWith is Run with an injected factory.
func RunWith(ctx context.Context, args []string, f *Factory) int {
	streams := f.IO
	root := NewRootCmd(f)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		var ec *ExitCodeError
		if !errors.As(err, &ec) {
			fmt.Fprintf(streams.Err, "iamaudit: %s\n", report.Printable(err.Error()))
			if isFlagError(err) && cmd != nil {
				fmt.Fprintf(streams.Err, "Run '%s --help' for usage.\n", cmd.CommandPath())
			}
		} else if ec.Msg != "" {
			fmt.Fprintf(streams.Err, "iamaudit: %s\n", report.Printable(ec.Msg))
		}
		if isFlagError(err) {
			return ExitUsage
		}
	}
	return exitCode(err)
}

type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

func isFlagError(err error) bool {
	var fe *flagError
	var ue *UsageError
	// cobra reports an unknown subcommand with an untyped error.
	return err != nil && (errors.As(err, &fe) || errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command "))
}

// NewRootCmd builds the command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	streams := f.IO
	root := &cobra.Command{
		Use:           "iamaudit",
		Short:         "Audit IAM credentials across an AWS Organization",
		Long:          "iamaudit answers, for a whole AWS Organization: who has access, with what credentials, and since when.",
		Version:       f.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{err} })
	root.AddCommand(
		newSandboxCmd(f, nil),
		newRunCmd(f, nil),
		newDemoCmd(f, nil),
		newAnalyzeCmd(f, nil),
		newHistoryCmd(f, nil),
		newPolicyCmd(f, nil),
		newLambdaCmd(f),
		newDiffCmd(f, nil),
		newTrendCmd(f, nil),
		newImportCmd(f, nil),
		newRemediateCmd(f, nil),
		newWhoisCmd(f, nil),
		newNotifyCmd(f, nil),
		newServeCmd(f, nil),
		newBenchCmd(f, nil),
	)
	return root
}
