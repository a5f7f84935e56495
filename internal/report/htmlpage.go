package report

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"strings"
)

// The HTML report's template, style sheet and script, embedded in the binary: the
// page they make needs nothing else.
//
//go:embed html/report.tmpl html/report.css html/report.js
var htmlFiles embed.FS

var (
	htmlCSS       = mustRead("html/report.css")
	htmlJS        = mustRead("html/report.js")
	htmlTemplates = template.Must(template.New("report").Funcs(HTMLFuncs()).Parse(mustRead("html/report.tmpl")))
)

// Pair is a template's way of passing two values to a sub-template: R, what the
// whole page knows (the report, or its words), and V, the item it renders.
type Pair struct{ R, V any }

// HTMLFuncs are the functions the report's templates use; a page that parses its
// own templates beside them (HTMLTemplates) has them already.
func HTMLFuncs() template.FuncMap {
	return template.FuncMap{"wrap": func(r, v any) Pair { return Pair{r, v} }}
}

func mustRead(name string) string {
	b, err := htmlFiles.ReadFile(name)
	if err != nil {
		panic(err) // embedded at build time: cannot fail
	}
	return string(b)
}

// HTMLTemplates returns a copy of the HTML report's templates for another page
// (the dashboard) to render the same sections from an HTMLReport: "page" is the
// whole self-contained document; "summary", "not-audited", "findings", "accounts",
// "account", "user", "timeline" and "gaps" are its sections. Add a page of your own
// to the copy with AddParseTree or Parse.
//
// Each call parses the embedded template anew: html/template cannot clone a set
// once it has executed, and the report's own set has after the first WriteHTML.
func HTMLTemplates() *template.Template {
	return template.Must(template.New("report").Funcs(HTMLFuncs()).Parse(mustRead("html/report.tmpl")))
}

// HTMLStyle and HTMLScript are the report's embedded style sheet and script, for a
// server to serve as files (its CSP then allows 'self') or inline (allow them with
// ContentSecurityPolicy).
func HTMLStyle() string  { return htmlCSS }
func HTMLScript() string { return htmlJS }

// ContentSecurityPolicy is the policy of a self-contained page whose only style
// and script are the inline ones given: nothing is loaded from anywhere (not even
// the page's own origin: a file has none), inline styles and scripts run only when
// their SHA-256 matches, style attributes and event handler attributes never do, no
// form is sent, no <base> is honoured. A value from AWS that turned into markup
// could therefore neither run nor load anything.
func ContentSecurityPolicy(styles, scripts []string) string {
	src := func(contents []string) string {
		if len(contents) == 0 {
			return "'none'"
		}
		var parts []string
		for _, c := range contents {
			parts = append(parts, "'"+CSPHash(c)+"'")
		}
		return strings.Join(parts, " ")
	}
	return "default-src 'none'; style-src " + src(styles) + "; script-src " + src(scripts) +
		"; img-src 'none'; base-uri 'none'; form-action 'none'"
}

// CSPHash is the CSP source expression of an inline style or script: "sha256-"
// and the base64 SHA-256 of its exact text.
func CSPHash(content string) string {
	h := sha256.Sum256([]byte(content))
	return "sha256-" + base64.StdEncoding.EncodeToString(h[:])
}
