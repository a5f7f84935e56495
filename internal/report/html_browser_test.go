package report_test

// End-to-end tests of the HTML report in a real headless Chromium (Debian's
// package), driven with chromedp: the report of a demo run opened from disk with
// the network off, and a report of hostile names through the sandbox. They fail,
// not skip, without Chromium when IAMAUDIT_TEST_DISALLOW_SKIP=1 (scripts/test.sh).
// Screenshots go to $IAMAUDIT_TEST_ARTIFACTS/<test>/ (default: a temporary
// directory); with -update the README's screenshot docs/html-report.png is retaken.

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/iamaudit/iamaudit/internal/browsertest"

	"github.com/iamaudit/iamaudit/internal/audit"
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/scenario"
	"github.com/iamaudit/iamaudit/internal/score"
)

// chromiumPath and browser are the shared launcher (internal/browsertest).
func chromiumPath(t testing.TB) string { return browsertest.ChromiumPath(t) }

func browser(t testing.TB, width, height int) context.Context {
	return browsertest.Start(t, width, height)
}

// watch is what a page did that it must not: requests that left the file, and
// (recorded in the page by hooks installed before any of its scripts) alerts,
// CSP violations and uncaught errors.
type watch struct {
	scripts  bool
	mu       sync.Mutex
	requests []string
}

// hooks run in every document before its own scripts: window.alert, confirm and
// prompt record their calls instead of showing a dialog, and every CSP violation
// and uncaught error is recorded.
const hooks = `(() => {
  const rec = window.__iamaudit = {alerts: [], violations: [], errors: []};
  for (const f of ["alert", "confirm", "prompt"]) {
    window[f] = (m) => { rec.alerts.push(f + ": " + m); return null; };
  }
  document.addEventListener("securitypolicyviolation", (e) => {
    rec.violations.push(e.violatedDirective + " blocked " + e.blockedURI + " " + (e.sample || ""));
  }, true);
  window.addEventListener("error", (e) => { rec.errors.push(String(e.message)); });
})();`

// open loads a file with the network off (every request to anything but the file
// fails and is recorded), with scripts on or off, and waits for the page.
// offlineParams are Network.emulateNetworkConditionsByRule's parameters as Chromium
// releases on both sides of a protocol change take them: "offline" at the top
// (required by Chromium 148, Debian's), and in each rule's conditions (newer
// releases, cdproto's types). Unknown fields are ignored by either.
type offlineParams struct {
	Offline                  bool                  `json:"offline"`
	MatchedNetworkConditions []*network.Conditions `json:"matchedNetworkConditions"`
}

var offlineByRule = cdp.Command[offlineParams, network.EmulateNetworkConditionsByRuleResult]{Method: network.CommandEmulateNetworkConditionsByRule}

func open(t testing.TB, ctx context.Context, path string, scripts bool) *watch {
	t.Helper()
	w := &watch{scripts: scripts}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Request != nil {
			u := e.Request.URL
			if !strings.HasPrefix(u, "file:") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "about:") {
				w.mu.Lock()
				w.requests = append(w.requests, u)
				w.mu.Unlock()
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			if _, err := chromedp.Call(ctx, offlineByRule, offlineParams{Offline: true,
				MatchedNetworkConditions: []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}},
			}); err != nil {
				return err
			}
			if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !scripts}); err != nil {
				return err
			}
			_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: hooks})
			return err
		}),
		chromedp.Navigate((&url.URL{Scheme: "file", Path: abs}).String()),
		chromedp.WaitReady(chromedp.CSS("footer.foot")),
	}
	octx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(octx, steps...); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return w
}

