package report

import "encoding/json"

// marshalIndent is json.MarshalIndent(v, prefix, indent), byte for byte, in about
// half the time: encoding/json indents with its full scanner, a second pass that
// costs more than the encoding itself; Marshal's output is valid and compact, so a
// pass that only follows strings does (indentCompact).
func marshalIndent(v any, prefix, indent string) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return indentCompact(make([]byte, 0, len(b)+len(b)/2), b, prefix, indent), nil
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
