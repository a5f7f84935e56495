package report

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printable neutralises, in text meant for people (the console, the CSV files), the
// characters with which a value from AWS (an account, user, tag or policy name, an
// error message, a CloudTrail resource) could act on the terminal or the reader instead
// of being shown: the C0 controls (ESC starts terminal escape sequences that move the
// cursor, recolour or retitle the window; BEL rings; NUL, BS and CR rewrite what was
// printed; LF and the other line breaks split one line into two, so that an account
// name could forge a console line), DEL, the C1 controls (U+0080–U+009F, among them the
// 8-bit CSI), the line and paragraph separators U+2028 and U+2029, and the Unicode
// bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C),
// which reorder what is displayed ("Trojan Source"). Each becomes a visible escape
// (\x1b, \n, \r, \t, \u202e); bytes that are not UTF-8 become \xNN. Everything else
// is kept as it is. The JSON keeps values exact (encoding/json escapes the C0
// controls itself); docs/inventory-schema.md says so.
func Printable(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// unsafeRune: a rune Printable escapes.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029'
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unsafeRune(r) {
			return true
		}
		i += size
	}
	return false
}
