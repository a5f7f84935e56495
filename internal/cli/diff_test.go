package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/diff"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/store"
)

// Golden diffs of the timeline's months (timeline_test.go), and each scripted change
// exactly once across them: nothing a gap left unknown shows as a change.
func TestDiffTimeline(t *testing.T) {
	db := tlStore(t)
	ids := make([]string, 4)
	for i := range ids {
		ids[i] = inventory.RunID(tlMonth(i))
	}
	var all []diff.Change
	for i := 1; i < 4; i++ {
		code, out, stderr := runCLI(t, "diff", "--db", db, ids[i-1], ids[i], "--format", "table")
		if code != ExitOK {
			t.Fatalf("diff %d: exit %d\n%s", i, code, stderr)
		}
		golden(t, filepath.Join("diff", "month"+string(rune('0'+i-1))+"-"+string(rune('0'+i))+".txt"), []byte(out))
		code, out, stderr = runCLI(t, "diff", "--db", db, ids[i-1], ids[i], "--format", "json")
		if code != ExitOK {
			t.Fatalf("diff %d json: exit %d\n%s", i, code, stderr)
		}
		var r diff.Result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		for _, c := range r.Changes {
			c.Detail = ids[i] + " " + c.Detail
			all = append(all, c)
		}
	}
	type want struct {
		month         int // the diff from month-1 to month
		kind          diff.Kind
		account, user string
		key, check    string
	}
	wants := []want{
		{1, diff.AccountAuditable, tlSand, "", "", ""},
		{1, diff.MFAAdded, tlProd, "bob", "", ""},
		{1, diff.KeyRotated, tlProd, "carol", "AKIACAROL0000000001", ""},
		{1, diff.KeyDeactivated, tlProd, "svc-ci", "AKIASVCCI0000000001", ""},
		{1, diff.UserAdded, tlProd, "grace", "", ""},
		{1, diff.KeyCreated, tlProd, "grace", "AKIAGRACE0000000001", ""},
		{1, diff.FindingResolved, tlProd, "bob", "", "console_without_mfa"},
		{1, diff.FindingResolved, tlSand, "", "", "account_not_audited"},
		{1, diff.FindingResolved, tlProd, "carol", "", "access_key_not_rotated"},
		{2, diff.UserRemoved, tlProd, "dave", "", ""},
		{2, diff.KeyDeleted, tlProd, "dave", "AKIADAVE00000000001", ""},
		{2, diff.KeyReactivated, tlProd, "svc-ci", "AKIASVCCI0000000001", ""},
		{2, diff.ConsoleDisabled, tlProd, "alice", "", ""},
		{3, diff.AccountNotAuditable, tlSand, "", "", ""},
		{3, diff.MFARemoved, tlProd, "alice", "", ""},
		{3, diff.KeyCreated, tlProd, "alice", "AKIAALICE0000000002", ""},
		{3, diff.ConsoleEnabled, tlProd, "carol", "", ""},
		{3, diff.KeyDeleted, tlProd, "svc-ci", "AKIASVCCI0000000001", ""},
		{3, diff.FindingSeverity, tlProd, "alice", "", "access_key_not_rotated"},
		{3, diff.FindingNew, tlSand, "", "", "account_not_audited"},
	}
	for _, w := range wants {
		n := 0
		for _, c := range all {
			if c.Kind == w.kind && c.AccountID == w.account && c.User == w.user && (w.key == "" || c.Key == w.key) &&
				(w.check == "" || c.CheckID == w.check) {
				n++
				if !strings.HasPrefix(c.Detail, ids[w.month]+" ") {
					t.Errorf("%v appears in the wrong diff: %s", w, c.Detail)
				}
			}
		}
		if n != 1 {
			t.Errorf("%v appears %d times, want exactly once", w, n)
		}
	}
	// Every change of a kind the timeline scripts is one of the scripted ones
	// (findings aside: the checks make many).
	for _, c := range all {
		switch c.Kind {
		case diff.FindingNew, diff.FindingResolved, diff.FindingSeverity, diff.Unknown:
			continue
		}
		found := false
		for _, w := range wants {
			found = found || (c.Kind == w.kind && c.AccountID == w.account && c.User == w.user && (w.key == "" || c.Key == w.key))
		}
		if !found {
			t.Errorf("unscripted change: %+v", c)
		}
	}
	// Unknown, not a change: erin's keys in month 1, Development's users in month 2,
	// and its users coming back in month 3.
	unknowns := map[string]bool{}
	for _, c := range all {
		if c.Kind == diff.Unknown {
			unknowns[c.Detail[:len(ids[0])]+" "+c.AccountID+" "+c.User+" "+strings.Join(c.Items, ",")] = true
		}
		if c.AccountID == tlDev && (c.User == "erin" || c.User == "grace") && c.Kind != diff.Unknown {
			t.Errorf("a change for a user a gap left unknown: %+v", c)
		}
		if c.AccountID == tlSand && c.User == "frank" {
			t.Errorf("frank is in an account not audited in one of the runs, yet: %+v", c)
		}
	}
	for _, u := range []string{ids[1] + " " + tlDev + " erin ", ids[2] + " " + tlDev + "  erin", ids[3] + " " + tlDev + "  erin"} {
		if !unknowns[u] {
			t.Errorf("no unknown line %q in %v", u, unknowns)
		}
	}
}

