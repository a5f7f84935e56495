// Package audit runs one audit end to end: collect the Organization's inventory,
// evaluate the checks, apply suppressions, score, and write every output. It is
// what `iamaudit run` and `iamaudit demo` share.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/score"
	"github.com/iamaudit/iamaudit/internal/suppress"
)

// Options configure a run.
type Options struct {
	Collect      collect.Options
	OutputDir    string // default "."
	Lang         string // en, es
	Checks       checks.Config
	Suppressions suppress.Rules
	// FailOn: an unsuppressed finding at or above it makes Result.FailOnHit true. Nil: never.
	FailOn  *checks.Severity
	Clock   func() time.Time
	Version string
	// Live shows a live progress line on Err (use only when Err is a terminal).
	Live bool
	Out  io.Writer // console report (the seed's lines)
	Err  io.Writer // progress and diagnostics
}

// Result is what a run produced.
type Result struct {
	Inventory *inventory.Inventory
	Findings  []checks.Finding
	Scores    score.Scores
	Expired   []suppress.Rule
	// Resolved are the previous run's findings no longer found; PreviousRun is its JSON file.
	Resolved    []checks.Finding
	PreviousRun string
	Files       []string
	// Incomplete: some account or section could not be audited.
	Incomplete bool
	// FailOnHit: an unsuppressed finding at or above Options.FailOn exists.
	FailOnHit bool
}

// Run collects, evaluates and writes. It returns an error only when nothing useful
// could be produced (no credentials, Organizations unreachable, outputs not writable).
// An interrupted run still writes what it collected.
func Run(ctx context.Context, cfg aws.Config, opts Options) (*Result, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.OutputDir == "" {
		opts.OutputDir = "."
	}
	msgs, err := report.MessagesFor(opts.Lang)
	if err != nil {
		return nil, err
	}
	if err := CheckOutputDir(opts.OutputDir); err != nil {
		return nil, err
	}
	start := opts.Clock().UTC()
	baseID := report.RunID(start) // the files claim baseID, or baseID_2… (writeOutputs)

	disp := newDisplay(opts.Out, opts.Err, opts.Live, msgs)
	copts := opts.Collect
	copts.Clock = opts.Clock
	copts.Progress = disp.event
	inv, cerr := collect.Collect(ctx, cfg, copts)
	disp.finish()
	if inv == nil {
		if cerr == nil {
			cerr = errors.New("collection produced nothing")
		}
		return nil, cerr
	}
	if cerr != nil {
		inv.Gaps = append(inv.Gaps, inventory.Gap{Section: "run", Message: cerr.Error()})
	}
	if err := checkSelection(inv, opts.Collect); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		// Interrupted part way: keep what was collected, and say it is incomplete.
		inv.Gaps = append(inv.Gaps, inventory.Gap{Section: "run",
			Message: "run interrupted (" + ctx.Err().Error() + "): what was collected until then is written; the sections cut short are listed as gaps"})
	}
	inv.Tool, inv.Version, inv.RunID = "iamaudit", opts.Version, baseID
	inv.AuditRole = opts.Collect.Role
	if inv.Schema == "" {
		inv.Schema = inventory.Schema
	}
	if inv.StartedAt.IsZero() {
		inv.StartedAt = start
	}
	inv.FinishedAt = opts.Clock().UTC()

	res := Evaluate(inv, inv.FinishedAt, opts.Checks, opts.Suppressions, opts.FailOn)
	// States across runs: compared with the newest earlier run in the same directory.
	prevPath, prev, perr := previousRun(opts.OutputDir, baseID)
	if perr != nil {
		fmt.Fprintf(opts.Err, "iamaudit: %v; findings are compared with no earlier run\n", perr)
	}
	res.Findings, res.Resolved = checks.CompareRuns(prev.findings, res.Findings)
	res.Resolved = comparable(res.Resolved, prev.complete, inv)
	res.PreviousRun = prevPath
	// Outputs are written even when the context was cancelled: nothing collected is lost.
	if err := writeOutputs(opts.OutputDir, baseID, res, msgs, opts.Out); err != nil {
		return res, err
	}
	if err := report.WriteSummaryWith(opts.Out, res.Findings, res.Scores, res.Expired, report.SummaryOptions{
		Lang: msgs.Lang, FindingsFile: filepath.Join(opts.OutputDir, report.FindingsReportName(inv.RunID)), Resolved: res.Resolved,
	}); err != nil {
		return res, err
	}
	printIncomplete(opts.Out, inv, msgs)
	return res, nil
}

