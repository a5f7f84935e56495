package yamlfile

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/ast"
)

const sample = `# settings
name: demo
limits:
  days: 90
  names: [a, b]
rules:
  - user: alice
    reason: x
  - {user: bob, reason: "y"}
single:
  only: 1
`

func TestFind(t *testing.T) {
	t.Parallel()
	d, err := Parse("f.yaml", []byte(sample), Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path  []any
		want  Pos
		found bool
	}{
		{nil, Pos{2, 1}, true},                          // the document: its first key
		{[]any{"name"}, Pos{2, 1}, true},                // a key
		{[]any{"limits", "days"}, Pos{4, 3}, true},      // a nested key
		{[]any{"limits", "names", 1}, Pos{5, 14}, true}, // a list item
		{[]any{"rules", 0}, Pos{7, 5}, true},            // a mapping item: its first key
		{[]any{"rules", 1, "reason"}, Pos{9, 17}, true}, // flow style
		{[]any{"rules", 0, "expires"}, Pos{7, 5}, false},
		{[]any{"rules", 5}, Pos{6, 1}, false},
		{[]any{"limits", "hours"}, Pos{3, 1}, false}, // a field left out points at its parent
		{[]any{"only"}, Pos{2, 1}, false},            // keys of a nested mapping are not the root's
		{[]any{"single", "only"}, Pos{11, 3}, true},  // a mapping of one entry
	}
	for _, c := range cases {
		got, found := d.Find(c.path...)
		if got != c.want || found != c.found {
			t.Errorf("Find(%v) = %v %v, want %v %v", c.path, got, found, c.want, c.found)
		}
	}
	if k := d.Kind("limits", "days"); k != Integer || d.Text("limits", "days") != "90" {
		t.Errorf("days: kind %v text %q", k, d.Text("limits", "days"))
	}
	if d.Kind("limits", "names") != List || d.Len("limits", "names") != 2 || d.Kind("rules", 1) != Mapping || d.Kind("nope") != Missing {
		t.Error("kinds")
	}
	if got := d.Keys(); !slices.Equal(got, []string{"name", "limits", "rules", "single"}) {
		t.Errorf("keys %v", got)
	}
	if d.Text("rules", 1, "reason") != "y" || d.Text("limits") != "" {
		t.Errorf("text %q", d.Text("rules", 1, "reason"))
	}
}

func TestErrorFormat(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		e    Error
		want string
	}{
		{Error{File: "f", Line: 3, Col: 5, Msg: "m"}, "f:3:5: m"},
		{Error{File: "f", Line: 3, Msg: "m"}, "f:3: m"},
		{Error{File: "f", Msg: "m"}, "f: m"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("%q, want %q", got, c.want)
		}
	}
	d, _ := Parse("f", []byte("a: 1\n"), Options{LinesOnly: true})
	if got := d.Errorf(Pos{1, 4}, "x %d", 1).Error(); got != "f:1: x 1" {
		t.Errorf("lines only: %q", got)
	}
	if Path("thresholds", "unused_key_days") != "thresholds.unused_key_days" || Path("rules", 0, "user") != "rules[0].user" || Path() != "" {
		t.Error("Path")
	}
	err := Join([]*Error{{File: "f", Line: 9, Msg: "b"}, {File: "f", Line: 2, Col: 3, Msg: "a"}, {File: "f", Line: 2, Col: 1, Msg: "c"}})
	if err.Error() != "f:2:1: c\nf:2:3: a\nf:9: b" {
		t.Errorf("Join: %q", err)
	}
	if Join(nil) != nil {
		t.Error("Join of none")
	}
}

type rule struct {
	User   string   `yaml:"user"`
	Days   int      `yaml:"days"`
	Names  []string `yaml:"names"`
	Custom custom   `yaml:"custom"`
}

type custom string

func (c *custom) UnmarshalYAML(n ast.Node) error {
	if s, ok := n.(*ast.StringNode); ok && s.Value == "good" {
		*c = "good"
		return nil
	}
	return AtNode(n, errors.New("custom must be good"))
}

func TestDecode(t *testing.T) {
	t.Parallel()
	opts := Options{What: "a rules file", FieldHint: "see the docs"}
	cases := []struct{ src, want string }{
		{"user: a\nusr: b\n", `f.yaml:2:1: unknown field "usr": see the docs`},
		{"user: [a, b]\n", "f.yaml:1:7: user: want a single text value (quote it) (got a list)"},
		{"days: ninety\n", `f.yaml:1:7: days: want a whole number (got "ninety")`},
		{"names:\n  - x\n  - {a: b}\n", "f.yaml:3:5: names[1]: want a single text value (quote it) (got a mapping)"},
		{"days: 99999999999999999999\n", "f.yaml:1:7: days: 99999999999999999999 is too large for a whole number"},
		{"names: x\n", "f.yaml:1:8: string was used where sequence is expected"},
		{"custom: bad\n", "f.yaml:1:9: custom must be good"},
		{"user: !secret a\n", "f.yaml:1:7: YAML tag !secret is not supported in a rules file: remove it"},
		{"user: a\n---\nuser: b\n", "f.yaml:3:1: more than one YAML document: write a rules file as one document"},
		{"user: [\n", "f.yaml:1:7: sequence end token ']' not found"},
		{"user: a\nuser: b\n", `f.yaml:2:1: mapping key "user" already defined at [1:1]`},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			d, err := Parse("f.yaml", []byte(c.src), opts)
			if err == nil {
				var r rule
				err = d.Decode(&r)
			}
			var e *Error
			if err == nil || !errors.As(err, &e) || err.Error() != c.want {
				t.Fatalf("error %v (%T), want %q", err, err, c.want)
			}
			if strings.Contains(err.Error(), "Go ") || strings.Contains(err.Error(), "unmarshal") {
				t.Errorf("Go internals in %q", err)
			}
		})
	}
	// A decode keeps the fields the document leaves out (a preset's values).
	d, err := Parse("f.yaml", []byte("user: a\n"), opts)
	if err != nil {
		t.Fatal(err)
	}
	r := rule{Days: 7, Names: []string{"x"}}
	if err := d.Decode(&r); err != nil || r.User != "a" || r.Days != 7 || len(r.Names) != 1 {
		t.Errorf("decode onto defaults: %+v %v", r, err)
	}
	for _, src := range []string{"", "  \n", "# only a comment\n", "---\n"} {
		d, err := Parse("f.yaml", []byte(src), opts)
		if err != nil || !d.Empty() || d.Decode(&r) != nil || d.Kind() != Missing {
			t.Errorf("%q: empty %v, %v", src, d != nil && d.Empty(), err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("user: !secret a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse("f.yaml", data, Options{})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.File != "f.yaml" {
				t.Fatalf("error %q (%T) is not an *Error naming the file", err, err)
			}
			return
		}
		var v map[string]any
		if err := d.Decode(&v); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("decode error %q (%T) is not an *Error", err, err)
			}
		}
		for _, k := range d.Keys() {
			_ = fmt.Sprint(d.Pos(k), d.Kind(k), d.Text(k))
		}
	})
}
