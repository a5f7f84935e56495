package cli

import (
	"fmt"
	"os"
	"testing"
)

// The commands' tests never write into the history of whoever runs them: the
// default store (store.DefaultPath) is under a temporary XDG_STATE_HOME and
// IAMAUDIT_DB is unset.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "iamaudit-cli-state-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_STATE_HOME", dir)
	os.Unsetenv("IAMAUDIT_DB")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
