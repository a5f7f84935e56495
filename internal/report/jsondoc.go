package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/score"
	"github.com/iamaudit/iamaudit/internal/suppress"
)

// JSONReportName is the run's JSON file name.
func JSONReportName(runID string) string { return "iamaudit_" + runID + ".json" }

// FindingsReportName is the run's findings CSV file name.
func FindingsReportName(runID string) string { return "iamaudit_findings_" + runID + ".csv" }

// Document is the run's JSON file: the whole inventory (its fields at the top level,
// schema inventory.Schema) plus the findings, the scores and the suppression rules
// that have expired (docs/inventory-schema.md). `iamaudit analyze` reads it back as an
// inventory, and the directory history (internal/history) as a baseline. The file
// says each remediation plan once (plans.go); Document holds every finding whole
// (WriteJSON and UnmarshalJSON convert).
type Document struct {
	// Command is the command that wrote the file: "run" or "analyze". Only a run is
	// the baseline of the next run's finding states.
	Command string `json:"command,omitempty"`
	*inventory.Inventory
	Findings            []checks.Finding `json:"findings"`
	Scores              score.Scores     `json:"scores"`
	ExpiredSuppressions []suppress.Rule  `json:"expired_suppressions"`
	// PreviousRun is the earlier run the finding states were compared with.
	PreviousRun string `json:"previous_run,omitempty"`
	// ResolvedFindings are the previous run's findings no longer found (state "resolved").
	ResolvedFindings []checks.Finding `json:"resolved_findings"`
}

// DocumentOf is an outcome's JSON document.
func DocumentOf(o *outcome.Outcome) Document {
	doc := Document{Command: o.Command, Inventory: o.Inventory, Findings: o.Findings, Scores: o.Scores,
		ExpiredSuppressions: o.Expired, ResolvedFindings: o.Resolved}
	if o.Baseline != nil {
		doc.PreviousRun = o.Baseline.Ref
	}
	return doc
}

// wireDocument is the document as the file holds it: the findings with their
// remediation plans said once, in Remediations (plans.go).
type wireDocument struct {
	Command string `json:"command,omitempty"`
	*inventory.Inventory
	Findings            []jsonFinding   `json:"findings"`
	Scores              score.Scores    `json:"scores"`
	ExpiredSuppressions []suppress.Rule `json:"expired_suppressions"`
	PreviousRun         string          `json:"previous_run,omitempty"`
	ResolvedFindings    []jsonFinding   `json:"resolved_findings"`
	// Remediations are the remediation plans the findings name (plans.go).
	Remediations map[string]RemediationPlan `json:"remediations"`
}

// UnmarshalJSON reads a run's JSON file, giving each finding the workflow and actions
// of the remediation plan it names (files written before plans carry them in the
// finding, and read the same).
func (d *Document) UnmarshalJSON(b []byte) error {
	var w wireDocument
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*d = Document{Command: w.Command, Inventory: w.Inventory, Scores: w.Scores, ExpiredSuppressions: w.ExpiredSuppressions, PreviousRun: w.PreviousRun}
	var err error
	if d.Findings, err = resolveAll(w.Findings, w.Remediations); err != nil {
		return err
	}
	d.ResolvedFindings, err = resolveAll(w.ResolvedFindings, w.Remediations)
	return err
}

// DecodeFindings reads the findings of a run's JSON file (raw: its "findings" or
// "resolved_findings" array) with the plans of its "remediations" table, for readers
// that decode only part of the file (the directory history).
func DecodeFindings(raw json.RawMessage, remediations json.RawMessage) ([]checks.Finding, error) {
	var fs []jsonFinding
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &fs); err != nil {
			return nil, err
		}
	}
	var table map[string]RemediationPlan
	if len(remediations) > 0 {
		if err := json.Unmarshal(remediations, &table); err != nil {
			return nil, err
		}
	}
	return resolveAll(fs, table)
}