// check fails the test for anything the page must not have done.
func (w *watch) check(t testing.TB, ctx context.Context) {
	t.Helper()
	type rec struct {
		Alerts, Violations, Errors []string
	}
	var r rec
	if w.scripts {
		r = eval[rec](t, ctx, `window.__iamaudit`)
	}
	for _, a := range r.Alerts {
		t.Errorf("the page called %s", a)
	}
	for _, v := range r.Violations {
		t.Errorf("CSP violation: %s", v)
	}
	for _, e := range r.Errors {
		t.Errorf("script error: %s", e)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, u := range w.requests {
		t.Errorf("the page asked the network for %s", u)
	}
}

// stepTimeout bounds every step of a test in the browser, so that a selector that
// never matches fails the test instead of hanging it.
const stepTimeout = 30 * time.Second

func eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func do(t testing.TB, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// artifacts is the directory for a test's screenshots.
func artifacts(t testing.TB) string {
	t.Helper()
	base := os.Getenv("IAMAUDIT_TEST_ARTIFACTS")
	if base == "" {
		return t.TempDir()
	}
	dir := filepath.Join(base, strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func screenshot(t testing.TB, ctx context.Context, path string, full bool) {
	t.Helper()
	shot := chromedp.CaptureScreenshot()
	if full {
		shot = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// elementShot saves a screenshot of one element (the README's pictures).
func elementShot(t testing.TB, ctx context.Context, sel, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("screenshot of %s: %v", sel, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// auditScenario audits a scenario through the sandbox, as `iamaudit demo` does,
// and returns the outcome with its files written in dir.
func auditScenario(t testing.TB, sc *scenario.Scenario, dir string) *outcome.Outcome {
	t.Helper()
	base := time.Now().UTC().Truncate(time.Second)
	start := time.Now()
	clock := func() time.Time { return base.Add(time.Since(start)) }
	srv, err := sandbox.Start(sc, sandbox.Options{Clock: clock, Knobs: &scenario.Knobs{ReportGeneration: scenario.Duration{Duration: 50 * time.Millisecond}}}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	akid, secret := srv.Credentials()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(srv.Region()),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(akid, secret, "")),
		config.WithBaseEndpoint(srv.URL()),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		t.Fatal(err)
	}
	var out, errw bytes.Buffer
	o, err := audit.Run(context.Background(), cfg, audit.Options{
		Collect:   collect.Options{Role: "IAMAuditRole", Days: 90, Concurrency: 8, ReportPoll: 20 * time.Millisecond},
		OutputDir: dir, Lang: "en", Checks: checks.DefaultConfig(), Clock: clock, Version: "test", Out: &out, Err: &errw,
	})
	if err != nil {
		t.Fatalf("audit: %v\n%s", err, errw.String())
	}
	return o
}

func htmlFile(t testing.TB, o *outcome.Outcome) string {
	t.Helper()
	want := report.HTMLReportName(o.Inventory.RunID)
	for _, f := range o.Files {
		if filepath.Base(f) == want {
			return f
		}
	}
	t.Fatalf("no %s among %v", want, o.Files)
	return ""
}

// keep copies the report into the artifacts directory beside its screenshots.
func keep(t testing.TB, file, dir string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(file)), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func riskWords(s score.Score) string {
	if s.Risk == nil {
		return fmt.Sprintf("unknown (at least %d/100: data is incomplete)", s.RiskAtLeast)
	}
	return fmt.Sprintf("%d/100 %s", *s.Risk, s.RiskLabel)
}

// The demo run's HTML file, opened from disk with the network off: the page shows
// the Organization's risk and every account, the findings table filters, searches
// and sorts, a user's detail opens from the table, the charts hold the scores'
// values, nothing runs that should not, and it works with scripts off too.
func TestHTMLReportInBrowser(t *testing.T) {
	t.Parallel()
	chromiumPath(t) // before the audit: fail or skip at once without Chromium
	dir := t.TempDir()
	o := auditScenario(t, scenario.Demo(), dir)
	file := htmlFile(t, o)
	ctx := browser(t, 1280, 900)
	w := open(t, ctx, file, true)
	shots := artifacts(t)
	keep(t, file, shots)

	t.Run("organization risk", func(t *testing.T) {
		got := eval[string](t, ctx, `document.querySelector("#org-risk .big").textContent.replace(/\s+/g, " ").trim()`)
		if want := riskWords(o.Scores.Organization); got != want {
			t.Errorf("Organization risk on the page %q, want %q", got, want)
		}
	})

	t.Run("account cards", func(t *testing.T) {
		n := eval[int](t, ctx, `document.querySelectorAll("section.account").length`)
		if n != len(o.Inventory.Accounts) {
			t.Errorf("%d account sections, want %d", n, len(o.Inventory.Accounts))
		}
		for _, a := range o.Inventory.Accounts {
			s, _ := o.Scores.Account(a.ID)
			sel := "#" + report.AccountAnchor(a.ID)
			name := eval[string](t, ctx, `document.querySelector("`+sel+` .card h3").textContent`)
			risk := eval[string](t, ctx, `document.querySelector("`+sel+` .card-risk").textContent.replace(/\s+/g, " ").trim()`)
			if name != a.Name {
				t.Errorf("card %s: name %q, want %q", a.ID, name, a.Name)
			}
			want := riskWords(s)
			if a.Status == "not_audited" {
				want = "not audited"
				reason := eval[string](t, ctx, `document.querySelector("`+sel+` .reason").textContent`)
				if reason != a.Reason || !strings.Contains(reason, "AccessDenied") {
					t.Errorf("card %s: reason %q, want %q", a.Name, reason, a.Reason)
				}
			}
			if a.Status == "skipped" || a.Status == "not_reached" {
				want = "—"
			}
			if risk != want {
				t.Errorf("card %s: risk %q, want %q", a.Name, risk, want)
			}
		}
		rows := eval[int](t, ctx, `document.querySelectorAll("#not-audited tbody tr").length`)
		if want := len(o.Inventory.NotAudited()) + len(o.Inventory.Skipped()) + len(o.Inventory.NotReached()); rows != want || want == 0 {
			t.Errorf("accounts not audited: %d rows, want %d", rows, want)
		}
	})

	total := len(o.Findings) + len(o.Resolved)
	visible := func(t *testing.T) int {
		return eval[int](t, ctx, `[...document.querySelectorAll("#findings-table tbody tr")].filter(r => !r.hidden && r.offsetParent !== null).length`)
	}
	setFilter := func(t *testing.T, id, value string) {
		t.Helper()
		eval[bool](t, ctx, fmt.Sprintf(`(() => { const s = document.getElementById(%q); s.value = %q; s.dispatchEvent(new Event("change")); return true; })()`, id, value))
	}

	t.Run("links", func(t *testing.T) {
		dead := eval[[]string](t, ctx, `[...document.querySelectorAll('a[href^="#"]')].filter(a => !document.getElementById(a.getAttribute("href").slice(1))).map(a => a.getAttribute("href") + " " + a.textContent)`)
		if len(dead) > 0 {
			t.Errorf("links to nothing: %v", dead)
		}
	})

	t.Run("filter by severity", func(t *testing.T) {
		if n := visible(t); n != total {
			t.Fatalf("%d rows shown before filtering, want %d", n, total)
		}
		count := func(sev checks.Severity) int {
			n := 0
			for _, f := range slices.Concat(o.Findings, o.Resolved) {
				if f.Severity == sev {
					n++
				}
			}
			return n
		}
		for _, sev := range []checks.Severity{checks.Critical, checks.High, checks.Low} {
			setFilter(t, "f-severity", sev.String())
			if n, want := visible(t), count(sev); n != want || n == 0 {
				t.Errorf("severity %s: %d rows shown, want %d", sev, n, want)
			}
			label := eval[string](t, ctx, `document.getElementById("f-count").textContent`)
			if want := fmt.Sprintf("%d of %d findings shown", count(sev), total); label != want {
				t.Errorf("count says %q, want %q", label, want)
			}
		}
		setFilter(t, "f-severity", "critical")
		screenshot(t, ctx, filepath.Join(shots, "findings-critical.png"), false)
		if report.Update() {
			elementShot(t, ctx, "#findings", filepath.Join("..", "..", "docs", "html-report-findings.png"))
		}
		setFilter(t, "f-severity", "")
		if n := visible(t); n != total {
			t.Errorf("%d rows after clearing the filter, want %d", n, total)
		}
	})

	t.Run("filter by account, check and state, and search", func(t *testing.T) {
		prod := ""
		for _, a := range o.Inventory.Accounts {
			if a.Name == "Production" {
				prod = a.ID
			}
		}
		n := 0
		for _, f := range slices.Concat(o.Findings, o.Resolved) {
			if f.AccountID == prod && f.CheckID == "console_without_mfa" {
				n++
			}
		}
		setFilter(t, "f-account", prod)
		setFilter(t, "f-check", "console_without_mfa")
		if got := visible(t); got != n || n == 0 {
			t.Errorf("Production × console_without_mfa: %d rows, want %d", got, n)
		}
		// A first run: every finding is new, and the state filter offers only that.
		if states := eval[[]string](t, ctx, `[...document.querySelectorAll("#f-state option")].map(o => o.value)`); !slices.Equal(states, []string{"", "new"}) {
			t.Errorf("state filter offers %q, want all and new", states)
		}
		setFilter(t, "f-state", "new")
		if got := visible(t); got != n {
			t.Errorf("new findings of Production × console_without_mfa: %d rows, want %d", got, n)
		}
		for _, id := range []string{"f-account", "f-check", "f-state"} {
			setFilter(t, id, "")
		}
		do(t, ctx, chromedp.SendKeys(chromedp.ID("f-search"), "legacy-etl"))
		got := visible(t)
		if got == 0 || got > total {
			t.Errorf("search legacy-etl: %d rows", got)
		}
		all := eval[bool](t, ctx, `[...document.querySelectorAll("#findings-table tbody tr")].filter(r => !r.hidden).every(r => r.textContent.toLowerCase().includes("legacy-etl"))`)
		if !all {
			t.Errorf("search shows rows without legacy-etl")
		}
		eval[bool](t, ctx, `(() => { const s = document.getElementById("f-search"); s.value = ""; s.dispatchEvent(new Event("input")); return true; })()`)
		if n := visible(t); n != total {
			t.Errorf("%d rows after clearing the search, want %d", n, total)
		}
	})

	t.Run("sort", func(t *testing.T) {
		do(t, ctx, chromedp.Click(chromedp.CSS("#findings-table thead th:nth-child(2) button")))
		accts := eval[[]string](t, ctx, `[...document.querySelectorAll("#findings-table tbody tr")].map(r => r.cells[1].textContent.trim().toLowerCase())`)
		if !slices.IsSorted(accts) {
			t.Errorf("sorted by account: %v", accts)
		}
		do(t, ctx, chromedp.Click(chromedp.CSS("#findings-table thead th:nth-child(2) button")))
		accts = eval[[]string](t, ctx, `[...document.querySelectorAll("#findings-table tbody tr")].map(r => r.cells[1].textContent.trim().toLowerCase())`)
		if !slices.IsSortedFunc(accts, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Errorf("sorted by account, descending: %v", accts)
		}
		do(t, ctx, chromedp.Click(chromedp.CSS("#findings-table thead th:nth-child(1) button")),
			chromedp.Click(chromedp.CSS("#findings-table thead th:nth-child(1) button")))
		sev := eval[[]int](t, ctx, `[...document.querySelectorAll("#findings-table tbody tr")].map(r => Number(r.cells[0].dataset.sort))`)
		if !slices.IsSortedFunc(sev, func(a, b int) int { return b - a }) {
			t.Errorf("sorted by severity, most severe first: %v", sev)
		}
	})

	t.Run("open a user from the table", func(t *testing.T) {
		var prod string
		for _, a := range o.Inventory.Accounts {
			if a.Name == "Production" {
				prod = a.ID
			}
		}
		id := report.UserAnchor(prod, "legacy-etl")
		if eval[bool](t, ctx, `document.getElementById("`+id+`").open`) {
			t.Fatal("the user's detail is open before the click")
		}
		do(t, ctx, chromedp.Click(chromedp.CSS(`#findings-table a.user-link[href="#`+id+`"]`)))
		deadline := time.Now().Add(5 * time.Second)
		for !eval[bool](t, ctx, `document.getElementById("`+id+`").open`) {
			if time.Now().After(deadline) {
				t.Fatal("the user's detail did not open")
			}
			time.Sleep(50 * time.Millisecond)
		}
		keys := eval[string](t, ctx, `document.querySelector("#`+id+` table.keys").textContent`)
		for _, want := range []string{"AKIAUJZDEGXDNCF32EPF", "2018-06-15 10:20", "s3"} {
			if !strings.Contains(keys, want) {
				t.Errorf("legacy-etl's keys lack %q: %s", want, keys)
			}
		}
		tags := eval[string](t, ctx, `document.querySelector("#`+id+` dd.tags").textContent`)
		if !strings.Contains(tags, "Owner = data-team@example.com") {
			t.Errorf("legacy-etl's tags: %q", tags)
		}
		screenshot(t, ctx, filepath.Join(shots, "user-detail.png"), false)
	})

	t.Run("chart values", func(t *testing.T) {
		type bar struct {
			Label string
			Value int
			Width float64
		}
		bars := eval[[]bar](t, ctx, `[...document.querySelectorAll("#chart-key-ages g.bar")].map(g => ({Label: g.dataset.label, Value: Number(g.dataset.value), Width: g.querySelector("rect").getBBox().width}))`)
		k := o.Scores.Organization.KeyAges
		want := []int{k.Days0To90, k.Days91To180, k.Days181To365, k.Over365}
		if len(bars) != 4 {
			t.Fatalf("key age chart: %v", bars)
		}
		for i, b := range bars {
			if b.Value != want[i] {
				t.Errorf("key age bar %q = %d, want %d", b.Label, b.Value, want[i])
			}
			for j := range bars {
				if bars[j].Value > b.Value && bars[j].Width <= b.Width {
					t.Errorf("bar %q (%d) is not longer than %q (%d)", bars[j].Label, bars[j].Value, b.Label, b.Value)
				}
			}
		}
		if k.Over365 == 0 {
			t.Error("the demo has a 2018 key: the over-365 bar should not be empty")
		}
		risk := eval[[]bar](t, ctx, `[...document.querySelectorAll("#chart-risk g.bar")].map(g => ({Label: g.dataset.label, Value: Number(g.dataset.value)}))`)
		audited := 0
		for _, s := range o.Scores.Accounts {
			if s.Audited {
				audited++
			}
		}
		if len(risk) != audited {
			t.Errorf("risk chart has %d bars, want one per audited account (%d)", len(risk), audited)
		}
	})

	t.Run("print", func(t *testing.T) {
		do(t, ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
			return err
		}))
		breaks := eval[[]string](t, ctx, `[...document.querySelectorAll("section.account")].map(s => getComputedStyle(s).breakBefore)`)
		for _, b := range breaks {
			if b != "page" {
				t.Errorf("an account does not start a new page when printed: break-before %q", b)
			}
		}
		if d := eval[string](t, ctx, `getComputedStyle(document.getElementById("filters")).display`); d != "none" {
			t.Errorf("the filters print (display %q)", d)
		}
		pdf, err := chromedp.Call(ctx, page.PrintToPDF, page.PrintToPDFParams{})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(pdf.Data, []byte("%PDF")) {
			t.Errorf("printing gave no PDF")
		}
		// Every account starts a page, after the summary's.
		if pages := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(pdf.Data, -1)); pages < len(o.Inventory.Accounts)+1 {
			t.Errorf("printed on %d pages, want at least one per account (%d) and the summary", pages, len(o.Inventory.Accounts))
		}
		if err := os.WriteFile(filepath.Join(shots, "report.pdf"), pdf.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		do(t, ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
			return err
		}))
	})

	t.Run("screenshots", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate("about:blank"))
		w2 := open(t, ctx, file, true)
		screenshot(t, ctx, filepath.Join(shots, "report-top.png"), false)
		screenshot(t, ctx, filepath.Join(shots, "report-full.png"), true)
		if report.Update() {
			elementShot(t, ctx, "#summary", filepath.Join("..", "..", "docs", "html-report.png"))
		}
		w2.check(t, ctx)
	})

	w.check(t, ctx)

	// With scripts off the table is plain: every finding shown, no filters, and
	// the page says why.
	t.Run("scripts off", func(t *testing.T) {
		ctx := browser(t, 1280, 900)
		w := open(t, ctx, file, false)
		rows := eval[int](t, ctx, `document.querySelectorAll("#findings-table tbody tr").length`)
		if rows != total {
			t.Errorf("%d rows with scripts off, want %d", rows, total)
		}
		if !eval[bool](t, ctx, `document.getElementById("filters").hidden`) {
			t.Errorf("the filters show without scripts")
		}
		if !strings.Contains(eval[string](t, ctx, `document.body.innerText`), "Scripts are off") {
			t.Errorf("the page does not say scripts are off")
		}
		screenshot(t, ctx, filepath.Join(shots, "scripts-off.png"), false)
		w.check(t, ctx)
	})
}

// hostileScenario is an Organization whose names, tags and events carry what an
// attacker who can name an account, tag a user or trigger an event can write:
// markup, attribute breakers, formula prefixes, right-to-left override and text,
// control characters and names far longer than a column.
const hostileScenario = `name: hostile
organization:
  id: o-hostile0001
  management_account_id: "111111111111"
  access_key_id: AKIAIOSFODNN7HOSTILE
  secret_access_key: sandbox-hostile-secret-not-a-real-key
  caller_name: audit-runner
accounts:
  - id: "111111111111"
    name: "<script>alert('account')</script>"
    users:
      - name: audit-runner
        access_keys:
          - {id: AKIAIOSFODNN7HOSTILE, created_at: -10d, last_used: -1h, service: organizations, region: us-east-1}
  - id: "222222222222"
    name: "\"><img src=x onerror=alert('img')><svg onload=alert('svg')>"
    users:
      - name: "=cmd+1@x"
        tags: {Owner: "<script>alert('tag')</script>", Team: "\"'><iframe src=javascript:alert('frame')>"}
        password: {created_at: -100d, last_used: -2d}
        access_keys:
          - {created_at: -500d, last_used: -1d, service: s3, region: us-east-1}
      - name: "+plus"
        tags: {Owner: "=HYPERLINK(\"http://evil.example\",\"click\")"}
        password: {created_at: -100d}
      - name: "-minus"
        tags: {Owner: "\u202Egnp.exe \u0645\u062F\u064A\u0631-\u0627\u0644\u062D\u0633\u0627\u0628\u0627\u062A"}
        access_keys:
          - {created_at: -40d}
      - name: "@at"
      - name: "a-very-long-user-name-that-goes-on.and.on+without=any@break_x"
        password: {created_at: -400d, last_used: -200d}
    events:
      - {time: -3d, name: DeleteAccessKey, username: "\"><script>alert('who')</script>", resources: ["=HYPERLINK(\"http://evil.example\")", "=cmd+1@x"]}
      - {time: -2d, name: CreateAccessKey, username: "\u202Eevil\u202C", resources: ["-minus"]}
  - id: "333333333333"
    name: "\u202Eevil\u202C \u0645\u062F\u064A\u0631-\u0627\u0644\u062D\u0633\u0627\u0628\u0627\u062A \u0007bell \u001b[31mred"
    users:
      - name: rtl-owner
        tags: {Owner: "\u0645\u062F\u064A\u0631 <b>bold</b>"}
        password: {created_at: -50d, last_used: -1d}
  - id: "444444444444"
    name: "` + "NoSpacesAtAllInThisAccountName" + `NoSpacesAtAllInThisAccountNameNoSpacesAtAllInThisAccountNameNoSpacesAtAllInThisAccountNameNoSpacesAtAllInThisAccountNameNoSpacesAtAllInThisAccountNameNoSpacesAtAllInThisAccountNameNoSpacesAtAllInThisAccountName"
    audit_roles: {IAMAuditRole: missing}
`

// A report of hostile names, tags and events audited through the sandbox: nothing
// of theirs runs (an alert, a CSP violation or a script error fails the test), no
// markup of theirs reaches the page, and nothing breaks the layout: the findings
// table keeps six cells a row, the page does not scroll sideways, cards stay in
// their column, and the names read as written (bidi controls shown as U+FFFD).
func TestHTMLReportHostileNamesInBrowser(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	sc, err := scenario.Parse("hostile.yaml", []byte(hostileScenario))
	if err != nil {
		t.Fatal(err)
	}
	o := auditScenario(t, sc, t.TempDir())
	file := htmlFile(t, o)
	ctx := browser(t, 1280, 900)
	w := open(t, ctx, file, true)
	shots := artifacts(t)
	keep(t, file, shots)

	if n := eval[int](t, ctx, `document.querySelectorAll("script").length`); n != 1 {
		t.Errorf("%d script elements, want the page's one", n)
	}
	if eval[bool](t, ctx, `[...document.querySelectorAll("b")].some(b => b.textContent === "bold")`) {
		t.Errorf("a tag's <b> became markup")
	}
	for _, tag := range []string{"img", "svg:not(.chart)", "iframe", "link", "object", "embed"} {
		if n := eval[int](t, ctx, `document.querySelectorAll("`+tag+`").length`); n != 0 {
			t.Errorf("%d <%s> elements from hostile values", n, tag)
		}
	}
	if attrs := eval[[]string](t, ctx, `[...document.querySelectorAll("*")].flatMap(e => [...e.attributes].filter(a => a.name.startsWith("on") || a.name === "style").map(a => e.tagName + " " + a.name))`); len(attrs) > 0 {
		t.Errorf("event handler or style attributes: %v", attrs)
	}
	// Names read as written.
	for _, a := range o.Inventory.Accounts {
		got := eval[string](t, ctx, `document.querySelector("#`+report.AccountAnchor(a.ID)+` .card h3").textContent`)
		want := strings.NewReplacer("\u202E", "\uFFFD", "\u202C", "\uFFFD", "\u0007", "\uFFFD", "\u001b", "\uFFFD").Replace(a.Name)
		if got != want {
			t.Errorf("account %s is shown as %q, want %q", a.ID, got, want)
		}
	}
	body := eval[string](t, ctx, `document.body.textContent`)
	for _, want := range []string{"<script>alert('tag')</script>", `=HYPERLINK("http://evil.example","click")`, "=cmd+1@x",
		`"><script>alert('who')</script>`, "\u0645\u062F\u064A\u0631 <b>bold</b>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page does not show %q as text", want)
		}
	}
	// Layout: six cells in every findings row, no sideways scrolling, every card and
	// table within its section.
	cells := eval[[]int](t, ctx, `[...document.querySelectorAll("#findings-table tr")].map(r => r.cells.length)`)
	if len(cells) < 5 {
		t.Errorf("findings table has %d rows", len(cells))
	}
	for i, n := range cells {
		if n != 6 {
			t.Errorf("findings row %d has %d cells", i, n)
		}
	}
	check := func(label string) {
		t.Helper()
		if sw, iw := eval[int](t, ctx, `document.documentElement.scrollWidth`), eval[int](t, ctx, `window.innerWidth`); sw > iw {
			t.Errorf("%s: the page is %dpx wide in a %dpx window", label, sw, iw)
		}
		over := eval[[]string](t, ctx, `[...document.querySelectorAll(".card, table, .tile, figure, details.user")].filter(e => {
			const p = e.parentElement.getBoundingClientRect(), r = e.getBoundingClientRect();
			return r.right > p.right + 1 || r.left < p.left - 1;
		}).map(e => e.className || e.tagName)`)
		if len(over) > 0 {
			t.Errorf("%s: elements wider than their container: %v", label, over)
		}
	}
	check("closed")
	eval[bool](t, ctx, `(document.querySelectorAll("details").forEach(d => d.open = true), true)`)
	check("every detail open")
	screenshot(t, ctx, filepath.Join(shots, "hostile-full.png"), true)
	eval[bool](t, ctx, `(document.querySelectorAll("details").forEach(d => d.open = false), true)`)
	// Filtering and searching hostile text runs nothing either.
	eval[bool](t, ctx, `(() => { const s = document.getElementById("f-search"); s.value = "<script>"; s.dispatchEvent(new Event("input")); return true; })()`)
	do(t, ctx, chromedp.Click(chromedp.CSS("#findings-table thead th:nth-child(3) button")))
	screenshot(t, ctx, filepath.Join(shots, "hostile-top.png"), false)
	w.check(t, ctx)
}
