// Package importer reads earlier outputs back as inventories: the original script's
// iam_audit_report_*.csv and cloudtrail_events_*.csv (English or Spanish words,
// docs/seed-contract.md), which iamaudit writes too, and iamaudit's run JSON files.
// `iamaudit import` stores them as runs; `iamaudit diff` compares them.
//
// What a seed report cannot tell is recorded as typed gaps (inventory.NewGap), never
// as "none": groups, policies, tags, roles, the root user, the password policy, when
// users were created, each MFA device, the Organization's account list, and, in the
// original script's files, users without access keys and the MFA device types
// (docs/diff-trend-import.md, "What an imported seed report leaves unknown").
package importer

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/report"
)

// SeedEventNames are the CloudTrail event names the original script looked up
// (docs/seed-contract.md).
var SeedEventNames = []string{"DeleteUser", "DeleteAccessKey", "DeleteLoginProfile", "CreateAccessKey", "CreateUser"}

// cloudTrailHistory is how far back CloudTrail event history (LookupEvents) goes:
// 90 days (docs/aws-facts.md). A seed run's window cannot start earlier.
const cloudTrailHistory = 90 * 24 * time.Hour

var (
	seedReportRe = regexp.MustCompile(`^iam_audit_report_(\d{8}_\d{6}(?:_\d+)?)\.csv$`)
	seedEventsRe = regexp.MustCompile(`^cloudtrail_events_(\d{8}_\d{6}(?:_\d+)?)\.csv$`)
	runJSONRe    = regexp.MustCompile(`^iamaudit_(\d{8}_\d{6}(?:_\d+)?)\.json$`)
)

// SeedRunID is the run id in a seed report's or events file's name
// (iam_audit_report_20260305_143022.csv → 20260305_143022), "" for another name.
func SeedRunID(path string) string {
	base := filepath.Base(path)
	for _, re := range []*regexp.Regexp{seedReportRe, seedEventsRe} {
		if m := re.FindStringSubmatch(base); m != nil {
			return m[1]
		}
	}
	return ""
}

// RunTime is the time a run id names (its start, UTC).
func RunTime(runID string) (time.Time, error) {
	t, err := time.Parse(inventory.RunIDLayout, runID[:min(len(runID), len(inventory.RunIDLayout))])
	if err != nil {
		return time.Time{}, fmt.Errorf("run id %q is not of the form YYYYMMDD_HHMMSS", runID)
	}
	return t.UTC(), nil
}

// words are the seed report's values in both languages (report.Messages): a file
// may be in either, and the words of the two never collide.
type words struct {
	configured, notConfigured, never, neverUsed, unknown map[string]bool
}

func seedWords() words {
	w := words{map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}}
	for _, lang := range []string{"en", "es"} {
		m, _ := report.MessagesFor(lang)
		w.configured[m.PasswordConfigured] = true
		w.notConfigured[m.PasswordNotConfigured] = true
		w.never[m.PasswordNever] = true
		w.neverUsed[m.KeyNeverUsed] = true
		w.unknown[m.Unknown] = true
	}
	return w
}

// SeedOptions tune ReadSeed.
type SeedOptions struct {
	// Version is this iamaudit's version (the inventory's).
	Version string
	// CloudTrailSince is the start date written in the original script (it looked
	// up events from a fixed date): with it, an events file's window is known (from
	// that date, or 90 days before the run when later). Zero: the window's start is
	// unknown, and event counts built on it are lower bounds.
	CloudTrailSince time.Time
}

// SeedError is a line of a seed file that cannot be read.
type SeedError struct {
	File string
	Line int
	Msg  string
}

func (e *SeedError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// row is one data row of a seed report, by column name.
type row struct {
	line int
	get  func(col string) (string, bool)
}

// readCSV reads a header and rows; columns are found by name, so files of the
// script's versions with fewer columns (no password_last_used) are read too.
func readCSV(name string, data []byte, required []string) ([]row, map[string]bool, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, &SeedError{File: name, Msg: "empty file: a seed report has at least its header line"}
	}
	if err != nil {
		return nil, nil, &SeedError{File: name, Line: 1, Msg: err.Error()}
	}
	cols := map[string]int{}
	for i, h := range header {
		cols[strings.TrimSpace(h)] = i
	}
	for _, r := range required {
		if _, ok := cols[r]; !ok {
			return nil, nil, &SeedError{File: name, Line: 1, Msg: fmt.Sprintf("no %q column (the header is %s)", r, strings.Join(header, ","))}
		}
	}
	present := map[string]bool{}
	for c := range cols {
		present[c] = true
	}
	var rows []row
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, nil, &SeedError{File: name, Line: pe.Line, Msg: pe.Err.Error()}
			}
			return nil, nil, &SeedError{File: name, Msg: err.Error()}
		}
		line, _ := cr.FieldPos(0)
		rows = append(rows, row{line: line, get: func(col string) (string, bool) {
			i, ok := cols[col]
			if !ok || i >= len(rec) {
				return "", false
			}
			return strings.TrimSpace(rec[i]), true
		}})
	}
	return rows, present, nil
}

