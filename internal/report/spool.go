package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/iamaudit/iamaudit/internal/checks"
)

// spool keeps, on disk, what a streamed format writes only at the end: the parts of
// its file that must follow the Organization's account order, or the findings' order
// across accounts (checks.Sort), while the accounts arrive in the order they finish
// (docs/streaming.md). Each piece is filed under a key; Close copies the pieces of
// the keys in the order the file needs. Memory holds only the offsets.
//
// The spool is a temporary file in the output file's directory (the same disk, the
// same owner-only protection: it holds the same data), mode 0600, hidden, and removed
// from the directory as soon as it is created where the system allows (Unix): it
// is never left behind, even by a crash. Elsewhere close removes it.
type spool struct {
	f    *os.File
	w    *bufio.Writer // buffers the pieces added: flushed before any is read
	buf  []byte        // copy's buffer
	path string        // still to remove at close ("" when unlinked at once)
	size int64
	keys map[string][]span
	// order lists the keys in the order first added.
	order []string
}

type span struct{ off, n int64 }

// spoolDir is where a spool for a file written to w goes: the output file's directory
// (outdir.Pending's Dir, or an *os.File's), else the system's temporary directory.
func spoolDir(w io.Writer) string {
	switch f := w.(type) {
	case interface{ Dir() string }:
		return f.Dir()
	case *os.File:
		return filepath.Dir(f.Name())
	}
	return os.TempDir()
}

func newSpool(w io.Writer) (*spool, error) {
	f, err := os.CreateTemp(spoolDir(w), ".iamaudit-spool-*")
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &spool{f: f, w: bufio.NewWriterSize(f, spoolBuffer), keys: map[string][]span{}}
	if err := f.Chmod(0o600); err != nil {
		s.close()
		return nil, fmt.Errorf("spool: %w", err)
	}
	if os.Remove(f.Name()) != nil {
		s.path = f.Name() // an open file cannot be removed here: at close
	}
	return s, nil
}

// add appends b under key.
func (s *spool) add(key string, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	sp, ok := s.keys[key]
	if !ok {
		s.order = append(s.order, key)
	}
	if n := len(sp); n > 0 && sp[n-1].off+sp[n-1].n == s.size {
		sp[n-1].n += int64(len(b)) // contiguous with the key's last piece
	} else {
		sp = append(sp, span{s.size, int64(len(b))})
	}
	s.keys[key] = sp
	s.size += int64(len(b))
	return nil
}

// has tells whether anything was filed under key.
func (s *spool) has(key string) bool { _, ok := s.keys[key]; return ok }

// copy writes the pieces of key to w, in the order added, skipping the first skip
// bytes (a separator before the first element of an array); it returns the bytes
// skipped (0 when key is empty).
func (s *spool) copy(w io.Writer, key string, skip int64) (int64, error) {
	if err := s.flush(); err != nil {
		return 0, err
	}
	skipped := int64(0)
	for _, sp := range s.keys[key] {
		if skip > 0 {
			d := min(skip, sp.n)
			sp.off, sp.n, skip, skipped = sp.off+d, sp.n-d, skip-d, skipped+d
		}
		if sp.n == 0 {
			continue
		}
		if s.buf == nil {
			s.buf = make([]byte, 1<<20) // a system call per MiB, not per 32 KiB
		}
		if n, err := io.CopyBuffer(w, io.NewSectionReader(s.f, sp.off, sp.n), s.buf); err != nil {
			return skipped, err
		} else if n != sp.n {
			return skipped, fmt.Errorf("spool: %d of %d bytes read back", n, sp.n)
		}
	}
	return skipped, nil
}

// spoolBuffer is the spool's write buffer: pieces are small (a finding, an account),
// a write per piece would be a system call each.
const spoolBuffer = 256 << 10

