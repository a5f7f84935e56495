package history

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

func writeRun(t *testing.T, dir, runID, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "iamaudit_"+runID+".json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func run(runID, command string, extra string) string {
	return `{"schema":"iamaudit.inventory/v1","command":"` + command + `","run_id":"` + runID + `",` +
		`"accounts":[{"id":"111111111111","status":"audited","gaps":[]},{"id":"222222222222","status":"partial","gaps":[{"section":"mfa","message":"x"}]}],` +
		`"findings":[{"id":"f-` + runID + `","check_id":"c"}]` + extra + `}`
}

// The baseline is the newest earlier usable run, by run id as time then number
// (_2 before _10), passing over what cannot be used with a warning where it is not
// by design (issue 7, defect 5).
func TestDirBaseline(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string // run id -> content ("" = unreadable directory in its place)
		current  string
		want     string // run id of the baseline, "" for none
		warnings []string
	}{
		{name: "none", files: nil, current: "20260301_120000", want: ""},
		{name: "suffixes sort as numbers", current: "20260301_120000_11", want: "20260301_120000_10",
			files: map[string]string{"20260301_120000_2": run("20260301_120000_2", "run", ""), "20260301_120000_10": run("20260301_120000_10", "run", ""), "20260301_120000_9": run("20260301_120000_9", "run", "")}},
		{name: "plain id before its suffixes", current: "20260301_120000_2", want: "20260301_120000",
			files: map[string]string{"20260301_120000": run("20260301_120000", "run", ""), "20260201_000000": run("20260201_000000", "run", "")}},
		// The run asks for its baseline before claiming its id: two runs in the same
		// second ask for the same id, and the second one's baseline is the first.
		{name: "an earlier run of the same second", current: "20260301_120000", want: "20260301_120000_2",
			files: map[string]string{"20260301_120000": run("20260301_120000", "run", ""), "20260301_120000_2": run("20260301_120000_2", "run", ""),
				"20260201_000000": run("20260201_000000", "run", "")}},
		{name: "later runs are not a baseline", current: "20260301_120000", want: "20260201_000000",
			files: map[string]string{"20260201_000000": run("20260201_000000", "run", ""), "20260401_000000": run("20260401_000000", "run", "")}},
		{name: "unreadable newer file passed over", current: "20260301_120000", want: "20260201_000000",
			files:    map[string]string{"20260201_000000": run("20260201_000000", "run", ""), "20260202_000000": "{not json"},
			warnings: []string{"iamaudit_20260202_000000.json is not an iamaudit JSON file"}},
		{name: "other schema version passed over", current: "20260301_120000", want: "20260201_000000",
			files: map[string]string{"20260201_000000": run("20260201_000000", "run", ""),
				"20260202_000000": strings.Replace(run("20260202_000000", "run", ""), "inventory/v1", "inventory/v9", 1)},
			warnings: []string{"schema iamaudit.inventory/v9"}},
		{name: "analyze outputs and interrupted runs are never a baseline", current: "20260301_120000", want: "20260201_000000",
			files: map[string]string{"20260201_000000": run("20260201_000000", "run", ""),
				"20260202_000000": run("20260202_000000", "analyze", ""),
				"20260203_000000": run("20260203_000000", "run", `,"gaps":[{"section":"run","message":"run interrupted"}]`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for id, body := range tt.files {
				writeRun(t, dir, id, body)
			}
			os.WriteFile(filepath.Join(dir, "iamaudit_findings_20260202_000000.csv"), []byte("x"), 0o600)
			var warnings []string
			b, err := NewDir(dir).Baseline(context.Background(), &inventory.Inventory{RunID: tt.current}, func(w string) { warnings = append(warnings, w) })
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if b != nil {
				got = b.RunID
				if b.Ref != "iamaudit_"+got+".json" || len(b.Findings) != 1 || b.Findings[0].ID != "f-"+got {
					t.Errorf("baseline %+v", b)
				}
				if !b.FullyAudited["111111111111"] || b.FullyAudited["222222222222"] {
					t.Errorf("fully audited %v", b.FullyAudited)
				}
			}
			if got != tt.want {
				t.Errorf("baseline %q, want %q (warnings %v)", got, tt.want, warnings)
			}
			if len(warnings) != len(tt.warnings) {
				t.Fatalf("warnings %v, want %v", warnings, tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning %q lacks %q", warnings[i], w)
				}
			}
		})
	}
}

func TestDirBaselineRejectsBadRunID(t *testing.T) {
	if _, err := NewDir(t.TempDir()).Baseline(context.Background(), &inventory.Inventory{RunID: "latest"}, nil); err == nil {
		t.Error("a run id that is not a time was accepted")
	}
}

// A run file's findings name their remediation plans (docs/inventory-schema.md): the
// baseline's findings have their workflow and actions back, and a plan the file
// does not hold makes it no baseline.
func TestDirBaselineRemediationPlans(t *testing.T) {
	dir := t.TempDir()
	plan := `,"remediations":{"c.1":{"check_id":"c","workflow":"4: Delete Unused IAM Users","actions":[{"kind":"change","api":{"service":"iam","name":"DeleteUser"},"partition":"aws","region":"us-east-1","credentials":"account","resource":{"account_id":"${account_id}","user_name":"${user_name}"}}]}}`
	body := strings.Replace(run("20260201_000000", "run", plan), `"check_id":"c"}`,
		`"check_id":"c","remediation":{"plan":"c.1","resource":{"account_id":"111111111111","user_name":"bob"},"commands":["aws iam delete-user --user-name bob"]}}`, 1)
	writeRun(t, dir, "20260201_000000", body)
	b, err := NewDir(dir).Baseline(context.Background(), &inventory.Inventory{RunID: "20260301_000000"}, func(w string) { t.Error(w) })
	if err != nil || b == nil || len(b.Findings) != 1 {
		t.Fatalf("baseline %+v, %v", b, err)
	}
	r := b.Findings[0].Remediation
	if r.Workflow != "4: Delete Unused IAM Users" || len(r.Actions) != 1 || r.Actions[0].Resource.UserName != "bob" ||
		r.Actions[0].Resource.AccountID != "111111111111" || len(r.Commands) != 1 {
		t.Errorf("remediation read back: %+v", r)
	}

	writeRun(t, dir, "20260202_000000", strings.Replace(body, `"plan":"c.1"`, `"plan":"c.2"`, 1))
	var warnings []string
	b, err = NewDir(dir).Baseline(context.Background(), &inventory.Inventory{RunID: "20260301_000000"}, func(w string) { warnings = append(warnings, w) })
	if err != nil || b == nil || b.RunID != "20260201_000000" || len(warnings) != 1 {
		t.Errorf("a file naming a missing plan: baseline %+v, warnings %v", b, warnings)
	}
}
