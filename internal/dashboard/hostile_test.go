package dashboard

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/store"
)

// hostileScenario is an Organization whose names, tags and events carry what an
// attacker who can name an account, tag a user or trigger an event can write:
// markup, attribute breakers, formula prefixes, right-to-left override and text,
// control characters and names far longer than a column (the HTML report's
// browser test uses the same).
const hostileScenario = `name: hostile
organization:
  id: o-hostile0001
  management_account_id: "111111111111"
  access_key_id: AKIAIOSFODNN7HOSTILE
  secret_access_key: sandbox-hostile-secret-not-a-real-key
  caller_name: audit-runner
  ous:
    - name: "</title><script>alert('ou')</script>"
accounts:
  - id: "111111111111"
    name: "<script>alert('account')</script>"
    users:
      - name: audit-runner
        access_keys:
          - {id: AKIAIOSFODNN7HOSTILE, created_at: -10d, last_used: -1h, service: organizations, region: us-east-1}
  - id: "222222222222"
    name: "\"><img src=x onerror=alert('img')><svg onload=alert('svg')>"
    ou: "</title><script>alert('ou')</script>"
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

// hostileHistory is two runs of the hostile Organization, a month apart; in the
// second, +plus is gone (a deleted user and resolved findings in the diff).
var hostileHistory = sync.OnceValues(func() (*history, error) {
	dir, err := os.MkdirTemp("", "iamaudit-dashboard-hostile-")
	if err != nil {
		return nil, err
	}
	tempDirs.Store(dir, true)
	second := removeUser(hostileScenario, `"+plus"`, `"-minus"`)
	end := time.Now().UTC().Truncate(time.Second)
	return recordHistory(dir, []string{hostileScenario, second}, func(i int) time.Time { return end.AddDate(0, 0, 30*(i-1)) })
})

// The dashboard of hostile names and tags, in Chromium, page by page: nothing of
// theirs runs (an alert, a CSP violation or a script error fails the test), none of
// their markup reaches the page (no element or attribute of theirs), and nothing
// breaks the layout (no sideways scrolling, no table or card wider than its
// container, the findings table keeps its cells).
func TestDashboardHostileNamesInBrowser(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	h, err := hostileHistory()
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
	first, last := h.outs[0].Inventory.RunID, h.outs[1].Inventory.RunID
	findingID := ""
	for _, f := range h.outs[1].Findings {
		if f.AccountID == "222222222222" && f.User == "=cmd+1@x" {
			findingID = f.ID
		}
	}
	pages := []string{
		"/runs/" + last, "/runs/" + last + "/findings", "/runs/" + last + "/findings?q=%3Cscript%3E",
		"/runs/" + last + "/findings?account=222222222222", "/runs", "/trends", "/trends?account=222222222222",
		"/diff/" + first + "/" + last, "/findings/" + findingID,
	}
	for _, a := range h.outs[1].Inventory.Accounts {
		pages = append(pages, accountURL(last, a.ID))
		for _, u := range a.Users {
			pages = append(pages, userURL(last, a.ID, u.Name))
		}
	}
	for i, p := range pages {
		ss.open(p)
		if code := eval[string](ss, `document.title`); strings.HasPrefix(code, "Not Found") || strings.HasPrefix(code, "Internal") {
			t.Errorf("%s: %s", p, code)
		}
		if n := eval[int](ss, `document.querySelectorAll("script").length`); n != 1 {
			t.Errorf("%s: %d script elements, want the dashboard's one", p, n)
		}
		for _, tag := range []string{"img", "svg:not(.chart)", "iframe", "object", "embed", "base", "link:not([rel=stylesheet])"} {
			if n := eval[int](ss, `document.querySelectorAll("`+tag+`").length`); n != 0 {
				t.Errorf("%s: %d <%s> elements from hostile values", p, n, tag)
			}
		}
		if eval[bool](ss, `[...document.querySelectorAll("b")].some(b => b.textContent === "bold")`) {
			t.Errorf("%s: a tag's <b> became markup", p)
		}
		if attrs := eval[[]string](ss, `[...document.querySelectorAll("*")].flatMap(e => [...e.attributes].filter(a => a.name.startsWith("on") || a.name === "style" || (a.name === "href" && /^\s*javascript:/i.test(a.value))).map(a => e.tagName + " " + a.name))`); len(attrs) > 0 {
			t.Errorf("%s: event handler, style or javascript: attributes: %v", p, attrs)
		}
		if sw, iw := eval[int](ss, `document.documentElement.scrollWidth`), eval[int](ss, `window.innerWidth`); sw > iw {
			t.Errorf("%s: the page is %dpx wide in a %dpx window", p, sw, iw)
		}
		over := eval[[]string](ss, `[...document.querySelectorAll(".card, table, .tile, figure, dl.kv, form.filters, h1")].filter(e => {
			const p = e.parentElement.getBoundingClientRect(), r = e.getBoundingClientRect();
			return r.right > p.right + 1 || r.left < p.left - 1;
		}).map(e => e.tagName + "." + e.className)`)
		if len(over) > 0 {
			t.Errorf("%s: elements wider than their container: %v", p, over)
		}
		if cells := eval[[]int](ss, `[...document.querySelectorAll("#findings-table tr")].map(r => r.cells.length)`); len(cells) > 0 {
			for j, n := range cells {
				if n != 9 {
					t.Errorf("%s: findings row %d has %d cells", p, j, n)
				}
			}
		}
		ss.check(p)
		if i < 3 {
			ss.screenshot(filepath.Join(shots, fmt.Sprintf("hostile-%d.png", i)), true)
		}
	}
	// The names read as written, as text.
	ss.open(accountURL(last, "222222222222") + "/users/" + "%3Dcmd+1@x")
	body := eval[string](ss, `document.body.textContent`)
	for _, want := range []string{"<script>alert('tag')</script>", `"'><iframe src=javascript:alert('frame')>`, "=cmd+1@x"} {
		if !strings.Contains(body, want) {
			t.Errorf("the user page does not show %q as text", want)
		}
	}
	ss.open("/runs/" + last)
	if got := text(ss, `#accounts-table tr[data-account="333333333333"] a.account-link`); !strings.Contains(got, "\uFFFDevil\uFFFD") || strings.ContainsAny(got, "\u202E\u202C\u0007\u001b") {
		t.Errorf("bidi and control characters reach the page: %q", got)
	}
	ss.screenshot(filepath.Join(shots, "hostile-overview.png"), true)
	ss.check("overview")
}

