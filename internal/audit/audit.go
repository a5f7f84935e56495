// Package audit orchestrates one audit: check the output directory, collect the
// Organization's inventory, evaluate it against the run before (outcome.Evaluate,
// history.History), write every output format (report.Formats, internal/outdir),
// record the run, and show it on the console (internal/console). It is what
// `iamaudit run` and `iamaudit demo` share; it holds no rule of its own.
package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/console"
	"github.com/iamaudit/iamaudit/internal/history"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/outdir"
	"github.com/iamaudit/iamaudit/internal/publish"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/suppress"
)

// Options configure a run.
type Options struct {
	Collect      collect.Options
	OutputDir    string // default "."
	Lang         string // en, es
	Checks       checks.Config
	Suppressions suppress.Rules
	// FailOn: an unsuppressed finding at or above it makes the run's FailOnHit true. Nil: never.
	FailOn *checks.Severity
	// Formats are the output files to write (nil: every registered format).
	Formats []report.Format
	// History gives the baseline and records the run (nil: the output directory's
	// run JSON files, history.Dir).
	History history.History
	Clock   func() time.Time
	Version string
	// Destinations receive the run after its files are written and it is recorded
	// (Security Hub, S3, SNS); each failure is listed and makes Run return a
	// *publish.Error (nil: none).
	Destinations []publish.Destination
	// Lifecycle says when each finding was first and last observed, for the
	// destinations (nil: publish.Observed, from the baseline run).
	Lifecycle publish.Lifecycle
	// StreamAfterUsers: past this many users collected, the run streams each account
	// to the outputs and the store as it finishes (docs/streaming.md); 0:
	// DefaultStreamAfterUsers; negative: from the first account.
	StreamAfterUsers int
	// Live shows a live progress line on Err (use only when Err is a terminal).
	Live bool
	Out  io.Writer // console report (the seed's lines)
	Err  io.Writer // progress and diagnostics
}

// ErrEmptySelection: --accounts / --exclude-accounts / --ou matched no account.
var ErrEmptySelection = errors.New("no account of the Organization matches the selection")

// Run collects, evaluates and writes. It returns an error only when nothing useful
// could be produced (no credentials, Organizations unreachable, outputs not writable).
// An interrupted run still writes what it collected.
func Run(ctx context.Context, cfg aws.Config, opts Options) (*outcome.Outcome, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.OutputDir == "" {
		opts.OutputDir = "."
	}
	if opts.Formats == nil {
		opts.Formats = report.Formats()
	}
	if opts.History == nil {
		opts.History = history.NewDir(opts.OutputDir)
	}
	msgs, err := report.MessagesFor(opts.Lang)
	if err != nil {
		return nil, err
	}
	undo, err := outdir.Prepare(opts.OutputDir)
	if err != nil {
		return nil, err
	}
	o, err := run(ctx, cfg, opts, msgs)
	if o == nil {
		undo() // nothing was written: leave no empty output directory behind
	}
	return o, err
}

