package report

import (
	"bytes"
	"testing"
)

// TestWriteReplaced: one pass writes what replacing each mark in turn would.
func TestWriteReplaced(t *testing.T) {
	marks := [][2][]byte{
		{[]byte(`"time": 1,`), []byte(`"time": 22,`)},
		{[]byte(`"uid": "r1/`), []byte(`"uid": "run-2/`)},
		{[]byte(`"time": 1` + "\n"), []byte(`"time": 22` + "\n")},
	}
	for _, tc := range []struct {
		name, in string
		marks    [][2][]byte
	}{
		{"no marks", `{"time": 1, "uid": "r1/x"}`, nil},
		{"none found", `{"a": "b"}`, marks},
		{"empty", ``, marks},
		{"at both ends", `"time": 1,"x": 0, "uid": "r1/`, marks},
		{"each once", "{\n  \"time\": 1,\n  \"meta\": {\"uid\": \"r1/abc\"},\n  \"t\": {\"time\": 1\n}}", marks},
		{"repeated and adjacent", `"uid": "r1/"uid": "r1/"time": 1,"time": 1,`, marks},
		{"a mark's prefix only", `"time": 12, "uid": "r12/`, marks},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := []byte(tc.in)
			for _, m := range tc.marks {
				want = bytes.ReplaceAll(want, m[0], m[1])
			}
			var got bytes.Buffer
			if err := writeReplaced(&got, []byte(tc.in), tc.marks); err != nil {
				t.Fatal(err)
			}
			if got.String() != string(want) {
				t.Errorf("got  %q\nwant %q", got.String(), want)
			}
		})
	}
}
