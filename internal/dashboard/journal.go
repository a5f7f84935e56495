package dashboard

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/iamaudit/iamaudit/internal/store"
)

// JournalPages are the remediation journal's pages (`iamaudit remediate`,
// docs/remediation.md "The journal"), served through Options.Pages: /journal lists
// the journals, /journal/{id} shows one journal's entries in order. They read the
// append-only table through the store; the entries' structured detail is in the
// JSON download (the page shows what people read: what, where, which call, the
// outcome).
func JournalPages() []Page {
	return []Page{
		{Path: "/journal", Nav: "Journal", Build: journalList},
		{Path: "/journal/{id}", Build: journalEntries},
	}
}

func journalURL(id string) string { return "/journal/" + url.PathEscape(id) }

func journalList(ctx context.Context, st *store.Store, _ Request) (Content, error) {
	list, err := st.Journals(ctx)
	if err != nil {
		return Content{}, err
	}
	t := ContentTable{Table: Table{Name: "journals", Header: []string{"journal", "started", "last entry", "entries"}, Rows: [][]string{}}}
	for i := len(list) - 1; i >= 0; i-- { // newest first
		j := list[i]
		t.Rows = append(t.Rows, []string{j.JournalID, j.Started.UTC().Format(time.RFC3339), j.Last.UTC().Format(time.RFC3339), strconv.Itoa(j.Entries)})
		t.Links = append(t.Links, []string{journalURL(j.JournalID)})
	}
	intro := "Every 'iamaudit remediate apply' (and its rollbacks) writes one journal, entry by entry, each committed as it is made; the store never changes or deletes an entry."
	if len(list) == 0 {
		intro = "No remediation journal yet: 'iamaudit remediate apply' writes one into this store."
	}
	return Content{Title: "Remediation journals", Intro: intro, Tables: []ContentTable{t}, JSON: list, Name: "iamaudit-journals"}, nil
}

func journalEntries(ctx context.Context, st *store.Store, req Request) (Content, error) {
	id := req.Params["id"]
	entries, err := st.Journal(ctx, id)
	if errors.Is(err, store.ErrNoJournal) {
		return Content{}, ErrPageNotFound("journal %s is not in the store (the journal page lists them)", id)
	}
	if err != nil {
		return Content{}, err
	}
	t := ContentTable{Table: Table{Name: "entries", Header: []string{"seq", "recorded", "phase", "kind", "item", "account",
		"user", "access key", "call", "status", "message"}, Rows: [][]string{}}}
	for _, e := range entries {
		item := ""
		if e.Item > 0 {
			item = strconv.Itoa(e.Item) + "." + strconv.Itoa(e.Action)
		}
		t.Rows = append(t.Rows, []string{strconv.FormatInt(e.Seq, 10), e.RecordedAt.UTC().Format(time.RFC3339), e.Phase, e.Kind, item,
			e.AccountID, e.UserName, e.AccessKeyID, e.API, e.Status, e.Message})
	}
	return Content{Title: "Remediation journal " + id, Intro: strconv.Itoa(len(entries)) + " entries, in the order they were written.",
		Tables: []ContentTable{t}, JSON: entries, Name: "iamaudit-journal-" + id}, nil
}
