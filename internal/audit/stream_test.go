package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamaudit/iamaudit/internal/audit"
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/sandbox/sandboxtest"
	"github.com/iamaudit/iamaudit/internal/scenario"
	"github.com/iamaudit/iamaudit/internal/store"
)

// streamedPair audits the demo Organization twice in two identical sandboxes (the
// second run a day later, after a remediation and a new problem, so that findings are
// new, open and resolved against a stored baseline): once whole, once streamed from
// the first account. It returns both second runs' output directories and outcomes.
func streamedPair(t *testing.T) (wholeDir, streamDir string, whole, streamed *outcome.Outcome, wholeDB, streamDB *store.Store, wholeOut, streamOut string) {
	t.Helper()
	ctx := context.Background()
	side := func(after int) (string, *outcome.Outcome, *store.Store, string) {
		clk := sandboxtest.NewClock(time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC))
		srv := sandboxtest.Start(t, scenario.Demo(), sandbox.Options{Clock: clk.Now})
		cfg := sandboxtest.Config(t, srv)
		dir := t.TempDir()
		st, err := store.Open(ctx, filepath.Join(dir, "iamaudit.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		var out bytes.Buffer
		run := func() *outcome.Outcome {
			out.Reset()
			o, err := audit.Run(ctx, cfg, audit.Options{
				Collect: fastCollect(collect.Options{}), OutputDir: dir, Checks: checks.DefaultConfig(),
				Clock: clk.Now, Out: &out, Err: io.Discard, History: st, StreamAfterUsers: after,
			})
			if err != nil && o == nil {
				t.Fatal(err)
			}
			return o
		}
		run()
		prod := assume(t, cfg, "345678901234", "OrganizationAccountAccessRole")
		c := iam.NewFromConfig(prod)
		if _, err := c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("carlos.lopez")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("new.hire")}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(24 * time.Hour)
		o := run()
		return dir, o, st, strings.ReplaceAll(out.String(), dir, "DIR")
	}
	wholeDir, whole, wholeDB, wholeOut = side(1 << 30)
	streamDir, streamed, streamDB, streamOut = side(-1)
	return
}

// A streamed run writes and records the same run as a whole run: the same CSV rows
// (accounts in the order they finish), the same JSON document (findings grouped by
// account), the same stored run, and the same totals.
func TestStreamedRunMatchesWholeRun(t *testing.T) {
	t.Parallel()
	wholeDir, streamDir, whole, streamed, wholeDB, streamDB, wholeOut, streamOut := streamedPair(t)
	// The console's lines (the per-account progress lines come in the order accounts
	// finish, in either mode).
	wl, sl := strings.Split(wholeOut, "\n"), strings.Split(streamOut, "\n")
	sort.Strings(wl)
	sort.Strings(sl)
	if !slices.Equal(wl, sl) {
		t.Errorf("console reports differ:\n%s", firstDiff(wl, sl))
	}
	if whole.Bounded != nil || streamed.Bounded == nil {
		t.Fatalf("Bounded: whole %v, streamed %v; want nil and set (did the run stream?)", whole.Bounded, streamed.Bounded)
	}
	if streamed.Bounded.Findings != len(whole.Findings) || streamed.Bounded.Resolved != len(whole.Resolved) {
		t.Errorf("streamed totals %d findings, %d resolved; whole run %d, %d", streamed.Bounded.Findings, streamed.Bounded.Resolved, len(whole.Findings), len(whole.Resolved))
	}
	if len(whole.Resolved) == 0 {
		t.Fatal("the second run resolved nothing: the comparison would not cover resolved findings")
	}
	if !reflect.DeepEqual(whole.Scores, streamed.Scores) {
		t.Errorf("scores differ:\nwhole    %+v\nstreamed %+v", whole.Scores.Organization, streamed.Scores.Organization)
	}
	runID := whole.Inventory.RunID
	if streamed.Inventory.RunID != runID {
		t.Fatalf("run ids %s and %s", runID, streamed.Inventory.RunID)
	}
	for _, name := range []string{report.IAMReportName(runID), report.EventsReportName(runID), report.FindingsReportName(runID)} {
		a, b := sortedLines(t, filepath.Join(wholeDir, name)), sortedLines(t, filepath.Join(streamDir, name))
		if !slices.Equal(a, b) {
			t.Errorf("%s: the streamed file's rows differ from the whole run's:\n%s", name, firstDiff(a, b))
		}
	}
	// The HTML page names the run's files beside it, streamed or not (a streamed run
	// ends it after the others).
	for mode, dir := range map[string]string{"whole": wholeDir, "streamed": streamDir} {
		page, err := os.ReadFile(filepath.Join(dir, report.HTMLReportName(runID)))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{report.JSONReportName(runID), report.FindingsReportName(runID), report.IAMReportName(runID)} {
			if !bytes.Contains(page, []byte(name)) {
				t.Errorf("%s run: the HTML page does not name %s", mode, name)
			}
		}
	}
	a, b := decodeDoc(t, filepath.Join(wholeDir, report.JSONReportName(runID))), decodeDoc(t, filepath.Join(streamDir, report.JSONReportName(runID)))
	if !reflect.DeepEqual(a, b) {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		t.Errorf("JSON documents differ:\n%s", firstDiff(strings.Split(string(ja), ","), strings.Split(string(jb), ",")))
	}
	ctx := context.Background()
	sa, err := wholeDB.Load(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := streamDB.Load(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	normaliseOutcome(sa)
	normaliseOutcome(sb)
	if !reflect.DeepEqual(sa.Inventory, sb.Inventory) || !reflect.DeepEqual(sa.Findings, sb.Findings) || !reflect.DeepEqual(sa.Scores, sb.Scores) {
		ja, _ := json.Marshal(sa)
		jb, _ := json.Marshal(sb)
		t.Errorf("stored runs differ:\n%s", firstDiff(strings.Split(string(ja), ","), strings.Split(string(jb), ",")))
	}
	// No spooled file is left behind.
	entries, _ := os.ReadDir(streamDir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".iamaudit-stream") {
			t.Errorf("spool %s left in the output directory", e.Name())
		}
	}
}

func sortedLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) > 1 {
		sort.Strings(lines[1:]) // the header stays first
	}
	return lines
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return "whole:    " + a[i] + "\nstreamed: " + b[i]
		}
	}
	return fmt.Sprintf("%d lines vs %d", len(a), len(b))
}

