package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/html"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/suppress"
)

// hostile are values an AWS account can hold in names, tags and events: markup,
// attribute breakers, formula prefixes, right-to-left override and text, control
// characters, a very long unbroken name.
var hostile = struct {
	script, attr, formula, rlo, rtl, ctrl, long string
}{
	script:  `<script>alert(1)</script>`,
	attr:    `"><img src=x onerror=alert(2)>'`,
	formula: `=HYPERLINK("http://evil","x")`,
	rlo:     "invoice\u202Egpj.exe",
	rtl:     "مدير-الحسابات",
	ctrl:    "bell\x07esc\x1b[31mnul\x00",
	long:    strings.Repeat("VeryLongAccountName", 12),
}

// htmlOutcome is the seed fixture with everything the page shows: an Organization,
// a CloudTrail window, owner tags with hostile values, an account not audited (with
// a hostile name), one skipped, one not reached, one audited with a gap leaving a
// user's MFA unknown, a suppressed finding and one resolved since the baseline.
func htmlOutcome(t testing.TB) *outcome.Outcome {
	t.Helper()
	inv := fixture()
	inv.Organization = &inventory.Organization{ID: "o-example", ManagementAccountID: "123456789012"}
	inv.RunID, inv.Partition, inv.Tool, inv.Version = "20260305_000000", "aws", "iamaudit", "test"
	inv.StartedAt, inv.FinishedAt = ts("2026-03-05 00:00:00"), ts("2026-03-05 00:01:30")
	inv.EventWindowStart, inv.EventWindowEnd = ts("2026-01-01 00:00:00"), ts("2026-03-05 00:00:00")
	prod := &inv.Accounts[0]
	prod.OUPath = "Root/Workloads/Prod"
	for i := range prod.Users {
		u := &prod.Users[i]
		u.ARN = "arn:aws:iam::123456789012:user/" + u.Name
		u.CreatedAt = ts("2024-01-01 00:00:00")
	}
	prod.Users[0].Tags = map[string]string{"Owner": hostile.attr, "Team": hostile.rtl}
	prod.Users[0].Groups = []string{"Developers"}
	prod.Events[0].Username = hostile.script
	inv.Accounts = append(inv.Accounts,
		inventory.Account{ID: "333333333333", Name: hostile.script + hostile.long, State: "ACTIVE", Status: inventory.StatusNotAudited,
			Reason: "cannot assume role " + hostile.attr + " " + hostile.ctrl},
		inventory.Account{ID: "444444444444", Name: "Later", State: "ACTIVE", Status: inventory.StatusNotReached, Reason: "not reached: the run was interrupted"},
		inventory.Account{ID: "555555555555", Name: "Closed", State: "SUSPENDED", Status: inventory.StatusSkipped},
		inventory.Account{ID: "666666666666", Name: hostile.rlo, State: "ACTIVE", Status: inventory.StatusPartial, OUPath: hostile.rtl,
			Users: []inventory.User{{Name: "bob", ARN: "arn:aws:iam::666666666666:user/bob", CreatedAt: ts("2025-01-01 00:00:00"),
				PasswordEnabled: true, PasswordLastUsed: tp("2026-03-01 00:00:00"), Tags: map[string]string{"Owner": hostile.formula}}},
			Gaps: []inventory.Gap{{AccountID: "666666666666", Section: inventory.SectionMFA, Subject: "bob", Operation: "iam:ListMFADevices",
				ErrorCode: "AccessDenied", Message: "MFA devices unknown " + hostile.script, Unknown: []inventory.Field{inventory.FieldMFA}}}},
	)
	rules, err := suppress.Parse("s.yaml", []byte("suppressions:\n  - check: access_key_not_rotated\n    user: ci-deploy\n    reason: CI keys rotate with the pipeline (SEC-42)\n    expires: 2026-06-30\n"))
	if err != nil {
		t.Fatal(err)
	}
	gone := checks.Finding{CheckID: "console_without_mfa", Title: "Console without MFA", Severity: checks.High, AccountID: "123456789012",
		AccountName: "Production", Resource: "arn:aws:iam::123456789012:user/gone", ResourceType: checks.ResourceUser, User: "gone",
		Message: "Console access enabled but MFA not configured"}
	gone.ID = checks.FindingID(gone.CheckID, gone.AccountID, gone.Resource)
	base := &outcome.Baseline{Ref: "iamaudit_20260201_000000.json", RunID: "20260201_000000", Findings: []checks.Finding{gone},
		FullyAudited: map[string]bool{"123456789012": true}}
	o := outcome.Evaluate(outcome.CommandRun, inv, ts("2026-03-05 00:00:00"), outcome.Settings{Checks: checks.DefaultConfig(), Suppressions: rules}, base)
	o.Files = []string{"out/" + IAMReportName(inv.RunID), "out/" + JSONReportName(inv.RunID)}
	return o
}

