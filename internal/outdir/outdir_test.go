package outdir

import (
	"io"
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