// unescape undoes the writers' CSV-injection guard: a cell that began with = + - @
// TAB or CR was written with a "'" before it (report.SafeCell). IAM names cannot
// hold "'", so a "'" before one of those characters is always the guard.
func unescape(s string) string {
	if len(s) >= 2 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}

// seedTime reads a seed date: "2026-03-04 15:30:00" (UTC, as iamaudit and the seed
// documents write it), or Python's str() of an AWS time as the original script
// wrote it ("2026-03-04 15:30:00+00:00", maybe with microseconds).
func seedTime(v string) (t time.Time, offset bool, err error) {
	for _, layout := range []string{report.DateLayout, "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), false, nil
		}
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("%q is not a date (YYYY-MM-DD HH:MM:SS)", v)
}

// seedUser is what the rows of one user say.
type seedUser struct {
	user     inventory.User
	mfaType  string // Virtual, Hardware, None, or "" when unknown
	password string // what password_status said, to catch rows that disagree
	mfaCell  string
	gaps     []inventory.Field
	line     int
}

type seedAccount struct {
	id, name string
	users    []*seedUser
	byName   map[string]*seedUser
}

// ReadSeed reads an iam_audit_report CSV (and its cloudtrail_events CSV, events
// nil when there is none) as the inventory of the run its file name names.
func ReadSeed(reportName string, reportData []byte, eventsName string, eventsData []byte, opts SeedOptions) (*inventory.Inventory, error) {
	runID := SeedRunID(reportName)
	if runID == "" || !seedReportRe.MatchString(filepath.Base(reportName)) {
		return nil, &SeedError{File: reportName, Msg: "cannot tell the run's time: a seed report is named iam_audit_report_YYYYMMDD_HHMMSS.csv (the run's start, UTC)"}
	}
	at, err := RunTime(runID)
	if err != nil {
		return nil, &SeedError{File: reportName, Msg: err.Error()}
	}
	rows, present, err := readCSV(reportName, reportData, []string{"account_id", "username", "access_key_id", "status", "created_date"})
	if err != nil {
		return nil, err
	}
	w := seedWords()
	var accounts []*seedAccount
	byID := map[string]*seedAccount{}
	// Evidence of who wrote the file: iamaudit writes a row for a user without keys
	// and says Unknown; the original script wrote neither, and wrote dates as Python
	// does ("+00:00").
	keyless, unknownWord, pythonDates := false, false, false
	bad := func(r row, format string, a ...any) error {
		return &SeedError{File: reportName, Line: r.line, Msg: fmt.Sprintf(format, a...)}
	}
	for _, r := range rows {
		acctID, _ := r.get("account_id")
		name, _ := r.get("username")
		name = unescape(name)
		if acctID == "" && name == "" {
			continue // a blank line
		}
		if !accountIDRe.MatchString(acctID) {
			return nil, bad(r, "account_id %q is not a 12-digit account id", acctID)
		}
		if name == "" {
			return nil, bad(r, "no username")
		}
		a := byID[acctID]
		if a == nil {
			acctName, _ := r.get("account_name")
			a = &seedAccount{id: acctID, name: unescape(acctName), byName: map[string]*seedUser{}}
			if a.name == "" {
				a.name = acctID
			}
			byID[acctID] = a
			accounts = append(accounts, a)
		}
		u := a.byName[name]
		if u == nil {
			u = &seedUser{line: r.line, user: inventory.User{Name: name, ARN: "arn:aws:iam::" + acctID + ":user/" + name,
				MFADevices: []inventory.MFADevice{}, AccessKeys: []inventory.AccessKey{}, Groups: []string{},
				AttachedPolicies: []inventory.AttachedPolicy{}, InlinePolicies: []inventory.InlinePolicy{}}}
			a.byName[name] = u
			a.users = append(a.users, u)
			if v, ok := r.get("password_status"); ok {
				u.password = v
				switch {
				case w.configured[v]:
					u.user.PasswordEnabled = true
				case w.notConfigured[v]:
				case w.unknown[v]:
					unknownWord = true
					u.gaps = append(u.gaps, inventory.FieldPassword)
				default:
					return nil, bad(r, "password_status %q: expected Configured, Not configured, Configurada, No configurada, Unknown or Desconocido", v)
				}
			}
			if v, ok := r.get("password_last_used"); ok {
				switch {
				case w.never[v] || v == "N/A" || v == "":
				case w.unknown[v]:
					unknownWord = true
					u.gaps = append(u.gaps, inventory.FieldPasswordLastUsed)
				default:
					t, off, err := seedTime(v)
					if err != nil {
						return nil, bad(r, "password_last_used: %v, Never, Nunca, Unknown or Desconocido", err)
					}
					pythonDates = pythonDates || off
					u.user.PasswordLastUsed = &t
				}
			}
			if v, ok := r.get("mfa_status"); ok {
				u.mfaCell = v
				switch {
				case v == inventory.MFAVirtual || v == inventory.MFAHardware:
					u.user.MFAActive, u.mfaType = true, v
				case v == inventory.MFANone:
					u.mfaType = inventory.MFANone
				case w.unknown[v]:
					unknownWord = true
					u.gaps = append(u.gaps, inventory.FieldMFA)
				default:
					return nil, bad(r, "mfa_status %q: expected Virtual, Hardware, None, Unknown or Desconocido", v)
				}
			}
		} else {
			if v, _ := r.get("password_status"); v != u.password {
				return nil, bad(r, "user %s has password_status %q here and %q on line %d", name, v, u.password, u.line)
			}
			if v, _ := r.get("mfa_status"); v != u.mfaCell {
				return nil, bad(r, "user %s has mfa_status %q here and %q on line %d", name, v, u.mfaCell, u.line)
			}
		}
		id, _ := r.get("access_key_id")
		status, _ := r.get("status")
		created, _ := r.get("created_date")
		if id == "" && status == "" && created == "" {
			keyless = true // iamaudit's row for a user without keys (defect 1 fixed)
			continue
		}
		k := inventory.AccessKey{ID: unescape(id), Status: status}
		switch status {
		case inventory.KeyActive, inventory.KeyInactive, inventory.KeyExpired:
		default:
			return nil, bad(r, "status %q: expected Active, Inactive or Expired", status)
		}
		t, off, err := seedTime(created)
		if err != nil {
			return nil, bad(r, "created_date: %v", err)
		}
		pythonDates = pythonDates || off
		k.CreatedAt = t
		if k.ID == "" {
			u.gaps = append(u.gaps, inventory.FieldKeyIDs) // iamaudit kept a key whose id could not be listed
		}
		if v, ok := r.get("last_used_date"); ok {
			switch {
			case w.neverUsed[v] || v == "N/A" || v == "":
			case w.unknown[v]:
				unknownWord = true
				u.gaps = append(u.gaps, inventory.FieldKeyLastUse)
			default:
				t, off, err := seedTime(v)
				if err != nil {
					return nil, bad(r, "last_used_date: %v, Never used, Nunca utilizada, Unknown or Desconocido", err)
				}
				pythonDates = pythonDates || off
				k.LastUsedAt = &t
			}
		}
		if v, ok := r.get("service_name"); ok && v != "N/A" && !w.unknown[v] {
			k.LastUsedService = unescape(v)
		}
		u.user.AccessKeys = append(u.user.AccessKeys, k)
	}
	byScript := !(keyless || unknownWord) || pythonDates
	inv := &inventory.Inventory{Schema: inventory.Schema, Tool: "iamaudit", Version: opts.Version, RunID: runID,
		StartedAt: at, FinishedAt: at, Partition: "aws", EventWindowEnd: at, EventNames: []string{},
		Accounts: []inventory.Account{}, Gaps: []inventory.Gap{
			inventory.NewGap("", inventory.SectionOrganization, []inventory.Field{inventory.FieldOrganization, inventory.FieldAccounts},
				"a seed report names no Organization and lists only the accounts it has rows for: accounts that could not be audited (or, from the original script, whose users have no access keys) are not in it"),
		}}
	for _, a := range accounts {
		inv.Accounts = append(inv.Accounts, seedAccountOf(a, at, byScript, present))
	}
	if eventsData != nil {
		if err := readSeedEvents(inv, eventsName, eventsData, byScript, present); err != nil {
			return nil, err
		}
		names := append([]string{}, SeedEventNames...)
		for _, a := range inv.Accounts {
			for _, e := range a.Events {
				if !contains(names, e.Name) {
					names = append(names, e.Name)
				}
			}
		}
		inv.EventNames = names
		if !opts.CloudTrailSince.IsZero() {
			inv.EventWindowStart = opts.CloudTrailSince.UTC()
			if earliest := at.Add(-cloudTrailHistory); inv.EventWindowStart.Before(earliest) {
				inv.EventWindowStart = earliest
			}
		}
	} else {
		for i := range inv.Accounts {
			a := &inv.Accounts[i]
			a.Gaps = append(a.Gaps, inventory.NewGap(a.ID, inventory.SectionEvents, []inventory.Field{inventory.FieldEvents},
				"no cloudtrail_events_"+runID+".csv was imported with this report: the run's CloudTrail events are unknown"))
		}
	}
	return inv, nil
}

