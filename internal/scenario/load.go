package scenario

import (
	"fmt"
	"os"

	"github.com/iamaudit/iamaudit/internal/yamlfile"
)

// maxScenarioBytes bounds a scenario file: the biggest hand-written Organization
// fits in far less, and large ones come from the generator section.
const maxScenarioBytes = 64 << 20

// Error is one problem in a scenario file, at a line (0 when no line applies): the
// YAML files' error (internal/yamlfile), lines only.
type Error = yamlfile.Error

// yamlOptions: a scenario's errors name lines, and an unknown key points to the example.
var yamlOptions = yamlfile.Options{What: "a scenario", LinesOnly: true,
	FieldHint: "see examples/scenario.yaml for the fields of each section"}

// Load reads, validates and normalises the scenario file at path.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return Parse(path, data)
}

// Parse validates and normalises a scenario read from name. Every error names the
// file and line (errors.Join of *Error, sorted by line); the scenario returned is
// fully concrete: ids, serials, defaults and generated accounts filled in.
func Parse(name string, data []byte) (*Scenario, error) {
	if len(data) > maxScenarioBytes {
		return nil, &Error{File: name, Msg: fmt.Sprintf("file larger than %d MiB: use the generator section for big Organizations", maxScenarioBytes>>20)}
	}
	doc, err := yamlfile.Parse(name, data, yamlOptions)
	if err != nil {
		return nil, err
	}
	if doc.Empty() {
		return nil, &Error{File: name, Msg: "empty scenario: see examples/scenario.yaml for the format"}
	}
	if !doc.IsMapping() {
		return nil, doc.Errorf(doc.Pos(), "a scenario is a mapping with name, organization and accounts: see examples/scenario.yaml")
	}
	var s Scenario
	if err := doc.Decode(&s); err != nil {
		return nil, err
	}
	if problems := append(zeroRates(doc, &s), validate(&s)...); len(problems) > 0 {
		return nil, report(doc, problems)
	}
	normalise(&s)
	if s.Generator != nil {
		appendGenerated(&s)
	}
	return &s, nil
}

// zeroRates refuses a fault whose rate is written as 0: Fault.Rate 0 means "not
// given" (every request), so such a fault would fire on every request instead of
// never. Only the document tells the two apart.
func zeroRates(doc *yamlfile.Doc, s *Scenario) []problem {
	var out []problem
	for i, f := range s.Knobs.Faults {
		path := []any{"knobs", "faults", i, "rate"}
		if _, given := doc.Find(path...); given && f.Rate == 0 {
			out = append(out, problem{path, fmt.Sprintf("knobs: fault %d: rate 0 would never fire: give a probability above 0 and at most 1, or remove the fault", i+1)})
		}
	}
	return out
}

// problem is a validation error at a path of the document (keys and indexes).
type problem struct {
	path []any
	msg  string
}

// report resolves each problem's path to a line and joins them in line order.
func report(doc *yamlfile.Doc, problems []problem) error {
	errs := make([]*Error, 0, len(problems))
	for _, p := range problems {
		errs = append(errs, doc.Errorf(doc.Pos(p.path...), "%s", p.msg))
	}
	return yamlfile.Join(errs)
}

func accountIDs(accounts []Account) []string {
	ids := make([]string, len(accounts))
	for i, a := range accounts {
		ids[i] = a.ID
	}
	return ids
}