// run is Run once the output directory is ready.
func run(ctx context.Context, cfg aws.Config, opts Options, msgs report.Messages) (*outcome.Outcome, error) {
	start := opts.Clock().UTC()

	progress := console.NewProgress(opts.Out, opts.Err, opts.Live, msgs)
	copts := opts.Collect
	copts.Clock = opts.Clock
	copts.Progress = progress.Event
	st := newStreamer(ctx, opts, msgs, start)
	defer st.cleanup()
	copts.Started, copts.Selected, copts.Stream = st.startedHook, st.selectedHook, st.account
	inv, cerr := collect.Collect(ctx, cfg, copts)
	progress.Finish()
	if inv == nil {
		if cerr == nil {
			cerr = errors.New("collection produced nothing")
		}
		return nil, cerr
	}
	if cerr != nil {
		inv.Gaps = append(inv.Gaps, inventory.NewGap("", inventory.SectionRun, []inventory.Field{inventory.FieldRun}, cerr.Error()))
	}
	if err := checkSelection(inv, opts.Collect); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		// Interrupted part way: keep what was collected, and say it is incomplete.
		inv.Gaps = append(inv.Gaps, inventory.NewGap("", inventory.SectionRun, []inventory.Field{inventory.FieldRun},
			"run interrupted ("+ctx.Err().Error()+"): what was collected until then is written; the sections cut short are listed as gaps"))
	}
	inv.Tool, inv.Version, inv.RunID = "iamaudit", opts.Version, inventory.RunID(start)
	inv.AuditRole = collect.RoleResource(opts.Collect.Role) // with its path: security/IAMAuditRole
	if inv.Schema == "" {
		inv.Schema = inventory.Schema
	}
	if inv.StartedAt.IsZero() {
		inv.StartedAt = start
	}
	inv.FinishedAt = opts.Clock().UTC()

	var o *outcome.Outcome
	write := func(o *outcome.Outcome) error { return WriteOutputs(opts.OutputDir, o, opts.Formats, msgs) }
	record := func(o *outcome.Outcome) error { return opts.History.Record(context.WithoutCancel(ctx), o) }
	if st.on {
		// Streamed: every account was evaluated, written to the pending files and
		// recorded as it finished; what is left is the summary, the files' ends
		// under the run id reserved for them, and the store's commit.
		o = st.finish(inv)
		write, record = st.commit, st.record
	} else {
		st.restore(inv)
		// The baseline is read before this run's files exist; a run id claimed later
		// (…_2) still sorts after every earlier run.
		baseline, berr := opts.History.Baseline(context.WithoutCancel(ctx), inv, func(w string) {
			fmt.Fprintf(opts.Err, "iamaudit: %s\n", w)
		})
		if berr != nil {
			fmt.Fprintf(opts.Err, "iamaudit: %v; findings are compared with no earlier run\n", berr)
		}
		settings := outcome.Settings{Checks: opts.Checks, Suppressions: opts.Suppressions, FailOn: opts.FailOn}
		o = outcome.Evaluate(outcome.CommandRun, inv, inv.FinishedAt, settings, baseline)
	}

	// Outputs are written even when the context was cancelled: nothing collected is
	// lost. Each format is written on its own: one that fails does not stop the others.
	// The findings are printed whatever the disk does: a file that could not be
	// written is named, and the summary goes to Err when Out cannot take it.
	werr := write(o)
	console.Files(opts.Out, o, opts.OutputDir, msgs)
	var oe *OutputsError
	if errors.As(werr, &oe) {
		console.NotWritten(opts.Out, oe.Failed, msgs)
	}
	if err := console.Summary(opts.Out, o, opts.OutputDir, msgs); err != nil {
		fmt.Fprintf(opts.Err, "iamaudit: %v; the summary follows here\n", err)
		if err2 := console.Summary(opts.Err, o, opts.OutputDir, msgs); err2 != nil {
			return o, errors.Join(err, err2, werr)
		}
	}
	console.Incomplete(opts.Out, inv, msgs)
	// The run is recorded even when an output file failed: the history must not lose
	// it (the files not written are named above).
	rerr := record(o)
	if rerr != nil {
		// The files hold the whole run: `iamaudit import` records it from its JSON.
		todo := fmt.Sprintf("the findings are printed above and the output files are written: once the store is free, record this run with `iamaudit import` on its run JSON in %s (give the same --db), or run again", opts.OutputDir)
		if werr != nil {
			todo = "the findings are printed above: once the store is free, run again"
		}
		rerr = fmt.Errorf("the run could not be recorded in the %s: %w; %s", opts.History.Name(), rerr, todo)
	}
	// The destinations get what was written even when the run was interrupted or an
	// output failed: a scheduled run's alert must not be lost with it.
	perr := deliver(context.WithoutCancel(ctx), o, opts)
	switch {
	case werr != nil:
		if rerr != nil {
			fmt.Fprintf(opts.Err, "iamaudit: %v\n", rerr)
		}
		if perr != nil {
			fmt.Fprintf(opts.Err, "iamaudit: %v\n", perr)
		}
		return o, werr
	case rerr != nil:
		return o, rerr
	}
	return o, perr
}

