package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/sandbox"
)

// Options are one benchmark's settings.
type Options struct {
	Accounts, Users, Events int // generated accounts, users and CloudTrail events per account
	Profile                 Profile
	Concurrency             int // `run --concurrency` (0: not passed, the default)
	// CPUProfile, when set, is where the audit writes its CPU profile (run's hidden
	// --cpu-profile; with several runs, the last one's); SandboxCPUProfile is this
	// process's (the sandbox's) while the audit runs.
	CPUProfile, SandboxCPUProfile string
	// Executable is the iamaudit binary the audit runs as (default: this process's
	// own, os.Executable); Env is added to the child's environment (tests use it to
	// make their test binary act as the command line).
	Executable string
	Env        []string
	// TempDir is where each run's output directory and empty home go (default os.TempDir).
	TempDir string
}

// exitIncomplete is `iamaudit run`'s exit code for an audit with accounts not audited.
const exitIncomplete = 3

// Run runs one benchmark: generates the Organization, starts the sandbox with the
// profile (setup), runs `iamaudit run` against it as a child process and measures it.
func Run(ctx context.Context, o Options) (*Result, error) {
	setupStart := time.Now()
	sc, err := Generate(o.Accounts, o.Users, o.Events)
	if err != nil {
		return nil, fmt.Errorf("generating the Organization: %w", err)
	}
	srv, err := sandbox.Start(sc, sandbox.Options{Knobs: o.Profile.Knobs()}, "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the sandbox: %w", err)
	}
	defer srv.Close()
	setup := time.Since(setupStart)

	dir, err := os.MkdirTemp(o.TempDir, "iamaudit-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out, home := filepath.Join(dir, "out"), filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		return nil, err
	}
	if o.SandboxCPUProfile != "" {
		stop, err := StartCPUProfile("--sandbox-cpu-profile", o.SandboxCPUProfile)
		if err != nil {
			return nil, err
		}
		defer stop()
	}
	machine := newMachine(probe())
	statBefore, statOK := procStat()
	before := selfCPU()
	child, err := runChild(ctx, o, srv, out, home, filepath.Join(dir, "iamaudit.db"))
	if err != nil {
		return nil, err
	}
	child.sandboxCPU = selfCPU() - before
	if statAfter, ok := procStat(); ok && statOK {
		machine.during(statBefore, statAfter, child.cpu, child.sandboxCPU)
	}
	doc, err := readRun(out)
	if err != nil {
		return nil, fmt.Errorf("the audit (exit %d) left no run JSON: %w; its last words: %s", child.exit, err, child.stderrTail)
	}
	shapes := Shapes(sc)
	r := newResult(o, sc.Accounts, shapes, doc, srv.Stats(), child, setup)
	r.Machine = machine
	return r, nil
}

// childRun is what the audit process did.
type childRun struct {
	exit       int
	wall       time.Duration
	maxRSSKiB  int64
	cpu        time.Duration // user + system CPU time of the audit process
	sandboxCPU time.Duration // this process's (the sandbox's) meanwhile
	stderrTail string
}

// runChild runs `iamaudit run` against the sandbox, with an environment that holds
// nothing but the sandbox's endpoint and credentials (an empty home: no profile,
// no shared config, no store of the person running the benchmark).
func runChild(ctx context.Context, o Options, srv *sandbox.Server, out, home, db string) (childRun, error) {
	exe := o.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return childRun{}, fmt.Errorf("finding the iamaudit binary: %w", err)
		}
	}
	args := []string{"run", "--role", "IAMAuditRole", "--output-dir", out, "--db", db, "--no-progress"}
	if o.Concurrency > 0 {
		args = append(args, "--concurrency", strconv.Itoa(o.Concurrency))
	}
	if o.CPUProfile != "" {
		args = append(args, "--cpu-profile", o.CPUProfile)
	}
	if r := o.Profile.ClientIAMRate; r > 0 {
		args = append(args, "--iam-rate", strconv.FormatFloat(r, 'f', -1, 64))
	}
	if r := o.Profile.ClientEventsRate; r > 0 {
		args = append(args, "--events-rate", strconv.FormatFloat(r, 'f', -1, 64))
	}
	akid, secret := srv.Credentials()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(childEnv(os.Environ()),
		"AWS_ENDPOINT_URL="+srv.URL(), "AWS_ACCESS_KEY_ID="+akid, "AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_REGION=us-east-1", "HOME="+home, "XDG_STATE_HOME="+home, "XDG_CONFIG_HOME="+home,
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"))
	cmd.Env = append(cmd.Env, o.Env...)
	var stderr tailBuffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Start()
	var peak peakRSS
	if err == nil {
		stop := peak.watch(cmd.Process.Pid)
		err = cmd.Wait()
		stop()
	}
	r := childRun{wall: time.Since(start), stderrTail: strings.TrimSpace(stderr.String())}
	if cmd.ProcessState != nil {
		r.exit = cmd.ProcessState.ExitCode()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			r.maxRSSKiB = ru.Maxrss // KiB on Linux; but see peakRSS
		}
		if kib, ok := peak.max(); ok {
			r.maxRSSKiB = kib
		}
	}
	var ee *exec.ExitError
	switch {
	case err == nil, errors.As(err, &ee) && r.exit == exitIncomplete:
		return r, nil
	case ctx.Err() != nil:
		return r, ctx.Err()
	case errors.As(err, &ee):
		return r, fmt.Errorf("the audit exited with code %d: %s", r.exit, r.stderrTail)
	}
	return r, fmt.Errorf("running the audit (%s): %w", exe, err)
}

