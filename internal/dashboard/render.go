package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/store"
)

// The dashboard's templates, style sheet and script, embedded in the binary.
//
//go:embed assets/dashboard.tmpl assets/dashboard.css assets/dashboard.js
var assetFiles embed.FS

// page is what a handler makes of a request: rendered as HTML, or as the CSV or
// JSON download of what the page shows (?format=csv, ?format=json).
type page struct {
	Title string
	// Run is the run the page is about (the header shows it); nil: none.
	Run *store.RunSummary
	// Prev and Next are the same page for the runs before and after Run.
	Prev, Next string
	// Body names the template of the page's main part; Data is what it renders.
	Body string
	Data any
	// JSON is the JSON download (nil: no download); Tables the CSV downloads,
	// the first by default, the others by ?table=NAME.
	JSON   any
	Tables []Table
	// Name is the downloads' file name without extension.
	Name string

	// Set by writePage.
	Nav       []navItem
	Downloads []navItem
	Content   template.HTML
	Asset     map[string]string
}

// Table is one table of a page: shown, and downloadable as CSV.
type Table struct {
	// Name selects it among a page's downloads (?format=csv&table=NAME).
	Name    string     `json:"name"`
	Caption string     `json:"caption,omitempty"`
	Header  []string   `json:"header"`
	Rows    [][]string `json:"rows"`
	// rows, when set, makes Rows only for the download (a large table the HTML
	// page does not show whole).
	rows func() [][]string
}

type asset struct {
	name, ctype string
	body        []byte
}

// loadAssets names each static file by its content's hash, so that a browser may
// keep it (it holds no data) and a new binary's files are never mixed with old.
func loadAssets() (map[string]asset, error) {
	out := map[string]asset{}
	add := func(base, ext, ctype string, body []byte) {
		h := sha256.Sum256(body)
		name := base + "." + hex.EncodeToString(h[:6]) + "." + ext
		out[base+"."+ext] = asset{name: name, ctype: ctype, body: body}
	}
	add("report", "css", "text/css; charset=utf-8", []byte(report.HTMLStyle()))
	for _, f := range []struct{ file, base, ext, ctype string }{
		{"assets/dashboard.css", "dashboard", "css", "text/css; charset=utf-8"},
		{"assets/dashboard.js", "dashboard", "js", "text/javascript; charset=utf-8"},
	} {
		b, err := assetFiles.ReadFile(f.file)
		if err != nil {
			return nil, err
		}
		add(f.base, f.ext, f.ctype, b)
	}
	return out, nil
}

func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	for _, a := range s.assets {
		if a.name == name {
			w.Header().Set("Content-Type", a.ctype)
			w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
			w.Write(a.body)
			return
		}
	}
	s.fail(w, r, notFound("no such file"))
}

// parseTemplates is the HTML report's templates (their sections: summary,
// not-audited, gaps, timeline, risk …) with the dashboard's beside them.
func parseTemplates() (*template.Template, error) {
	src, err := assetFiles.ReadFile("assets/dashboard.tmpl")
	if err != nil {
		return nil, err
	}
	t := report.HTMLTemplates().Funcs(funcs)
	return t.Parse(string(src))
}

var funcs = template.FuncMap{
	"clean":        report.Clean,
	"runURL":       runURL,
	"accountURL":   accountURL,
	"userURL":      userURL,
	"findingURL":   findingURL,
	"findingsURL":  findingsURL,
	"diffURL":      diffURL,
	"tm":           tm,
	"day":          func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"add":          func(a, b int) int { return a + b },
	"runStatus":    runStatus,
	"riskText":     riskText,
	"stateLabel":   stateLabel,
	"statusLabel":  statusLabel,
	"orgRisk":      scoreRisk,
	"cellLink":     cellLink,
	"accountLabel": accountLabel,
}

// cellLink is the link of a content table's cell ("" for none).
func cellLink(links [][]string, i, j int) string {
	if i < len(links) && j < len(links[i]) {
		return links[i][j]
	}
	return ""
}

func runURL(id string) string { return "/runs/" + url.PathEscape(id) }

func accountURL(run, account string) string {
	return runURL(run) + "/accounts/" + url.PathEscape(account)
}

func userURL(run, account, user string) string {
	return accountURL(run, account) + "/users/" + url.PathEscape(user)
}

func findingURL(id string) string { return "/findings/" + url.PathEscape(id) }

func diffURL(from, to string) string {
	return "/diff/" + url.PathEscape(from) + "/" + url.PathEscape(to)
}