var accountIDRe = regexp.MustCompile(`^\d{12}$`)

// seedAccountOf builds an account of a seed report and the gaps of what the report
// cannot tell.
func seedAccountOf(a *seedAccount, at time.Time, byScript bool, present map[string]bool) inventory.Account {
	acct := emptyAccount(a.id, a.name, at)
	for _, su := range a.users {
		u := su.user
		if u.MFAActive && !byScript {
			// iamaudit's mfa_status: Virtual when any device is virtual, else Hardware.
			// One device of that type stands for them; its serial is unknown.
			u.MFADevices = []inventory.MFADevice{{Type: su.mfaType}}
		}
		acct.Users = append(acct.Users, u)
		for _, f := range dedupe(su.gaps) {
			acct.Gaps = append(acct.Gaps, userGap(a.id, u.Name, f))
		}
	}
	acct.Gaps = append(acct.Gaps, seedGaps(a.id, byScript, present)...)
	return acct
}

func emptyAccount(id, name string, at time.Time) inventory.Account {
	return inventory.Account{ID: id, Name: name, State: "ACTIVE", Status: inventory.StatusPartial, CollectedAt: at,
		Users: []inventory.User{}, Groups: []inventory.Group{}, Roles: []inventory.Role{}, Policies: []inventory.ManagedPolicy{},
		ServerCertificates: []inventory.ServerCertificate{}, Events: []inventory.Event{}, Gaps: []inventory.Gap{}}
}