func resolveAll(fs []jsonFinding, table map[string]RemediationPlan) ([]checks.Finding, error) {
	if fs == nil {
		return nil, nil
	}
	out := make([]checks.Finding, len(fs))
	for i, jf := range fs {
		f, err := resolve(jf, table)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// wireOf is doc as the file holds it.
func wireOf(doc Document) (wireDocument, error) {
	p := newPlans()
	w := wireDocument{Command: doc.Command, Inventory: doc.Inventory, Scores: doc.Scores,
		ExpiredSuppressions: doc.ExpiredSuppressions, PreviousRun: doc.PreviousRun}
	var err error
	if w.Findings, err = p.findingsOf(doc.Findings); err != nil {
		return w, err
	}
	if w.ResolvedFindings, err = p.findingsOf(doc.ResolvedFindings); err != nil {
		return w, err
	}
	w.Remediations = p.table()
	if w.ExpiredSuppressions == nil {
		w.ExpiredSuppressions = []suppress.Rule{}
	}
	return w, nil
}

// WriteJSON writes the document, indented: each finding's remediation is its plan
// (said once, in "remediations"), its resource and its AWS CLI text (plans.go).
func WriteJSON(w io.Writer, doc Document) error {
	wd, err := wireOf(doc)
	if err != nil {
		return err
	}
	return encodeDocument(w, wd)
}

func encodeDocument(w io.Writer, wd wireDocument) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// HTML-escaping stays on: the file may be opened in a browser.
	return enc.Encode(wd)
}

// jsonFormat is the run's whole inventory, findings and scores (docs/inventory-schema.md).
var jsonFormat = Format{
	Name:        "json",
	Description: "the whole inventory, findings, scores and gaps (schema " + inventory.Schema + ")",
	FileName:    JSONReportName,
	Analyze:     true,
	Write:       func(w io.Writer, o *outcome.Outcome, _ Messages) error { return WriteJSON(w, DocumentOf(o)) },
	Stream:      streamJSON,
}

// jsonStream streams the run's JSON document. Its accounts and findings are spooled
// as they come (each already in its final text) and the document is written at
// Close, when what only the end knows is known (the run id claimed, finished_at, the
// run's gaps, the scores, the resolved findings' baseline, the plans): the accounts
// in the Organization's order, the findings in checks.Sort's order across all
// accounts, the resolved ones likewise, so the file is byte for byte Write's for the
// same run whatever order the accounts finish in. Memory holds the plans table and
// the spool's offsets.
type jsonStream struct {
	w                io.Writer
	sp               *spool
	plans            *plans
	accounts         []string // account ids, in the order the parts came
	findings, closed findingSet
	ind              indenter
}

func streamJSON(w io.Writer, _ *outcome.Outcome, _ Messages) (Streamer, error) {
	sp, err := newSpool(w)
	if err != nil {
		return nil, err
	}
	return &jsonStream{w: w, sp: sp, plans: newPlans(), findings: newFindingSet("f/"), closed: newFindingSet("r/")}, nil
}

// Element indentation in the document: the top-level arrays' elements.
const (
	docOuter  = "  "
	docIndent = "    "
	docSep    = ",\n" + docIndent
)

func (s *jsonStream) element(key string, v any) error {
	b, err := s.ind.append(docSep, v, docIndent, "  ")
	if err != nil {
		return err
	}
	return s.sp.add(key, b)
}

func (s *jsonStream) Account(p outcome.Part) error {
	compact, err := p.AccountJSON()
	if err != nil {
		return err
	}
	// MarshalIndent is Marshal, then Indent: the same bytes from the shared encoding.
	b := s.ind.indent(docSep, compact, docIndent, "  ")
	if err := s.sp.add("a/"+p.Account.ID, b); err != nil {
		return err
	}
	cmds := partCommands(p)
	s.accounts = append(s.accounts, p.Account.ID)
	for _, set := range []struct {
		fs  []checks.Finding
		set findingSet
	}{{p.Findings, s.findings}, {p.Resolved, s.closed}} {
		for _, f := range sortedFindings(set.fs) {
			jf, err := s.plans.findingWith(f, cmds)
			if err != nil {
				return err
			}
			if err := s.element(set.set.note(f), jf); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *jsonStream) Close(o *outcome.Outcome) error {
	defer s.sp.close()
	doc := DocumentOf(o)
	inv := *o.Inventory
	inv.Accounts = []inventory.Account{}
	doc.Inventory = &inv
	doc.Findings, doc.ResolvedFindings = nil, nil
	wd, err := wireOf(doc)
	if err != nil {
		return err
	}
	wd.Findings, wd.ResolvedFindings, wd.Remediations = []jsonFinding{}, []jsonFinding{}, s.plans.table()
	var head bytes.Buffer
	if err := encodeDocument(&head, wd); err != nil {
		return err
	}
	// The accounts: the summary's order (an account no part came for as the summary
	// has it), then any part the summary does not list.
	var accounts []string
	listed := map[string]bool{}
	for _, a := range o.Inventory.Accounts {
		if listed[a.ID] {
			continue
		}
		listed[a.ID] = true
		if !s.sp.has("a/" + a.ID) {
			if err := s.element("a/"+a.ID, a); err != nil {
				return err
			}
		}
		accounts = append(accounts, "a/"+a.ID)
	}
	for _, id := range s.accounts {
		if !listed[id] {
			listed[id] = true
			accounts = append(accounts, "a/"+id)
		}
	}
	rest := head.Bytes()
	for _, arr := range []struct {
		field string
		keys  []string
	}{{"accounts", accounts}, {"findings", s.findings.order()}, {"resolved_findings", s.closed.order()}} {
		marker := []byte("\n" + docOuter + `"` + arr.field + `": []`)
		i := bytes.Index(rest, marker)
		if i < 0 {
			return fmt.Errorf("json: no %q in the document", arr.field)
		}
		cut := i + len(marker) - len("[]")
		if _, err := s.w.Write(rest[:cut]); err != nil {
			return err
		}
		if err := s.sp.copyArray(s.w, arr.keys, docSep, docOuter, nil); err != nil {
			return err
		}
		rest = rest[cut+len("[]"):]
	}
	if _, err := s.w.Write(rest); err != nil {
		return err
	}
	return s.sp.close()
}
