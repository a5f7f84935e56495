package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/trend"
)

// Golden trends of the timeline (timeline_test.go): the Organization by month (an
// account not audited and the gaps of Development make its figures lower bounds),
// and Production by run, whose every figure is known.
func TestTrendTimeline(t *testing.T) {
	db := tlStore(t)
	for _, c := range []struct {
		file string
		args []string
	}{
		{"organization-by-month.txt", []string{"--format", "table"}},
		{"production-by-run.txt", []string{"--by", "run", "--account", tlProd, "--format", "table"}},
		{"accounts-by-month.csv", []string{"--account", tlProd + "," + tlDev, "--format", "csv"}},
		{"organization-by-month.json", []string{"--format", "json"}},
	} {
		code, out, stderr := runCLI(t, append([]string{"trend", "--db", db}, c.args...)...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d\n%s", c.args, code, stderr)
		}
		golden(t, filepath.Join("trend", c.file), []byte(out))
	}

	// The figures the timeline scripts, read from the JSON.
	code, out, _ := runCLI(t, "trend", "--db", db, "--by", "run", "--account", tlProd, "--format", "json")
	if code != ExitOK {
		t.Fatal(code)
	}
	var got trend.Trend
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Rows) != 4 {
		t.Fatalf("%d rows", len(got.Rows))
	}
	val := func(f trend.Figure) string { return f.Text("") }
	for i, w := range []struct{ keys, create, delete, deleteUser string }{
		// Month 0: A1, C1, S1, D1; its window (90 days back) has svc-ci's key of 2025-12-01.
		{"4", "1", "0", "0"},
		// Month 1: carol's C2 and grace's G1 created, carol's C1 deleted.
		{"5", "2", "1", "0"},
		// Month 2: dave and his D1 deleted.
		{"4", "0", "1", "1"},
		// Month 3: alice's A2 created, svc-ci's S1 deleted.
		{"4", "1", "1", "0"},
	} {
		r := got.Rows[i]
		if g := []string{val(r.Keys), val(r.Events["CreateAccessKey"]), val(r.Events["DeleteAccessKey"]), val(r.Events["DeleteUser"])}; strings.Join(g, " ") != strings.Join([]string{w.keys, w.create, w.delete, w.deleteUser}, " ") {
			t.Errorf("run %d: keys, CreateAccessKey, DeleteAccessKey, DeleteUser = %v, want %v", i, g, w)
		}
	}
	// The Organization by month: Sandbox was not audited in months 0 and 3, and
	// Development had gaps in months 1 and 2: its keys are lower bounds every month,
	// never a number that reads as the whole.
	code, out, _ = runCLI(t, "trend", "--db", db, "--format", "json")
	if code != ExitOK {
		t.Fatal(code)
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Rows) != 4 {
		t.Fatalf("%d rows", len(got.Rows))
	}
	for i, r := range got.Rows {
		if !r.Keys.Unknown || r.Keys.AtLeast == nil || r.Keys.Value != nil {
			t.Errorf("month %d: the Organization's keys %+v, want unknown with a lower bound", i, r.Keys)
		}
	}
}

func TestTrendFlags(t *testing.T) {
	db := tlStore(t)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"trend", "--db", db, "--by", "week"}, ExitUsage, "--by \"week\""},
		{[]string{"trend", "--db", db, "--account", "12"}, ExitUsage, "12-digit"},
		{[]string{"trend", "--db", db, "--since", "March"}, ExitUsage, "YYYY-MM-DD"},
		{[]string{"trend", "--db", db, "--format", "xlsx"}, ExitUsage, "--format \"xlsx\""},
		{[]string{"trend", "--db", db, "extra"}, ExitUsage, "unexpected argument"},
		{[]string{"trend", "--db", db, "--account", "999999999999", "--format", "table"}, ExitOK, "account 999999999999 is in no stored run"},
		{[]string{"trend", "--db", db, "--since", "2026-02-01", "--until", "2026-03-31", "--format", "plain"}, ExitOK, "2026-03\t"},
	} {
		code, out, stderr := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(out+stderr, c.want) {
			t.Errorf("%v: exit %d, want %d with %q\n%s%s", c.args, code, c.code, c.want, out, stderr)
		}
	}
	_, out, _ := runCLI(t, "trend", "--db", db, "--since", "2026-02-01", "--until", "2026-03-31", "--format", "plain")
	if strings.Contains(out, "2026-01\t") || strings.Contains(out, "2026-04\t") || !strings.Contains(out, "2026-02\t") {
		t.Errorf("--since/--until:\n%s", out)
	}
}
