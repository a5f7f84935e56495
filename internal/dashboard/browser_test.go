package dashboard

// End-to-end tests of the dashboard in a real headless Chromium (Debian's
// package), driven with chromedp, against the dashboard served over HTTP on
// loopback: the demo Organization's history (four monthly runs through the
// sandbox), and a history of hostile names. They fail, not skip, without Chromium
// when IAMAUDIT_TEST_DISALLOW_SKIP=1 (scripts/test.sh). Screenshots go to
// $IAMAUDIT_TEST_ARTIFACTS/<test>/ (default: a temporary directory); with -update
// the README's screenshots docs/dashboard.png and docs/dashboard-trends.png are
// retaken.

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/iamaudit/iamaudit/internal/browsertest"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/diff"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/score"
	"github.com/iamaudit/iamaudit/internal/store"
	"github.com/iamaudit/iamaudit/internal/trend"
)

// chromiumPath and browser are the shared launcher (internal/browsertest).
func chromiumPath(t testing.TB) string { return browsertest.ChromiumPath(t) }

func browser(t testing.TB, width, height int) context.Context {
	return browsertest.Start(t, width, height)
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

// session is a browser on the dashboard: every request that is not to the
// dashboard is recorded (and the network beyond it is off).
type session struct {
	t    testing.TB
	ctx  context.Context
	base string
	mu   sync.Mutex
	away []string
}

// serve starts the dashboard on a loopback port with the Host check on, as
// `iamaudit serve` does without a token.
func serve(t testing.TB, opts Options) (*Server, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts.Hosts = LoopbackHosts(l.Addr().(*net.TCPAddr).Port)
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(s)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func newSession(t testing.TB, base string, width, height int) *session {
	t.Helper()
	ss := &session{t: t, ctx: browser(t, width, height), base: base}
	if err := chromedp.Listen(ss.ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Request != nil {
			if u := e.Request.URL; !strings.HasPrefix(u, base) && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "about:") {
				ss.mu.Lock()
				ss.away = append(ss.away, u)
				ss.mu.Unlock()
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	ss.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: hooks})
		return err
	}))
	return ss
}

// stepTimeout bounds every step in the browser, so that a selector that never
// matches fails the test instead of hanging it.
const stepTimeout = 30 * time.Second

func (ss *session) do(steps ...chromedp.Action[chromedp.Void]) {
	ss.t.Helper()
	ctx, cancel := context.WithTimeout(ss.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		ss.t.Fatal(err)
	}
}

