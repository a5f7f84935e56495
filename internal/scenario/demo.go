package scenario

import (
	_ "embed"
	"fmt"
)

//go:embed demo.yaml
var demoYAML []byte

//go:embed clean.yaml
var cleanYAML []byte

// DemoYAML returns the source of the built-in demo scenario (to print or edit).
func DemoYAML() []byte { return append([]byte(nil), demoYAML...) }

// CleanYAML returns the source of the built-in clean scenario.
func CleanYAML() []byte { return append([]byte(nil), cleanYAML...) }

// Demo returns the built-in demo Organization, parsed and normalised: every check
// of the audit fires at least once on it. Each call returns a fresh copy.
func Demo() *Scenario { return mustParse("demo.yaml", demoYAML) }

// Clean returns a small built-in Organization in perfect hygiene, on which no
// check fires. Each call returns a fresh copy.
func Clean() *Scenario { return mustParse("clean.yaml", cleanYAML) }

// mustParse parses an embedded scenario; it panics only if the file shipped in the
// binary is invalid, which the package's tests rule out.
func mustParse(name string, data []byte) *Scenario {
	s, err := Parse(name, data)
	if err != nil {
		panic(fmt.Sprintf("scenario: embedded %s is invalid: %v", name, err))
	}
	return s
}