// The formats of one diff, and the default (the last two runs).
func TestDiffFormats(t *testing.T) {
	db := tlStore(t)
	for _, f := range []string{"plain", "json", "markdown", "csv"} {
		code, out, stderr := runCLI(t, "diff", "--db", db, "--format", f)
		if code != ExitOK {
			t.Fatalf("%s: exit %d\n%s", f, code, stderr)
		}
		golden(t, filepath.Join("diff", "default."+map[string]string{"plain": "tsv", "json": "json", "markdown": "md", "csv": "csv"}[f]), []byte(out))
	}
}

func TestDiffArguments(t *testing.T) {
	db := tlStore(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "iam_audit_report_20260105_090000.csv", strings.Join([]string{
		"account_id,account_name,username,password_status,password_last_used,access_key_id,status,created_date,last_used_date,service_name,mfa_status",
		"111111111111,Production,alice,Configured,Never,,,,,,None", ""}, "\n"))
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"diff", "--db", db, "a", "b", "c"}, ExitUsage, "at most RUN_A and RUN_B"},
		{[]string{"diff", "--db", db, "--format", "xml"}, ExitUsage, "--format \"xml\""},
		{[]string{"diff", "--db", db, file}, ExitUsage, "give two files"},
		{[]string{"diff", "--db", db, "20990101_000000", "latest"}, ExitUsage, "neither a file nor a run"},
		{[]string{"diff", "--db", db, "latest"}, ExitUsage, "compared with itself"},
		{[]string{"diff", "--db", filepath.Join(dir, "none.db")}, ExitError, "no store there yet"},
		{[]string{"diff", "--db", db, inventory.RunID(tlMonth(2))}, ExitOK, "Sandbox (333333333333) can no longer be audited"},
	} {
		code, out, stderr := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(out+stderr, c.want) {
			t.Errorf("%v: exit %d, want %d with %q\n%s%s", c.args, code, c.code, c.want, out, stderr)
		}
	}
}

// Two run JSON files give the diff the stored runs give.
func TestDiffRunJSONFiles(t *testing.T) {
	db := tlStore(t)
	dir := t.TempDir()
	var files []string
	for i := 0; i < 2; i++ {
		s, err := store.Open(context.Background(), db, store.Options{MustExist: true})
		if err != nil {
			t.Fatal(err)
		}
		o, _, err := diffRun(context.Background(), s, inventory.RunID(tlMonth(i)))
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := report.WriteJSON(&buf, report.DocumentOf(o)); err != nil {
			t.Fatal(err)
		}
		files = append(files, writeFile(t, dir, report.JSONReportName(o.Inventory.RunID), buf.String()))
	}
	_, fromFiles, _ := runCLI(t, "diff", files[0], files[1], "--format", "plain")
	_, fromStore, _ := runCLI(t, "diff", "--db", db, inventory.RunID(tlMonth(0)), inventory.RunID(tlMonth(1)), "--format", "plain")
	for i := 0; i < 2; i++ { // the files are named by their names, the runs by their ids
		fromFiles = strings.ReplaceAll(fromFiles, filepath.Base(files[i]), inventory.RunID(tlMonth(i)))
	}
	if fromFiles != fromStore || !strings.Contains(fromFiles, "key rotated") {
		t.Errorf("files:\n%s\nstore:\n%s", fromFiles, fromStore)
	}
}