// userGap: the report said Unknown (a gap of the run that wrote it) for a user's field.
func userGap(acct, user string, f inventory.Field) inventory.Gap {
	section := map[inventory.Field]inventory.Section{
		inventory.FieldPassword: inventory.SectionPassword, inventory.FieldPasswordLastUsed: inventory.SectionPassword,
		inventory.FieldMFA: inventory.SectionMFA, inventory.FieldKeyIDs: inventory.SectionAccessKeys,
		inventory.FieldKeyLastUse: inventory.SectionAccessKeys,
	}[f]
	msg := "the seed report says Unknown: the run that wrote it could not learn this"
	if f == inventory.FieldKeyIDs {
		msg = "the seed report has a key without its id: the run that wrote it could not list the keys"
	}
	g := inventory.NewGap(acct, section, []inventory.Field{f}, msg)
	g.Subject = user
	return g
}

// seedGaps are what a seed report cannot tell about any account, by nature (no
// operation failed).
func seedGaps(acct string, byScript bool, present map[string]bool) []inventory.Gap {
	g := func(section inventory.Section, msg string, unknown ...inventory.Field) inventory.Gap {
		return inventory.NewGap(acct, section, unknown, msg)
	}
	gaps := []inventory.Gap{
		g(inventory.SectionUsers, "a seed report has no groups, policies, permissions boundaries, tags or user creation dates",
			inventory.FieldUserPolicies, inventory.FieldUserGroups, inventory.FieldUserTags, inventory.FieldGroups, inventory.FieldUserCreated),
		g(inventory.SectionRoot, "a seed report has no root user", inventory.FieldRoot),
		g(inventory.SectionRoles, "a seed report has no roles", inventory.FieldRoles),
		g(inventory.SectionPolicies, "a seed report has no customer managed policies", inventory.FieldManagedPolicies),
		g(inventory.SectionPasswordPolicy, "a seed report has no password policy", inventory.FieldPasswordPolicy),
		g(inventory.SectionSummary, "a seed report has no account summary", inventory.FieldAccountSummary),
		g(inventory.SectionServerCertificates, "a seed report has no server certificates", inventory.FieldServerCertificates),
	}
	if byScript {
		gaps = append(gaps,
			g(inventory.SectionUsers, "the original script wrote a row per access key only: users without keys are not in its report (docs/seed-contract.md, defect 1)",
				inventory.FieldKeylessUsers),
			g(inventory.SectionMFA, "the original script guessed MFA device types from the serial number (docs/seed-contract.md, defect 2): the types are unknown",
				inventory.FieldMFATypes))
	} else {
		gaps = append(gaps, g(inventory.SectionMFA, "a seed report names one MFA type per user, not each device", inventory.FieldMFATypes))
	}
	for _, c := range []struct {
		col string
		f   inventory.Field
	}{{"password_status", inventory.FieldPassword}, {"password_last_used", inventory.FieldPasswordLastUsed},
		{"mfa_status", inventory.FieldMFA}, {"last_used_date", inventory.FieldKeyLastUse}} {
		if !present[c.col] {
			section := inventory.SectionPassword
			switch c.f {
			case inventory.FieldMFA:
				section = inventory.SectionMFA
			case inventory.FieldKeyLastUse:
				section = inventory.SectionAccessKeys
			}
			gaps = append(gaps, g(section, "this seed report has no "+c.col+" column", c.f))
		}
	}
	return gaps
}

