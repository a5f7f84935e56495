package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/store"
)

// The remediation journal's pages list the journals and show one journal's
// entries in order, escaped, with their downloads; an unknown journal is a 404.
func TestJournalPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "iamaudit.db")
	rw, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for i, e := range []store.JournalEntry{
		{JournalID: "j-20260301", Kind: "begin", Phase: "apply", RecordedAt: at},
		{JournalID: "j-20260301", Kind: "after", Phase: "apply", Item: 1, Action: 1, AccountID: "345678901234", UserName: "=cmd+1@x",
			AccessKeyID: "AKIAEXAMPLE000000001", API: "iam:UpdateAccessKey", Status: "done", Message: "<script>alert('journal')</script>",
			Detail: json.RawMessage(`{"status":"Inactive"}`), RecordedAt: at.Add(time.Minute)},
		{JournalID: "j-20260302", Kind: "begin", Phase: "apply", RecordedAt: at.Add(24 * time.Hour)},
	} {
		if _, err := rw.AppendJournal(ctx, e); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	rw.Close()
	st, err := store.Open(ctx, path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := New(Options{Store: st, Pages: JournalPages()})
	if err != nil {
		t.Fatal(err)
	}
	list := get(t, s, "/journal")
	body := list.Body.String()
	if list.Code != http.StatusOK || !strings.Contains(body, `<a href="/journal/j-20260301">`) || !strings.Contains(body, `<a href="/journal">Journal</a>`) {
		t.Fatalf("journal list: %d\n%s", list.Code, body)
	}
	if strings.Index(body, "j-20260302") > strings.Index(body, "j-20260301") {
		t.Error("journals not newest first")
	}
	one := get(t, s, "/journal/j-20260301")
	body = one.Body.String()
	if one.Code != http.StatusOK || !strings.Contains(body, "iam:UpdateAccessKey") || !strings.Contains(body, "2 entries") {
		t.Fatalf("journal: %d\n%s", one.Code, body)
	}
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert(&#39;journal&#39;)&lt;/script&gt;") {
		t.Error("the entry's message is not escaped")
	}
	if c := get(t, s, "/journal/j-20260301?format=csv").Body.String(); !strings.Contains(c, "'=cmd+1@x") {
		t.Errorf("CSV: %s", c)
	}
	if j := get(t, s, "/journal/j-20260301?format=json").Body.String(); !strings.Contains(j, `"status": "Inactive"`) {
		t.Errorf("JSON lacks the entry's detail: %s", j)
	}
	if w := get(t, s, "/journal/nope"); w.Code != http.StatusNotFound {
		t.Errorf("unknown journal: %d", w.Code)
	}
}