// The downloads of hostile names: CSV cells a spreadsheet would evaluate start
// with a quote; JSON escapes markup; both are served as downloads, never sniffed.
func TestHostileDownloads(t *testing.T) {
	t.Parallel()
	h, err := hostileHistory()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), h.path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	last := h.outs[1].Inventory.RunID
	for p, want := range map[string]string{
		"/runs/" + last + "/findings":              "'=cmd+1@x",
		"/runs/" + last + "/accounts/222222222222": "'-minus",
		"/runs/" + last:                            "<script>alert('account')</script>",
	} {
		w := get(t, s, p+"?format=csv")
		if w.Code != http.StatusOK || w.Header().Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(w.Header().Get("Content-Disposition"), "attachment;") {
			t.Fatalf("%s CSV: %d %v", p, w.Code, w.Header())
		}
		rows, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range rows[1:] {
			for _, c := range r {
				if c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
					t.Errorf("%s: cell %q would be evaluated by a spreadsheet", p, c)
				}
				if c == want {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("%s: no cell %q in the CSV", p, want)
		}
		j := get(t, s, p+"?format=json")
		if b := j.Body.String(); strings.Contains(b, "<script>") || !strings.Contains(b, `\u003cscript\u003e`) {
			t.Errorf("%s JSON: markup not escaped", p)
		}
	}
}
