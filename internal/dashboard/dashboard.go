// Package dashboard is `iamaudit serve`: a read-only web dashboard over the store of
// runs (SQLite or PostgreSQL). It shows the overview of a run, trends across runs,
// accounts, the findings explorer with their lifecycle, users, the diff between any
// two runs and a finding across runs; every page has a permanent URL and a CSV and
// JSON download of what it shows (docs/dashboard.md).
//
// It is safe by default: it only reads (GET and HEAD; the store opened read-only),
// sends a strict Content-Security-Policy (`default-src 'self'`, its one script and
// style sheets served from itself), escapes every value from AWS with html/template,
// caches no page with data, refuses requests whose Host is not the loopback name it
// listens on (DNS rebinding), and, when it listens beyond the machine, requires a
// token compared in constant time (auth.go).
//
// It is net/http and html/template only: Go 1.22's ServeMux routes method and path
// patterns with wildcards, which is all the routing a dozen read-only pages need, and
// the pages reuse the HTML report's templates, style and SVG charts (internal/report).
package dashboard

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/store"
)

// Options configure the dashboard.
type Options struct {
	// Store is what the dashboard shows; open it with store.Options{ReadOnly: true}.
	Store *store.Store
	// Token, when not empty, is required of every request (auth.go): the session
	// cookie that ?token= sets, or an Authorization: Bearer header.
	Token string
	// SecureCookie marks the session cookie Secure (the dashboard is served over TLS).
	SecureCookie bool
	// Hosts are the Host header values accepted (host:port, lower case). Empty:
	// any. `iamaudit serve` on loopback without a token sets the loopback names
	// of its port, so that a web page whose DNS name points at 127.0.0.1 (DNS
	// rebinding) cannot read the dashboard through the visitor's browser.
	Hosts []string
	// Pages are more pages served beside the dashboard's own, under the same rules
	// (extension.go): the remediation journal plugs in here.
	Pages []Page
	// CacheRuns is how many loaded runs are kept in memory (default 4).
	CacheRuns int
	// Log receives errors that are not the request's fault (nil: discarded).
	Log *slog.Logger
}

// Server is the dashboard's http.Handler.
type Server struct {
	opts   Options
	st     *store.Store
	mux    *http.ServeMux
	tmpl   *template.Template
	cache  *runCache
	diffs  diffCache
	msgs   report.Messages
	assets map[string]asset
	auth   *tokenAuth
	nav    []navItem
	log    *slog.Logger
}

type navItem struct{ Href, Label string }

// New builds the dashboard.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("dashboard: no store")
	}
	if opts.CacheRuns <= 0 {
		opts.CacheRuns = 4
	}
	msgs, err := report.MessagesFor("en")
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, st: opts.Store, mux: http.NewServeMux(), msgs: msgs, log: opts.Log}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.cache = newRunCache(opts.CacheRuns, func(ctx context.Context, id string) (*runData, error) {
		o, err := s.st.Load(ctx, id)
		if err != nil {
			return nil, err
		}
		return newRunData(o), nil
	})
	if opts.Token != "" {
		s.auth = newTokenAuth(opts.Token, opts.SecureCookie)
	}
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if s.tmpl, err = parseTemplates(); err != nil {
		return nil, err
	}
	s.nav = []navItem{{"/runs/latest", "Overview"}, {"/runs/latest/findings", "Findings"}, {"/trends", "Trends"}, {"/runs", "Runs"}, {"/diff", "Diff"}}
	s.routes()
	for _, p := range opts.Pages {
		if err := s.addPage(p); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /{$}", s.home)
	s.mux.HandleFunc("GET /runs", s.render(s.runsPage))
	s.mux.HandleFunc("GET /runs/{run}", s.render(s.overviewPage))
	s.mux.HandleFunc("GET /runs/{run}/findings", s.render(s.findingsPage))
	s.mux.HandleFunc("GET /runs/{run}/accounts/{account}", s.render(s.accountPage))
	s.mux.HandleFunc("GET /runs/{run}/accounts/{account}/users/{user}", s.render(s.userPage))
	s.mux.HandleFunc("GET /trends", s.render(s.trendsPage))
	s.mux.HandleFunc("GET /diff", s.diffPicker)
	s.mux.HandleFunc("GET /diff/{from}/{to}", s.render(s.diffPage))
	s.mux.HandleFunc("GET /findings/{id}", s.render(s.findingPage))
	s.mux.HandleFunc("GET /static/{file}", s.static)
	s.mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, notFound("no page here"))
	})
}

// ServeHTTP applies the rules every response follows, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
	// No page with data is kept by the browser or a proxy; static files override.
	h.Set("Cache-Control", "no-store")
	// Read-only: no request may change anything, so only GET and HEAD are served.
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "the dashboard is read-only: only GET and HEAD requests are served", http.StatusMethodNotAllowed)
		return
	}
	if len(s.opts.Hosts) > 0 && !hostAllowed(r.Host, s.opts.Hosts) {
		http.Error(w, "unexpected Host header: open the dashboard at the address iamaudit serve printed", http.StatusMisdirectedRequest)
		return
	}
	if s.auth != nil && !s.auth.check(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// contentSecurityPolicy: everything from the dashboard itself, nothing inline
// (no inline script at all, style attributes included), no plugins, no <base>,
// forms only to itself, never framed.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func hostAllowed(host string, allowed []string) bool {
	host = strings.ToLower(host)
	for _, a := range allowed {
		if host == a {
			return true
		}
	}
	return false
}

// home is the overview of the newest run (a redirect to its permanent URL).
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	id, err := s.st.Latest(r.Context())
	if errors.Is(err, store.ErrNotFound) {
		s.writePage(w, r, &page{Title: "No run yet", Body: "empty", Data: s.st.Name()}, http.StatusOK)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, runURL(id), http.StatusFound)
}

// httpError is an error with the status it answers.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func notFound(format string, a ...any) error {
	return &httpError{http.StatusNotFound, fmt.Sprintf(format, a...)}
}

func badRequest(format string, a ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, a...)}
}

// fail answers an error: the request's own (404, 400) as it is, any other as a
// 500 whose details go to the log, not to the page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	code, msg := http.StatusInternalServerError, "the dashboard could not read the store; its log says why"
	switch {
	case errors.As(err, &he):
		code, msg = he.code, he.msg
	case errors.Is(err, store.ErrNotFound):
		code, msg = http.StatusNotFound, "not in the store: "+err.Error()
	case errors.Is(err, context.Canceled):
		return
	default:
		s.log.Error("dashboard request failed", "path", r.URL.Path, "error", err)
	}
	s.writePage(w, r, &page{Title: http.StatusText(code), Body: "error", Data: msg}, code)
}
