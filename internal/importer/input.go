package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
)

// Kind is what an input file is.
type Kind string

// Input kinds.
const (
	SeedReport       Kind = "seed-report"       // iam_audit_report_*.csv
	SeedEvents       Kind = "seed-events"       // cloudtrail_events_*.csv
	RunJSON          Kind = "run-json"          // iamaudit_*.json (an iamaudit run's JSON document)
	CredentialReport Kind = "credential-report" // an IAM credential report CSV
)

// Classify tells what a file is, from its name and first line.
func Classify(path string, data []byte) (Kind, error) {
	base := filepath.Base(path)
	head := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	first := string(head)
	if i := strings.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	first = strings.TrimSpace(first)
	switch {
	case len(head) > 0 && head[0] == '{':
		return RunJSON, nil
	case seedReportRe.MatchString(base) || strings.HasPrefix(first, "account_id,account_name,username"):
		return SeedReport, nil
	case seedEventsRe.MatchString(base) || strings.HasPrefix(first, "eventTime,eventName"):
		return SeedEvents, nil
	case strings.HasPrefix(first, "user,arn,"):
		return CredentialReport, nil
	}
	return "", fmt.Errorf("%s: not an iamaudit run JSON file, a seed report (iam_audit_report_*.csv), a seed events file (cloudtrail_events_*.csv) or a credential report", path)
}

// ReadRunJSON reads an iamaudit run's JSON document (report.Document): its
// inventory, and the findings and scores as that run reported them.
func ReadRunJSON(name string, data []byte) (*report.Document, error) {
	var doc report.Document
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not a valid iamaudit JSON document: %w", name, err)
	}
	if doc.Inventory == nil || !strings.HasPrefix(doc.Schema, "iamaudit.inventory/") {
		return nil, fmt.Errorf("%s: JSON without \"schema\": \"iamaudit.inventory/…\": not an iamaudit run's JSON file", name)
	}
	if doc.Schema != inventory.Schema {
		return nil, fmt.Errorf("%s: schema %q is not supported (this iamaudit reads %q)", name, doc.Schema, inventory.Schema)
	}
	if doc.Command == "" {
		doc.Command = outcome.CommandRun
	}
	if doc.RunID == "" {
		if m := runJSONRe.FindStringSubmatch(filepath.Base(name)); m != nil {
			doc.RunID = m[1]
		}
	}
	if _, err := RunTime(doc.RunID); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if doc.Accounts == nil {
		doc.Accounts = []inventory.Account{}
	}
	if doc.Gaps == nil {
		doc.Gaps = []inventory.Gap{}
	}
	return &doc, nil
}

// Run is one earlier run read from its files.
type Run struct {
	RunID string
	// Kind is RunJSON or SeedReport (with its events file, if any).
	Kind Kind
	// Files it was read from.
	Files     []string
	Inventory *inventory.Inventory
	// Document is, for a run JSON file, the whole document.
	Document *report.Document
}