// deliver sends the run to its destinations and lists what each delivered and failed.
func deliver(ctx context.Context, o *outcome.Outcome, opts Options) error {
	if len(opts.Destinations) == 0 {
		return nil
	}
	results := publish.All(ctx, opts.Destinations, publish.Run{Outcome: o, Files: o.Files, Lifecycle: opts.Lifecycle})
	publish.Print(opts.Out, results)
	return publish.Failed(results)
}

// OutputsError says which output files could not be written (the others were, and
// the console report was printed): the run's findings are not lost, but some files
// are missing. The command exits with its own code (cli.ExitOutputs).
type OutputsError struct {
	Failed []string // paths of the files not written
	Err    error    // why, for each of them
}

func (e *OutputsError) Error() string {
	return fmt.Sprintf("not written: %s: %v", strings.Join(e.Failed, ", "), e.Err)
}

func (e *OutputsError) Unwrap() error { return e.Err }

// WriteOutputs writes each format's file of the outcome into dir. The first format
// written claims the run id (inv.RunID, or its first free _N form); the others follow
// it. A format that cannot be written does not stop the others (a full disk may still
// take the small files, one unwritable name does not block the rest): the
// *OutputsError names every file that was not written. o.Files lists the files
// written.
func WriteOutputs(dir string, o *outcome.Outcome, formats []report.Format, msgs report.Messages) error {
	if len(formats) == 0 {
		return nil
	}
	inv := o.Inventory
	names := fileNames(formats)
	writer := func(f report.Format) func(io.Writer) error {
		return func(w io.Writer) error { return f.Write(w, o, msgs) }
	}
	o.Files = nil
	var failed []string
	var errs []error
	rest := formats
	claimed := false
	for len(rest) > 0 && !claimed {
		f := rest[0]
		rest = rest[1:]
		runID, err := outdir.Claim(dir, inv.RunID, names, f.FileName, writer(f))
		if err != nil {
			// The run id is not claimed yet: the next format tries. The failed file is
			// named by the id the run would have had.
			failed = append(failed, filepath.Join(dir, f.FileName(outdir.FreeRunID(dir, inv.RunID, names))))
			errs = append(errs, err)
			continue
		}
		inv.RunID, claimed = runID, true
		o.Files = append(o.Files, filepath.Join(dir, f.FileName(runID)))
	}
	for _, f := range rest {
		path := filepath.Join(dir, f.FileName(inv.RunID))
		if err := outdir.WriteFile(path, writer(f)); err != nil {
			failed = append(failed, path)
			errs = append(errs, err)
			continue
		}
		o.Files = append(o.Files, path)
	}
	if len(errs) > 0 {
		return &OutputsError{Failed: failed, Err: errors.Join(errs...)}
	}
	return nil
}

// fileNames are the formats' file names for a run id.
func fileNames(formats []report.Format) func(id string) []string {
	return func(id string) []string {
		out := make([]string, len(formats))
		for i, f := range formats {
			out[i] = f.FileName(id)
		}
		return out
	}
}

// checkSelection refuses a selection that matched nothing (a typo in --ou must not
// pass as a clean audit). Asked-for accounts that are not in the Organization are
// gaps recorded by collection.
func checkSelection(inv *inventory.Inventory, o collect.Options) error {
	filtered := len(o.Accounts) > 0 || len(o.ExcludeAccounts) > 0 || len(o.OUs) > 0
	active := 0
	for _, a := range inv.Accounts {
		if a.Status != inventory.StatusSkipped {
			active++
		}
	}
	if filtered && active == 0 {
		return fmt.Errorf("%w (--accounts %s, --exclude-accounts %s, --ou %s): check the ids with `aws organizations list-accounts` / `list-organizational-units-for-parent`",
			ErrEmptySelection, strings.Join(o.Accounts, ","), strings.Join(o.ExcludeAccounts, ","), strings.Join(o.OUs, ","))
	}
	return nil
}
