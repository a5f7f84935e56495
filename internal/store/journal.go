package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// JournalEntry is one entry of a remediation journal (table remediation_journal,
// docs/remediation.md "The journal"). A journal is the record of one `remediate
// apply` (and of the rollbacks of it): entries are only ever appended, each in its own
// committed transaction, so that a process killed at any point leaves every entry it
// wrote before. The store gives Seq; the caller gives everything else.
type JournalEntry struct {
	JournalID string `json:"journal_id"`
	// Seq numbers the entries of one journal from 1, in the order they were appended.
	Seq int64 `json:"seq"`
	// RecordedAt is when the entry was written (the caller's clock; the store's when zero).
	RecordedAt time.Time `json:"recorded_at"`
	// Kind says what the entry is (begin, before, after, snapshot, refused, …; the
	// remediation package defines them).
	Kind string `json:"kind"`
	// Phase is apply or rollback.
	Phase string `json:"phase"`
	// Item and Action number the plan's item and the item's action (from 1; 0 for an
	// entry about the whole journal).
	Item   int `json:"item"`
	Action int `json:"action"`
	// What the entry is about.
	AccountID   string `json:"account_id,omitempty"`
	UserName    string `json:"user_name,omitempty"`
	AccessKeyID string `json:"access_key_id,omitempty"`
	// API is the call, "iam:UpdateAccessKey" ("" for an entry that is not one).
	API     string `json:"api,omitempty"`
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	// Detail is the entry's structured content, a JSON object (the action, the
	// evidence read before it, the error, the saved configuration). Never a secret.
	Detail json.RawMessage `json:"detail,omitempty"`
}

// JournalSummary is one journal as `remediate journals` lists it.
type JournalSummary struct {
	JournalID string    `json:"journal_id"`
	Started   time.Time `json:"started"`
	Last      time.Time `json:"last"`
	Entries   int       `json:"entries"`
}

// JournalFilter selects journal entries across journals (zero fields: any).
type JournalFilter struct {
	AccountID   string
	UserName    string
	AccessKeyID string
	Kind        string
	API         string
	Status      string
}

// ErrNoJournal is returned for a journal id the store does not hold.
var ErrNoJournal = errors.New("no such remediation journal in the store")

// AppendJournal appends e to its journal and returns it with its Seq (and
// RecordedAt when it was zero). The entry is committed when AppendJournal returns.
// The table is append-only: no statement of this package updates or deletes it, and
// the schema's triggers refuse any that would.
func (s *Store) AppendJournal(ctx context.Context, e JournalEntry) (JournalEntry, error) {
	if e.JournalID == "" || e.Kind == "" {
		return e, errors.New("a journal entry needs a journal id and a kind")
	}
	if e.RecordedAt.IsZero() {
		e.RecordedAt = s.clock()
	}
	e.RecordedAt = e.RecordedAt.UTC().Truncate(time.Microsecond)
	detail := string(e.Detail)
	if strings.TrimSpace(detail) == "" {
		detail = "{}"
	}
	if !json.Valid([]byte(detail)) {
		return e, fmt.Errorf("journal %s: the entry's detail is not JSON", e.JournalID)
	}
	var last error
	// Two writers of one journal may compute the same next seq: the primary key
	// refuses the second, which takes the next one.
	for attempt := 0; attempt < 5; attempt++ {
		err := s.appendOnce(ctx, &e, detail)
		if err == nil {
			e.Detail = json.RawMessage(detail)
			return e, nil
		}
		if !isUnique(err) {
			return e, fmt.Errorf("cannot append to the remediation journal %s in the %s: %w", e.JournalID, s.Name(), err)
		}
		last = err
	}
	return e, fmt.Errorf("cannot append to the remediation journal %s: %w", e.JournalID, last)
}

// appendOnce writes e with the journal's next seq, in one transaction.
func (s *Store) appendOnce(ctx context.Context, e *JournalEntry, detail string) error {
	d := s.d
	tx, err := s.db.BeginTx(ctx, nil) // SQLite: BEGIN IMMEDIATE, so the seq read below is the writer's
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var seq int64
	if err := tx.QueryRowContext(ctx, d.q(`SELECT COALESCE(MAX(seq), 0) + 1 FROM remediation_journal WHERE journal_id = ?`), e.JournalID).Scan(&seq); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO remediation_journal (`+journalColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		e.JournalID, seq, d.ts(e.RecordedAt), e.Kind, e.Phase, e.Item, e.Action, e.AccountID, e.UserName, e.AccessKeyID,
		e.API, e.Status, e.Message, detail); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	e.Seq = seq
	return nil
}

const journalColumns = `journal_id, seq, recorded_at, entry_kind, phase, item, action, account_id, user_name,
	access_key_id, api, status, message, detail`

// Journal is every entry of one journal, in order (ErrNoJournal when it has none).
func (s *Store) Journal(ctx context.Context, journalID string) ([]JournalEntry, error) {
	out, err := s.journalQuery(ctx, `WHERE journal_id = ? ORDER BY seq`, journalID)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("journal %s: %w", journalID, ErrNoJournal)
	}
	return out, nil
}

// JournalEntries are the entries of every journal that f selects, oldest first.
func (s *Store) JournalEntries(ctx context.Context, f JournalFilter) ([]JournalEntry, error) {
	where, args := []string{"1 = 1"}, []any{}
	for _, c := range []struct{ col, v string }{
		{"account_id", f.AccountID}, {"user_name", f.UserName}, {"access_key_id", f.AccessKeyID},
		{"entry_kind", f.Kind}, {"api", f.API}, {"status", f.Status},
	} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	return s.journalQuery(ctx, "WHERE "+strings.Join(where, " AND ")+" ORDER BY recorded_at, journal_id, seq", args...)
}

// Journals lists the journals, oldest first.
func (s *Store) Journals(ctx context.Context) ([]JournalSummary, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT journal_id, MIN(recorded_at), MAX(recorded_at), COUNT(*)
		FROM remediation_journal GROUP BY journal_id ORDER BY MIN(recorded_at), journal_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []JournalSummary{}
	for rows.Next() {
		var j JournalSummary
		var first, last tsScan
		if err := rows.Scan(&j.JournalID, &first, &last, &j.Entries); err != nil {
			return nil, err
		}
		j.Started, j.Last = first.val(), last.val()
		out = append(out, j)
	}
	return out, rows.Err()
}

func (s *Store) journalQuery(ctx context.Context, tail string, args ...any) ([]JournalEntry, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT `+journalColumns+` FROM remediation_journal `+tail), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []JournalEntry{}
	for rows.Next() {
		var e JournalEntry
		var at tsScan
		var detail sql.NullString
		if err := rows.Scan(&e.JournalID, &e.Seq, &at, &e.Kind, &e.Phase, &e.Item, &e.Action, &e.AccountID, &e.UserName,
			&e.AccessKeyID, &e.API, &e.Status, &e.Message, &detail); err != nil {
			return nil, err
		}
		e.RecordedAt = at.val()
		if detail.Valid {
			e.Detail = json.RawMessage(detail.String)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