// Evaluate runs the checks, applies the suppressions and computes the scores.
func Evaluate(inv *inventory.Inventory, now time.Time, cfg checks.Config, rules suppress.Rules, failOn *checks.Severity) *Result {
	findings := checks.Run(inv, now, cfg)
	expired := suppress.Apply(findings, rules, now)
	res := &Result{
		Inventory:  inv,
		Findings:   findings,
		Expired:    expired,
		Scores:     score.Compute(inv, findings, now, cfg),
		Incomplete: !inv.Complete(),
	}
	if failOn != nil {
		for _, f := range findings {
			if !f.Suppressed && f.Severity >= *failOn {
				res.FailOnHit = true
				break
			}
		}
	}
	return res
}

func writeOutputs(dir, baseID string, res *Result, msgs report.Messages, out io.Writer) error {
	inv := res.Inventory
	// The first file claims the run id: the first free one of baseID, baseID_2…; if a
	// run started in the same second takes it meanwhile, the next one.
	var runID, iamPath string
	for attempt := 0; ; attempt++ {
		runID = uniqueRunID(dir, baseID)
		iamPath = filepath.Join(dir, report.IAMReportName(runID))
		err := WriteFile(iamPath, func(w io.Writer) error {
			return report.WriteCSV(w, report.IAMReportHeader, report.IAMReportRows(inv, msgs))
		})
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || attempt == 20 {
			return err
		}
	}
	inv.RunID = runID
	evPath := filepath.Join(dir, report.EventsReportName(runID))
	if err := WriteFile(evPath, func(w io.Writer) error {
		return report.WriteCSV(w, report.EventsReportHeader, report.EventRows(inv))
	}); err != nil {
		return err
	}
	jsonPath := filepath.Join(dir, report.JSONReportName(runID))
	if err := WriteFile(jsonPath, func(w io.Writer) error {
		return report.WriteJSON(w, report.Document{Command: "run", Inventory: inv, Findings: res.Findings, Scores: res.Scores,
			ExpiredSuppressions: res.Expired, PreviousRun: baseName(res.PreviousRun), ResolvedFindings: res.Resolved})
	}); err != nil {
		return err
	}
	fPath := filepath.Join(dir, report.FindingsReportName(runID))
	if err := WriteFile(fPath, func(w io.Writer) error { return report.WriteFindingsCSV(w, res.Findings) }); err != nil {
		return err
	}
	res.Files = []string{iamPath, evPath, jsonPath, fPath}

	fmt.Fprintln(out)
	fmt.Fprintf(out, msgs.TotalKeys+"\n", report.KeyCount(inv))
	fmt.Fprintf(out, msgs.ReportExported+"\n", iamPath)
	fmt.Fprintln(out)
	fmt.Fprintf(out, msgs.TotalEvents+"\n", report.EventCount(inv))
	fmt.Fprintf(out, msgs.EventsExported+"\n", evPath)
	fmt.Fprintf(out, msgs.InventoryExported+"\n", jsonPath)
	fmt.Fprintf(out, msgs.FindingsExported+"\n", fPath)
	for _, a := range inv.Accounts {
		if cr := a.CredentialReport; cr != nil && !cr.FreshKeyData && cr.AgeSeconds >= 15*60 {
			fmt.Fprintf(out, msgs.StaleReport+"\n", a.Name, report.Age(time.Duration(cr.AgeSeconds)*time.Second, msgs))
		}
		printReusedReport(out, a, msgs)
	}
	fmt.Fprintln(out)
	return nil
}

// maxListedUsers bounds the users a console line names (the JSON has them all).
const maxListedUsers = 10