// readSeedEvents adds a cloudtrail_events CSV's events to their accounts. An
// account with events but no row in the report was audited (its CloudTrail was
// read) and has no user in the report.
func readSeedEvents(inv *inventory.Inventory, name string, data []byte, byScript bool, present map[string]bool) error {
	rows, _, err := readCSV(name, data, []string{"eventTime", "eventName", "account_id"})
	if err != nil {
		return err
	}
	index := map[string]int{}
	for i, a := range inv.Accounts {
		index[a.ID] = i
	}
	at := inv.StartedAt
	for _, r := range rows {
		acctID, _ := r.get("account_id")
		when, _ := r.get("eventTime")
		evName, _ := r.get("eventName")
		if acctID == "" && when == "" && evName == "" {
			continue
		}
		if !accountIDRe.MatchString(acctID) {
			return &SeedError{File: name, Line: r.line, Msg: fmt.Sprintf("account_id %q is not a 12-digit account id", acctID)}
		}
		t, _, err := seedTime(when)
		if err != nil {
			return &SeedError{File: name, Line: r.line, Msg: "eventTime: " + err.Error()}
		}
		evName = unescape(evName)
		if evName == "" {
			return &SeedError{File: name, Line: r.line, Msg: "no eventName"}
		}
		i, ok := index[acctID]
		if !ok {
			acctName, _ := r.get("account_name")
			acct := emptyAccount(acctID, unescape(acctName), at)
			if acct.Name == "" {
				acct.Name = acctID
			}
			acct.Gaps = append(acct.Gaps, seedGaps(acctID, byScript, present)...)
			i = len(inv.Accounts)
			index[acctID] = i
			inv.Accounts = append(inv.Accounts, acct)
		}
		user, _ := r.get("username")
		user = unescape(user)
		if user == "N/A" {
			user = ""
		}
		res, _ := r.get("resources")
		e := inventory.Event{Time: t, Name: evName, Source: "iam.amazonaws.com", Username: user, Resources: []inventory.EventResource{}}
		if evName == "ConsoleLogin" {
			e.Source = "signin.amazonaws.com"
		}
		for _, n := range strings.Split(unescape(res), ", ") {
			if n = strings.TrimSpace(n); n != "" && n != "N/A" {
				e.Resources = append(e.Resources, inventory.EventResource{Name: n})
			}
		}
		e.ID = seedEventID(acctID, e, res)
		inv.Accounts[i].Events = append(inv.Accounts[i].Events, e)
	}
	return nil
}

// seedEventID is a stable id for an event of a seed file, which has none: the
// same event in the overlapping windows of two monthly files gets the same id, so
// that it is counted once (store.EventCounts). Two events with the same time,
// name, user and resources in one account are one event here.
func seedEventID(acct string, e inventory.Event, resources string) string {
	h := sha256.Sum256([]byte(strings.Join([]string{acct, e.Time.UTC().Format(time.RFC3339), e.Name, e.Username, resources}, "\x00")))
	return "seed-" + hex.EncodeToString(h[:8])
}

func dedupe(fs []inventory.Field) []inventory.Field {
	var out []inventory.Field
	for _, f := range fs {
		seen := false
		for _, o := range out {
			seen = seen || o == f
		}
		if !seen {
			out = append(out, f)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
