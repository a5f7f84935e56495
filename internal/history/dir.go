package history

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
)

// Dir is the history kept by the run JSON files (iamaudit_<run id>.json) of one
// output directory: the baseline of a run is the newest earlier complete `run` file
// there. The run's own JSON file, written by the json output format, is its record,
// so Record has nothing more to store.
type Dir struct {
	Path string
}

// NewDir is the directory history of path.
func NewDir(path string) *Dir { return &Dir{Path: path} }

// Name implements History.
func (d *Dir) Name() string { return "directory " + d.Path }

// Record implements History: the json format already wrote the run into the
// directory; nothing else is kept.
func (d *Dir) Record(context.Context, *outcome.Outcome) error { return nil }

// runFile is one iamaudit_<run id>.json file and its run id's order.
type runFile struct {
	path  string
	runID string
	stamp string // YYYYMMDD_HHMMSS
	n     int    // 1 for the plain id, N for the suffix _N
}

var runFileRe = regexp.MustCompile(`^iamaudit_(\d{8}_\d{6})(?:_(\d+))?\.json$`)

// parseRunFile reads a run JSON file name; ok is false for any other file.
func parseRunFile(path string) (runFile, bool) {
	m := runFileRe.FindStringSubmatch(filepath.Base(path))
	if m == nil {
		return runFile{}, false
	}
	f := runFile{path: path, stamp: m[1], n: 1, runID: m[1]}
	if m[2] != "" {
		n, err := strconv.Atoi(m[2])
		if err != nil || n < 2 {
			return runFile{}, false
		}
		f.n, f.runID = n, m[1]+"_"+m[2]
	}
	return f, true
}

// before orders run files by time, then by suffix: _2 before _10.
func (f runFile) before(g runFile) bool {
	if f.stamp != g.stamp {
		return f.stamp < g.stamp
	}
	return f.n < g.n
}

// Baseline implements History. Files are ordered by run id (time, then the _N
// suffix as a number); those of runID's time are all earlier runs (see below). It passes over, with a warning, earlier files it cannot use:
// unreadable ones, JSON of another schema version, `analyze` outputs and
// interrupted runs, and takes the newest one it can.
func (d *Dir) Baseline(_ context.Context, inv *inventory.Inventory, warn func(string)) (*outcome.Baseline, error) {
	runID := inv.RunID
	if warn == nil {
		warn = func(string) {}
	}
	paths, err := filepath.Glob(filepath.Join(d.Path, "iamaudit_*.json"))
	if err != nil {
		return nil, err
	}
	current, ok := parseRunFile("iamaudit_" + runID + ".json")
	if !ok {
		return nil, fmt.Errorf("run id %q is not of the form YYYYMMDD_HHMMSS[_N]", runID)
	}
	// runID is the id the run asks for, before it claims one (audit.Run asks for
	// the baseline before writing): a file already there with the same time is an
	// earlier run of that second, whose id the run will pass over for a later _N.
	var files []runFile
	for _, p := range paths {
		if f, ok := parseRunFile(p); ok && (f.stamp == current.stamp || f.before(current)) {
			files = append(files, f)
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[j].before(files[i]) }) // newest first
	for _, f := range files {
		b, skip := readBaseline(f)
		if skip != "" {
			if skip != skipQuiet {
				warn(skip)
			}
			continue
		}
		return b, nil
	}
	return nil, nil
}

// BaselineOfAll implements History: a directory's baseline is one earlier run,
// whatever the accounts, so it is Baseline's.
func (d *Dir) BaselineOfAll(ctx context.Context, inv *inventory.Inventory, warn func(string)) (*outcome.Baseline, error) {
	return d.Baseline(ctx, inv, warn)
}

// skipQuiet marks files passed over without a warning: analyze outputs and
// interrupted runs are never a baseline, by design.
const skipQuiet = "\x00"

// readBaseline reads one run file; skip says why it cannot be the baseline.
func readBaseline(f runFile) (*outcome.Baseline, string) {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return nil, fmt.Sprintf("cannot read the earlier run %s (%v): compared with an older run instead", f.path, err)
	}
	var doc struct {
		Schema     string    `json:"schema"`
		Command    string    `json:"command"`
		RunID      string    `json:"run_id"`
		FinishedAt time.Time `json:"finished_at"`
		// The findings name their remediation plans (report.DecodeFindings).
		RawFindings  json.RawMessage     `json:"findings"`
		RawResolved  json.RawMessage     `json:"resolved_findings"`
		Remediations json.RawMessage     `json:"remediations"`
		Accounts     []inventory.Account `json:"accounts"`
		Gaps         []inventory.Gap     `json:"gaps"`
		Findings     []checks.Finding    `json:"-"`
		Resolved     []checks.Finding    `json:"-"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || !strings.HasPrefix(doc.Schema, "iamaudit.inventory/") {
		return nil, fmt.Sprintf("the earlier run %s is not an iamaudit JSON file: compared with an older run instead", f.path)
	}
	if doc.Schema == inventory.Schema {
		var ferr, rerr error
		doc.Findings, ferr = report.DecodeFindings(doc.RawFindings, doc.Remediations)
		doc.Resolved, rerr = report.DecodeFindings(doc.RawResolved, doc.Remediations)
		if ferr != nil || rerr != nil {
			return nil, fmt.Sprintf("the earlier run %s is not an iamaudit JSON file: compared with an older run instead", f.path)
		}
	}
	if doc.Schema != inventory.Schema {
		return nil, fmt.Sprintf("the earlier run %s has schema %s, not %s: compared with an older run instead", f.path, doc.Schema, inventory.Schema)
	}
	inv := &inventory.Inventory{Gaps: doc.Gaps}
	if doc.Command != outcome.CommandRun || outcome.Interrupted(inv) {
		return nil, skipQuiet
	}
	b := &outcome.Baseline{Ref: filepath.Base(f.path), RunID: doc.RunID, At: doc.FinishedAt, Findings: doc.Findings,
		FullyAudited: map[string]bool{}, Earlier: map[string]outcome.Lifecycle{}}
	if b.RunID == "" {
		b.RunID = f.runID
	}
	for _, a := range doc.Accounts {
		b.FullyAudited[a.ID] = a.FullyAudited()
	}
	// What one file knows of earlier findings: those it resolved (a reappearance now
	// is a reopening). Older resolutions are in older files; a store keeps them all.
	for _, r := range doc.Resolved {
		l := outcome.Lifecycle{ResolvedAt: doc.FinishedAt}
		if r.ResolvedAt != nil {
			l.ResolvedAt = *r.ResolvedAt
		}
		if l.ResolvedAt.IsZero() {
			continue // not a time: nothing to compare with
		}
		if r.FirstSeen != nil {
			l.FirstSeen = *r.FirstSeen
		}
		if r.LastSeen != nil {
			l.LastSeen = *r.LastSeen
		}
		b.Earlier[r.ID] = l
	}
	return b, ""
}
