package permissions

import (
	"fmt"
	"strings"

	"github.com/iamaudit/iamaudit/internal/fix"
)

// DocBlock is a generated part of docs/permissions.md, between the lines
// "<!-- generated:Name -->" and "<!-- /generated:Name -->".
type DocBlock struct {
	Name string
	Text string
}

// DocBlocks are the generated parts of docs/permissions.md.
func DocBlocks() []DocBlock {
	mgmt, _ := ManagementPolicy(ManagementOptions{}) // no S3 URL to parse: cannot fail
	var audit strings.Builder
	audit.WriteString("| action | why |\n|---|---|\n")
	for _, w := range auditRead {
		fmt.Fprintf(&audit, "| %s | %s |\n", w.Action, w.Why)
	}
	var org strings.Builder
	org.WriteString("| action | why |\n|---|---|\n")
	for _, w := range management {
		fmt.Fprintf(&org, "| %s | %s |\n", w.Action, w.Why)
	}
	var rem strings.Builder
	rem.WriteString("| action | kind |\n|---|---|\n")
	writes := map[Action]bool{}
	for _, a := range RemediationWrites(fix.InAccount) {
		writes[a] = true
	}
	for _, a := range RemediationActions(fix.InAccount) {
		kind := "read (check before or after a change)"
		if writes[a] {
			kind = "write"
		}
		fmt.Fprintf(&rem, "| %s | %s |\n", a, kind)
	}
	var remMgmt []string
	for _, a := range RemediationActions(fix.InManagement) {
		remMgmt = append(remMgmt, "`"+a.String()+"`")
	}
	return []DocBlock{
		{"management-policy", "```json\n" + string(mgmt.JSON()) + "```\n"},
		{"management-actions", org.String()},
		{"audit-role-actions", audit.String()},
		{"remediation-role-actions", rem.String() + "\nWith the management identity's credentials: " + strings.Join(remMgmt, ", ") + ".\n"},
	}
}

// ReplaceDocBlocks returns doc with every generated block replaced by its current
// text; missing lists the blocks doc has no markers for.
func ReplaceDocBlocks(doc string) (out string, missing []string) {
	out = doc
	for _, b := range DocBlocks() {
		begin, end := "<!-- generated:"+b.Name+" -->\n", "<!-- /generated:"+b.Name+" -->"
		i := strings.Index(out, begin)
		j := strings.Index(out, end)
		if i < 0 || j < i {
			missing = append(missing, b.Name)
			continue
		}
		out = out[:i+len(begin)] + b.Text + out[j:]
	}
	return out, missing
}