func eval[T any](ss *session, js string) T {
	ss.t.Helper()
	ctx, cancel := context.WithTimeout(ss.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		ss.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// open loads a dashboard path and waits for its footer.
func (ss *session) open(path string) {
	ss.t.Helper()
	ss.do(chromedp.Navigate(ss.base+path), chromedp.WaitReady(chromedp.CSS("footer.foot")))
}

// waitPath waits until the page's address has the path prefix (a click or a
// form took the browser there) and the new page is ready.
func (ss *session) waitPath(prefix string) {
	ss.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		p := eval[string](ss, `document.readyState === "complete" && document.querySelector("footer.foot") ? location.pathname + location.search : ""`)
		if p != "" && strings.HasPrefix(p, prefix) {
			return
		}
		if time.Now().After(deadline) {
			ss.t.Fatalf("the browser did not get to %s (at %q)", prefix, p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// check fails the test for anything the page did that it must not: an alert, a
// CSP violation, a script error, a request that left the dashboard.
func (ss *session) check(label string) {
	ss.t.Helper()
	type rec struct{ Alerts, Violations, Errors []string }
	r := eval[rec](ss, `window.__iamaudit`)
	for _, a := range r.Alerts {
		ss.t.Errorf("%s: the page called %s", label, a)
	}
	for _, v := range r.Violations {
		ss.t.Errorf("%s: CSP violation: %s", label, v)
	}
	for _, e := range r.Errors {
		ss.t.Errorf("%s: script error: %s", label, e)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, u := range ss.away {
		ss.t.Errorf("%s: the page asked for %s, outside the dashboard", label, u)
	}
	ss.away = nil
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

func (ss *session) screenshot(path string, full bool) {
	ss.t.Helper()
	shot := chromedp.CaptureScreenshot()
	if full {
		shot = chromedp.FullScreenshot(100)
	}
	ctx, cancel := context.WithTimeout(ss.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		ss.t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		ss.t.Fatal(err)
	}
	ss.t.Logf("screenshot: %s", path)
}

func text(ss *session, sel string) string {
	ss.t.Helper()
	return eval[string](ss, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.textContent.replace(/\s+/g, " ").trim() : "(no element " + %q + ")"; })()`, sel, sel))
}

// setSelect chooses a value in a select as a person does (the change event).
func setSelect(ss *session, id, value string) {
	ss.t.Helper()
	eval[bool](ss, fmt.Sprintf(`(() => { const s = document.getElementById(%q); s.value = %q; s.dispatchEvent(new Event("change")); return s.value === %q; })()`, id, value, value))
}

func keysOver(sc score.Score) (over90, over365 int) {
	k := sc.KeyAges
	return k.Days91To180 + k.Days181To365 + k.Over365, k.Over365
}

func riskWords(s score.Score) string {
	if s.Risk == nil {
		return fmt.Sprintf("unknown (at least %d/100: data is incomplete)", s.RiskAtLeast)
	}
	return fmt.Sprintf("%d/100 %s", *s.Risk, s.RiskLabel)
}

type bar struct {
	Label   string
	Value   int
	Unknown bool
	Text    string
}

func bars(ss *session, chart string) []bar {
	ss.t.Helper()
	return eval[[]bar](ss, `[...document.querySelectorAll("#`+chart+` g.bar")].map(g => ({Label: g.dataset.label, Value: Number(g.dataset.value), Unknown: g.dataset.unknown === "true", Text: (g.querySelector("text.value") || {textContent: ""}).textContent}))`)
}

func accountByName(o *outcome.Outcome, name string) string {
	for _, a := range o.Inventory.Accounts {
		if a.Name == name {
			return a.ID
		}
	}
	return ""
}

// The dashboard of the demo Organization's history, in Chromium: the overview of
// the newest run, an account opened from it, the findings filtered by severity,
// a user opened from the findings, the diff between two runs chosen on the runs
// page, and trend charts whose values are the stored scores; on every page
// nothing runs that should not and nothing is asked of the network.
func TestDashboardInBrowser(t *testing.T) {
	t.Parallel()
	chromiumPath(t) // before the fixture: fail or skip at once without Chromium
	h, err := demoHistory()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), h.path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, base := serve(t, Options{Store: st})
	ss := newSession(t, base, 1280, 900)
	shots := artifacts(t)
	first, last := h.outs[0], h.outs[len(h.outs)-1]
	lastID := last.Inventory.RunID
	prod := accountByName(last, "Production")

	t.Run("overview", func(t *testing.T) {
		ss.t = t
		ss.open("/")
		ss.waitPath("/runs/" + lastID)
		if got := text(ss, "#run-id"); got != lastID {
			t.Errorf("run id %q, want %q", got, lastID)
		}
		if got, want := text(ss, "#org-risk .big"), riskWords(last.Scores.Organization); got != want {
			t.Errorf("Organization risk %q, want %q", got, want)
		}
		rows := eval[int](ss, `document.querySelectorAll("#accounts-table tbody tr").length`)
		if rows != len(last.Inventory.Accounts) {
			t.Errorf("%d account rows, want %d", rows, len(last.Inventory.Accounts))
		}
		for _, a := range last.Inventory.Accounts {
			sc, _ := last.Scores.Account(a.ID)
			sel := `#accounts-table tr[data-account="` + a.ID + `"]`
			if got := text(ss, sel+" td:first-child a"); !strings.HasPrefix(got, a.Name) {
				t.Errorf("account %s: %q", a.ID, got)
			}
			if a.Status == "audited" {
				want := fmt.Sprintf("%d/100 %s", *sc.Risk, sc.RiskLabel)
				if got := text(ss, sel+" td:nth-child(4)"); got != want {
					t.Errorf("account %s risk %q, want %q", a.Name, got, want)
				}
			}
		}
		states := map[string]int{}
		for _, f := range slices.Concat(last.Findings, last.Resolved) {
			states[f.State]++
		}
		want := fmt.Sprintf("%d findings in this run: %d new, %d open, %d suppressed, %d resolved", len(last.Findings)+len(last.Resolved),
			states["new"], states["open"], states["suppressed"], states["resolved"])
		if got := text(ss, "#overview-states"); !strings.HasPrefix(got, want) {
			t.Errorf("states %q, want %q…", got, want)
		}
		// Every in-page link (the risk chart's, the not-audited table's) has its target.
		if dead := eval[[]string](ss, `[...document.querySelectorAll('a[href^="#"]')].filter(a => !document.getElementById(a.getAttribute("href").slice(1))).map(a => a.getAttribute("href"))`); len(dead) > 0 {
			t.Errorf("in-page links to nothing: %v", dead)
		}
		ss.screenshot(filepath.Join(shots, "overview.png"), false)
		ss.screenshot(filepath.Join(shots, "overview-full.png"), true)
		if *update {
			png, err := chromedp.Run(ss.ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("..", "..", "docs", "dashboard.png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		ss.check("overview")
	})

	t.Run("account", func(t *testing.T) {
		ss.t = t
		ss.do(chromedp.Click(chromedp.CSS(`#accounts-table tr[data-account="` + prod + `"] a.account-link`)))
		ss.waitPath("/runs/" + lastID + "/accounts/" + prod)
		if got := text(ss, "section.account .card h3"); got != "Production" {
			t.Errorf("account card %q", got)
		}
		var users int
		for _, a := range last.Inventory.Accounts {
			if a.ID == prod {
				users = len(a.Users)
			}
		}
		if n := eval[int](ss, `document.querySelectorAll("#users-table tbody tr").length`); n != users || n == 0 {
			t.Errorf("%d user rows, want %d", n, users)
		}
		sc, _ := last.Scores.Account(prod)
		if got, want := text(ss, "section.account .card-risk"), riskWords(sc); got != want {
			t.Errorf("account risk %q, want %q", got, want)
		}
		// The account's risk across runs: one column per run, the stored scores.
		var want []int
		for _, o := range h.outs {
			s, _ := o.Scores.Account(prod)
			want = append(want, *s.Risk)
		}
		var got []int
		for _, b := range bars(ss, "trend-risk-iamaudit-risk-2") {
			got = append(got, b.Value)
		}
		if !slices.Equal(got, want) {
			t.Errorf("account risk across runs %v, want %v", got, want)
		}
		ss.screenshot(filepath.Join(shots, "account.png"), true)
		ss.check("account")
	})

	count := func(sev checks.Severity) int {
		n := 0
		for _, f := range slices.Concat(last.Findings, last.Resolved) {
			if f.Severity == sev {
				n++
			}
		}
		return n
	}
	t.Run("filter findings by severity", func(t *testing.T) {
		ss.t = t
		ss.do(chromedp.Click(chromedp.CSS(`nav.main a[href="/runs/latest/findings"]`)))
		ss.waitPath("/runs/" + lastID + "/findings")
		total := len(last.Findings) + len(last.Resolved)
		if got := eval[int](ss, `Number(document.getElementById("findings-count").dataset.matched)`); got != total {
			t.Errorf("%d findings before filtering, want %d", got, total)
		}
		// Choosing a severity sends the form (the page's script); the result is a
		// page of its own, with its own address.
		setSelect(ss, "f-severity", "high")
		ss.waitPath("/runs/" + lastID + "/findings?severity=high")
		sevs := eval[[]string](ss, `[...document.querySelectorAll("#findings-table tbody tr")].map(r => r.dataset.severity)`)
		if len(sevs) != count(checks.High) || len(sevs) == 0 {
			t.Errorf("severity high: %d rows, want %d", len(sevs), count(checks.High))
		}
		for _, s := range sevs {
			if s != "high" {
				t.Errorf("a %s finding among the high ones", s)
			}
		}
		if got, want := text(ss, "#findings-count"), fmt.Sprintf("%d of %d findings", count(checks.High), total); got != want {
			t.Errorf("count %q, want %q", got, want)
		}
		// The Apply button does the same without the script.
		eval[bool](ss, `(document.getElementById("f-severity").value = "critical", true)`)
		ss.do(chromedp.Click(chromedp.ID("f-apply")))
		ss.waitPath("/runs/" + lastID + "/findings?severity=critical")
		if n := eval[int](ss, `document.querySelectorAll('#findings-table tbody tr[data-severity="critical"]').length`); n != count(checks.Critical) || n == 0 {
			t.Errorf("severity critical: %d rows, want %d", n, count(checks.Critical))
		}
		// Lifecycle: every finding of the last run was first seen at or before it;
		// those open since the first month say so.
		first := eval[[]string](ss, `[...document.querySelectorAll("#findings-table tbody tr")].map(r => r.querySelector(".first-seen").textContent)`)
		if !slices.Contains(first, tm(h.outs[0].Now)) {
			t.Errorf("no critical finding first seen at the first run (%s): %v", tm(h.outs[0].Now), first)
		}
		ss.screenshot(filepath.Join(shots, "findings-critical.png"), false)
		ss.check("findings")
	})

	t.Run("resolved finding and its lifecycle", func(t *testing.T) {
		ss.t = t
		// carlos.lopez enabled MFA between months 1 and 2: his console_without_mfa is
		// resolved by the second run.
		second := h.outs[1]
		ss.open(findingsURL(second.Inventory.RunID, "state", "resolved", "check", "console_without_mfa"))
		rows := eval[[]string](ss, `[...document.querySelectorAll("#findings-table tbody tr")].map(r => [r.cells[2].textContent.trim(), r.querySelector(".first-seen").textContent, r.querySelector(".resolved-at").textContent].join("|"))`)
		want := "carlos.lopez|" + tm(h.outs[0].Now) + "|" + tm(second.Now)
		if !slices.Contains(rows, want) {
			t.Errorf("resolved rows %v, want one %q", rows, want)
		}
		ss.do(chromedp.Click(chromedp.CSS(`#findings-table tr[data-state="resolved"] a.finding-link`)))
		ss.waitPath("/findings/")
		states := eval[[]string](ss, `[...document.querySelectorAll("#finding-runs tbody tr")].map(r => r.dataset.state)`)
		if len(states) < 2 || states[len(states)-1] != "resolved" {
			t.Errorf("states across runs %v: want it open, then resolved", states)
		}
		if got := text(ss, "#lifecycle-resolved"); got != tm(second.Now) {
			t.Errorf("resolved %q, want %q", got, tm(second.Now))
		}
		ss.check("finding")
	})

	t.Run("user", func(t *testing.T) {
		ss.t = t
		ss.open(accountURL(lastID, prod))
		ss.do(chromedp.Click(chromedp.CSS(`#users-table a.user-link[href$="/users/carlos.lopez"]`)))
		ss.waitPath("/runs/" + lastID + "/accounts/" + prod + "/users/carlos.lopez")
		if got := strings.ToLower(text(ss, "#user-facts dd.mfa")); !strings.HasPrefix(got, "virtual") {
			t.Errorf("carlos.lopez's MFA %q, want his virtual device", got)
		}
		if got := text(ss, "#user-facts dd.console"); got != "yes" {
			t.Errorf("console %q", got)
		}
		if got := text(ss, "#user-facts dd.tags"); !strings.Contains(got, "Owner = carlos.lopez@example.com") {
			t.Errorf("tags %q", got)
		}
		if got := text(ss, "#user-facts dd.last-sign-in"); got == "never" || got == "unknown" || got == "" {
			t.Errorf("last sign-in %q", got)
		}
		ss.screenshot(filepath.Join(shots, "user.png"), false)
		ss.check("user")
	})

	t.Run("diff between two runs", func(t *testing.T) {
		ss.t = t
		ss.open("/runs")
		setSelect(ss, "pick-from", first.Inventory.RunID)
		setSelect(ss, "pick-to", lastID)
		ss.do(chromedp.Click(chromedp.CSS(`form.pick button[type=submit]`)))
		ss.waitPath("/diff/" + first.Inventory.RunID + "/" + lastID)
		d := diff.Runs(first, last)
		shown := 0
		for _, k := range diff.Kinds() {
			n := d.Counts[k]
			if n == 0 {
				if eval[bool](ss, `!!document.querySelector('#diff-counts b[data-kind="`+string(k)+`"]')`) {
					t.Errorf("%s: shown with no change", k)
				}
				continue
			}
			if got := eval[int](ss, `Number(document.querySelector('#diff-counts b[data-kind="`+string(k)+`"]').textContent)`); got != n {
				t.Errorf("%s: %d on the page, want %d", k, got, n)
			}
			shown += n
		}
		if rows := eval[int](ss, `document.querySelectorAll("#diff-table tbody tr").length`); rows != min(shown, diffRowsShown) || rows == 0 {
			t.Errorf("%d rows, want %d", rows, min(shown, diffRowsShown))
		}
		// The timeline between month 1 and 6: backup-agent deleted, the 2018 key rotated.
		for _, want := range []string{`tr[data-kind="user_removed"][data-user="backup-agent"]`, `tr[data-kind="key_rotated"][data-user="legacy-etl"]`} {
			if !eval[bool](ss, `!!document.querySelector('#diff-table `+want+`')`) {
				t.Errorf("the diff has no %s", want)
			}
		}
		ss.screenshot(filepath.Join(shots, "diff.png"), true)
		ss.check("diff")
	})

	t.Run("trend chart values", func(t *testing.T) {
		ss.t = t
		ss.do(chromedp.Click(chromedp.CSS(`nav.main a[href="/trends"]`)))
		ss.waitPath("/trends")
		// The Organization's figures, from the stored scores: Development-Sandbox
		// has no audit role until month 5, so months 1–4 are outlines at what the
		// audited accounts show, and months 5 and 6 are known.
		keys := bars(ss, "trend-keys-90")
		if len(keys) != len(h.outs) {
			t.Fatalf("keys over 90 days: %d columns, want one per run (%d)", len(keys), len(h.outs))
		}
		for i, o := range h.outs {
			sc := o.Scores.Organization
			v, _ := keysOver(sc)
			notAudited := len(o.Inventory.NotAudited()) > 0
			if keys[i].Value != v || keys[i].Unknown != notAudited {
				t.Errorf("keys over 90 days, run %d: %d (unknown %v), want %d (unknown %v)", i+1, keys[i].Value, keys[i].Unknown, v, notAudited)
			}
			if keys[i].Unknown && !strings.HasPrefix(keys[i].Text, "≥") && keys[i].Text != "unknown" {
				t.Errorf("run %d: an unknown figure written %q", i+1, keys[i].Text)
			}
		}
		if !keys[0].Unknown || keys[len(keys)-1].Unknown {
			t.Errorf("the demo's story: unknown while an account is not audited, known after: %v", keys)
		}
		risk := bars(ss, "trend-risk-iamaudit-risk-2")
		for i, o := range h.outs {
			sc := o.Scores.Organization
			want := sc.RiskAtLeast
			if sc.Risk != nil {
				want = *sc.Risk
			}
			if i >= len(risk) || risk[i].Value != want || risk[i].Unknown != (sc.Risk == nil) {
				t.Errorf("risk, run %d: %v, want %d (unknown %v)", i+1, risk, want, sc.Risk == nil)
			}
		}
		mfa := bars(ss, "trend-mfa")
		for i, o := range h.outs {
			sc := o.Scores.Organization
			if sc.MFACoverage == nil {
				if !mfa[i].Unknown || mfa[i].Text != "unknown" {
					t.Errorf("MFA, run %d: %+v, want unknown", i+1, mfa[i])
				}
				continue
			}
			if mfa[i].Value != int(math.Round(*sc.MFACoverage)) || mfa[i].Unknown {
				t.Errorf("MFA, run %d: %+v, want %.1f", i+1, mfa[i], *sc.MFACoverage)
			}
		}
		// CloudTrail events per month: what `iamaudit trend --by month` counts.
		tr, err := trend.Load(context.Background(), leanSource{st}, trend.Query{By: trend.ByMonth})
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, n := range tr.EventNames {
			ev := bars(ss, "trend-events-"+strings.ToLower(n))
			if len(ev) != len(tr.Rows) {
				t.Fatalf("%s: %d months, want %d", n, len(ev), len(tr.Rows))
			}
			for i, row := range tr.Rows {
				f := row.Events[n]
				if ev[i].Label != row.Period || ev[i].Unknown != f.Unknown {
					t.Errorf("%s %s: %+v, want %+v", n, row.Period, ev[i], f)
				}
				if !f.Unknown && f.Value != nil {
					if ev[i].Value != int(*f.Value) {
						t.Errorf("%s %s: %d, want %v", n, row.Period, ev[i].Value, *f.Value)
					}
					seen += ev[i].Value
				}
			}
		}
		if seen == 0 {
			t.Error("no known CloudTrail event counted in any month")
		}
		ss.screenshot(filepath.Join(shots, "trends.png"), true)
		if *update {
			png, err := chromedp.Run(ss.ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("..", "..", "docs", "dashboard-trends.png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		ss.check("trends")
		// One account's trends: Production is audited whole every month.
		ss.open("/trends?account=" + prod)
		for i, b := range bars(ss, "trend-keys-90") {
			s, _ := h.outs[i].Scores.Account(prod)
			if v, _ := keysOver(s); b.Value != v || b.Unknown {
				t.Errorf("Production, run %d: keys over 90 days %d (unknown %v), want %d", i+1, b.Value, b.Unknown, v)
			}
		}
		ss.screenshot(filepath.Join(shots, "trends-production.png"), true)
		ss.check("trends of an account")
	})
}

// A download link of a page gives what the page shows.
func TestDownloadsInBrowser(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	h, s := openDemo(t, Options{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	ss := newSession(t, srv.URL, 1280, 900)
	last := h.outs[len(h.outs)-1].Inventory.RunID
	ss.open("/runs/" + last + "/findings?severity=high")
	hrefs := eval[[]string](ss, `[...document.querySelectorAll("a.download")].map(a => a.getAttribute("href"))`)
	if len(hrefs) != 2 {
		t.Fatalf("downloads %v", hrefs)
	}
	for _, href := range hrefs {
		u, err := url.Parse(href)
		if err != nil {
			t.Fatal(err)
		}
		if u.Query().Get("severity") != "high" || u.Query().Get("format") == "" {
			t.Errorf("download %s does not keep the page's filter", href)
		}
	}
	ss.check("downloads")
}
