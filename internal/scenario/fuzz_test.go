package scenario

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse: Parse never panics, and every error it returns is an *Error (or a
// join of them) naming the file.
func FuzzParse(f *testing.F) {
	// Keep generated Organizations small: the fuzzer finds big numbers quickly.
	maxGeneratedAccounts, maxGeneratedUsers, maxGeneratedEvents = 20, 200, 200
	f.Cleanup(func() { maxGeneratedAccounts, maxGeneratedUsers, maxGeneratedEvents = 5000, 2_000_000, 2_000_000 })
	f.Add([]byte(base))
	f.Add(demoYAML)
	f.Add(cleanYAML)
	if ex, err := os.ReadFile("../../examples/scenario.yaml"); err == nil {
		f.Add(ex)
	}
	f.Add([]byte(base + "generator: {seed: 1, accounts: 2, users_per_account: 3, events_per_account: 4}\n"))
	f.Add([]byte("now: -1d\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("f.yaml", data)
		if err == nil {
			if s == nil {
				t.Fatal("nil scenario without error")
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.File != "f.yaml" {
			t.Fatalf("error %q (%T) is not a *Error naming the file", err, err)
		}
	})
}
