package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/collect"
)

// benchCmd runs `iamaudit bench args` with this test binary as the audit's child
// (TestMain runs the command line when benchChildEnv is set).
func benchCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errw bytes.Buffer
	f := NewFactory("test", IO{In: strings.NewReader(""), Out: &out, Err: &errw})
	cmd := newBenchCmd(f, func(ctx context.Context, o *BenchOptions) error {
		o.executable, o.env = os.Args[0], []string{benchChildEnv + "=1"}
		return runBench(ctx, o)
	})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errw)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestBenchEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs an audit in a child process")
	}
	out, err := benchCmd(t, "--accounts", "2", "--users", "5", "--profile", "fast")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^2×5 fast: wall [0-9.]+s floor 0\.00s ratio -, [0-9]+ calls/min/account, 0 throttles, 0 retries, peak RSS [0-9.]+ MB, CPU [0-9.]+s \(sandbox [0-9.]+s\), 0 failed accounts, [0-9]+ µs/user, setup [0-9.]+s; machine: [0-9]+ CPUs .+, probe [0-9]+ ms, steal ([0-9.]+%|unknown), other CPU ([0-9.]+s|unknown)\n`)
	if !line.MatchString(out) {
		t.Errorf("line:\n%s", out)
	}
	if !strings.Contains(out, "iam:ListAccessKeys") {
		t.Errorf("no calls by operation:\n%s", out)
	}

	out, err = benchCmd(t, "--accounts", "2", "--users", "5", "--profile", "fast", "--json", "--runs", "2")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("--runs 2 --json: %d lines, want 2:\n%s", len(lines), out)
	}
	for i, l := range lines {
		var r struct {
			Run             int      `json:"run"`
			Accounts        int      `json:"accounts"`
			AuditedAccounts int      `json:"audited_accounts"`
			Users           int      `json:"users"`
			Wall            float64  `json:"wall_seconds"`
			Ratio           *float64 `json:"ratio"`
			RSS             int64    `json:"peak_rss_kib"`
			Failed          int      `json:"failed_accounts"`
			ExitCode        int      `json:"exit_code"`
			Machine         struct {
				CPUs  int     `json:"cpus"`
				Model string  `json:"cpu_model"`
				Probe float64 `json:"probe_ms"`
			} `json:"machine"`
			Calls map[string]struct {
				Audit   int `json:"audit"`
				Sandbox int `json:"sandbox"`
				Minimum int `json:"minimum"`
			} `json:"calls"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, l)
		}
		// The fast profile has no floor: nothing to wait for, so no ratio.
		if r.Run != i+1 || r.Accounts != 2 || r.AuditedAccounts != 3 || r.Users != 10 || r.Wall <= 0 || r.Ratio != nil ||
			r.RSS <= 0 || r.Failed != 0 || r.ExitCode != 0 {
			t.Errorf("run %d: %s", i+1, l)
		}
		if r.Machine.CPUs < 1 || r.Machine.Model == "" || r.Machine.Probe <= 0 {
			t.Errorf("run %d: machine %+v: want its CPUs, model (or unknown) and probe time", i+1, r.Machine)
		}
		if len(r.Calls) == 0 {
			t.Errorf("run %d: no calls", i+1)
		}
		for op, c := range r.Calls {
			if strings.HasPrefix(op, "iam:") || strings.HasPrefix(op, "cloudtrail:") {
				if c.Audit < c.Minimum || c.Sandbox < c.Audit {
					t.Errorf("run %d: %s audit %d sandbox %d minimum %d: want minimum ≤ audit ≤ sandbox", i+1, op, c.Audit, c.Sandbox, c.Minimum)
				}
			}
		}
	}
}

// run's --iam-rate and --events-rate reach the collection options; left out, the
// collector's defaults stay (zero in the options).
func TestRunRates(t *testing.T) {
	for _, c := range []struct {
		args             []string
		wantIAM, wantEvt float64
	}{
		{[]string{"run", "--role", "R"}, 0, 0},
		{[]string{"run", "--role", "R", "--iam-rate", "250", "--events-rate", "7.5"}, 250, 7.5},
	} {
		var got *RunOptions
		f := NewFactory("test", IO{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}})
		cmd := newRunCmd(f, func(_ context.Context, o *RunOptions) error { got = o; return nil })
		cmd.SetArgs(c.args[1:])
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		var co collect.Options
		got.applyRates(&co)
		if co.IAMRate != c.wantIAM || co.EventsRate != c.wantEvt {
			t.Errorf("%v: IAMRate %v EventsRate %v, want %v %v", c.args, co.IAMRate, co.EventsRate, c.wantIAM, c.wantEvt)
		}
	}
}

func TestBenchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--accounts", "0"},
		{"bench", "--profile", "slow"},
		{"bench", "--runs", "0"},
		{"run", "--role", "IAMAuditRole", "--iam-rate", "0"},
		{"run", "--role", "IAMAuditRole", "--events-rate", "-1"},
	} {
		var out, errw bytes.Buffer
		code := RunWith(context.Background(), args, NewFactory("test", IO{In: strings.NewReader(""), Out: &out, Err: &errw}))
		if code != ExitUsage || !strings.Contains(errw.String(), "--") {
			t.Errorf("%v: exit %d, stderr %q: want a usage error naming the flag", args, code, errw.String())
		}
	}
}