// Collect reads paths into runs, oldest first. A path is a file, or a directory
// whose iamaudit_*.json, iam_audit_report_*.csv and cloudtrail_events_*.csv files are
// read. A seed report is read with the cloudtrail_events file of the same run id,
// given or beside it; an events file is never a run alone. A run given as a JSON file
// and as seed CSVs is read from the JSON file (it holds everything the CSVs hold).
// Notes say which files were passed over and why.
func Collect(paths []string, opts SeedOptions) (runs []Run, notes []string, err error) {
	type input struct {
		path string
		kind Kind
		data []byte
	}
	var files []input
	seen := map[string]bool{}
	addFile := func(p string) error {
		abs, err := filepath.Abs(p)
		if err == nil && seen[abs] {
			return nil
		}
		seen[abs] = true
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		k, err := Classify(p, data)
		if err != nil {
			return err
		}
		files = append(files, input{p, k, data})
		return nil
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", p, err)
		}
		if !fi.IsDir() {
			if err := addFile(p); err != nil {
				return nil, nil, err
			}
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", p, err)
		}
		found := 0
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || !(runJSONRe.MatchString(n) || seedReportRe.MatchString(n) || seedEventsRe.MatchString(n)) {
				continue
			}
			found++
			if err := addFile(filepath.Join(p, n)); err != nil {
				return nil, nil, err
			}
		}
		if found == 0 {
			notes = append(notes, fmt.Sprintf("%s: no iamaudit_*.json, iam_audit_report_*.csv or cloudtrail_events_*.csv file in it", p))
		}
	}
	byID := map[string]*Run{}
	events := map[string]input{}
	for _, f := range files {
		switch f.kind {
		case CredentialReport:
			return nil, nil, fmt.Errorf("%s is a credential report: import reads iamaudit run JSON files and the seed's iam_audit_report / cloudtrail_events CSVs (iamaudit analyze reads credential reports)", f.path)
		case SeedEvents:
			id := SeedRunID(f.path)
			if id == "" {
				return nil, nil, fmt.Errorf("%s: cannot tell the run's time: name it cloudtrail_events_YYYYMMDD_HHMMSS.csv (the run's start, UTC)", f.path)
			}
			events[id] = f
		case RunJSON:
			doc, err := ReadRunJSON(f.path, f.data)
			if err != nil {
				return nil, nil, err
			}
			if doc.Command != outcome.CommandRun {
				return nil, nil, fmt.Errorf("%s is the output of iamaudit %s, not of a run: only runs are kept in the store", f.path, doc.Command)
			}
			if prev, ok := byID[doc.RunID]; ok {
				if prev.Kind == RunJSON {
					return nil, nil, fmt.Errorf("%s and %s are both run %s: give one", prev.Files[0], f.path, doc.RunID)
				}
				notes = append(notes, fmt.Sprintf("%s: run %s is read from %s instead", strings.Join(prev.Files, ", "), doc.RunID, f.path))
			}
			byID[doc.RunID] = &Run{RunID: doc.RunID, Kind: RunJSON, Files: []string{f.path}, Inventory: doc.Inventory, Document: doc}
		}
	}
	for _, f := range files {
		if f.kind != SeedReport {
			continue
		}
		id := SeedRunID(f.path)
		if prev, ok := byID[id]; ok && id != "" {
			if prev.Kind == RunJSON {
				notes = append(notes, fmt.Sprintf("%s: run %s is read from %s instead", f.path, id, prev.Files[0]))
				delete(events, id)
				continue
			}
			return nil, nil, fmt.Errorf("%s and %s are both run %s: give one", prev.Files[0], f.path, id)
		}
		var evName string
		var evData []byte
		if ev, ok := events[id]; ok {
			evName, evData = ev.path, ev.data
			delete(events, id)
		} else if id != "" {
			beside := filepath.Join(filepath.Dir(f.path), "cloudtrail_events_"+id+".csv")
			if data, err := os.ReadFile(beside); err == nil {
				evName, evData = beside, data
			} else if !errors.Is(err, os.ErrNotExist) {
				return nil, nil, fmt.Errorf("read %s: %w", beside, err)
			}
		}
		inv, err := ReadSeed(f.path, f.data, evName, evData, opts)
		if err != nil {
			return nil, nil, err
		}
		r := &Run{RunID: id, Kind: SeedReport, Files: []string{f.path}, Inventory: inv}
		if evName != "" {
			r.Files = append(r.Files, evName)
		}
		byID[id] = r
	}
	for id, ev := range events {
		if r, ok := byID[id]; ok && r.Kind == RunJSON {
			continue
		}
		return nil, nil, fmt.Errorf("%s has no iam_audit_report_%s.csv given or beside it: an events file alone is not a run", ev.path, id)
	}
	for _, r := range byID {
		runs = append(runs, *r)
	}
	sort.Slice(runs, func(i, j int) bool { return runBefore(runs[i].RunID, runs[j].RunID) })
	return runs, notes, nil
}

// runBefore orders run ids by time, then by the _N suffix as a number.
func runBefore(a, b string) bool {
	sa, na := splitRunID(a)
	sb, nb := splitRunID(b)
	if sa != sb {
		return sa < sb
	}
	return na < nb
}

func splitRunID(id string) (string, int) {
	stamp, n := id, 1
	if len(id) > len(inventory.RunIDLayout) && id[len(inventory.RunIDLayout)] == '_' {
		stamp = id[:len(inventory.RunIDLayout)]
		fmt.Sscanf(id[len(inventory.RunIDLayout)+1:], "%d", &n)
	}
	return stamp, n
}
