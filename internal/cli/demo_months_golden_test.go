package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/diff"
	"github.com/iamaudit/iamaudit/internal/store"
)

// Golden diffs and trend over the demo's months (`demo --months 6` on a pinned clock),
// and each change of the demo's timeline (internal/scenario/demo.yaml) exactly once
// across the months' diffs.
func TestDemoMonthsDiffAndTrend(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if code, stdout, stderr := runDemoAt(t, demoMonthsNow, "--months", "6", "--output-dir", dir); code != ExitOK {
		t.Fatalf("demo --months 6: exit %d\n%s\n%s", code, stdout, stderr)
	}
	db := filepath.Join(dir, "iamaudit.db")
	s, err := store.Open(context.Background(), db, store.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.Runs(context.Background(), store.RunFilter{})
	s.Close()
	if err != nil || len(runs) != 6 {
		t.Fatalf("runs %d, %v", len(runs), err)
	}
	count := map[string]int{}
	for i := 1; i < len(runs); i++ {
		a, b := runs[i-1].RunID, runs[i].RunID
		code, out, stderr := runCLI(t, "diff", "--db", db, a, b, "--format", "table")
		if code != ExitOK {
			t.Fatalf("diff %s %s: exit %d\n%s", a, b, code, stderr)
		}
		golden(t, filepath.Join("demo-months", fmt.Sprintf("diff-%d-%d.txt", i, i+1)), []byte(out))
		code, out, stderr = runCLI(t, "diff", "--db", db, a, b, "--format", "json")
		if code != ExitOK {
			t.Fatalf("diff json: exit %d\n%s", code, stderr)
		}
		var r diff.Result
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		for _, c := range r.Changes {
			count[fmt.Sprintf("%d %s %s %s", i, c.Kind, c.AccountName, c.User)]++
		}
	}
	// The timeline's changes, each in the diff of the month after it.
	for _, want := range []string{
		"1 mfa_added Production carlos.lopez", "1 mfa_added Production emma.smith",
		"1 key_deleted Production ci-deploy", "1 user_removed Production backup-agent",
		"2 user_removed Production wei.chen", "2 user_removed Production data-sync",
		"2 user_removed Production old.contractor", "2 user_removed Production test-user",
		"3 key_rotated Production legacy-etl",
		"4 user_removed Production reporting-bot", "4 key_created Production lucas.silva",
		"4 account_auditable Development-Sandbox ",
	} {
		if n := count[want]; n != 1 {
			t.Errorf("%q appears %d times in the months' diffs, want once", want, n)
		}
	}
	code, out, stderr := runCLI(t, "trend", "--db", db, "--by", "run")
	if code != ExitOK {
		t.Fatalf("trend: exit %d\n%s", code, stderr)
	}
	golden(t, filepath.Join("demo-months", "trend-by-run.txt"), []byte(out))
	if !strings.Contains(out, "20260331_100000") {
		t.Errorf("trend lacks the last month:\n%s", out)
	}
}
