// Package credreport parses the IAM credential report (the CSV returned by
// iam:GetCredentialReport) into typed rows, and turns a report alone into an
// inventory account for offline analysis.
//
// Columns are located by name, so a changed column order or extra columns are
// tolerated; a missing required column is an error. The sentinels AWS writes
// (N/A, no_information, not_supported) become nil times and empty strings; where a
// check needs to tell them apart, the raw sentinel is kept in an ...Info field.
package credreport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// RootUser is the user name of the root user's row.
const RootUser = "<root_account>"

// Sentinels written by AWS in place of a value.
const (
	NA             = "N/A"
	NoInformation  = "no_information"
	NotSupported   = "not_supported"
	utf8BOM        = "\uFEFF"
	maxKeyOrCertNo = 2
)

// Report is a parsed credential report.
type Report struct {
	// Columns is the header as read (after removing a BOM).
	Columns []string
	// Rows are the data rows in file order; the root user's row (if any) is among them.
	Rows []Row
	// GeneratedAt is when AWS generated the report (GetCredentialReport's
	// GeneratedTime). Parse leaves it zero; the caller that fetched the report sets it.
	GeneratedAt time.Time
}

// Row is one line of the report: one IAM user, or the root user.
type Row struct {
	User             string
	ARN              string
	IsRoot           bool
	UserCreationTime time.Time

	// PasswordEnabled is the password_enabled column; PasswordEnabledKnown is false
	// when it holds not_supported (the root user's row).
	PasswordEnabled      bool
	PasswordEnabledKnown bool
	PasswordLastUsed     *time.Time
	// PasswordLastUsedInfo is the raw sentinel when PasswordLastUsed is nil:
	// "N/A" (no password), "no_information" (never used, or not since Oct 2014),
	// "not_supported"; "" when a date was present.
	PasswordLastUsedInfo string
	PasswordLastChanged  *time.Time
	// PasswordNextRotation is nil when the column is absent or holds a sentinel.
	PasswordNextRotation *time.Time
	MFAActive            bool

	AccessKeys [maxKeyOrCertNo]KeySlot
	Certs      [maxKeyOrCertNo]CertSlot

	// Line is the 1-based line of the file the row starts on.
	Line int
}

// KeySlot is one of the two access key slots of a row.
type KeySlot struct {
	Active       bool
	LastRotated  *time.Time
	LastUsedDate *time.Time
	// LastUsedInfo is the raw sentinel when LastUsedDate is nil ("N/A" means the
	// key was never used, or the slot holds no key); "" when a date was present.
	LastUsedInfo    string
	LastUsedRegion  string
	LastUsedService string
}

// Present reports whether the slot holds a key: it is active, or it has a
// last_rotated date, or it has a last_used_date (AWS leaves last_rotated N/A for
// some inactive keys: a slot that was used holds a key all the same).
func (k KeySlot) Present() bool { return k.Active || k.LastRotated != nil || k.LastUsedDate != nil }

// CertSlot is one of the two signing certificate slots of a row.
type CertSlot struct {
	Active      bool
	LastRotated *time.Time
}

// Present reports whether the slot holds a signing certificate.
func (c CertSlot) Present() bool { return c.Active || c.LastRotated != nil }

// Root returns the <root_account> row, if the report has one.
func (r *Report) Root() (Row, bool) {
	for _, row := range r.Rows {
		if row.IsRoot {
			return row, true
		}
	}
	return Row{}, false
}

// Users returns the IAM users' rows (every row but the root's), in file order.
func (r *Report) Users() []Row {
	out := make([]Row, 0, len(r.Rows))
	for _, row := range r.Rows {
		if !row.IsRoot {
			out = append(out, row)
		}
	}
	return out
}

// User returns the row of the named IAM user.
func (r *Report) User(name string) (Row, bool) {
	for _, row := range r.Rows {
		if !row.IsRoot && row.User == name {
			return row, true
		}
	}
	return Row{}, false
}

// required columns: without any of them the report cannot be interpreted.
var required = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used",
	"password_last_changed", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
	"access_key_2_last_used_region", "access_key_2_last_used_service",
}

// optional columns: read when present.
var optional = []string{
	"password_next_rotation",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

// Parse reads a credential report CSV. The header row is required. Errors name the
// line: `line 7: access_key_1_last_rotated: invalid date "2018-13-45"`.
func Parse(r io.Reader) (*Report, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read credential report: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte(utf8BOM))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("credential report is empty: a header row is required")
	}
	if err != nil {
		return nil, csvError(err)
	}
	cols, err := indexColumns(header)
	if err != nil {
		return nil, err
	}
	rep := &Report{Columns: append([]string(nil), header...)}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		row, err := parseRow(rec, cols)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		row.Line = line
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d: %w", pe.Line, pe.Err)
	}
	return fmt.Errorf("read credential report: %w", err)
}

// columns maps a column name to its index in a record.
type columns map[string]int