// printReusedReport says that the account's credential report was reused, and what
// was read again or left unknown because of it (docs/checks.md "Credential report
// staleness").
func printReusedReport(out io.Writer, a inventory.Account, msgs report.Messages) {
	cr := a.CredentialReport
	if cr == nil || !cr.Reused || cr.Check == "" {
		return
	}
	list := func(names []string) string {
		if len(names) <= maxListedUsers {
			return strings.Join(names, ", ")
		}
		return fmt.Sprintf(msgs.ReusedMoreUsers, strings.Join(names[:maxListedUsers], ", "), len(names)-maxListedUsers)
	}
	fmt.Fprintf(out, msgs.ReusedReport+"\n", a.Name, report.Age(time.Duration(cr.AgeSeconds)*time.Second, msgs))
	if len(cr.RereadSections) > 0 {
		fmt.Fprintf(out, msgs.ReusedReread+"\n", strings.Join(cr.RereadSections, ", "), cr.RereadReason)
	}
	if cr.Check == inventory.ReportCheckedCloudTrail {
		var users []string
		for _, u := range cr.RereadUsers {
			users = append(users, fmt.Sprintf("%s (%s)", u.User, strings.Join(u.Sections, ", ")))
		}
		if len(users) == 0 {
			fmt.Fprintln(out, msgs.ReusedNoChange)
		} else {
			fmt.Fprintf(out, msgs.ReusedChanged+"\n", len(users), list(users))
		}
		if cr.CloudTrailCompleteUntil != nil {
			fmt.Fprintf(out, msgs.ReusedComplete+"\n", cr.CloudTrailCompleteUntil.UTC().Format(report.DateLayout))
		}
	}
	if len(cr.UnknownUsers) > 0 {
		fmt.Fprintf(out, msgs.ReusedUnknown+"\n", list(cr.UnknownUsers))
	}
}

