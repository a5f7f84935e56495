// Package yamlfile reads the YAML files users write (the checks configuration,
// suppression rules, sandbox scenarios): strict decoding (an unknown key is an error,
// one document per file, no custom tags) and errors that name the file, line and column
// in the user's terms rather than Go's ("want a whole number (got \"ninety\")", never
// "cannot unmarshal string into Go struct field").
package yamlfile

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Error is one problem at a place in a YAML file: "file:line:col: msg", "file:line: msg"
// when the column is not given, "file: msg" when no line applies.
type Error struct {
	File string
	Line int // 0: the whole file
	Col  int // 0: the whole line
	Msg  string
}

func (e *Error) Error() string {
	switch {
	case e.Line <= 0:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	case e.Col <= 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Pos is a place in the file; zero when unknown.
type Pos struct{ Line, Col int }

// Options describe the kind of file, for messages.
type Options struct {
	// What the file is, with its article: "a scenario", "a configuration file".
	What string
	// FieldHint follows an unknown-key message: where the valid keys are listed.
	FieldHint string
	// LinesOnly makes positions name the line only ("file:line: msg").
	LinesOnly bool
}

// Doc is a parsed YAML file of at most one document.
type Doc struct {
	name string
	opts Options
	body ast.Node // nil for an empty file (or one of comments only)
}

// Parse parses data read from name. A syntax error, a second document or a custom tag
// (!secret) is an *Error.
func Parse(name string, data []byte, opts Options) (d *Doc, err error) {
	if opts.What == "" {
		opts.What = "the file"
	}
	d = &Doc{name: name, opts: opts}
	defer func() {
		if r := recover(); r != nil { // a bug of the parser on malformed input (fuzzing finds them)
			d, err = nil, &Error{File: name, Msg: fmt.Sprintf("the YAML parser could not read this file (%v): check its syntax", r)}
		}
	}()
	f, perr := parser.ParseBytes(data, 0)
	if perr != nil {
		return nil, d.fromYAML(perr)
	}
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if d.body != nil {
			return nil, d.Errorf(NodePos(doc.Body), "more than one YAML document: write %s as one document", opts.What)
		}
		d.body = doc.Body
	}
	if tag := firstCustomTag(d.body); tag != nil {
		text := "!"
		if tk := tag.GetToken(); tk != nil {
			text = tk.Value
		}
		return nil, d.Errorf(NodePos(tag), "YAML tag %s is not supported in %s: remove it", text, opts.What)
	}
	return d, nil
}

// Name is the file name errors carry.
func (d *Doc) Name() string { return d.name }

// Empty reports whether the file holds no document (empty, or comments only).
func (d *Doc) Empty() bool { return d.body == nil }

// Body is the document's root node (nil when Empty), for format-specific checks.
func (d *Doc) Body() ast.Node { return d.body }

// IsMapping reports whether the document is a mapping of keys to values.
func (d *Doc) IsMapping() bool {
	switch unwrap(d.body).(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return true
	}
	return false
}

// Decode maps the document onto v, strictly: a key v has no field for is an error.
// Fields of v the document does not set keep their values (a preset's defaults). Every
// error is an *Error at the offending key or value.
func (d *Doc) Decode(v any) (err error) {
	if d.body == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil { // a bug of the decoder on malformed input (fuzzing finds them)
			err = d.Errorf(Pos{}, "the YAML decoder could not read this document (%v): check its syntax", r)
		}
	}()
	if err := yaml.NodeToValue(d.body, v, yaml.Strict()); err != nil {
		return d.fromYAML(err)
	}
	return nil
}

// Errorf is an error at p (the whole file when p is zero).
func (d *Doc) Errorf(p Pos, format string, args ...any) *Error {
	e := &Error{File: d.name, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)}
	if d.opts.LinesOnly {
		e.Col = 0
	}
	return e
}

// Find follows path (string keys, int indexes) from the root as far as the document
// goes and returns the position of the deepest node reached — so a field left out
// points at its parent — and whether the whole path was found.
func (d *Doc) Find(path ...any) (Pos, bool) {
	n, ok := d.node(path)
	return NodePos(n), ok
}

// Pos is Find's position.
func (d *Doc) Pos(path ...any) Pos {
	p, _ := d.Find(path...)
	return p
}

