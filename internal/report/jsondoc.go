package report

import (
	"encoding/json"
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
// inventory, and the directory history (internal/history) as a baseline.
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

// WriteJSON writes the document, indented, each finding's remediation with its
// actions and their AWS CLI text (WithCommands).
func WriteJSON(w io.Writer, doc Document) error {
	doc.Findings, doc.ResolvedFindings = WithCommands(doc.Findings), WithCommands(doc.ResolvedFindings)
	if doc.Findings == nil {
		doc.Findings = []checks.Finding{}
	}
	if doc.ResolvedFindings == nil {
		doc.ResolvedFindings = []checks.Finding{}
	}
	if doc.ExpiredSuppressions == nil {
		doc.ExpiredSuppressions = []suppress.Rule{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// HTML-escaping stays on: the file may be opened in a browser.
	return enc.Encode(doc)
}

// jsonFormat is the run's whole inventory, findings and scores (docs/inventory-schema.md).
var jsonFormat = Format{
	Name:        "json",
	Description: "the whole inventory, findings, scores and gaps (schema " + inventory.Schema + ")",
	FileName:    JSONReportName,
	Analyze:     true,
	Write:       func(w io.Writer, o *outcome.Outcome, _ Messages) error { return WriteJSON(w, DocumentOf(o)) },
}
