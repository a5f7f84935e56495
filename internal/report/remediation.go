package report

import (
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/fix/awscli"
	"github.com/iamaudit/iamaudit/internal/outcome"
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
	return withCommands(findings, Commands)
}

// withCommands is WithCommands with the commands of cmds (a Part's, rendered once
// for all its writers: outcome.Part.Commands).
func withCommands(findings []checks.Finding, cmds func(checks.Finding) []string) []checks.Finding {
	if findings == nil {
		return nil
	}
	out := make([]checks.Finding, len(findings))
	for i, f := range findings {
		f.Remediation.Commands = cmds(f)
		out[i] = f
	}
	return out
}

// partCommands is Commands through p's memo (outcome.Part.Commands).
func partCommands(p outcome.Part) func(checks.Finding) []string {
	return func(f checks.Finding) []string { return p.Commands(f, Commands) }
}