// childEnv is the environment without AWS settings, the store and the home of the
// person running the benchmark.
func childEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "IAMAUDIT_") ||
			k == "HOME" || k == "XDG_STATE_HOME" || k == "XDG_CONFIG_HOME" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// tailBuffer keeps the last 8 KiB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	const keep = 8 << 10
	t.b = append(t.b, p...)
	if len(t.b) > keep {
		t.b = append([]byte(nil), t.b[len(t.b)-keep:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

// runDoc is what the benchmark reads of the run's JSON.
type runDoc struct {
	Accounts []struct {
		ID       string         `json:"id"`
		Status   string         `json:"status"`
		APICalls map[string]int `json:"api_calls"`
	}
}

// readRun reads the run JSON (iamaudit_<run id>.json) of the output directory.
func readRun(dir string) (*runDoc, error) {
	// iamaudit_<YYYYMMDD>_<HHMMSS>[_N].json (report.JSONReportName), not the other formats' files.
	files, err := filepath.Glob(filepath.Join(dir, "iamaudit_[0-9]*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) != 1 {
		return nil, fmt.Errorf("%d run JSON files in %s, want 1", len(files), dir)
	}
	f, err := os.Open(files[0])
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := decodeAccounts(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", files[0], err)
	}
	return d, nil
}

// decodeAccounts reads the run JSON's accounts one at a time and stops after them:
// a large Organization's document is gigabytes (its findings follow the accounts),
// and only one account is held at once.
func decodeAccounts(r io.Reader) (*runDoc, error) {
	dec := json.NewDecoder(r)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object (%v)", err)
	}
	d := &runDoc{}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if key != "accounts" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			return nil, fmt.Errorf("accounts is not a list (%v)", err)
		}
		for dec.More() {
			var a struct {
				ID       string         `json:"id"`
				Status   string         `json:"status"`
				APICalls map[string]int `json:"api_calls"`
			}
			if err := dec.Decode(&a); err != nil {
				return nil, err
			}
			d.Accounts = append(d.Accounts, a)
		}
		return d, nil
	}
	return nil, errors.New("no accounts in the run JSON")
}

// failed reports whether an account status means the account was not audited.
func failed(status string) bool {
	return status != inventory.StatusAudited && status != inventory.StatusPartial && status != inventory.StatusSkipped
}

// eventNames are the event names the audit looks up (its default).
var eventNames = collect.DefaultEventNames

// selfCPU is this process's user + system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// StartCPUProfile writes this process's CPU profile to path (owner-only) until stop
// is called; flag names the option in errors. The bench's --sandbox-cpu-profile, and
// run's hidden --cpu-profile that bench --cpu-profile passes to the audit.
func StartCPUProfile(flag, path string) (stop func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}

// peakRSS follows a child's peak resident memory: the kernel's high-water mark of
// the process's own memory (VmHWM in /proc/PID/status), read every 20 ms while it
// runs. getrusage's ru_maxrss cannot be used alone: Go starts a child with vfork
// semantics (the child shares this process's memory until exec) and Linux carries
// that memory's high-water mark into the child's ru_maxrss at exec, so a child of a
// bench holding a million-user sandbox (2.6 GB) would "peak" at 2.6 GB. VmHWM starts
// again at exec. Where /proc is missing, ru_maxrss it is.
type peakRSS struct {
	mu   sync.Mutex
	kib  int64
	seen bool
}

// watch reads pid's VmHWM every 20 ms until stop is called (what the child adds in
// its last 20 ms, while it exits, is not seen).
func (p *peakRSS) watch(pid int) (stop func()) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		// One open file read again from its start: os.ReadFile's open, stat, reads and
		// close every 20 ms took 0.7 CPU-s of a 25 s run at 1000 × 50, CPU the audit
		// measured competes for; one pread is below the profile's noise.
		f, err := os.Open(path)
		if err != nil {
			return // not Linux, or the process is gone
		}
		defer f.Close()
		buf := make([]byte, 8192)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			p.read(f, buf)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

func (p *peakRSS) read(f *os.File, buf []byte) {
	n, err := f.ReadAt(buf, 0)
	if n == 0 && err != nil {
		return // the process is gone
	}
	kib, ok := vmHWM(buf[:n])
	if !ok {
		return // a zombie: no memory left to tell
	}
	p.mu.Lock()
	p.kib, p.seen = max(p.kib, kib), true
	p.mu.Unlock()
}

func (p *peakRSS) max() (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.kib, p.seen
}

// vmHWM is the VmHWM line of a /proc/PID/status, in KiB.
func vmHWM(status []byte) (int64, bool) {
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