// WriteFile writes a file readable by its owner only (the outputs name every
// credential of the Organization), through a temporary file renamed into place so
// that no half-written report is ever left behind.
func WriteFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".iamaudit-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w (choose another --output-dir)", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// Link, not rename: it fails if path exists, so a concurrent run is never overwritten.
	err = os.Link(tmp.Name(), path)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("writing %s: %w (another run wrote it at the same moment? run again)", path, err)
	}
	// A file system without hard links: rename, after checking nothing is there.
	if _, serr := os.Lstat(path); serr == nil {
		return fmt.Errorf("writing %s: %w", path, fs.ErrExist)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// printIncomplete ends the console report with the accounts not audited and the
// sections that could not be collected, so no gap is silent.
func printIncomplete(out io.Writer, inv *inventory.Inventory, msgs report.Messages) {
	active := inv.NotAudited()
	sort.SliceStable(active, func(i, j int) bool { return active[i].Name < active[j].Name })
	fmt.Fprintln(out)
	fmt.Fprintf(out, msgs.NotAuditedHeader+"\n", len(active))
	for _, a := range active {
		fmt.Fprintf(out, msgs.NotAuditedLine+"\n", a.Name, a.ID, a.Reason)
	}
	if skipped := inv.Skipped(); len(skipped) > 0 {
		fmt.Fprintf(out, msgs.SkippedHeader+"\n", len(skipped))
		for _, a := range skipped {
			fmt.Fprintf(out, msgs.NotAuditedLine+"\n", a.Name, a.ID, a.State)
		}
	}
	var gaps []inventory.Gap
	gaps = append(gaps, inv.Gaps...)
	names := map[string]string{}
	for _, a := range inv.Accounts {
		names[a.ID] = a.Name
		if a.Status == inventory.StatusNotAudited || a.Status == inventory.StatusSkipped {
			continue
		}
		gaps = append(gaps, a.Gaps...)
	}
	if len(gaps) == 0 {
		return
	}
	fmt.Fprintf(out, msgs.GapsHeader+"\n", len(gaps))
	const maxShown = 20
	for i, g := range gaps {
		if i == maxShown {
			fmt.Fprintf(out, "  … %d more\n", len(gaps)-maxShown)
			break
		}
		where := names[g.AccountID]
		if where == "" {
			where = g.AccountID
		}
		if where == "" {
			where = "organization"
		}
		subj, op := "", ""
		if g.Subject != "" {
			subj = " (" + g.Subject + ")"
		}
		if g.Operation != "" {
			op = g.Operation
			if g.ErrorCode != "" {
				op += " " + g.ErrorCode
			}
			op += ": "
		}
		fmt.Fprintf(out, msgs.GapLine+"\n", where, g.Section, subj, op, g.Message)
	}
}

// CheckOutputDir creates the output directory (0700) if needed and proves it is
// writable, before any AWS call: a run that cannot write must fail in a second,
// not after auditing the whole Organization.
func CheckOutputDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the output directory %s: %w (choose another with --output-dir)", dir, err)
	}
	f, err := os.CreateTemp(dir, ".iamaudit-write-check-*")
	if err != nil {
		return fmt.Errorf("cannot write in the output directory %s: %w (choose another with --output-dir)", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// uniqueRunID returns id, or id_2, id_3… when a file of that run id already exists in
// dir (two runs started in the same second must not overwrite each other).
func uniqueRunID(dir, id string) string {
	taken := func(c string) bool {
		for _, n := range []string{report.IAMReportName(c), report.EventsReportName(c), report.JSONReportName(c), report.FindingsReportName(c)} {
			if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
				return true
			}
		}
		return false
	}
	c := id
	for i := 2; taken(c); i++ {
		c = fmt.Sprintf("%s_%d", id, i)
	}
	return c
}

// previous is what a run needs of the run before it.
type previous struct {
	findings []checks.Finding
	// complete: accounts fully audited (status audited, no gap) in that run.
	complete map[string]bool
}

// previousRun finds the newest earlier `iamaudit run` JSON in dir (run ids sort by
// time) that was not interrupted, and reads its findings. `analyze` outputs and
// interrupted runs are never a baseline. No earlier run: "", empty, nil.
func previousRun(dir, runID string) (string, previous, error) {
	paths, err := filepath.Glob(filepath.Join(dir, report.JSONReportName("*")))
	if err != nil {
		return "", previous{}, err
	}
	sort.Strings(paths)
	current := filepath.Join(dir, report.JSONReportName(runID))
	for i := len(paths) - 1; i >= 0; i-- {
		if paths[i] >= current {
			continue
		}
		b, err := os.ReadFile(paths[i])
		if err != nil {
			return "", previous{}, fmt.Errorf("cannot read the previous run %s: %w", paths[i], err)
		}
		var doc struct {
			Schema   string              `json:"schema"`
			Command  string              `json:"command"`
			Findings []checks.Finding    `json:"findings"`
			Accounts []inventory.Account `json:"accounts"`
			Gaps     []inventory.Gap     `json:"gaps"`
		}
		if err := json.Unmarshal(b, &doc); err != nil || !strings.HasPrefix(doc.Schema, "iamaudit.inventory/") {
			return "", previous{}, fmt.Errorf("the previous run %s is not an iamaudit JSON file", paths[i])
		}
		if doc.Command != "run" || interrupted(doc.Gaps) {
			continue
		}
		p := previous{findings: doc.Findings, complete: map[string]bool{}}
		for _, a := range doc.Accounts {
			p.complete[a.ID] = a.Status == inventory.StatusAudited && len(a.Gaps) == 0
		}
		return paths[i], p, nil
	}
	return "", previous{}, nil
}

func interrupted(gaps []inventory.Gap) bool {
	for _, g := range gaps {
		if g.Section == "run" {
			return true
		}
	}
	return false
}

// comparable keeps the resolved findings of accounts fully audited in both runs:
// a finding is resolved only when both runs could see it. An account left out of
// this run (--accounts), not audited, or with gaps resolves nothing.
func comparable(resolved []checks.Finding, prevComplete map[string]bool, inv *inventory.Inventory) []checks.Finding {
	now := map[string]bool{}
	for _, a := range inv.Accounts {
		now[a.ID] = a.Status == inventory.StatusAudited && len(a.Gaps) == 0
	}
	out := []checks.Finding{}
	for _, f := range resolved {
		if now[f.AccountID] && prevComplete[f.AccountID] {
			out = append(out, f)
		}
	}
	return out
}

func baseName(path string) string {
	if path == "" {
		return ""
	}
	return filepath.Base(path)
}

// ErrEmptySelection: --accounts / --exclude-accounts / --ou matched no account.
var ErrEmptySelection = errors.New("no account of the Organization matches the selection")

// checkSelection refuses a selection that matched nothing (a typo in --ou must not
// pass as a clean audit) and records, as gaps, asked-for accounts that are not in
// the Organization.
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
	found := map[string]bool{}
	for _, a := range inv.Accounts {
		found[a.ID] = true
	}
	for _, id := range o.Accounts {
		if !found[id] {
			inv.Gaps = append(inv.Gaps, inventory.Gap{AccountID: id, Section: "account",
				Message: "account " + id + " (--accounts) is not in the Organization: not audited"})
		}
	}
	return nil
}
