package dashboard

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/diff"
)

func get(t testing.TB, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return w
}

// Every page of the demo history answers, with its downloads.
func TestPagesRender(t *testing.T) {
	t.Parallel()
	h, s := openDemo(t, Options{})
	last := h.outs[len(h.outs)-1].Inventory.RunID
	first := h.outs[0].Inventory.RunID
	var prod string
	for _, a := range h.outs[0].Inventory.Accounts {
		if a.Name == "Production" {
			prod = a.ID
		}
	}
	pages := []string{
		"/runs", "/runs/" + last, "/runs/" + last + "/findings", "/runs/" + last + "/findings?severity=critical",
		"/runs/" + last + "/accounts/" + prod, "/runs/" + last + "/accounts/" + prod + "/users/legacy-etl",
		"/trends", "/trends?account=" + prod, "/diff", "/diff/" + first + "/" + last,
		"/findings/" + h.outs[0].Findings[0].ID,
	}
	for _, p := range pages {
		w := get(t, s, p)
		if w.Code != http.StatusOK {
			t.Errorf("%s: %d\n%s", p, w.Code, w.Body.String())
			continue
		}
		if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: content type %q", p, ct)
		}
		if p == "/diff" {
			continue
		}
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		j := get(t, s, p+sep+"format=json")
		var v any
		if j.Code != http.StatusOK || json.Unmarshal(j.Body.Bytes(), &v) != nil {
			t.Errorf("%s JSON: %d %.200s", p, j.Code, j.Body.String())
		}
		c := get(t, s, p+sep+"format=csv")
		rows, err := csv.NewReader(c.Body).ReadAll()
		if c.Code != http.StatusOK || err != nil || len(rows) < 1 {
			t.Errorf("%s CSV: %d %v", p, c.Code, err)
		}
	}
}

// The findings download holds every finding the filters select, on every page
// of them; the diff download every change.
func TestDownloadsAreWhole(t *testing.T) {
	t.Parallel()
	h, s := openDemo(t, Options{})
	first, last := h.outs[0], h.outs[len(h.outs)-1]
	id := last.Inventory.RunID
	read := func(p string) [][]string {
		t.Helper()
		w := get(t, s, p)
		rows, err := csv.NewReader(w.Body).ReadAll()
		if w.Code != http.StatusOK || err != nil {
			t.Fatalf("%s: %d %v", p, w.Code, err)
		}
		return rows
	}
	if rows := read("/runs/" + id + "/findings?format=csv"); len(rows) != len(last.Findings)+len(last.Resolved)+1 {
		t.Errorf("findings CSV: %d rows, want %d and the header", len(rows)-1, len(last.Findings)+len(last.Resolved))
	}
	high := 0
	for _, f := range last.Findings {
		if f.Severity.String() == "high" {
			high++
		}
	}
	for _, f := range last.Resolved {
		if f.Severity.String() == "high" {
			high++
		}
	}
	if rows := read("/runs/" + id + "/findings?severity=high&page=1&format=csv"); len(rows) != high+1 {
		t.Errorf("high findings CSV: %d rows, want %d", len(rows)-1, high)
	}
	d := diff.Runs(first, last)
	if rows := read(diffURL(first.Inventory.RunID, id) + "?format=csv"); len(rows) != len(d.Changes)+1 || len(d.Changes) == 0 {
		t.Errorf("diff CSV: %d rows, want %d", len(rows)-1, len(d.Changes))
	}
	if w := get(t, s, "/runs/"+id+"?format=csv&table=nope"); w.Code != http.StatusBadRequest {
		t.Errorf("unknown table: %d", w.Code)
	}
	if w := get(t, s, "/runs/"+id+"?format=xml"); w.Code != http.StatusBadRequest {
		t.Errorf("unknown format: %d", w.Code)
	}
}
