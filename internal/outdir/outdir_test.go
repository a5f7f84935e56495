package outdir

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUniqueRunID(t *testing.T) {
	dir := t.TempDir()
	names := func(id string) []string {
		return []string{"iamaudit_" + id + ".json", "iam_audit_report_" + id + ".csv"}
	}
	if got := FreeRunID(dir, "20260301_120000", names); got != "20260301_120000" {
		t.Fatalf("empty dir: %s", got)
	}
	for _, name := range []string{"iamaudit_20260301_120000.json", "iam_audit_report_20260301_120000_2.csv"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got := FreeRunID(dir, "20260301_120000", names); got != "20260301_120000_3" {
		t.Errorf("with two runs in the same second: %s, want 20260301_120000_3", got)
	}
}

func TestWriteFileNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.csv")
	write := func(s string) error {
		return WriteFile(path, func(w io.Writer) error { _, err := io.WriteString(w, s); return err })
	}
	if err := write("first"); err != nil {
		t.Fatal(err)
	}
	if err := write("second"); err == nil {
		t.Error("a second write replaced the file")
	}
	b, _ := os.ReadFile(path)
	if string(b) != "first" {
		t.Errorf("content %q", b)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".iamaudit-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestCheck(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "reports")
	if err := Check(dir); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("created %v %v", st, err)
	}
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o600)
	if err := Check(filepath.Join(file, "sub")); err == nil || !strings.Contains(err.Error(), "--output-dir") {
		t.Errorf("under a file: %v", err)
	}
}

// Claim takes the next free run id when the first file's name is taken, and the
// first file written carries the claimed id.
func TestClaim(t *testing.T) {
	dir := t.TempDir()
	names := func(id string) []string { return []string{"a_" + id + ".csv", "b_" + id + ".json"} }
	name := func(id string) string { return "a_" + id + ".csv" }
	write := func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }
	if err := os.WriteFile(filepath.Join(dir, "b_20260301_120000.json"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	id, err := Claim(dir, "20260301_120000", names, name, write)
	if err != nil || id != "20260301_120000_2" {
		t.Fatalf("Claim = %q, %v; want 20260301_120000_2", id, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a_20260301_120000_2.csv")); err != nil {
		t.Error(err)
	}
}

// hidden lists the directory's temporary files (a Pending's name before Commit).
func hidden(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestPending(t *testing.T) {
	dir := t.TempDir()
	names := func(id string) []string { return []string{"a_" + id + ".csv", "b_" + id + ".json"} }

	// Committed: the data under the final name, owner-only, no temporary left.
	p, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(p, "streamed"); err != nil {
		t.Fatal(err)
	}
	if len(hidden(t, dir)) != 1 {
		t.Fatalf("pending file not hidden: %v", hidden(t, dir))
	}
	if fi, err := p.File().Stat(); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("pending file mode %v, %v", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("something besides the pending file: %v", entries)
	}
	id, err := p.CommitClaim("20260301_120000", names, func(id string) string { return "a_" + id + ".csv" })
	if err != nil || id != "20260301_120000" {
		t.Fatalf("CommitClaim: %q, %v", id, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "a_20260301_120000.csv")); err != nil || string(b) != "streamed" {
		t.Fatalf("committed file: %q, %v", b, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "a_20260301_120000.csv")); fi.Mode().Perm() != 0o600 {
		t.Errorf("committed file mode %v", fi.Mode())
	}
	if h := hidden(t, dir); len(h) != 0 {
		t.Errorf("temporary left after Commit: %v", h)
	}
	p.Discard() // after Commit: nothing happens
	if _, err := os.Stat(filepath.Join(dir, "a_20260301_120000.csv")); err != nil {
		t.Errorf("Discard after Commit removed the file: %v", err)
	}

	// A second run of the same second claims _2 (its other file name is taken too).
	q, _ := Create(dir)
	io.WriteString(q, "second")
	id, err = q.CommitClaim("20260301_120000", names, func(id string) string { return "b_" + id + ".json" })
	if err != nil || id != "20260301_120000_2" {
		t.Fatalf("second claim: %q, %v", id, err)
	}

	// Commit never replaces a file; the Pending stays usable for another name.
	r, _ := Create(dir)
	io.WriteString(r, "third")
	if err := r.Commit("a_20260301_120000.csv"); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("commit over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a_20260301_120000.csv")); string(b) != "streamed" {
		t.Fatalf("existing file changed: %q", b)
	}
	if err := r.Commit("c.csv"); err != nil {
		t.Fatalf("commit under another name: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "c.csv")); string(b) != "third" {
		t.Fatalf("c.csv: %q", b)
	}

	// Discarded: nothing left, nothing committed afterwards.
	d, _ := Create(dir)
	io.WriteString(d, "dropped")
	d.Discard()
	if h := hidden(t, dir); len(h) != 0 {
		t.Errorf("temporary left after Discard: %v", h)
	}
	if _, err := d.Write([]byte("x")); err == nil {
		t.Error("write after Discard succeeded")
	}
	if err := d.Commit("d.csv"); err == nil {
		t.Error("commit after Discard succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "d.csv")); err == nil {
		t.Error("a discarded file appeared")
	}
}

// A streamed run reserves its run id before writing the files that hold it: the
// next run of the same second gets _2, files already there are respected, and
// Release leaves nothing behind.
func TestReserve(t *testing.T) {
	dir := t.TempDir()
	names := func(id string) []string { return []string{"iamaudit_" + id + ".json"} }
	a, err := Reserve(dir, "20260301_120000", names)
	if err != nil || a.RunID != "20260301_120000" {
		t.Fatalf("first reservation: %+v, %v", a, err)
	}
	b, err := Reserve(dir, "20260301_120000", names)
	if err != nil || b.RunID != "20260301_120000_2" {
		t.Fatalf("second reservation: %+v, %v", b, err)
	}
	if got := FreeRunID(dir, "20260301_120000", names); got != "20260301_120000_3" {
		t.Errorf("FreeRunID with two reservations: %s", got)
	}
	// The first run commits its file under its id, then releases.
	p, _ := Create(dir)
	io.WriteString(p, "{}")
	if err := p.Commit("iamaudit_" + a.RunID + ".json"); err != nil {
		t.Fatal(err)
	}
	a.Release()
	a.Release()
	b.Release()
	if h := hidden(t, dir); len(h) != 0 {
		t.Errorf("left after Release: %v", h)
	}
	c, err := Reserve(dir, "20260301_120000", names)
	if err != nil || c.RunID != "20260301_120000_2" {
		t.Errorf("after the first run's file: %+v, %v", c, err)
	}
	c.Release()
}