// findingsURL is the findings explorer of a run with filters: pairs of key and value.
func findingsURL(run string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	u := runURL(run) + "/findings"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// tm is a time to the minute in UTC; nil or zero is "—" (what that means, the
// page says: never resolved, never used…).
func tm(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x != nil {
			t = *x
		}
	}
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// render turns a page handler into an http.HandlerFunc answering HTML, CSV or JSON.
func (s *Server) render(build func(w http.ResponseWriter, r *http.Request) (*page, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := build(w, r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if p == nil {
			return // answered (a redirect)
		}
		switch f := r.URL.Query().Get("format"); f {
		case "", "html":
			s.writePage(w, r, p, http.StatusOK)
		case "json":
			if p.JSON == nil {
				s.fail(w, r, badRequest("this page has no JSON download"))
				return
			}
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetIndent("", "  ")
			if err := enc.Encode(p.JSON); err != nil {
				s.fail(w, r, err)
				return
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Content-Disposition", attachment(p.Name, "json"))
			w.Write(b.Bytes())
		case "csv":
			t, err := pickTable(p.Tables, r.URL.Query().Get("table"))
			if err != nil {
				s.fail(w, r, err)
				return
			}
			var b bytes.Buffer
			if err := writeCSV(&b, t); err != nil {
				s.fail(w, r, err)
				return
			}
			name := p.Name
			if t.Name != p.Tables[0].Name {
				name += "-" + t.Name
			}
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", attachment(name, "csv"))
			w.Write(b.Bytes())
		default:
			s.fail(w, r, badRequest("format %q: use html, csv or json", f))
		}
	}
}

func pickTable(ts []Table, name string) (Table, error) {
	if len(ts) == 0 {
		return Table{}, badRequest("this page has no CSV download")
	}
	fill := func(t Table) Table {
		if t.rows != nil {
			t.Rows = t.rows()
		}
		return t
	}
	if name == "" {
		return fill(ts[0]), nil
	}
	for _, t := range ts {
		if t.Name == name {
			return fill(t), nil
		}
	}
	return Table{}, badRequest("no table %q on this page", name)
}

// writeCSV writes a table with every cell a spreadsheet would evaluate made text
// (report.SafeCell: names from AWS may start with = + - @).
func writeCSV(w *bytes.Buffer, t Table) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header); err != nil {
		return err
	}
	row := make([]string, 0, len(t.Header))
	for _, r := range t.Rows {
		row = row[:0]
		for _, c := range r {
			row = append(row, report.SafeCell(c))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func attachment(name, ext string) string {
	name = strings.Trim(unsafeName.ReplaceAllString(name, "_"), "_")
	if name == "" {
		name = "iamaudit"
	}
	return fmt.Sprintf(`attachment; filename="%s.%s"`, name, ext)
}

// writePage renders p in the layout.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, p *page, code int) {
	p.Nav = s.nav
	p.Asset = map[string]string{}
	for k, a := range s.assets {
		p.Asset[k] = "/static/" + a.name
	}
	if code == http.StatusOK {
		q := r.URL.Query()
		q.Del("page")
		if p.JSON != nil {
			p.Downloads = append(p.Downloads, navItem{selfWith(r, q, "json", ""), "JSON"})
		}
		for i, t := range p.Tables {
			label := "CSV"
			if len(p.Tables) > 1 {
				label += " (" + t.Name + ")"
			}
			name := t.Name
			if i == 0 {
				name = ""
			}
			p.Downloads = append(p.Downloads, navItem{selfWith(r, q, "csv", name), label})
		}
	}
	var body bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&body, p.Body, p); err != nil {
		s.log.Error("dashboard template", "page", p.Body, "error", err)
		http.Error(w, "the page could not be rendered; the dashboard's log says why", http.StatusInternalServerError)
		return
	}
	p.Content = template.HTML(body.String()) // rendered (and escaped) by html/template above
	var out bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&out, "layout", p); err != nil {
		s.log.Error("dashboard template", "page", "layout", "error", err)
		http.Error(w, "the page could not be rendered; the dashboard's log says why", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(out.Bytes())
}

func selfWith(r *http.Request, q url.Values, format, table string) string {
	v := url.Values{}
	for k, vs := range q {
		v[k] = append([]string(nil), vs...)
	}
	v.Set("format", format)
	v.Del("table")
	if table != "" {
		v.Set("table", table)
	}
	return r.URL.EscapedPath() + "?" + v.Encode()
}
