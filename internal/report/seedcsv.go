package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/score"
)

// DateLayout is the seed's date form, always UTC.
const DateLayout = "2006-01-02 15:04:05"

// File names of the seed's two reports, for a run id (YYYYMMDD_HHMMSS, UTC start time).
func IAMReportName(runID string) string    { return "iam_audit_report_" + runID + ".csv" }
func EventsReportName(runID string) string { return "cloudtrail_events_" + runID + ".csv" }

// IAMReportHeader is the seed's iam_audit_report header; positions never change.
var IAMReportHeader = []string{"account_id", "account_name", "username", "password_status",
	"password_last_used", "access_key_id", "status", "created_date", "last_used_date",
	"service_name", "mfa_status"}

// EventsReportHeader is the seed's cloudtrail_events header.
var EventsReportHeader = []string{"eventTime", "eventName", "username", "account_id",
	"account_name", "resources"}

func fmtTime(t time.Time) string { return t.UTC().Format(DateLayout) }

// IAMReportRows builds the seed's rows: one per access key, and one row with the
// five key columns empty for a user without keys (fixed defect 1). Accounts keep the
// inventory's order; users are sorted by name and keys by creation date.
func IAMReportRows(inv *inventory.Inventory, m Messages) [][]string {
	var rows [][]string
	for _, a := range inv.Accounts {
		if a.Status == inventory.StatusNotAudited {
			continue
		}
		users := append([]inventory.User(nil), a.Users...)
		sort.SliceStable(users, func(i, j int) bool { return users[i].Name < users[j].Name })
		for _, u := range users {
			pw := m.PasswordNotConfigured
			switch {
			case u.PasswordEnabled:
				pw = m.PasswordConfigured
			case unknownFor(&a, u.Name, inventory.FieldPassword):
				pw = m.Unknown // a failed call is not "no password"
			}
			pwUsed := m.PasswordNever
			switch {
			case u.PasswordLastUsed != nil:
				pwUsed = fmtTime(*u.PasswordLastUsed)
			case unknownFor(&a, u.Name, inventory.FieldPasswordLastUsed):
				pwUsed = m.Unknown // a failed call is not "never signed in"
			}
			base := []string{a.ID, safeCell(a.Name), safeCell(u.Name), pw, pwUsed}
			mfa := u.MFAType()
			if mfa == inventory.MFANone && (u.MFAActive || unknownFor(&a, u.Name, inventory.FieldMFA)) {
				mfa = m.Unknown // MFA on (or unknown) but its type could not be learned
			}
			keys := append([]inventory.AccessKey(nil), u.AccessKeys...)
			sort.SliceStable(keys, func(i, j int) bool { return keys[i].CreatedAt.Before(keys[j].CreatedAt) })
			if len(keys) == 0 {
				key := ""
				if unknownFor(&a, u.Name, inventory.FieldAccessKeys) {
					key = m.Unknown // the keys could not be listed: not "a user without keys"
				}
				rows = append(rows, append(base, key, key, key, key, key, mfa))
				continue
			}
			lastUseUnknown := unknownFor(&a, u.Name, inventory.FieldKeyLastUse)
			idUnknown := unknownFor(&a, u.Name, inventory.FieldKeyIDs)
			for _, k := range keys {
				used, svc := m.KeyNeverUsed, "N/A"
				switch {
				case k.LastUsedAt != nil:
					used = fmtTime(*k.LastUsedAt)
				case lastUseUnknown:
					used, svc = m.Unknown, m.Unknown // a failed call is not "never used"
				}
				if k.LastUsedService != "" {
					svc = safeCell(k.LastUsedService)
				}
				id := safeCell(k.ID)
				if id == "" && idUnknown {
					id = m.Unknown // the credential report's key, whose id could not be listed
				}
				row := append(append([]string(nil), base...), id, k.Status, fmtTime(k.CreatedAt), used, svc, mfa)
				rows = append(rows, row)
			}
		}
	}
	return rows
}

// EventRows builds the seed's cloudtrail_events rows: per account in inventory
// order, events oldest first.
func EventRows(inv *inventory.Inventory) [][]string {
	var rows [][]string
	for _, a := range inv.Accounts {
		evs := append([]inventory.Event(nil), a.Events...)
		sort.SliceStable(evs, func(i, j int) bool {
			if !evs[i].Time.Equal(evs[j].Time) {
				return evs[i].Time.Before(evs[j].Time)
			}
			return evs[i].ID < evs[j].ID
		})
		for _, e := range evs {
			user := e.Username
			if user == "" {
				user = "N/A"
			}
			names := make([]string, 0, len(e.Resources))
			for _, r := range e.Resources {
				names = append(names, r.Name)
			}
			rows = append(rows, []string{fmtTime(e.Time), safeCell(e.Name), safeCell(user), a.ID,
				safeCell(a.Name), safeCell(strings.Join(names, ", "))})
		}
	}
	return rows
}

