package cli

import (
	"fmt"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/suppress"
)

// judgement is how findings are judged: the checks' configuration, the
// suppressions and the --fail-on threshold. run, demo and analyze load it here.
type judgement struct {
	Checks       checks.Config
	Suppressions suppress.Rules
	FailOn       *checks.Severity
}

// loadJudgement reads --config / --preset, --suppressions and --fail-on. A config
// file names its own preset (`preset: cis`), so --preset and --config together are
// refused rather than one of them silently ignored.
func loadJudgement(configPath, preset, suppressionsPath, failOn string) (judgement, error) {
	var j judgement
	switch {
	case configPath != "" && preset != "":
		return j, usageErrorf("give --preset or --config, not both (a config file names its preset with `preset:`)")
	case configPath != "":
		c, err := checks.LoadConfig(configPath)
		if err != nil {
			return j, &UsageError{Err: err}
		}
		j.Checks = c
	default:
		c, err := checks.Preset(preset)
		if err != nil {
			return j, &UsageError{Err: fmt.Errorf("--preset: %w", err)}
		}
		j.Checks = c
	}
	if suppressionsPath != "" {
		r, err := suppress.Load(suppressionsPath)
		if err != nil {
			return j, &UsageError{Err: err}
		}
		j.Suppressions = r
	}
	if failOn != "" {
		s, err := checks.ParseSeverity(failOn)
		if err != nil {
			return j, &UsageError{Err: fmt.Errorf("--fail-on: %w", err)}
		}
		j.FailOn = &s
	}
	return j, nil
}
