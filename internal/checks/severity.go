// Package checks turns an inventory into findings. Every check is a small pure
// function of the inventory, one account, a reference time and a Config; Run applies
// the table of checks to every account and returns the findings sorted by severity.
// Checks never import the AWS SDK: they read internal/inventory only.
package checks

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Severity grades a finding. The zero value means "not set" (the check's default applies).
type Severity int

// Severities, lowest first.
const (
	SeverityUnset Severity = iota
	Low
	Medium
	High
	Critical
)

// Severities lists the real severities from highest to lowest.
var Severities = []Severity{Critical, High, Medium, Low}

// String returns "low", "medium", "high" or "critical".
func (s Severity) String() string {
	switch s {
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	case Critical:
		return "critical"
	}
	return "unset"
}

// ParseSeverity parses "low", "medium", "high" or "critical" (any case).
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "low":
		return Low, nil
	case "medium":
		return Medium, nil
	case "high":
		return High, nil
	case "critical":
		return Critical, nil
	}
	return SeverityUnset, &severityError{value: s}
}

// severityError is an unknown severity name.
type severityError struct{ value string }

func (e *severityError) Error() string {
	return fmt.Sprintf("unknown severity %q: use low, medium, high or critical", e.value)
}

// MarshalText writes the severity as its name (JSON and YAML).
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

var _ json.Marshaler = Severity(0) // keep the JSON form a string

// MarshalJSON writes the severity as a JSON string.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a severity from a JSON string.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return fmt.Errorf("severity: %w", err)
	}
	return s.UnmarshalText([]byte(str))
}