// flush writes the buffered pieces to the file.
func (s *spool) flush() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// reader reads the pieces of key in order.
func (s *spool) reader(key string) io.Reader {
	if err := s.flush(); err != nil {
		return errReader{err}
	}
	var rs []io.Reader
	for _, sp := range s.keys[key] {
		rs = append(rs, io.NewSectionReader(s.f, sp.off, sp.n))
	}
	return io.MultiReader(rs...)
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// close releases the file; safe to call more than once.
func (s *spool) close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	if s.path != "" {
		if rerr := os.Remove(s.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	s.f = nil
	return err
}

// findingKey files a finding under its severity and account: copied severity by
// severity (highest first), account by account (by id) within one, the findings of
// one account in their order, that is checks.Sort's order across all accounts.
func findingKey(f checks.Finding) string { return fmt.Sprintf("%d/%s", f.Severity, f.AccountID) }

// sortedFindings returns a part's findings in checks.Sort order: fs itself when
// they are (as the Evaluator makes them), else a sorted copy, so that the file's
// order never rests on the caller and the caller's slice is never reordered.
func sortedFindings(fs []checks.Finding) []checks.Finding {
	if checks.Sorted(fs) {
		return fs
	}
	out := slices.Clone(fs)
	checks.Sort(out)
	return out
}

// findingOrder lists the finding keys of a spool in checks.Sort's order: severities
// highest first, then account ids; accounts are the account ids seen, severities
// the severities seen.
func findingOrder(accounts map[string]bool, severities map[checks.Severity]bool) []string {
	ids := make([]string, 0, len(accounts))
	for id := range accounts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	sevs := make([]checks.Severity, 0, len(severities))
	for s := range severities {
		sevs = append(sevs, s)
	}
	slices.Sort(sevs)
	slices.Reverse(sevs)
	var out []string
	for _, sev := range sevs {
		for _, id := range ids {
			out = append(out, findingKey(checks.Finding{Severity: sev, AccountID: id}))
		}
	}
	return out
}

// jsonArray writes a JSON array element by element, indented as json.Encoder with
// SetIndent("", "  ") indents it at the depth whose lines start with outer (its
// elements' lines with indent): a streamed file is byte for byte the encoder's.
type jsonArray struct {
	w             io.Writer
	outer, indent string
	n             int
	ind           indenter
}

func (a *jsonArray) add(v any) error {
	sep := ",\n" + a.indent
	if a.n == 0 {
		sep = "[\n" + a.indent
	}
	b, err := a.ind.append(sep, v, a.indent, "  ")
	if err != nil {
		return err
	}
	a.n++
	_, err = a.w.Write(b)
	return err
}

// copyArray writes the spooled elements of keys as a JSON array, indented as
// json.Encoder indents it (jsonArray): each element was filed after sep (",\n" and
// the elements' indentation), the first one's separator becomes the array's opening,
// and the closing bracket's line starts with outer. With marks, each key's pieces are
// read whole and written through writeReplaced instead of copied as they are.
func (s *spool) copyArray(w io.Writer, keys []string, sep, outer string, marks [][2][]byte) error {
	skip := int64(len(sep))
	var buf bytes.Buffer // a key's pieces, when there are marks
	for _, k := range keys {
		if !s.has(k) {
			continue
		}
		if skip > 0 {
			if _, err := io.WriteString(w, "["+sep[1:]); err != nil {
				return err
			}
		}
		if len(marks) == 0 {
			skipped, err := s.copy(w, k, skip)
			if err != nil {
				return err
			}
			skip -= skipped
			continue
		}
		buf.Reset()
		if _, err := buf.ReadFrom(s.reader(k)); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		if err := writeReplaced(w, buf.Bytes()[skip:], marks); err != nil {
			return err
		}
		skip = 0
	}
	closing := "\n" + outer + "]"
	if skip > 0 {
		closing = "[]"
	}
	_, err := io.WriteString(w, closing)
	return err
}

// writeReplaced writes b with every occurrence of each mark's old bytes written as
// its new ones: one scan of b per mark, and no copy of b.
func writeReplaced(w io.Writer, b []byte, marks [][2][]byte) error {
	// next[i] is where marks[i] next occurs in b at or after pos (len(b): nowhere).
	next := make([]int, len(marks))
	for i, m := range marks {
		next[i] = indexFrom(b, m[0], 0)
	}
	pos := 0
	for {
		first := -1
		for i, at := range next {
			if at < len(b) && (first < 0 || at < next[first]) {
				first = i
			}
		}
		if first < 0 {
			break
		}
		at := next[first]
		if _, err := w.Write(b[pos:at]); err != nil {
			return err
		}
		if _, err := w.Write(marks[first][1]); err != nil {
			return err
		}
		pos = at + len(marks[first][0])
		for i, at := range next {
			if at < pos {
				next[i] = indexFrom(b, marks[i][0], pos)
			}
		}
	}
	_, err := w.Write(b[pos:])
	return err
}

// indexFrom is where sub first occurs in b at or after from, or len(b).
func indexFrom(b, sub []byte, from int) int {
	if i := bytes.Index(b[from:], sub); i >= 0 {
		return from + i
	}
	return len(b)
}

// end closes the array, then writes after.
func (a *jsonArray) end(after string) error {
	closing := "\n" + a.outer + "]"
	if a.n == 0 {
		closing = "[]"
	}
	_, err := io.WriteString(a.w, closing+after)
	return err
}
