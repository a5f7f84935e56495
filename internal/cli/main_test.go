package cli

import (
	"fmt"
	"os"
	"testing"
)

// benchChildEnv makes the test binary the command line (`iamaudit bench`'s child,
// bench_test.go): its arguments are the command's, no test runs.
const benchChildEnv = "IAMAUDIT_TEST_AS_CLI"

// The commands' tests never write into the history of whoever runs them: the
// default store (store.DefaultPath) is under a temporary XDG_STATE_HOME and
// IAMAUDIT_DB is unset.
func TestMain(m *testing.M) {
	if os.Getenv(benchChildEnv) == "1" {
		os.Exit(Main(os.Args[1:], "test"))
	}
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

func TestMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		lambda string
		want   int64
	}{{"", 896 << 20}, {"512", 512 << 20 * 8 / 10}, {"10240", 10240 << 20 * 8 / 10}, {"x", 896 << 20}, {"0", 896 << 20}} {
		if got := memoryLimit(c.lambda); got != c.want {
			t.Errorf("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%q: %d, want %d", c.lambda, got, c.want)
		}
	}
}