func indexColumns(header []string) (columns, error) {
	cols := make(columns, len(header))
	var dups []string
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if _, dup := cols[name]; dup {
			dups = append(dups, name)
			continue
		}
		cols[name] = i
	}
	var missing []string
	for _, name := range required {
		if _, ok := cols[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("line 1: not a credential report header: missing column(s) %s", strings.Join(missing, ", "))
	}
	// A repeated column we read would be ambiguous; a repeated unknown one is ignored.
	for _, name := range dups {
		if slices.Contains(required, name) || slices.Contains(optional, name) {
			return nil, fmt.Errorf("line 1: duplicate column %q in the credential report header", name)
		}
	}
	return cols, nil
}

// get returns the named column of rec, or "" when the column is absent.
func (c columns) get(rec []string, name string) string {
	i, ok := c[name]
	if !ok || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

func (c columns) has(name string) bool { _, ok := c[name]; return ok }

func parseRow(rec []string, c columns) (Row, error) {
	var row Row
	var err error
	row.User = c.get(rec, "user")
	if row.User == "" {
		return row, errors.New("user: empty")
	}
	row.IsRoot = row.User == RootUser
	row.ARN = c.get(rec, "arn")
	if row.UserCreationTime, err = date(c, rec, "user_creation_time"); err != nil {
		return row, err
	}
	switch v := c.get(rec, "password_enabled"); {
	case isSentinel(v):
		row.PasswordEnabledKnown = false
	default:
		if row.PasswordEnabled, err = boolean("password_enabled", v); err != nil {
			return row, err
		}
		row.PasswordEnabledKnown = true
	}
	if row.PasswordLastUsed, row.PasswordLastUsedInfo, err = optDate(c, rec, "password_last_used"); err != nil {
		return row, err
	}
	if row.PasswordLastChanged, _, err = optDate(c, rec, "password_last_changed"); err != nil {
		return row, err
	}
	if c.has("password_next_rotation") {
		if row.PasswordNextRotation, _, err = optDate(c, rec, "password_next_rotation"); err != nil {
			return row, err
		}
	}
	if row.MFAActive, err = boolean("mfa_active", c.get(rec, "mfa_active")); err != nil {
		return row, err
	}
	for i := range row.AccessKeys {
		if row.AccessKeys[i], err = keySlot(c, rec, i+1); err != nil {
			return row, err
		}
	}
	for i := range row.Certs {
		if row.Certs[i], err = certSlot(c, rec, i+1); err != nil {
			return row, err
		}
	}
	return row, nil
}

func keySlot(c columns, rec []string, n int) (KeySlot, error) {
	var k KeySlot
	var err error
	p := fmt.Sprintf("access_key_%d_", n)
	if k.Active, err = boolean(p+"active", c.get(rec, p+"active")); err != nil {
		return k, err
	}
	if k.LastRotated, _, err = optDate(c, rec, p+"last_rotated"); err != nil {
		return k, err
	}
	if k.LastUsedDate, k.LastUsedInfo, err = optDate(c, rec, p+"last_used_date"); err != nil {
		return k, err
	}
	k.LastUsedRegion = value(c.get(rec, p+"last_used_region"))
	k.LastUsedService = value(c.get(rec, p+"last_used_service"))
	return k, nil
}

func certSlot(c columns, rec []string, n int) (CertSlot, error) {
	var s CertSlot
	var err error
	p := fmt.Sprintf("cert_%d_", n)
	if c.has(p + "active") {
		if s.Active, err = boolean(p+"active", c.get(rec, p+"active")); err != nil {
			return s, err
		}
	}
	if c.has(p + "last_rotated") {
		if s.LastRotated, _, err = optDate(c, rec, p+"last_rotated"); err != nil {
			return s, err
		}
	}
	return s, nil
}

func isSentinel(v string) bool {
	switch v {
	case NA, NoInformation, NotSupported:
		return true
	}
	return false
}

// value maps a sentinel to "".
func value(v string) string {
	if isSentinel(v) {
		return ""
	}
	return v
}

func boolean(col, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%s: invalid boolean %q", col, v)
}

// date parses a column that must hold a date.
func date(c columns, rec []string, col string) (time.Time, error) {
	v := c.get(rec, col)
	t, err := parseTime(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: invalid date %q", col, v)
	}
	return t, nil
}

// optDate parses a column that holds a date or a sentinel; it returns the raw
// sentinel when there is no date. An empty cell counts as N/A.
func optDate(c columns, rec []string, col string) (*time.Time, string, error) {
	v := c.get(rec, col)
	if v == "" {
		return nil, NA, nil
	}
	if isSentinel(v) {
		return nil, v, nil
	}
	t, err := parseTime(v)
	if err != nil {
		return nil, "", fmt.Errorf("%s: invalid date %q", col, v)
	}
	return &t, "", nil
}

// parseTime accepts the ISO 8601 forms AWS writes (2014-09-01T22:28:48+00:00,
// with optional fractional seconds, or Z) and returns UTC.
func parseTime(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}
