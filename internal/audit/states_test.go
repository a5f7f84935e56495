package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamaudit/iamaudit/internal/audit"
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// Two runs into one directory: the second compares its findings with the first
// (new / open / resolved), in the JSON, the findings CSV and the console.
func TestFindingStatesAcrossRuns(t *testing.T) {
	clk := newOffsetClock(time.Now().UTC().Truncate(time.Second))
	clock := clk.now
	srv, err := sandbox.Start(scenario.Demo(), sandbox.Options{Clock: clock, Knobs: &scenario.Knobs{RateLimits: map[string]float64{"cloudtrail": 0}}}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	akid, secret := srv.Credentials()
	cfg := sdkConfig(t, srv.URL(), akid, secret, "")
	dir := t.TempDir()
	run := func() (*audit.Result, string) {
		var out bytes.Buffer
		res, err := audit.Run(context.Background(), cfg, audit.Options{
			Collect:   collect.Options{Role: "IAMAuditRole", Accounts: []string{"345678901234"}, EventsRate: 1000, ReportPoll: 100 * time.Millisecond},
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
	clk.advance(24 * time.Hour)
	second, out := run()

	if second.PreviousRun == "" || second.PreviousRun != first.Files[2] {
		t.Errorf("previous run = %q, want %q", second.PreviousRun, first.Files[2])
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