// decodeDoc reads a run JSON with its accounts and findings in a canonical order.
func decodeDoc(t *testing.T, path string) report.Document {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d report.Document
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	sort.Slice(d.Accounts, func(i, j int) bool { return d.Accounts[i].ID < d.Accounts[j].ID })
	sessionKeys(d.Inventory)
	byID := func(fs []checks.Finding) {
		sort.Slice(fs, func(i, j int) bool { return fs[i].ID < fs[j].ID })
	}
	byID(d.Findings)
	byID(d.ResolvedFindings)
	return d
}

func normaliseOutcome(o *outcome.Outcome) {
	sort.Slice(o.Inventory.Accounts, func(i, j int) bool { return o.Inventory.Accounts[i].ID < o.Inventory.Accounts[j].ID })
	sort.Slice(o.Findings, func(i, j int) bool { return o.Findings[i].ID < o.Findings[j].ID })
	o.Files = nil
	sessionKeys(o.Inventory)
}

// sessionKeys blanks the temporary (ASIA…) keys of the CloudTrail events: the
// remediation between the two runs assumed a role in each sandbox, which drew a
// random session key.
func sessionKeys(inv *inventory.Inventory) {
	for i := range inv.Accounts {
		for j := range inv.Accounts[i].Events {
			if e := &inv.Accounts[i].Events[j]; strings.HasPrefix(e.AccessKey, "ASIA") {
				e.AccessKey = "ASIA…"
			}
		}
	}
}

// brokenStreamer takes every part and fails to end its file.
type brokenStreamer struct{}

func (brokenStreamer) Account(outcome.Part) error   { return nil }
func (brokenStreamer) Close(*outcome.Outcome) error { return errors.New("disk full (injected)") }
func brokenFileName(runID string) string            { return "broken_" + runID + ".txt" }
func brokenWrite(io.Writer, *outcome.Outcome, report.Messages) error {
	return errors.New("not streamed")
}

// TestStreamedPageNamesOnlyTheFilesWritten: the HTML page of a streamed run is
// rendered while the other files are ended, as if all were written; when one is not,
// the page is rendered again and does not name it (nor does the run's file list),
// and the run says which file failed.
func TestStreamedPageNamesOnlyTheFilesWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := sandboxtest.NewClock(time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC))
	srv := sandboxtest.Start(t, scenario.Demo(), sandbox.Options{Clock: clk.Now})
	cfg := sandboxtest.Config(t, srv)
	broken := report.Format{Name: "broken", Description: "fails at its end", FileName: brokenFileName, Write: brokenWrite,
		Stream: func(io.Writer, *outcome.Outcome, report.Messages) (report.Streamer, error) {
			return brokenStreamer{}, nil
		}}
	for _, tc := range []struct {
		name    string
		formats []report.Format
		failed  bool
	}{
		{"all written", report.Formats(), false},
		{"one fails", append(slices.Clone(report.Formats()), broken), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			o, err := audit.Run(ctx, cfg, audit.Options{
				Collect: fastCollect(collect.Options{}), OutputDir: dir, Checks: checks.DefaultConfig(),
				Clock: clk.Now, Out: io.Discard, Err: io.Discard, StreamAfterUsers: -1, Formats: tc.formats,
			})
			if o == nil {
				t.Fatal(err)
			}
			var oe *audit.OutputsError
			if got := errors.As(err, &oe); got != tc.failed {
				t.Fatalf("OutputsError %v (%v), want %v", got, err, tc.failed)
			}
			runID := o.Inventory.RunID
			if tc.failed && (len(oe.Failed) != 1 || filepath.Base(oe.Failed[0]) != brokenFileName(runID)) {
				t.Errorf("failed files %v, want only %s", oe.Failed, brokenFileName(runID))
			}
			page, err := os.ReadFile(filepath.Join(dir, report.HTMLReportName(runID)))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(page, []byte(brokenFileName(runID))) {
				t.Errorf("the page names %s, which was not written", brokenFileName(runID))
			}
			for _, f := range report.Formats() {
				if name := f.FileName(runID); !f.ListsFiles && !bytes.Contains(page, []byte(name)) {
					t.Errorf("the page does not name %s", name)
				}
			}
			for _, f := range o.Files {
				if _, err := os.Stat(f); err != nil {
					t.Errorf("the run lists %s: %v", f, err)
				}
			}
		})
	}
}
