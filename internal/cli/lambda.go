package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/spf13/cobra"

	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/schedule"
)

// lambdaOutputDir is where a Lambda function may write (its only writable place is
// /tmp, 512 MB by default; docs/aws-facts.md "Scheduled runs").
const lambdaOutputDir = "/tmp/iamaudit"

// LambdaResponse is what the function returns for an invocation.
type LambdaResponse struct {
	ExitCode int    `json:"exit_code"`
	Message  string `json:"message,omitempty"`
}

// newLambdaCmd builds `iamaudit lambda`: the same binary as an AWS Lambda handler
// (runtime provided.al2023, the binary named bootstrap), started by the runtime when
// AWS_LAMBDA_RUNTIME_API is set (Main does so without arguments). Each invocation (a
// scheduled event) runs `iamaudit run` configured by IAMAUDIT_* environment variables.
func newLambdaCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "lambda",
		Short: "Serve AWS Lambda invocations: each runs 'iamaudit run' configured by IAMAUDIT_* variables",
		Long: `Serve AWS Lambda invocations through the Lambda runtime API (AWS_LAMBDA_RUNTIME_API, set by
the provided.al2023 runtime, which starts the binary as 'bootstrap' without arguments). Each
invocation runs 'iamaudit run' with its flags from IAMAUDIT_<FLAG> environment variables
(IAMAUDIT_ROLE, IAMAUDIT_S3, IAMAUDIT_SNS, IAMAUDIT_SECURITYHUB...), writing to /tmp/iamaudit
unless IAMAUDIT_OUTPUT_DIR says otherwise.

Before it starts, the function counts the Organization's accounts and refuses to begin an audit
it estimates cannot finish in the invocation's remaining time (Lambda stops a function at its
timeout, 15 minutes at most): run such an Organization as the ECS Fargate task instead
(deploy/iamaudit-schedule.yaml, docs/scheduled.md). The audit's own deadline is the remaining
time less a reserve for the destinations, so a slow run is interrupted and says so.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// lambda.Start does not return: it serves invocations until the runtime stops
			// the process (and exits on a runtime API failure, the library's own rule).
			lambda.StartWithOptions(LambdaHandler(f), lambda.WithContext(cmd.Context()))
			return nil
		},
	}
}

// LambdaHandler is the function's handler: one invocation, one `iamaudit run`. An
// invocation whose run exits non-zero returns an error (the invocation fails, which
// CloudWatch's Errors metric and the schedule's dead-letter queue see), with the
// response's exit code and message in it.
func LambdaHandler(f *Factory) func(context.Context, json.RawMessage) (LambdaResponse, error) {
	return func(ctx context.Context, event json.RawMessage) (LambdaResponse, error) {
		var ev struct {
			ID, Time string
			Source   string `json:"source"`
		}
		_ = json.Unmarshal(event, &ev) // any payload starts a run; these are only logged
		slog.Info("invocation", "source", ev.Source, "event", ev.ID, "time", ev.Time)
		root := NewRootCmd(f)
		for _, c := range root.Commands() {
			if c.Name() == "run" {
				root.RemoveCommand(c)
			}
		}
		root.AddCommand(newRunCmd(f, lambdaRun))
		root.SetArgs([]string{"run"})
		_, err := root.ExecuteContextC(ctx)
		code := exitCode(err)
		if isFlagError(err) {
			code = ExitUsage
		}
		resp := LambdaResponse{ExitCode: code}
		if err != nil {
			resp.Message = err.Error()
			fmt.Fprintf(f.IO.Err, "iamaudit: %s\n", resp.Message)
		}
		if code != ExitOK {
			return resp, fmt.Errorf("iamaudit run exited %d: %s", code, resp.Message)
		}
		return resp, nil
	}
}

// lambdaRun is `run` inside a Lambda invocation: it refuses an Organization it
// estimates cannot finish in the time left, and gives the audit a deadline that
// leaves the destinations their reserve.
func lambdaRun(ctx context.Context, opts *RunOptions) error {
	if opts.OutputDir == "." {
		opts.OutputDir = lambdaOutputDir
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return runAudit(ctx, opts)
	}
	cfg, err := opts.factory.AWSConfig(ctx, opts.Profile, opts.Region)
	if err != nil {
		return err
	}
	n, err := schedule.CountAccounts(ctx, cfg, opts.Accounts, opts.ExcludeAccounts)
	if err != nil {
		return fmt.Errorf("cannot count the Organization's accounts before starting: %w", err)
	}
	remaining := time.Until(deadline)
	conc := collect.Concurrency(opts.Concurrency) // 0: the derived default
	est := schedule.Estimate(n, conc)
	if !schedule.Fits(n, conc, remaining) {
		return &ExitCodeError{Code: ExitError, Msg: fmt.Sprintf(
			"not starting: %d accounts, %d at a time, are estimated to take %s, and this invocation has %s left (less %s kept for the destinations); "+
				"Lambda would stop the audit part way, so run this Organization as the ECS Fargate task instead (deploy/iamaudit-schedule.yaml with Engine=fargate, docs/scheduled.md)",
			n, conc, est.Round(time.Second), remaining.Round(time.Second), schedule.Reserve)}
	}
	fmt.Fprintf(opts.factory.IO.Err, "iamaudit: %d accounts, estimated %s, %s left in this invocation\n", n, est.Round(time.Second), remaining.Round(time.Second))
	rctx, cancel := context.WithDeadline(ctx, deadline.Add(-schedule.Reserve))
	defer cancel()
	return runAudit(rctx, opts)
}
