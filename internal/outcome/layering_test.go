package outcome

import (
	"os/exec"
	"strings"
	"testing"
)

// The rules (inventory, checks, suppress, score, outcome) are pure: they never
// reach AWS, the network or a database, directly or through a dependency
// (ARCHITECTURE.md; restic enforces the same with depguard).
func TestRulesArePure(t *testing.T) {
	pkgs := []string{"../inventory", "../checks", "../policy", "../fix", "../suppress", "../score", "."}
	out, err := exec.Command("go", append([]string{"list", "-deps", "-f", "{{.ImportPath}}"}, pkgs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/aws/", "net/http", "database/sql", "github.com/iamaudit/iamaudit/internal/collect", "github.com/iamaudit/iamaudit/internal/report"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("the rules depend on %s", dep)
			}
		}
	}
}
