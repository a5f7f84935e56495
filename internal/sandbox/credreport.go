package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"time"
)

// credReport is a credential report: a snapshot of the account taken when generation
// started, available once ready.
type credReport struct {
	started, ready time.Time
	content        []byte
	// encoded is content in base64, as GetCredentialReport returns it: encoded once
	// per generation, not per request.
	encoded string
}

func newCredReport(started, ready time.Time, content []byte) *credReport {
	return &credReport{started: started, ready: ready, content: content, encoded: base64.StdEncoding.EncodeToString(content)}
}

// credReportColumns are AWS's credential report columns, in AWS's order.
var credReportColumns = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
	"password_next_rotation", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

func (c *call) generateCredentialReport(a *account, b *xw) *apiError {
	r := a.report
	switch {
	case r != nil && c.now.Sub(r.started) < reportReuse && !c.now.Before(r.ready):
		b.el("State", "COMPLETE")
	case r != nil && c.now.Sub(r.started) < reportReuse:
		b.el("State", "INPROGRESS")
		b.el("Description", "Report generation in progress")
	default:
		a.report = newCredReport(c.now, c.now.Add(c.s.knobs.ReportGeneration.Duration), buildCredentialReport(a, c.partition(), c.now))
		b.el("State", "STARTED")
		b.el("Description", "No report exists. Starting a new report generation task")
	}
	return nil
}

func (c *call) getCredentialReport(a *account, b *xw) *apiError {
	r := a.report
	if r == nil {
		return errf(410, "ReportNotPresent", "Credential report not present. Call GenerateCredentialReport first.")
	}
	if c.now.Before(r.ready) {
		return errf(404, "ReportInProgress", "Credential report is being generated. Try again later.")
	}
	// Assumption: a report is served for as long as GenerateCredentialReport would reuse
	// it (4 hours from its start). AWS documents ReportExpired but not the age at which
	// a report expires; answering it then keeps the report at most 4 hours stale.
	if c.now.Sub(r.started) >= reportReuse {
		return errf(410, "ReportExpired", "Credential report has expired. Call GenerateCredentialReport to generate a new one.")
	}
	b.open("Content")
	b.raw(r.encoded) // base64: nothing to escape
	b.close("Content")
	b.el("ReportFormat", "text/csv")
	b.elTime("GeneratedTime", r.ready)
	return nil
}

func reportTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

func reportTimeOr(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return reportTime(*t)
}

// keyColumns renders the five columns of access_key_N (nil key: none) as of asOf: a
// last use after it is not in the report.
func keyColumns(k *key, asOf time.Time) []string {
	if k == nil {
		return []string{"false", "N/A", "N/A", "N/A", "N/A"}
	}
	cols := []string{fmt.Sprint(k.status == "Active"), reportTime(k.created), "N/A", "N/A", "N/A"}
	if k.lastRotatedNA {
		cols[1] = "N/A" // as AWS writes it for some keys that are not active
	}
	if lu := before(k.lastUsed, asOf); lu != nil {
		cols[2], cols[3], cols[4] = reportTime(*lu), orDefault(k.region, "N/A"), orDefault(k.service, "N/A")
	}
	return cols
}

// before is t when it is not after asOf, else nil: a report generated at asOf cannot
// show a later use.
func before(t *time.Time, asOf time.Time) *time.Time {
	if t == nil || t.After(asOf) {
		return nil
	}
	return t
}

// slots returns the keys in credential report slots 1 and 2 (nil: an empty slot): a
// key keeps its slot until it is deleted, so a user whose key 1 was deleted has its
// other key in slot 2 alone.
func slots(keys []*key) (k1, k2 *key) {
	for _, k := range keys {
		switch k.slot {
		case 1:
			k1 = k
		case 2:
			k2 = k
		}
	}
	return k1, k2
}

// buildCredentialReport renders the account's credential report CSV as AWS does:
// the <root_account> row first, then one row per user by name. It shows the account
// as it is, generated at asOf (now, or a scenario's earlier report time: uses after
// asOf are left out).
func buildCredentialReport(a *account, partition string, asOf time.Time) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(credReportColumns)
	rk1, rk2 := slots(a.root.keys)
	// The root's password_enabled is always not_supported; password_last_used is N/A
	// when it has no password, no_information when it has one never used.
	pwUsed := reportTimeOr(before(a.root.passwordLastUsed, asOf), "no_information")
	if a.root.noPassword {
		pwUsed = "N/A"
	}
	root := []string{"<root_account>", fmt.Sprintf("arn:%s:iam::%s:root", partition, a.id), reportTime(a.root.created),
		"not_supported", pwUsed, "not_supported", "not_supported",
		fmt.Sprint(a.root.mfa != "" && a.root.mfa != "none")}
	root = append(root, keyColumns(rk1, asOf)...)
	root = append(root, keyColumns(rk2, asOf)...)
	root = append(root, "false", "N/A", "false", "N/A")
	_ = w.Write(root)
	for _, u := range a.sortedUsers() {
		row := []string{u.name, a.arn(partition, "user", u.path, u.name), reportTime(u.created)}
		if u.password == nil {
			row = append(row, "false", "N/A", "N/A", "N/A")
		} else {
			next := "N/A"
			if p := a.passwordPolicy; p != nil && p.MaxPasswordAge > 0 {
				next = reportTime(u.password.lastChanged().AddDate(0, 0, p.MaxPasswordAge))
			}
			row = append(row, "true", reportTimeOr(before(u.password.lastUsed, asOf), "no_information"), reportTime(u.password.lastChanged()), next)
		}
		row = append(row, fmt.Sprint(len(u.mfa) > 0))
		k1, k2 := slots(u.keys)
		row = append(row, keyColumns(k1, asOf)...)
		row = append(row, keyColumns(k2, asOf)...)
		row = append(row, "false", "N/A", "false", "N/A")
		_ = w.Write(row)
	}
	w.Flush()
	return buf.Bytes()
}
