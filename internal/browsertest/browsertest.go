// Package browsertest starts the headless Chromium the browser tests drive (the HTML
// report's and the dashboard's), with the flags docs/ and the README name. Test code
// only: imported by *_test.go files.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// ChromiumPath finds Chromium ($IAMAUDIT_CHROMIUM, else chromium on PATH). Missing,
// the test fails when IAMAUDIT_TEST_DISALLOW_SKIP=1 and is skipped otherwise.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{os.Getenv("IAMAUDIT_CHROMIUM"), "chromium", "chromium-browser"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "chromium not found (install it: apt-get install -y chromium, or set IAMAUDIT_CHROMIUM)"
	if os.Getenv("IAMAUDIT_TEST_DISALLOW_SKIP") == "1" {
		t.Fatal(msg + "; IAMAUDIT_TEST_DISALLOW_SKIP=1 forbids skipping")
	}
	t.Skip(msg)
	return ""
}

// Start starts a headless Chromium with the flags of docs: no sandbox (root in
// CI), no GPU, no QUIC, no background networking, component updates or sync, and
// a fresh profile; it is stopped when the test ends.
func Start(t testing.TB, width, height int) context.Context {
	t.Helper()
	path := ChromiumPath(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.WindowSize(width, height),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return ctx
}