// Node is the value at path, or nil when the document does not have it.
func (d *Doc) Node(path ...any) ast.Node {
	_, val, ok := d.walk(path)
	if !ok {
		return nil
	}
	return val
}

func (d *Doc) node(path []any) (ast.Node, bool) {
	at, _, ok := d.walk(path)
	return at, ok
}

// walk follows path as far as the document goes: the node reached (a mapping entry for
// a key, an item for an index), its value, and whether all of path was found.
func (d *Doc) walk(path []any) (at, val ast.Node, ok bool) {
	at, val = d.body, d.body
	if at == nil {
		return nil, nil, len(path) == 0
	}
	for _, p := range path {
		next, entry := child(val, p)
		if next == nil {
			return at, val, false
		}
		at, val = next, next
		if entry {
			val = next.(*ast.MappingValueNode).Value
		}
	}
	return at, val, true
}

// Kind is what a value of the document is, for checks of its shape before decoding.
type Kind int

// The kinds of values.
const (
	Missing Kind = iota // the document has no such value
	Null                // written but empty ("key:" or "~")
	Text
	Integer
	Number // with a fraction or an exponent
	Bool
	List
	Mapping
	Other // an alias, .inf, .nan
)

// Kind is the kind of the value at path.
func (d *Doc) Kind(path ...any) Kind {
	n := d.Node(path...)
	if n == nil {
		return Missing
	}
	switch unwrap(n).(type) {
	case *ast.NullNode:
		return Null
	case *ast.StringNode, *ast.LiteralNode:
		return Text
	case *ast.IntegerNode:
		return Integer
	case *ast.FloatNode:
		return Number
	case *ast.BoolNode:
		return Bool
	case *ast.SequenceNode:
		return List
	case *ast.MappingNode, *ast.MappingValueNode:
		return Mapping
	}
	return Other
}

// Keys are the keys of the mapping at path, in the document's order.
func (d *Doc) Keys(path ...any) []string {
	var keys []string
	switch v := unwrap(d.Node(path...)).(type) {
	case *ast.MappingNode:
		for _, mv := range v.Values {
			keys = append(keys, keyOf(mv))
		}
	case *ast.MappingValueNode:
		keys = append(keys, keyOf(v))
	}
	return keys
}

// Len is the number of items of the list at path (0 when it is not a list).
func (d *Doc) Len(path ...any) int {
	if sq, ok := unwrap(d.Node(path...)).(*ast.SequenceNode); ok {
		return len(sq.Values)
	}
	return 0
}

// Text is the scalar at path as written (a string's value without its quotes), or "".
func (d *Doc) Text(path ...any) string {
	switch v := unwrap(d.Node(path...)).(type) {
	case nil, *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode:
		return ""
	case *ast.StringNode:
		return v.Value
	default:
		if tk := v.GetToken(); tk != nil {
			return tk.Value
		}
	}
	return ""
}

// NodePos is where a node is: a mapping entry's key, a mapping's first key, else the
// node's first token.
func NodePos(n ast.Node) Pos {
	switch v := n.(type) {
	case nil:
		return Pos{}
	case *ast.MappingNode:
		if len(v.Values) > 0 {
			return NodePos(v.Values[0])
		}
	case *ast.MappingValueNode:
		if v.Key != nil {
			return NodePos(v.Key)
		}
	}
	return tokenPos(n.GetToken())
}

// Path writes a document path as users read it: thresholds.unused_key_days,
// exclude_roles[1], suppressions[0].user.
func Path(path ...any) string {
	var b strings.Builder
	for _, p := range path {
		switch v := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", v)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, v)
		}
	}
	return b.String()
}

