package scenario

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// maxScenarioBytes bounds a scenario file: the biggest hand-written Organization
// fits in far less, and large ones come from the generator section.
const maxScenarioBytes = 64 << 20

// Error is one problem in a scenario file, at a line (0 when no line applies).
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line <= 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

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
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(name, err)
	}
	var body ast.Node
	for _, doc := range file.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if body != nil {
			return nil, &Error{File: name, Line: line(doc.Body), Msg: "more than one YAML document: a scenario file holds one"}
		}
		body = doc.Body
	}
	if body == nil {
		return nil, &Error{File: name, Msg: "empty scenario: see examples/scenario.yaml for the format"}
	}
	if _, ok := unwrap(body).(*ast.MappingNode); !ok {
		if _, ok := unwrap(body).(*ast.MappingValueNode); !ok {
			return nil, &Error{File: name, Line: line(body), Msg: "a scenario is a mapping with name, organization and accounts: see examples/scenario.yaml"}
		}
	}
	if tag := firstCustomTag(body); tag != nil {
		text := "!"
		if tk := tag.GetToken(); tk != nil {
			text = tk.Value
		}
		return nil, &Error{File: name, Line: line(tag), Msg: fmt.Sprintf("YAML tag %s is not supported in a scenario: remove it", text)}
	}
	var s Scenario
	if err := decode(body, &s); err != nil {
		return nil, yamlError(name, err)
	}
	if problems := validate(&s); len(problems) > 0 {
		return nil, report(name, body, problems)
	}
	normalise(&s)
	if s.Generator != nil {
		s.Accounts = append(s.Accounts, Generate(*s.Generator, s.Organization.Partition, accountIDs(s.Accounts))...)
		for i := range s.Accounts {
			normaliseAccount(&s.Accounts[i], s.Organization.Partition, s.Organization.ManagementAccountID)
		}
		if problems := validate(&s); len(problems) > 0 { // generated content is valid by construction
			return nil, report(name, body, problems)
		}
	}
	return &s, nil
}

// yamlError turns a go-yaml error into an *Error with the file and line.
func yamlError(name string, err error) error {
	var ne *nodeError
	if errors.As(err, &ne) {
		return &Error{File: name, Line: line(ne.node), Msg: ne.err.Error()}
	}
	var ye yaml.Error
	if errors.As(err, &ye) {
		l := 0
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			l = tk.Position.Line
		}
		return &Error{File: name, Line: l, Msg: cleanMessage(ye.GetMessage())}
	}
	return &Error{File: name, Msg: cleanMessage(err.Error())}
}

// cleanMessage turns go-yaml's messages into ones a scenario author understands.
func cleanMessage(m string) string {
	m = strings.TrimSpace(m)
	if rest, ok := strings.CutPrefix(m, "unknown field "); ok {
		return "unknown field " + rest + ": see examples/scenario.yaml for the fields of each section"
	}
	if strings.Contains(m, "cannot unmarshal") {
		return strings.ReplaceAll(m, "Go struct field ", "field ")
	}
	return m
}

// problem is a validation error at a path of the document (keys and indexes).
type problem struct {
	path []any
	msg  string
}

// report resolves each problem's path to a line and joins them in line order.
func report(name string, body ast.Node, problems []problem) error {
	errs := make([]*Error, 0, len(problems))
	for _, p := range problems {
		errs = append(errs, &Error{File: name, Line: line(nodeAt(body, p.path)), Msg: p.msg})
	}
	slices.SortStableFunc(errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	if len(errs) == 1 {
		return errs[0]
	}
	joined := make([]error, len(errs))
	for i, e := range errs {
		joined[i] = e
	}
	return errors.Join(joined...)
}

// nodeAt follows path (string keys, int indexes) from n as far as the document goes
// and returns the deepest node reached: a field set by default points at its parent.
func nodeAt(n ast.Node, path []any) ast.Node {
	for _, p := range path {
		next := child(n, p)
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

func child(n ast.Node, p any) ast.Node {
	switch v := unwrap(n).(type) {
	case *ast.MappingValueNode:
		if k, ok := p.(string); ok && keyOf(v) == k {
			return v
		}
		return child(v.Value, p)
	case *ast.MappingNode:
		k, ok := p.(string)
		if !ok {
			return nil
		}
		for _, mv := range v.Values {
			if keyOf(mv) == k {
				return mv
			}
		}
	case *ast.SequenceNode:
		if i, ok := p.(int); ok && i >= 0 && i < len(v.Values) {
			return v.Values[i]
		}
	}
	return nil
}

func keyOf(mv *ast.MappingValueNode) string {
	if mv.Key == nil || mv.Key.GetToken() == nil {
		return ""
	}
	return mv.Key.GetToken().Value
}

// unwrap skips anchors, tags and the key of a mapping value down to the value.
func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
}

// line is the line of a node: a mapping entry's key, a mapping's first key.
func line(n ast.Node) int {
	switch v := n.(type) {
	case nil:
		return 0
	case *ast.MappingNode:
		if len(v.Values) > 0 {
			return line(v.Values[0])
		}
	case *ast.MappingValueNode:
		if v.Key != nil {
			return line(v.Key)
		}
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

func accountIDs(accounts []Account) []string {
	ids := make([]string, len(accounts))
	for i, a := range accounts {
		ids[i] = a.ID
	}
	return ids
}

// decode maps the document onto s, strictly. A panic inside the YAML decoder (a
// bug of the library on malformed input, found by fuzzing) becomes an error.
func decode(body ast.Node, s *Scenario) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the YAML decoder could not read this document (%v): check its syntax", r)
		}
	}()
	return yaml.NodeToValue(body, s, yaml.Strict())
}

// tagFinder finds the first tag other than the standard !! ones.
type tagFinder struct{ found *ast.TagNode }

func (f *tagFinder) Visit(n ast.Node) ast.Visitor {
	if f.found != nil {
		return nil
	}
	if t, ok := n.(*ast.TagNode); ok && (t.Start == nil || !strings.HasPrefix(t.Start.Value, "!!") || t.Value == nil) {
		f.found = t
		return nil
	}
	return f
}

func firstCustomTag(n ast.Node) *ast.TagNode {
	f := &tagFinder{}
	ast.Walk(f, n)
	return f.found
}
