package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamaudit/iamaudit/internal/audit"
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/sandbox/sandboxtest"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// Two runs into one directory: the second compares its findings with the first
// (new / open / resolved), in the JSON, the findings CSV and the console.
func TestFindingStatesAcrossRuns(t *testing.T) {
	t.Parallel()
	clk := sandboxtest.NewClockNow()
	clock := clk.Now
	srv := sandboxtest.Start(t, scenario.Demo(), sandbox.Options{Clock: clock})
	cfg := sandboxtest.Config(t, srv)
	dir := t.TempDir()
	run := func() (*outcome.Outcome, string) {
		var out bytes.Buffer
		res, err := audit.Run(context.Background(), cfg, audit.Options{
			Collect:   fastCollect(collect.Options{Accounts: []string{"345678901234"}}),
			OutputDir: dir, Checks: checks.DefaultConfig(), Clock: clock, Out: &out, Err: io.Discard,
		})
		if err != nil {
			t.Fatal(err)
		}
		return res, out.String()
	}
	first, _ := run()
	for _, f := range first.Findings {
		if f.State != checks.StateNew {
			t.Fatalf("first run: %s is %q, want new", f.ID, f.State)
		}
	}

	// Remediate one finding (delete carlos.lopez's console password) and create a new
	// problem (a console user without MFA), through the admin role, as a person would.
	prod := assume(t, cfg, "345678901234", "OrganizationAccountAccessRole")
	c := iam.NewFromConfig(prod)
	ctx := context.Background()
	if _, err := c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("carlos.lopez")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("new.hire")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("new.hire"), Password: aws.String("Temp-Passw0rd!")}); err != nil {
		t.Fatal(err)
	}
	// A day later: the credential report (kept 4 hours, as on AWS) is regenerated and
	// sees the changes.
	clk.Advance(24 * time.Hour)
	second, out := run()

	if second.Baseline == nil || second.Baseline.Ref != filepath.Base(first.Files[2]) {
		t.Errorf("previous run = %+v, want %q", second.Baseline, first.Files[2])
	}
	states := map[string]int{}
	newUser := false
	for _, f := range second.Findings {
		states[f.State]++
		if f.User == "new.hire" && f.CheckID == "console_without_mfa" {
			newUser = true
			if f.State != checks.StateNew {
				t.Errorf("new.hire's finding is %q, want new", f.State)
			}
		}
	}
	if !newUser {
		t.Error("the new console user without MFA was not found")
	}
	if states[checks.StateOpen] == 0 {
		t.Errorf("no finding still open: %v", states)
	}
	resolved := false
	for _, f := range second.Resolved {
		if f.User == "carlos.lopez" && f.CheckID == "console_without_mfa" && f.State == checks.StateResolved {
			resolved = true
		}
	}
	if !resolved {
		t.Errorf("carlos.lopez's console_without_mfa not resolved: %+v", second.Resolved)
	}
	var doc struct {
		PreviousRun string           `json:"previous_run"`
		Resolved    []checks.Finding `json:"resolved_findings"`
	}
	if err := json.Unmarshal([]byte(readFile(t, second.Files[2])), &doc); err != nil || doc.PreviousRun == "" || len(doc.Resolved) == 0 {
		t.Errorf("JSON: previous %q, %d resolved, %v", doc.PreviousRun, len(doc.Resolved), err)
	}
	if !strings.Contains(readFile(t, second.Files[3]), ",new,") {
		t.Error("findings CSV has no new finding")
	}
	if !strings.Contains(strings.ToLower(out), "resolved") {
		t.Errorf("console does not mention resolved findings:\n%s", out)
	}
}

// A subset run (--accounts) resolves nothing in the accounts it left out; an analyze
// output or an interrupted run in the directory is never the baseline.
func TestBaselineRules(t *testing.T) {
	t.Parallel()
	clock := sandboxtest.NewClockNow().Now
	srv := sandboxtest.Start(t, scenario.Demo(), sandbox.Options{Clock: clock})
	cfg := sandboxtest.Config(t, srv)
	dir := t.TempDir()
	run := func(accounts ...string) *outcome.Outcome {
		res, err := audit.Run(context.Background(), cfg, audit.Options{
			Collect:   fastCollect(collect.Options{Accounts: accounts}),
			OutputDir: dir, Checks: checks.DefaultConfig(), Clock: clock, Out: io.Discard, Err: io.Discard,
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	full := run("345678901234", "456789012345")
	subset := run("345678901234")
	if subset.Baseline == nil || subset.Baseline.Ref != filepath.Base(full.Files[2]) {
		t.Fatalf("baseline %+v, want %q", subset.Baseline, full.Files[2])
	}
	for _, f := range subset.Resolved {
		if f.AccountID == "456789012345" {
			t.Errorf("finding of an account left out of the run marked resolved: %s %s", f.CheckID, f.Message)
		}
	}
	// An analyze output written later in the same directory is not a baseline.
	if err := os.WriteFile(filepath.Join(dir, "iamaudit_29990101_000000.json"), []byte(`{"schema":"iamaudit.inventory/v1","command":"analyze","findings":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "iamaudit_29980101_000000.json"), []byte(`{"schema":"iamaudit.inventory/v1","command":"run","findings":[],"gaps":[{"section":"run","message":"run interrupted"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// (Run ids sort by time: these two sort after every real run, so they would be chosen if allowed.)
	next := run("345678901234")
	if next.Baseline == nil || next.Baseline.Ref != filepath.Base(subset.Files[2]) {
		t.Errorf("baseline %+v, want the last real run %q", next.Baseline, subset.Files[2])
	}
}

// A selection that matches no account is a usage error, not a clean audit; an
// asked-for account that is not in the Organization is a gap.
func TestSelectionMatchingNothing(t *testing.T) {
	t.Parallel()
	srv := sandboxtest.Start(t, scenario.Demo(), sandbox.Options{})
	cfg := sandboxtest.Config(t, srv)
	opts := func(c collect.Options) audit.Options {
		return audit.Options{Collect: fastCollect(c), OutputDir: t.TempDir(), Checks: checks.DefaultConfig(), Out: io.Discard, Err: io.Discard}
	}
	for _, c := range []collect.Options{
		{OUs: []string{"ou-zzzz-zzzzzzzz"}},
		{Accounts: []string{"345678901234"}, ExcludeAccounts: []string{"345678901234"}},
	} {
		if _, err := audit.Run(context.Background(), cfg, opts(c)); !errors.Is(err, audit.ErrEmptySelection) {
			t.Errorf("%+v: err %v, want ErrEmptySelection", c, err)
		}
	}
	res, err := audit.Run(context.Background(), cfg, opts(collect.Options{Accounts: []string{"567890123456", "999999999999"}}))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Incomplete() {
		t.Error("an asked-for account missing from the Organization leaves the audit complete")
	}
}
