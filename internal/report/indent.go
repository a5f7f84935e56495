package report

import (
	"bytes"
	"encoding/json"
)

// indenter gives json.MarshalIndent(v, prefix, indent), byte for byte, in about
// half the time: encoding/json indents with its full scanner, a second pass that
// costs more than the encoding itself; Marshal's output is valid and compact, so a
// pass that only follows strings does (indentCompact). One indenter per writer keeps
// its buffers from call to call: a streamed run writes hundreds of thousands of
// elements, and two new buffers the size of each (Marshal's result, then the
// indented copy) were a tenth of the run's allocations. Not safe for concurrent use.
type indenter struct {
	raw *bytes.Buffer
	enc *json.Encoder // into raw: Marshal's bytes (HTML escaped), and a newline
	out []byte
}

// append is lead, then v as json.MarshalIndent(v, prefix, indent) gives it, in a buffer
// that is the indenter's until its next call.
func (in *indenter) append(lead string, v any, prefix, indent string) ([]byte, error) {
	if in.enc == nil {
		in.raw = new(bytes.Buffer)
		in.enc = json.NewEncoder(in.raw)
	}
	in.raw.Reset()
	if err := in.enc.Encode(v); err != nil {
		return nil, err
	}
	return in.indent(lead, bytes.TrimSuffix(in.raw.Bytes(), []byte{'\n'}), prefix, indent), nil
}

// indent is lead, then compact (json.Marshal's bytes) indented as json.Indent
// does, in the indenter's buffer.
func (in *indenter) indent(lead string, compact []byte, prefix, indent string) []byte {
	in.out = indentCompact(append(in.out[:0], lead...), compact, prefix, indent)
	return in.out
}

// indentCompact appends src, valid JSON without insignificant whitespace (what
// json.Marshal writes), to dst indented as json.Indent(dst, src, prefix, indent)
// does: a newline, prefix and one indent per level before each element and each
// closing bracket of a non-empty object or array, a space after each colon, empty
// ones kept as {} and [], no prefix before the first line. FuzzIndentCompact holds
// it to json.Indent.
func indentCompact(dst, src []byte, prefix, indent string) []byte {
	depth := 0
	newline := func() {
		dst = append(dst, '\n')
		dst = append(dst, prefix...)
		for range depth {
			dst = append(dst, indent...)
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			dst = append(dst, src[i:min(j+1, len(src))]...)
			i = j
		case '{', '[':
			dst = append(dst, c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, src[i+1])
				i++
				continue
			}
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
