package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/fix/awscli"
	"github.com/iamaudit/iamaudit/internal/inventory"
)

// The JSON carries each finding's typed actions and their CLI text; a finding from an
// older run's file, with commands and no actions, keeps its commands; the findings
// given are not modified.
func TestWriteJSONRendersCommands(t *testing.T) {
	t.Parallel()
	fs, _, _ := findingsFixture(t)
	old := checks.Finding{ID: "old", Severity: checks.Low, Remediation: checks.Remediation{Workflow: "w", Commands: []string{"aws iam list-users"}}}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, Document{Inventory: &inventory.Inventory{}, Findings: fs, ResolvedFindings: []checks.Finding{old}}); err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if len(f.Remediation.Commands) != 0 {
			t.Fatalf("WriteJSON modified the findings given: %q", f.Remediation.Commands)
		}
	}
	var back Document
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Findings) != len(fs) {
		t.Fatalf("%d findings back, want %d", len(back.Findings), len(fs))
	}
	for i, f := range back.Findings {
		r := f.Remediation
		if len(r.Actions) == 0 || !slices.Equal(r.Commands, awscli.Commands(fs[i].Remediation.Actions)) {
			t.Errorf("%s: actions %d, commands %q", f.CheckID, len(r.Actions), r.Commands)
		}
	}
	if got := back.ResolvedFindings[0].Remediation.Commands; !slices.Equal(got, old.Remediation.Commands) {
		t.Errorf("older finding's commands %q", got)
	}
	// A run's file read back renders the same commands again (the next run's baseline).
	for i, f := range back.Findings {
		if !slices.Equal(Commands(f), back.Findings[i].Remediation.Commands) {
			t.Errorf("%s: commands differ after a round trip", f.CheckID)
		}
		if f.CheckID == "console_without_mfa" && f.Remediation.Actions[0].Params.Document.Name != fix.RequireMFAPolicy {
			t.Errorf("RequireMFAPolicy by reference: %+v", f.Remediation.Actions[0].Params.Document)
		}
	}
}
