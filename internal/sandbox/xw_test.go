package sandbox

import (
	"bytes"
	"encoding/xml"
	"testing"
)

// TestXMLTextIsEscapeText: the fast path of xw.text writes what xml.EscapeText does.
func TestXMLTextIsEscapeText(t *testing.T) {
	for _, v := range []string{"", "alice", "arn:aws:iam::123456789012:user/a.b", `{"Version":"2012-10-17"}`, "a<b>&c'd",
		"tab\there", "line\nbreak\r", "héllo", "\x00\x7f", "\xff", "%7B%22Version%22"} {
		var want bytes.Buffer
		_ = xml.EscapeText(&want, []byte(v))
		var w xw
		w.text(v)
		if got := w.b.String(); got != want.String() {
			t.Errorf("text(%q) = %q, want %q", v, got, want.String())
		}
	}
}