// WriteCSV writes a header and rows with "\n" line ends (the seed's awk filters
// compare the last field, which a "\r" would break) and no byte-order mark. Every
// cell's control characters are neutralised (csvText).
func WriteCSV(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	return writeRows(cw, rows)
}

// writeRows writes rows as WriteCSV does, and flushes.
func writeRows(cw *csv.Writer, rows [][]string) error {
	for _, row := range rows {
		clean := make([]string, len(row))
		for i, c := range row {
			clean[i] = csvText(c)
		}
		if err := cw.Write(clean); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// KeyCount is the number of access keys in the IAM report (the seed's "Total Access Keys found").
func KeyCount(inv *inventory.Inventory) int {
	return KeyTotalOf(inv).Found
}

// KeyTotal is the seed's "Total Access Keys found", and what it cannot count: the
// users of audited accounts whose keys could not be listed, and the accounts whose
// user list (or every user's keys) is unknown. Found is then a lower bound.
type KeyTotal struct {
	Found           int
	UsersUnknown    int
	AccountsUnknown []string // account names (ids when unnamed)
}

// Complete: every audited user's keys are known.
func (t KeyTotal) Complete() bool { return t.UsersUnknown == 0 && len(t.AccountsUnknown) == 0 }

// KeyTotalOf counts the keys of the audited accounts (not audited, not reached and
// skipped accounts are listed apart), by the checks' rule of what is unknown.
// An account of a streamed run's summary (its users dropped, inventory.Omitted)
// is counted as unknown: KeyTotalWith counts it from its score.
func KeyTotalOf(inv *inventory.Inventory) KeyTotal { return keyTotal(inv, nil) }

// KeyTotalWith is KeyTotalOf for an outcome whose accounts may be summarised (a
// streamed run's summary): a summarised account's keys are its score's
// (LongTermKeys: every key of every user), and its users whose keys are unknown are
// those a gap says so of.
func KeyTotalWith(inv *inventory.Inventory, scores score.Scores) KeyTotal {
	return keyTotal(inv, &scores)
}

func keyTotal(inv *inventory.Inventory, scores *score.Scores) KeyTotal {
	var t KeyTotal
	for _, a := range inv.Accounts {
		if a.Status != inventory.StatusAudited && a.Status != inventory.StatusPartial {
			continue
		}
		for _, u := range a.Users {
			t.Found += len(u.AccessKeys)
		}
		scored := false
		if a.Omitted != nil && scores != nil {
			var s score.Score
			if s, scored = scores.Account(a.ID); scored {
				t.Found += s.LongTermKeys
			}
		}
		if (a.Omitted != nil && a.Omitted.Users > 0 && !scored) || wholeAccountKeysUnknown(&a) {
			name := a.Name
			if name == "" {
				name = a.ID
			}
			t.AccountsUnknown = append(t.AccountsUnknown, name)
			continue
		}
		if a.Omitted != nil {
			t.UsersUnknown += len(keysUnknownUsers(&a))
			continue
		}
		for _, u := range a.Users {
			if len(u.AccessKeys) == 0 && unknownFor(&a, u.Name, inventory.FieldAccessKeys) {
				t.UsersUnknown++
			}
		}
	}
	return t
}

// keysUnknownUsers are the users a gap leaves the keys of unknown.
func keysUnknownUsers(a *inventory.Account) map[string]bool {
	out := map[string]bool{}
	for _, g := range a.Gaps {
		if g.Subject != "" && (g.Leaves(inventory.FieldAccessKeys) || g.Leaves(inventory.FieldUsers)) {
			out[g.Subject] = true
		}
	}
	return out
}

// wholeAccountKeysUnknown: an account-wide gap (no subject) leaves the user list or
// every user's keys unknown.
func wholeAccountKeysUnknown(a *inventory.Account) bool {
	for _, g := range a.Gaps {
		if g.Subject == "" && (g.Leaves(inventory.FieldUsers) || g.Leaves(inventory.FieldAccessKeys)) {
			return true
		}
	}
	return false
}

// TotalKeysLine is the console's total of access keys: the seed's line when every
// key is known, else "at least N; keys of M users unknown".
func TotalKeysLine(inv *inventory.Inventory, m Messages) string {
	return totalKeysLine(KeyTotalOf(inv), m)
}

// TotalKeysLineWith is TotalKeysLine for an outcome whose accounts may be summarised
// (KeyTotalWith).
func TotalKeysLineWith(inv *inventory.Inventory, scores score.Scores, m Messages) string {
	return totalKeysLine(KeyTotalWith(inv, scores), m)
}

func totalKeysLine(t KeyTotal, m Messages) string {
	if t.Complete() {
		return fmt.Sprintf(m.TotalKeys, t.Found)
	}
	var parts []string
	if t.UsersUnknown > 0 {
		parts = append(parts, count(t.UsersUnknown, m.User, m.Users))
	}
	if len(t.AccountsUnknown) > 0 {
		parts = append(parts, fmt.Sprintf(m.TotalKeysUnknownAccounts, strings.Join(t.AccountsUnknown, ", ")))
	}
	return fmt.Sprintf(m.TotalKeysUnknown, t.Found, strings.Join(parts, "; "))
}

// count is "1 user", "10 users".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// EventCount is the number of CloudTrail events collected.
func EventCount(inv *inventory.Inventory) int {
	n := 0
	for _, a := range inv.Accounts {
		n += len(a.Events)
		if a.Omitted != nil {
			n += a.Omitted.Events // a streamed run's summary: written, then dropped
		}
	}
	return n
}

// unknownFor tells whether a field of a user could not be collected, by the checks'
// own rule (checks.UserGap).
func unknownFor(a *inventory.Account, user string, f inventory.Field) bool {
	_, unknown := checks.UserGap(a, user, f)
	return unknown
}

// seedIAMFormat is the seed's iam_audit_report CSV (docs/seed-contract.md).
var seedIAMFormat = Format{
	Name:        "seed-iam-csv",
	Description: "one row per access key (and per user without keys), the seed script's columns",
	FileName:    IAMReportName,
	Write: func(w io.Writer, o *outcome.Outcome, m Messages) error {
		return WriteCSV(w, IAMReportHeader, IAMReportRows(o.Inventory, m))
	},
	Stream: func(w io.Writer, _ *outcome.Outcome, m Messages) (Streamer, error) {
		return newAccountCSV(w, IAMReportHeader, func(inv *inventory.Inventory) [][]string { return IAMReportRows(inv, m) })
	},
}

// seedEventsFormat is the seed's cloudtrail_events CSV (docs/seed-contract.md).
var seedEventsFormat = Format{
	Name:        "seed-events-csv",
	Description: "the CloudTrail IAM events of the window, the seed script's columns",
	FileName:    EventsReportName,
	Write: func(w io.Writer, o *outcome.Outcome, _ Messages) error {
		return WriteCSV(w, EventsReportHeader, EventRows(o.Inventory))
	},
	Stream: func(w io.Writer, _ *outcome.Outcome, _ Messages) (Streamer, error) {
		return newAccountCSV(w, EventsReportHeader, EventRows)
	},
}

// accountCSV streams a CSV whose rows are grouped by account in the inventory's
// order (the seed's two reports): each part's rows are spooled as the account
// finishes and copied in the Organization's account order at Close, so the file is
// byte for byte Write's whatever order the accounts finish in. Parts of accounts the
// summary does not list (none, in a run) follow, in the order they came.
type accountCSV struct {
	w      io.Writer
	header []string
	rows   func(*inventory.Inventory) [][]string
	sp     *spool
	buf    bytes.Buffer
}

func newAccountCSV(w io.Writer, header []string, rows func(*inventory.Inventory) [][]string) (*accountCSV, error) {
	sp, err := newSpool(w)
	if err != nil {
		return nil, err
	}
	return &accountCSV{w: w, header: header, rows: rows, sp: sp}, nil
}

func (c *accountCSV) Account(p outcome.Part) error {
	c.buf.Reset()
	if err := writeRows(csv.NewWriter(&c.buf), c.rows(&inventory.Inventory{Accounts: []inventory.Account{*p.Account}})); err != nil {
		return err
	}
	if !c.sp.has(p.Account.ID) {
		c.sp.order = append(c.sp.order, p.Account.ID) // an account without rows is still listed
		c.sp.keys[p.Account.ID] = nil
	}
	return c.sp.add(p.Account.ID, c.buf.Bytes())
}

func (c *accountCSV) Close(o *outcome.Outcome) error {
	defer c.sp.close()
	cw := csv.NewWriter(c.w)
	if err := cw.Write(c.header); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	done := map[string]bool{}
	for _, a := range o.Inventory.Accounts {
		if done[a.ID] {
			continue
		}
		done[a.ID] = true
		if _, err := c.sp.copy(c.w, a.ID, 0); err != nil {
			return err
		}
	}
	for _, id := range c.sp.order {
		if !done[id] {
			if _, err := c.sp.copy(c.w, id, 0); err != nil {
				return err
			}
		}
	}
	return c.sp.close()
}
