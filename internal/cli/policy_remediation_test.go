package cli

import (
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/remediate"
)

// The remediation role's policy names every call the remediation command makes (the
// recipes' and its own re-reads, rollback and verification calls).
func TestRemediationRolePolicyCoversTheCommand(t *testing.T) {
	code, out, stderr := runCLI(t, "policy", "remediation-role")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, api := range remediate.APIs() {
		if !strings.Contains(out, `"`+api.Service+":"+api.Name+`"`) {
			t.Errorf("the remediation-role policy lacks %s:%s", api.Service, api.Name)
		}
	}
}
