// Package publish sends a finished run somewhere besides its output directory: the
// findings to AWS Security Hub (ASFF, BatchImportFindings from each account), every
// output file to S3 (under a dated prefix, server-side encrypted, the bucket's owner
// checked) and the summary to an SNS topic. internal/audit runs the destinations after
// the files are written and the run recorded; each one reports what it delivered and,
// item by item, what it could not (a Failure), never dropping one silently; a failure
// is reflected in the exit code (internal/cli, exit 5). docs/destinations.md says
// how each behaves and docs/aws-facts.md holds the limits they respect.
package publish

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

// Destination sends a run somewhere.
type Destination interface {
	// Name says where, for the console: "Security Hub (us-east-1)", "s3://bucket/prefix".
	Name() string
	// Publish sends the run. It does not stop at the first failure: every item it
	// could not deliver is a Failure of the Result.
	Publish(ctx context.Context, run Run) Result
}

// FindingsConsumer is a Destination that sends every finding of the run (not a
// summary): a streamed run, whose summary outcome otherwise keeps only the most
// severe findings, keeps them all when one is given (docs/streaming.md).
type FindingsConsumer interface {
	AllFindings() bool
}

// NeedAllFindings tells whether one of ds sends every finding.
func NeedAllFindings(ds []Destination) bool {
	for _, d := range ds {
		if c, ok := d.(FindingsConsumer); ok && c.AllFindings() {
			return true
		}
	}
	return false
}

// Run is what a destination sends.
type Run struct {
	Outcome *outcome.Outcome
	// Files are the output files written (paths), in order.
	Files []string
	// Lifecycle says when each finding was first and last observed (nil: Observed).
	Lifecycle Lifecycle
}

// Lifecycle tells when a finding was first and last observed.
type Lifecycle func(o *outcome.Outcome, f checks.Finding) (first, last time.Time)

func (r Run) observed(f checks.Finding) (time.Time, time.Time) {
	if r.Lifecycle != nil {
		return r.Lifecycle(r.Outcome, f)
	}
	return Observed(r.Outcome, f)
}

// Observed is the lifecycle a run knows without a store of runs: a new finding was
// first observed now (the run's start); one the baseline run had (open, suppressed)
// at the latest when that run started; a resolved one was last observed in the
// baseline run. It is the one place a store's first-seen / last-seen dates replace
// (Run.Lifecycle), so that Security Hub's FirstObservedAt is not reset every run.
//
// Both histories (the store, and the run JSON files with --no-db) give each finding
// its lifecycle (checks.Finding.FirstSeen / LastSeen): those dates win when present.
func Observed(o *outcome.Outcome, f checks.Finding) (first, last time.Time) {
	if f.FirstSeen != nil && f.LastSeen != nil {
		return f.FirstSeen.UTC(), f.LastSeen.UTC()
	}
	now := o.Inventory.StartedAt.UTC()
	var before time.Time
	if o.Baseline != nil {
		before = runTime(o.Baseline.RunID)
	}
	switch {
	case f.State == checks.StateResolved && !before.IsZero():
		return before, before
	case f.State == checks.StateNew || before.IsZero():
		return now, now
	}
	return before, now
}

// runTime is when the run of a run id started (zero when the id is not one): the id
// is its start, YYYYMMDD_HHMMSS, with a _N suffix when two runs shared a second.
func runTime(id string) time.Time {
	n := len(inventory.RunIDLayout)
	if len(id) < n {
		return time.Time{}
	}
	t, err := time.Parse(inventory.RunIDLayout, id[:n])
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// Result is what a destination delivered.
type Result struct {
	Destination string
	// Sent counts what arrived (findings, files, messages); Summary is one line about it.
	Sent    int
	Summary string
	// Failures are the items that did not arrive, each with why.
	Failures []Failure
}

// Failure is one item a destination could not deliver.
type Failure struct {
	// Item names it: a finding id, a file, "summary".
	Item    string
	Account string
	// Code is the AWS error code (or the per-finding ErrorCode); Message says why.
	Code, Message string
}

func (f Failure) String() string {
	var b strings.Builder
	b.WriteString(f.Item)
	if f.Account != "" {
		b.WriteString(" (account " + f.Account + ")")
	}
	b.WriteString(": ")
	if f.Code != "" {
		b.WriteString(f.Code + ": ")
	}
	b.WriteString(f.Message)
	return b.String()
}

// All publishes the run to every destination, in order, and returns their results.
func All(ctx context.Context, dests []Destination, run Run) []Result {
	out := make([]Result, 0, len(dests))
	for _, d := range dests {
		r := d.Publish(ctx, run)
		r.Destination = d.Name()
		out = append(out, r)
	}
	return out
}

// Error is a run whose destinations did not all receive everything. Its results
// hold every failure.
type Error struct {
	Results []Result
}

func (e *Error) Error() string {
	var parts []string
	for _, r := range e.Results {
		if len(r.Failures) > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d not delivered", r.Destination, len(r.Failures)))
		}
	}
	return "the outputs are written, but not every destination received them (" + strings.Join(parts, "; ") + "): see the failures listed above"
}

// Failed returns an *Error when some result has failures, nil otherwise.
func Failed(results []Result) error {
	for _, r := range results {
		if len(r.Failures) > 0 {
			return &Error{Results: results}
		}
	}
	return nil
}

// Print lists each destination's result and, one line each, what it could not deliver.
func Print(w io.Writer, results []Result) {
	if len(results) > 0 {
		fmt.Fprintln(w)
	}
	for _, r := range results {
		fmt.Fprintf(w, "%s: %s\n", r.Destination, r.Summary)
		for _, f := range r.Failures {
			fmt.Fprintf(w, "  not delivered: %s\n", f)
		}
	}
}
