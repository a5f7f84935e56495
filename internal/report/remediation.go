package report

import (
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/fix/awscli"
)

// Commands is a finding's remediation as AWS CLI text: its actions rendered
// (fix/awscli), or, for a finding read from an older run's file that has no actions,
// the commands that file carried.
func Commands(f checks.Finding) []string {
	if len(f.Remediation.Actions) == 0 {
		return f.Remediation.Commands
	}
	return awscli.Commands(f.Remediation.Actions)
}

// WithCommands returns a copy of findings with Remediation.Commands rendered, as the
// JSON document carries them; findings is not modified.
func WithCommands(findings []checks.Finding) []checks.Finding {
	if findings == nil {
		return nil
	}
	out := make([]checks.Finding, len(findings))
	for i, f := range findings {
		f.Remediation.Commands = Commands(f)
		out[i] = f
	}
	return out
}
