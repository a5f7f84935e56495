package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/iamaudit/iamaudit/internal/store"
)

// Page is a page served beside the dashboard's own, under the same rules: GET and
// HEAD only, the token, the headers, every value escaped by the dashboard's
// templates, and a CSV and JSON download of what it shows. It is how a feature
// that keeps its own tables in the store shows them without a page template of
// its own: the remediation journal (issue 11) registers its page here, built from
// the store's journal table.
type Page struct {
	// Path is the page's URL path, e.g. "/journal"; a Go 1.22 ServeMux pattern
	// path (wildcards such as /journal/{run} are passed in Request.Params).
	Path string
	// Nav names the page in the navigation bar ("": not listed).
	Nav string
	// Build makes the page's content from the store (opened read-only) and the
	// request (its query parameters and path wildcards).
	Build func(ctx context.Context, st *store.Store, req Request) (Content, error)
}

// Request is what a Page's Build is given of the HTTP request.
type Request struct {
	Query url.Values
	// Params are the path wildcards' values by name.
	Params map[string]string
}

// Content is what a Page shows: text and tables, rendered escaped.
type Content struct {
	Title string
	// Intro is a paragraph above the tables.
	Intro  string
	Tables []ContentTable
	// JSON is the JSON download (nil: the tables).
	JSON any
	// Name is the downloads' file name without extension.
	Name string
}

// ContentTable is a table of a Page; Links, when not nil, gives each cell a link
// (a dashboard path, e.g. "/runs/ID", or "" for none), row by row.
type ContentTable struct {
	Table
	Links [][]string `json:"-"`
}

// ErrPageNotFound is an error for a Page's Build to return: the page answers 404 with its message.
func ErrPageNotFound(format string, a ...any) error { return notFound(format, a...) }

func (s *Server) addPage(p Page) error {
	if !strings.HasPrefix(p.Path, "/") || p.Build == nil {
		return fmt.Errorf("dashboard page %q: a path starting with / and a Build function are needed", p.Path)
	}
	var names []string
	for _, seg := range strings.Split(p.Path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			names = append(names, strings.TrimSuffix(strings.Trim(seg, "{}"), "..."))
		}
	}
	handler := s.render(func(w http.ResponseWriter, r *http.Request) (*page, error) {
		req := Request{Query: r.URL.Query(), Params: map[string]string{}}
		for _, n := range names {
			req.Params[n] = r.PathValue(n)
		}
		c, err := p.Build(r.Context(), s.st, req)
		if err != nil {
			return nil, err
		}
		for _, t := range c.Tables {
			for i, l := range t.Links {
				if i >= len(t.Rows) || len(l) > len(t.Rows[i]) {
					return nil, fmt.Errorf("dashboard page %s: table %s: links beyond its cells", p.Path, t.Name)
				}
				for _, href := range l {
					if href != "" && (!strings.HasPrefix(href, "/") || strings.HasPrefix(href, "//")) {
						return nil, fmt.Errorf("dashboard page %s: link %q: only the dashboard's own paths", p.Path, href)
					}
				}
			}
		}
		pg := &page{Title: c.Title, Body: "content", Data: c, Name: c.Name, JSON: c.JSON}
		for _, t := range c.Tables {
			pg.Tables = append(pg.Tables, t.Table)
		}
		if pg.JSON == nil {
			pg.JSON = pg.Tables
		}
		return pg, nil
	})
	if err := safeRegister(s.mux, "GET "+p.Path, handler); err != nil {
		return fmt.Errorf("dashboard page %s: %w", p.Path, err)
	}
	if p.Nav != "" {
		s.nav = append(s.nav, navItem{Href: p.Path, Label: p.Nav})
	}
	return nil
}

// safeRegister is ServeMux.HandleFunc, with a conflicting pattern an error
// instead of a panic.
func safeRegister(mux *http.ServeMux, pattern string, h http.HandlerFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	mux.HandleFunc(pattern, h)
	return nil
}
