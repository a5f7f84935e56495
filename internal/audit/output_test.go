package audit

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/report"
)

func TestUniqueRunID(t *testing.T) {
	dir := t.TempDir()
	if got := uniqueRunID(dir, "20260301_120000"); got != "20260301_120000" {
		t.Fatalf("empty dir: %s", got)
	}
	for _, name := range []string{report.JSONReportName("20260301_120000"), report.IAMReportName("20260301_120000_2")} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got := uniqueRunID(dir, "20260301_120000"); got != "20260301_120000_3" {
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

func TestCheckOutputDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "reports")
	if err := CheckOutputDir(dir); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("created %v %v", st, err)
	}
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o600)
	if err := CheckOutputDir(filepath.Join(file, "sub")); err == nil || !strings.Contains(err.Error(), "--output-dir") {
		t.Errorf("under a file: %v", err)
	}
}

func TestAge(t *testing.T) {
	m, _ := report.MessagesFor("en")
	for d, want := range map[time.Duration]string{
		20 * time.Minute: "20 minutes", time.Minute: "1 minute", 3 * time.Hour: "3 hours",
		269 * 24 * time.Hour: "269 days", 47 * time.Hour: "47 hours",
	} {
		if got := report.Age(d, m); got != want {
			t.Errorf("Age(%v) = %q, want %q", d, got, want)
		}
	}
}
