package report

import (
	"bytes"
	"encoding/json"
	"testing"
)

var indentCases = []string{
	`{}`, `[]`, `{"a":{}}`, `{"a":[]}`, `[[],{}]`, `[1,2,3]`, `{"a":1,"b":[true,false,null]}`,
	`"x"`, `1.5e-7`, `null`,
	`{"k\"ey":"v,al:ue{}[]","n":{"m":[{"x":"\\"}]}}`,
	`{"html":"\u003cscript\u003e","uni":"ñ€😀","esc":"\\\"\n\t"}`,
	`[{"a":[{"b":[{}]}]},[]]`,
}

// TestIndentCompactIsIndent: on Marshal's output, indentCompact writes what
// json.Indent writes, with and without a prefix.
func TestIndentCompactIsIndent(t *testing.T) {
	for _, c := range indentCases {
		for _, pi := range [][2]string{{"", "  "}, {"    ", "  "}, {"\t", "\t"}} {
			var want bytes.Buffer
			if err := json.Indent(&want, []byte(c), pi[0], pi[1]); err != nil {
				t.Fatalf("%s: %v", c, err)
			}
			if got := indentCompact(nil, []byte(c), pi[0], pi[1]); !bytes.Equal(got, want.Bytes()) {
				t.Errorf("%s prefix %q indent %q:\ngot  %s\nwant %s", c, pi[0], pi[1], got, want.Bytes())
			}
		}
	}
}

// The OCSF events and the JSON findings of the HTML fixture indent as MarshalIndent,
// through one indenter (its buffers reused, each result after the lead given).
func TestIndenterIsMarshalIndent(t *testing.T) {
	o := htmlOutcome(t)
	var in indenter
	for _, f := range WithCommands(o.Findings) {
		for _, v := range []any{ocsfOf(o, f), f, "<a&b>"} {
			want, err := json.MarshalIndent(v, "  ", "  ")
			if err != nil {
				t.Fatal(err)
			}
			want = append([]byte(",\n  "), want...)
			got, err := in.append(",\n  ", v, "  ", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: differs from MarshalIndent:\n%s\n%s", f.ID, got, want)
			}
		}
	}
}

// FuzzIndentCompact: any valid JSON, made compact, indents as json.Indent does.
func FuzzIndentCompact(f *testing.F) {
	for _, c := range indentCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) {
			return
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, in); err != nil {
			return
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact.Bytes(), "  ", "  "); err != nil {
			t.Fatal(err)
		}
		if got := indentCompact(nil, compact.Bytes(), "  ", "  "); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%q:\ngot  %q\nwant %q", compact.Bytes(), got, want.Bytes())
		}
	})
}