func renderHTML(t testing.TB, o *outcome.Outcome, lang string, opts HTMLOptions) string {
	t.Helper()
	m, err := MessagesFor(lang)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, o, m, opts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestHTMLGolden(t *testing.T) {
	t.Parallel()
	for _, lang := range Langs {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			golden(t, "report_"+lang+".html", []byte(renderHTML(t, htmlOutcome(t), lang, HTMLOptions{})))
		})
	}
}

// The Content-Security-Policy allows exactly the page's one style and one script,
// by the SHA-256 of their text as written, and nothing else: no source, no inline
// attribute, no other element.
func TestHTMLContentSecurityPolicy(t *testing.T) {
	t.Parallel()
	page := renderHTML(t, htmlOutcome(t), "en", HTMLOptions{})
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var csp string
	var styles, scripts []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
					t.Errorf("<%s> has a %s attribute: the CSP forbids it", n.Data, a.Key)
				}
				if (a.Key == "src" || a.Key == "href") && !strings.HasPrefix(a.Val, "#") {
					t.Errorf("<%s %s=%q> points outside the page", n.Data, a.Key, a.Val)
				}
			}
			switch n.Data {
			case "meta":
				if attr(n, "http-equiv") == "Content-Security-Policy" {
					csp = attr(n, "content")
				}
			case "style":
				styles = append(styles, text(n))
			case "script":
				scripts = append(scripts, text(n))
			case "link", "img", "iframe", "object", "embed", "base", "image", "use":
				t.Errorf("the page has a <%s> element", n.Data)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if len(styles) != 1 || len(scripts) != 1 {
		t.Fatalf("%d styles, %d scripts; want one of each", len(styles), len(scripts))
	}
	if styles[0] != HTMLStyle() || scripts[0] != HTMLScript() {
		t.Errorf("the inline style or script is not the embedded one as written")
	}
	want := fmt.Sprintf("default-src 'none'; style-src '%s'; script-src '%s'; img-src 'none'; base-uri 'none'; form-action 'none'",
		CSPHash(styles[0]), CSPHash(scripts[0]))
	if csp != want {
		t.Errorf("CSP\n got %q\nwant %q", csp, want)
	}
	// The policy comes before the style and script it governs.
	if i, j := strings.Index(page, "Content-Security-Policy"), strings.Index(page, "<style>"); i < 0 || i > j {
		t.Errorf("the CSP meta tag is not before the style")
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// Every hostile value is shown as text: no markup of its own reaches the page,
// no control or bidirectional formatting character does, and the findings table
// keeps six cells in every row.
func TestHTMLEscapesHostileValues(t *testing.T) {
	t.Parallel()
	page := renderHTML(t, htmlOutcome(t), "en", HTMLOptions{})
	for _, bad := range []string{"<script>alert", "<img src=x", `"><img`, "onerror=alert(2)>"} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;&#39;",
		"=HYPERLINK(&#34;http://evil&#34;,&#34;x&#34;)", hostile.rtl, "invoice\uFFFDgpj.exe", "bell\uFFFDesc\uFFFD[31mnul\uFFFD"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for i, r := range page {
		if (unicode.IsControl(r) && r != '\n') || unicode.Is(unicode.Bidi_Control, r) {
			t.Fatalf("page holds %U at byte %d: %q", r, i, page[max(0, i-40):i])
		}
	}
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	tbl := byID(doc, "findings-table")
	if tbl == nil {
		t.Fatal("no findings table")
	}
	rows := 0
	eachElement(tbl, "tr", func(tr *html.Node) {
		cells := 0
		for c := tr.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
				cells++
			}
		}
		if cells != 6 {
			t.Errorf("a findings row has %d cells: %s", cells, text(tr))
		}
		rows++
	})
	if rows < 5 {
		t.Errorf("findings table has %d rows", rows)
	}
}