// Join sorts errors by position and joins them; nil for none, the error itself for one.
func Join(errs []*Error) error {
	slices.SortStableFunc(errs, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	joined := make([]error, len(errs))
	for i, e := range errs {
		joined[i] = e
	}
	return errors.Join(joined...)
}

// NodeError is an error a custom UnmarshalYAML(ast.Node) returns about its node:
// Decode reports it at the node.
type NodeError struct {
	Node ast.Node
	Err  error
}

func (e *NodeError) Error() string { return e.Err.Error() }
func (e *NodeError) Unwrap() error { return e.Err }

// AtNode is err at node (a NodeError).
func AtNode(node ast.Node, err error) error { return &NodeError{Node: node, Err: err} }

// fromYAML turns a go-yaml error (or a NodeError) into an *Error in the user's terms.
func (d *Doc) fromYAML(err error) *Error {
	var ne *NodeError
	if errors.As(err, &ne) {
		return d.Errorf(NodePos(ne.Node), "%s", ne.Err.Error())
	}
	var ye yaml.Error
	if !errors.As(err, &ye) {
		return d.Errorf(Pos{}, "%s", err.Error())
	}
	tk := ye.GetToken()
	msg := strings.TrimSpace(ye.GetMessage())
	var (
		te *yaml.TypeError
		oe *yaml.OverflowError
		ue *yaml.UnknownFieldError
	)
	switch {
	case errors.As(err, &te):
		msg = fmt.Sprintf("want %s (got %s)", kind(te.DstType), got(te.SrcType, tk))
		if p := d.pathTo(tk); p != "" {
			msg = p + ": " + msg
		}
	case errors.As(err, &oe):
		msg = fmt.Sprintf("%s is too large for %s", oe.SrcNum, kind(oe.DstType))
		if p := d.pathTo(tk); p != "" {
			msg = p + ": " + msg
		}
	case errors.As(err, &ue):
		if d.opts.FieldHint != "" {
			msg += ": " + d.opts.FieldHint
		}
	}
	return d.Errorf(tokenPos(tk), "%s", msg)
}

// kind is what a Go type holds, in the words of a YAML author.
func kind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a single text value (quote it)"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return "a value of another kind"
}

// got is what the document has: a list, a mapping, or the scalar as written.
func got(t reflect.Type, tk *token.Token) string {
	if t != nil {
		switch t.Kind() {
		case reflect.Slice, reflect.Array:
			return "a list"
		case reflect.Map, reflect.Struct:
			return "a mapping"
		}
	}
	if tk != nil {
		return strconv.Quote(tk.Value)
	}
	return "a value of another kind"
}

// pathTo is the path of the value whose first token is tk, or "".
func (d *Doc) pathTo(tk *token.Token) string {
	if tk == nil || d.body == nil {
		return ""
	}
	var found []any
	var walk func(n ast.Node, path []any) bool
	walk = func(n ast.Node, path []any) bool {
		switch v := unwrap(n).(type) {
		case *ast.MappingNode:
			for _, mv := range v.Values {
				if walk(mv, path) {
					return true
				}
			}
		case *ast.MappingValueNode:
			p := append(slices.Clone(path), keyOf(v))
			if v.Value != nil && v.Value.GetToken() == tk {
				found = p
				return true
			}
			return walk(v.Value, p)
		case *ast.SequenceNode:
			for i, it := range v.Values {
				p := append(slices.Clone(path), i)
				if it != nil && it.GetToken() == tk {
					found = p
					return true
				}
				if walk(it, p) {
					return true
				}
			}
		}
		return false
	}
	walk(d.body, nil)
	return Path(found...)
}

func tokenPos(tk *token.Token) Pos {
	if tk == nil || tk.Position == nil {
		return Pos{}
	}
	return Pos{Line: tk.Position.Line, Col: tk.Position.Column}
}

// child is the entry of key p of the mapping n (entry true), or item p of the list n.
// A mapping of one entry may be parsed as the entry itself.
func child(n ast.Node, p any) (ast.Node, bool) {
	switch v := unwrap(n).(type) {
	case *ast.MappingValueNode:
		if k, ok := p.(string); ok && keyOf(v) == k {
			return v, true
		}
	case *ast.MappingNode:
		k, ok := p.(string)
		if !ok {
			return nil, false
		}
		for _, mv := range v.Values {
			if keyOf(mv) == k {
				return mv, true
			}
		}
	case *ast.SequenceNode:
		if i, ok := p.(int); ok && i >= 0 && i < len(v.Values) {
			return v.Values[i], false
		}
	}
	return nil, false
}

func keyOf(mv *ast.MappingValueNode) string {
	if mv.Key == nil || mv.Key.GetToken() == nil {
		return ""
	}
	return mv.Key.GetToken().Value
}

// unwrap skips anchors and tags down to the value.
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
	if n == nil {
		return nil
	}
	f := &tagFinder{}
	ast.Walk(f, n)
	return f.found
}
