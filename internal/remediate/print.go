package remediate

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// PrintPlan writes a plan for a person: each item with its reason, owner, evidence
// of use and commands, then what was left out and why.
func PrintPlan(w io.Writer, p *Plan) {
	fmt.Fprintf(w, "Remediation plan %s from run %s (evaluated %s), made %s: %d item(s). A plan changes nothing.\n",
		p.ID, p.RunID, p.RunEvaluatedAt.Format(time.RFC3339), p.CreatedAt.Format(time.RFC3339), len(p.Items))
	for i := range p.Items {
		it := &p.Items[i]
		printItem(w, it, ItemReport{Steps: it.Commands})
		for _, n := range it.Notes {
			fmt.Fprintf(w, "     note:  %s\n", n)
		}
	}
	if len(p.Skipped) > 0 {
		fmt.Fprintf(w, "Left out (%d):\n", len(p.Skipped))
		for _, s := range p.Skipped {
			what := s.User
			if s.Resource != "" && !strings.HasPrefix(s.Resource, "arn:") {
				what += " " + s.Resource
			}
			fmt.Fprintf(w, "  - %-14s %s %s: %s\n", s.Workflow, s.AccountID, strings.TrimSpace(what), s.Reason)
		}
	}
}
