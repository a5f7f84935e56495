package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/diff"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/store"
	"github.com/iamaudit/iamaudit/internal/trend"
)

// seedKeyRows counts, per run id, the rows of a directory's iam_audit_report files
// that name an access key: the seed's "Total Access Keys found".
func seedKeyRows(t *testing.T, dir string) map[string]int {
	t.Helper()
	out := map[string]int{}
	paths, _ := filepath.Glob(filepath.Join(dir, "iam_audit_report_*.csv"))
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		id := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "iam_audit_report_"), ".csv")
		for sc.Scan() {
			if cols := strings.Split(sc.Text(), ","); len(cols) > 5 && cols[5] != "" {
				out[id]++
			}
		}
		f.Close()
	}
	return out
}

func trendJSON(t *testing.T, args ...string) trend.Trend {
	t.Helper()
	code, out, stderr := runCLI(t, append([]string{"trend", "--format", "json"}, args...)...)
	if code != ExitOK {
		t.Fatalf("trend: exit %d\n%s", code, stderr)
	}
	var tr trend.Trend
	if err := json.Unmarshal([]byte(out), &tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

// The original script's reports in Spanish, monthly, round-trip into a trend: its
// key counts are the reports' key rows, its event counts the events files' (each
// event once across the overlapping windows), and what the script could not tell is
// unknown. Importing them again adds no run.
func TestImportSeedSpanish(t *testing.T) {
	dir := filepath.Join("testdata", "seed", "es")
	db := filepath.Join(t.TempDir(), "team.db")
	code, out, stderr := runCLI(t, "import", "--db", db, "--cloudtrail-since", "2025-10-01", dir)
	if code != ExitOK {
		t.Fatalf("import: exit %d\n%s%s", code, out, stderr)
	}
	golden(t, "import/es-import.txt", []byte(strings.ReplaceAll(out, db, "TEAM.db")))
	tr := trendJSON(t, "--db", db, "--by", "run")
	rows := seedKeyRows(t, dir)
	if len(tr.Rows) != 3 {
		t.Fatalf("%d rows", len(tr.Rows))
	}
	for _, r := range tr.Rows {
		if r.Keys.Text("") != strconv.Itoa(rows[r.RunID]) {
			t.Errorf("%s: %s keys, the report has %d key rows", r.RunID, r.Keys.Text(""), rows[r.RunID])
		}
		// The script listed only users with keys and guessed MFA types: coverage,
		// inactive users and risk are unknown, never a number.
		if !r.MFACoverage.Unknown || !r.InactiveUsers.Unknown || r.Risk.Score != nil {
			t.Errorf("%s: coverage %+v, inactive %+v, risk %+v should be unknown", r.RunID, r.MFACoverage, r.InactiveUsers, r.Risk)
		}
	}
	// Between the runs: CreateAccessKey john.doe (Jan 20), DeleteAccessKey ×2 and
	// DeleteUser dev.temp (Jan 25); then DeleteAccessKey john.doe (Feb 10),
	// CreateAccessKey ci-bot (Feb 20). The windows are known (--cloudtrail-since).
	for i, want := range []string{"? ? ?", "1 2 1", "1 1 0"} {
		r := tr.Rows[i]
		got := r.Events["CreateAccessKey"].Text("") + " " + r.Events["DeleteAccessKey"].Text("") + " " + r.Events["DeleteUser"].Text("")
		if i > 0 && got != want {
			t.Errorf("%s events %s, want %s", r.RunID, got, want)
		}
	}
	code, out, _ = runCLI(t, "trend", "--db", db, "--format", "table")
	if code != ExitOK {
		t.Fatal(code)
	}
	golden(t, "import/es-trend.txt", []byte(out))

	// Again: nothing new.
	code, out, stderr = runCLI(t, "import", "--db", db, dir)
	if code != ExitOK || !strings.Contains(out, "Imported 0 runs") || strings.Count(out, "already in the store") != 3 {
		t.Fatalf("second import: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = runCLI(t, "history", "--db", db, "--format", "json")
	var runs []store.RunSummary
	if code != ExitOK || json.Unmarshal([]byte(out), &runs) != nil || len(runs) != 3 || runs[0].Source != store.SourceImport {
		t.Fatalf("history after two imports: %s", out)
	}

	// What the script could not tell is stored as unknown: the gaps are in the run.
	s, err := store.Open(context.Background(), db, store.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	inv, err := s.Inventory(context.Background(), "20260105_090000")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range inv.Accounts {
		for _, f := range []inventory.Field{inventory.FieldKeylessUsers, inventory.FieldMFATypes, inventory.FieldUserPolicies,
			inventory.FieldUserTags, inventory.FieldRoles, inventory.FieldRoot, inventory.FieldUserCreated, inventory.FieldPasswordPolicy} {
			if _, ok := accountWideGap(a, f); !ok {
				t.Errorf("%s: no gap leaves %s unknown", a.ID, f)
			}
		}
		for _, u := range a.Users {
			if len(u.MFADevices) != 0 {
				t.Errorf("%s: MFA devices %v from a report that guessed their types", u.Name, u.MFADevices)
			}
		}
	}
	o, err := s.Load(context.Background(), "20260105_090000")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range o.Findings {
		switch f.CheckID {
		case "user_without_owner", "root_mfa_disabled", "password_policy_weak", "user_admin_privileges", "unused_role":
			t.Errorf("a finding on data a seed report does not have: %s %s", f.CheckID, f.Resource)
		}
	}
}

func accountWideGap(a inventory.Account, f inventory.Field) (inventory.Gap, bool) {
	for _, g := range a.Gaps {
		if g.Subject == "" && g.Leaves(f) {
			return g, true
		}
	}
	return inventory.Gap{}, false
}

// iamaudit's own seed reports in English (a row for a user without keys, Unknown
// where a gap was): MFA coverage is known; a key's last use the report says
// Unknown is unknown, not never.
func TestImportSeedEnglish(t *testing.T) {
	dir := filepath.Join("testdata", "seed", "en")
	db := filepath.Join(t.TempDir(), "team.db")
	code, out, stderr := runCLI(t, "import", "--db", db, dir)
	if code != ExitOK || !strings.Contains(stderr, "--cloudtrail-since") {
		t.Fatalf("import: exit %d\n%s%s", code, out, stderr)
	}
	tr := trendJSON(t, "--db", db, "--by", "run")
	rows := seedKeyRows(t, dir)
	var got []string
	for _, r := range tr.Rows {
		if r.Keys.Text("") != strconv.Itoa(rows[r.RunID]) {
			t.Errorf("%s: %s keys, the report has %d key rows", r.RunID, r.Keys.Text(""), rows[r.RunID])
		}
		got = append(got, r.MFACoverage.Text("%")+" "+r.NeverUsedKeys.Text("")+" "+r.Events["CreateAccessKey"].Text(""))
	}
	// January: alice of 4 console users (bob, john.doe, dev.temp); February: alice,
	// bob and john.doe all have MFA; March: john.doe's key last use is Unknown. The
	// events files' window is unknown: their counts are lower bounds (none before
	// January 5; john.doe's key on January 20; ci-bot's on February 20).
	want := []string{"25% 2 unknown", "100% 1 unknown (at least 1)", "100% unknown (at least 3) unknown (at least 1)"}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("coverage, never-used keys, CreateAccessKey:\n got %q\nwant %q", got, want)
	}
	code, out, _ = runCLI(t, "trend", "--db", db, "--format", "csv")
	if code != ExitOK {
		t.Fatal(code)
	}
	golden(t, "import/en-trend.csv", []byte(out))
}

// A seed report and a credential report pair compared as files.
func TestDiffFiles(t *testing.T) {
	es := filepath.Join("testdata", "seed", "es")
	code, out, stderr := runCLI(t, "diff", filepath.Join(es, "iam_audit_report_20260105_090000.csv"), filepath.Join(es, "iam_audit_report_20260205_090000.csv"), "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var r diff.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Counts[diff.KeyRotated] != 1 || r.Counts[diff.KeyDeleted] != 2 || r.Counts[diff.UserRemoved] != 0 || r.Counts[diff.MFAAdded] != 1 {
		t.Errorf("counts %v", r.Counts)
	}
	dir := t.TempDir()
	a := writeFile(t, dir, "cred-report-2026-01-12.csv", crHeader+
		"alice,arn:aws:iam::111122223333:user/alice,2020-01-01T00:00:00+00:00,true,2026-01-04T08:00:00+00:00,2020-01-01T00:00:00+00:00,N/A,false,true,2025-01-01T00:00:00+00:00,2026-01-10T08:45:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"+
		"bob,arn:aws:iam::111122223333:user/bob,2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n")
	b := writeFile(t, dir, "cred-report-2026-02-12.csv", crHeader+
		"alice,arn:aws:iam::111122223333:user/alice,2020-01-01T00:00:00+00:00,true,2026-02-04T08:00:00+00:00,2020-01-01T00:00:00+00:00,N/A,true,false,2025-01-01T00:00:00+00:00,2026-01-20T08:45:00+00:00,us-east-1,s3,true,2026-01-20T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A\n"+
		"carol,arn:aws:iam::111122223333:user/carol,2026-02-01T00:00:00+00:00,true,N/A,2026-02-01T00:00:00+00:00,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n")
	code, out, stderr = runCLI(t, "diff", a, b, "--format", "plain")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	golden(t, "diff/credential-reports.tsv", []byte(out))
	for _, w := range []string{"user added\tuser carol added", "user removed\tuser bob removed", "key rotated", "mfa added"} {
		if !strings.Contains(out, w) {
			t.Errorf("no %q in\n%s", w, out)
		}
	}
	if !strings.Contains(stderr, "the date in its name") {
		t.Errorf("the reference time is not said: %s", stderr)
	}
}

// An iamaudit run JSON file is imported whole; a seed CSV of the same run beside it
// is passed over; the store's copy is the file's inventory.
func TestImportRunJSON(t *testing.T) {
	dir := t.TempDir()
	inv := tlInventory(1)
	o := outcome.Evaluate(outcome.CommandRun, inv, inv.FinishedAt, outcome.Settings{Checks: checks.DefaultConfig()}, nil)
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, report.DocumentOf(o)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, report.JSONReportName(inv.RunID), buf.String())
	buf.Reset()
	report.WriteCSV(&buf, report.IAMReportHeader, report.IAMReportRows(inv, mustMessages(t, "en")))
	writeFile(t, dir, report.IAMReportName(inv.RunID), buf.String())
	db := filepath.Join(t.TempDir(), "team.db")
	code, out, stderr := runCLI(t, "import", "--db", db, dir)
	if code != ExitOK || !strings.Contains(out, "Imported 1 runs") || !strings.Contains(stderr, "is read from") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	s, err := store.Open(context.Background(), db, store.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stored, err := s.Inventory(context.Background(), inv.RunID)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(inv)
	got, _ := json.Marshal(stored)
	if !bytes.Equal(want, got) {
		t.Errorf("stored inventory differs from the file's")
	}
	sum, err := s.RunSummaryOf(context.Background(), inv.RunID)
	if err != nil || sum.Source != store.SourceImport || sum.Command != outcome.CommandRun {
		t.Errorf("%+v %v", sum, err)
	}
}

func mustMessages(t *testing.T, lang string) report.Messages {
	m, err := report.MessagesFor(lang)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(t.TempDir(), "x.db")
	cr := writeFile(t, dir, "report.csv", credReport)
	ev := writeFile(t, dir, "cloudtrail_events_20260105_090000.csv", "eventTime,eventName,username,account_id,account_name,resources\n")
	bad := writeFile(t, t.TempDir(), "iam_audit_report_20260105_090000.csv",
		"account_id,account_name,username,password_status,password_last_used,access_key_id,status,created_date,last_used_date,service_name,mfa_status\n"+
			"111111111111,Prod,amy,Configured,Never,AKIA1,Active,yesterday,Never used,N/A,None\n")
	noTime := writeFile(t, dir, "report-march.csv", "account_id,account_name,username,password_status,password_last_used,access_key_id,status,created_date,last_used_date,service_name,mfa_status\n")
	analyze := writeFile(t, t.TempDir(), "iamaudit_20260105_090000.json", `{"schema":"`+inventory.Schema+`","command":"analyze","run_id":"20260105_090000","accounts":[],"gaps":[]}`)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"import", "--db", db}, "at least one file"},
		{[]string{"import", "--db", db, cr}, "is a credential report"},
		{[]string{"import", "--db", db, ev}, "an events file alone is not a run"},
		{[]string{"import", "--db", db, bad}, "iam_audit_report_20260105_090000.csv:2: created_date"},
		{[]string{"import", "--db", db, noTime}, "cannot tell the run's time"},
		{[]string{"import", "--db", db, analyze}, "not of a run"},
		{[]string{"import", "--db", db, "--cloudtrail-since", "Jan", dir}, "--cloudtrail-since"},
	} {
		code, out, stderr := runCLI(t, c.args...)
		if code != ExitUsage || !strings.Contains(out+stderr, c.want) {
			t.Errorf("%v: exit %d, want %d with %q\n%s%s", c.args, code, ExitUsage, c.want, out, stderr)
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a failed import created the store: %v", err)
	}
	// A dry run stores nothing, and creates no store.
	code, out, _ := runCLI(t, "import", "--db", db, "--dry-run", filepath.Join("testdata", "seed", "en"))
	if code != ExitOK || !strings.Contains(out, "Would import 3 runs") {
		t.Errorf("dry run: %d\n%s", code, out)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a dry run created the store: %v", err)
	}
}