// linksResolve fails for a link of the page to an element it does not have.
func linksResolve(t *testing.T, doc *html.Node) {
	t.Helper()
	ids := map[string]bool{}
	var links []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if id := attr(n, "id"); id != "" {
				ids[id] = true
			}
			if h := attr(n, "href"); strings.HasPrefix(h, "#") {
				links = append(links, h[1:])
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	for _, l := range links {
		if !ids[l] {
			t.Errorf("link to #%s, which the page does not have", l)
		}
	}
}

func byID(n *html.Node, id string) *html.Node {
	if n.Type == html.ElementNode && attr(n, "id") == id {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := byID(c, id); f != nil {
			return f
		}
	}
	return nil
}

func eachElement(n *html.Node, tag string, f func(*html.Node)) {
	if n.Type == html.ElementNode && n.Data == tag {
		f(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		eachElement(c, tag, f)
	}
}

// textOf is the text of an element and its descendants.
func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// What could not be collected says "unknown", never "none" or "never": bob's MFA
// (a gap), the risk of his account and the Organization's, the MFA coverage.
// What is known to be absent says so.
func TestHTMLUnknownIsUnknown(t *testing.T) {
	t.Parallel()
	o := htmlOutcome(t)
	page := renderHTML(t, o, "en", HTMLOptions{})
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	linksResolve(t, doc)
	bob := byID(doc, userAnchor("666666666666", "bob"))
	if bob == nil {
		t.Fatal("no detail for bob")
	}
	var mfa string
	eachElement(bob, "dd", func(n *html.Node) {
		if attr(n, "class") == "mfa" {
			mfa = textOf(n)
		}
	})
	if mfa != "unknown" {
		t.Errorf("bob's MFA (a gap) is %q, want unknown", mfa)
	}
	maria := byID(doc, userAnchor("123456789012", "maria.garcia"))
	var mariaMFA, signIn string
	eachElement(maria, "dd", func(n *html.Node) {
		switch attr(n, "class") {
		case "mfa":
			mariaMFA = textOf(n)
		case "last-sign-in":
			signIn = textOf(n)
		}
	})
	if mariaMFA != "none" || signIn != "never" {
		t.Errorf("maria (known: no MFA, never signed in): MFA %q, last sign-in %q", mariaMFA, signIn)
	}
	if got := textOf(byID(doc, "org-mfa")); !strings.Contains(got, "unknown") {
		t.Errorf("Organization MFA coverage with a gap: %q", got)
	}
	if got := textOf(byID(doc, "org-risk")); !strings.Contains(got, "unknown") || !strings.Contains(got, "at least") {
		t.Errorf("Organization risk with a gap: %q", got)
	}
	if o.Scores.Organization.Risk != nil {
		t.Fatal("fixture: the Organization risk should be unknown")
	}
}

// The findings table, the user details, the events and the gaps stop at their caps
// and say where the rest is.
func TestHTMLCaps(t *testing.T) {
	t.Parallel()
	o := htmlOutcome(t)
	opts := HTMLOptions{MaxFindings: 3, MaxUserDetails: 2, MaxEvents: 1, MaxGaps: 1, MaxRiskBars: 1}
	page := renderHTML(t, o, "en", opts)
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	eachElement(byID(doc, "findings-table"), "tr", func(*html.Node) { rows++ })
	if rows != 1+3 {
		t.Errorf("findings table: %d rows, want a header and 3", rows)
	}
	total := len(o.Findings) + len(o.Resolved)
	for _, want := range []string{
		fmt.Sprintf("… and %d more findings, less severe: every finding is in %s.", total-3, FindingsReportName(o.Inventory.RunID)),
		"The 1 most recent of 2 events; every event is in " + EventsReportName(o.Inventory.RunID),
		"The first 1 of 1 gaps", // one gap: nothing left out, no note
	} {
		if strings.HasPrefix(want, "The first") {
			if strings.Contains(page, want) {
				t.Errorf("page says %q though nothing was left out", want)
			}
			continue
		}
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	linksResolve(t, doc)
	details := 0
	eachElement(doc, "details", func(n *html.Node) {
		if strings.Contains(attr(n, "class"), "user") {
			details++
		}
	})
	if details != 2 {
		t.Errorf("%d user details, want 2", details)
	}
	// The two shown are those with the most severe open findings: the critical
	// keys of john.doe (ci-deploy's is suppressed).
	if byID(doc, userAnchor("123456789012", "john.doe")) == nil {
		t.Errorf("john.doe (critical finding) has no detail")
	}
	if !regexp.MustCompile(`Detail is shown for \d of the 4 users of this account`).MatchString(page) {
		t.Errorf("no note on the users left out")
	}
}

// The state filter offers exactly the states present, and resolved and suppressed
// findings are rows of the table with their state.
func TestHTMLFindingStates(t *testing.T) {
	t.Parallel()
	o := htmlOutcome(t)
	if len(o.Resolved) != 1 {
		t.Fatalf("fixture: %d resolved", len(o.Resolved))
	}
	page := renderHTML(t, o, "en", HTMLOptions{})
	for _, want := range []string{`data-state="resolved"`, `data-state="suppressed"`, `data-state="new"`,
		`<option value="resolved">resolved</option>`, "suppressed: CI keys rotate with the pipeline (SEC-42); expires 2026-06-30"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, `<option value="open">`) {
		t.Errorf("state filter offers open, which no finding has")
	}
}

func TestHTMLCleanKeepsText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"alice":             "alice",
		"a\nb\tc":           "a b c",
		"x\u202Ey":          "x\uFFFDy",
		"\u2067rtl\u2069":   "\uFFFDrtl\uFFFD",
		hostile.rtl:         hostile.rtl,
		"<b>":               "<b>", // escaping is html/template's
		"line\u2028sep":     "line sep",
		"zero\u200Bwidth":   "zero\u200Bwidth",
		"nul\x00del\x7fend": "nul\uFFFDdel\uFFFDend",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

// Another page (the dashboard) gets the report's templates after a report was
// written in the same process: html/template cannot clone an executed set.
func TestHTMLTemplatesAfterWrite(t *testing.T) {
	var b strings.Builder
	if err := htmlTemplates.ExecuteTemplate(&b, "risk", htmlRisk{Value: "1", Label: "low", Class: "low"}); err != nil {
		t.Fatal(err)
	}
	tm := HTMLTemplates()
	for _, name := range []string{"page", "summary", "not-audited", "findings", "accounts", "account", "user", "timeline", "gaps"} {
		if tm.Lookup(name) == nil {
			t.Errorf("no template %q", name)
		}
	}
	if _, err := tm.Parse(`{{define "extra"}}{{template "risk" .}}{{end}}`); err != nil {
		t.Errorf("a page cannot add its own template: %v", err)
	}
}
