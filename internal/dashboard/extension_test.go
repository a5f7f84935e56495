package dashboard

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/store"
)

// A page added through Options.Pages is served under the dashboard's rules: in
// the navigation, escaped, with its CSV and JSON downloads, GET only; its links
// may only be the dashboard's own paths.
func TestExtraPage(t *testing.T) {
	t.Parallel()
	var links [][]string
	journal := Page{Path: "/journal/{run}", Nav: "", Build: func(_ context.Context, st *store.Store, req Request) (Content, error) {
		if req.Params["run"] == "missing" {
			return Content{}, ErrPageNotFound("no journal for run %s", req.Params["run"])
		}
		runs, err := st.Runs(context.Background(), store.RunFilter{})
		if err != nil {
			return Content{}, err
		}
		return Content{Title: "Journal of " + req.Params["run"], Intro: "<script>alert('intro')</script>", Name: "journal",
			Tables: []ContentTable{{Table: Table{Name: "actions", Caption: "Actions", Header: []string{"run", "action"},
				Rows: [][]string{{runs[0].RunID, "=HYPERLINK(\"http://evil.example\")"}, {"x", "<img src=x onerror=alert(1)>"}}}, Links: links}}}, nil
	}}
	listed := Page{Path: "/journal", Nav: "Journal", Build: journal.Build}
	links = [][]string{{"/runs/latest", ""}}
	h, s := openDemo(t, Options{Pages: []Page{journal, listed}})
	first := h.outs[0].Inventory.RunID
	w := get(t, s, "/journal/"+first)
	body := w.Body.String()
	if w.Code != http.StatusOK || w.Header().Get("Content-Security-Policy") != contentSecurityPolicy {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	for _, bad := range []string{"<script>alert", "<img src=x"} {
		if strings.Contains(body, bad) {
			t.Errorf("unescaped %q", bad)
		}
	}
	if !strings.Contains(body, `<a href="/runs/latest">`) || !strings.Contains(body, `<a href="/journal">Journal</a>`) {
		t.Errorf("links or navigation missing:\n%s", body)
	}
	c := get(t, s, "/journal/"+first+"?format=csv")
	rows, err := csv.NewReader(c.Body).ReadAll()
	if err != nil || len(rows) != 3 || rows[1][1] != `'=HYPERLINK("http://evil.example")` {
		t.Errorf("CSV %v %v", rows, err)
	}
	if j := get(t, s, "/journal/"+first+"?format=json"); j.Code != http.StatusOK || !strings.Contains(j.Body.String(), `"actions"`) {
		t.Errorf("JSON %d %s", j.Code, j.Body.String())
	}
	if w := get(t, s, "/journal/missing"); w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "no journal for run missing") {
		t.Errorf("not found: %d", w.Code)
	}
	r := httptest.NewRecorder()
	s.ServeHTTP(r, httptest.NewRequest(http.MethodPost, "/journal", nil))
	if r.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", r.Code)
	}
	for _, bad := range []string{"javascript:alert(1)", "//evil.example/x", "http://evil.example"} {
		links = [][]string{{bad}}
		if w := get(t, s, "/journal"); w.Code != http.StatusInternalServerError {
			t.Errorf("link %q: %d", bad, w.Code)
		}
	}
	if _, err := New(Options{Store: s.st, Pages: []Page{{Path: "/runs", Build: journal.Build}}}); err == nil {
		t.Error("a page over the dashboard's own path was accepted")
	}
	if _, err := New(Options{Store: s.st, Pages: []Page{{Path: "journal"}}}); err == nil {
		t.Error("a page without / or Build was accepted")
	}
}
