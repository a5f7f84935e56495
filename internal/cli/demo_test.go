package cli

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `iamaudit demo` ends by saying how to open its HTML report: a file:// URL of the
// report it wrote, before the line on auditing one's own Organization. Without the
// html format there is no such line.
func TestDemoNamesTheHTMLReport(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, "demo", "--output-dir", dir, "--no-progress")
	if code != ExitOK {
		t.Fatalf("exit code %d\n%s\n%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if len(lines) < 3 {
		t.Fatalf("output:\n%s", stdout)
	}
	// The closing lines: the HTML report, the demo's history, then the next step.
	open, hist, next := lines[len(lines)-3], lines[len(lines)-2], lines[len(lines)-1]
	const prefix = "Open the HTML report in a browser (it needs no network): "
	if !strings.HasPrefix(open, prefix) || !strings.HasPrefix(hist, "The demo's runs are kept in ") || !strings.HasPrefix(next, "To audit your own Organization:") {
		t.Fatalf("last lines:\n%s\n%s\n%s", open, hist, next)
	}
	u, err := url.Parse(strings.TrimPrefix(open, prefix))
	if err != nil || u.Scheme != "file" {
		t.Fatalf("not a file URL: %q (%v)", open, err)
	}
	abs, _ := filepath.Abs(dir)
	if filepath.Dir(u.Path) != abs || !strings.HasPrefix(filepath.Base(u.Path), "iamaudit_report_") {
		t.Errorf("URL %s is not the report in %s", u, abs)
	}
	if b, err := os.ReadFile(u.Path); err != nil || !strings.HasPrefix(string(b), "<!DOCTYPE html>") {
		t.Errorf("the URL names no HTML report: %v", err)
	}

	code, stdout, _ = runCLI(t, "demo", "--output-dir", t.TempDir(), "--no-progress", "--format", "json")
	if code != ExitOK || strings.Contains(stdout, "Open the HTML report") {
		t.Errorf("--format json: exit %d, output names an HTML report:\n%s", code, stdout)
	}
}
