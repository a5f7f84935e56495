package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/report"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// The fault suite's child processes: the real `iamaudit run` (this test binary
// running cli.Main, TestFaultSuiteChild), for what only a process shows: a signal
// mid-run, and file systems that fail (a full disk, a read-only directory: a tmpfs
// mounted in the child's own user and mount namespaces, which the host never sees).

// childSpec tells the child what to run (IAMAUDIT_FAULT_CHILD, JSON).
type childSpec struct {
	Args []string `json:"args"`
	// Mount, when set, mounts a tmpfs on Dir first: "size=24k" (a disk that fills up)
	// or "ro" (read-only).
	Mount string `json:"mount,omitempty"`
	Dir   string `json:"dir,omitempty"`
	// CopyTo receives a copy of Dir's files after the run (the tmpfs dies with the child).
	CopyTo string `json:"copy_to,omitempty"`
}

// TestFaultSuiteChild is not a test of its own: it is the iamaudit process the fault
// suite starts, and does nothing unless IAMAUDIT_FAULT_CHILD is set.
func TestFaultSuiteChild(t *testing.T) {
	raw := os.Getenv("IAMAUDIT_FAULT_CHILD")
	if raw == "" {
		return
	}
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(97)
	}
	if spec.Mount != "" {
		// Private propagation first: nothing mounted here can reach the parent.
		if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
			fmt.Fprintln(os.Stderr, "child: mount --make-rprivate /:", err)
			os.Exit(98)
		}
		flags, data := uintptr(0), "mode=0700,"+spec.Mount
		if spec.Mount == "ro" {
			flags, data = syscall.MS_RDONLY, "mode=0700"
		}
		if err := syscall.Mount("tmpfs", spec.Dir, "tmpfs", flags, data); err != nil {
			fmt.Fprintln(os.Stderr, "child: mount tmpfs:", err)
			os.Exit(98)
		}
	}
	code := Main(spec.Args, "faults")
	if spec.CopyTo != "" {
		entries, _ := os.ReadDir(spec.Dir)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(spec.Dir, e.Name()))
			if err != nil {
				continue
			}
			info, _ := e.Info()
			_ = os.WriteFile(filepath.Join(spec.CopyTo, e.Name()), b, info.Mode().Perm())
			_ = os.Chmod(filepath.Join(spec.CopyTo, e.Name()), info.Mode().Perm())
		}
	}
	os.Exit(code)
}

// childResult is what a child run showed.
type childResult struct {
	code        int
	out, errOut string
	took        time.Duration
}

// startChild runs the child against srv; when sig is set, it is sent once a line of
// stdout matches signalAt (mid-run), plus delay.
func startChild(t *testing.T, srv *sandbox.Server, spec childSpec, sig os.Signal, signalAt string, delay, bound time.Duration) childResult {
	t.Helper()
	b, _ := json.Marshal(spec)
	akid, secret := srv.Credentials()
	home := t.TempDir()
	var errOut bytes.Buffer
	command := func(attr *syscall.SysProcAttr) (*exec.Cmd, io.Reader, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFaultSuiteChild$")
		cmd.Env = append(os.Environ(), "IAMAUDIT_FAULT_CHILD="+string(b),
			"AWS_ENDPOINT_URL="+srv.URL(), "AWS_ACCESS_KEY_ID="+akid, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_REGION="+srv.Region(),
			"AWS_CONFIG_FILE="+filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "none"),
			"AWS_EC2_METADATA_DISABLED=true", "AWS_PROFILE=", "HOME="+home)
		cmd.SysProcAttr, cmd.Stderr = attr, &errOut
		stdout, err := cmd.StdoutPipe()
		if err == nil {
			err = cmd.Start()
		}
		return cmd, stdout, err
	}
	var attr *syscall.SysProcAttr
	if spec.Mount != "" {
		attr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}}
	}
	began := time.Now()
	cmd, stdout, err := command(attr)
	if err != nil && spec.Mount != "" && os.Getuid() == 0 {
		// No user namespaces here: as root, a mount namespace alone will do.
		cmd, stdout, err = command(&syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS})
	}
	if err != nil {
		if os.Getenv("IAMAUDIT_TEST_DISALLOW_SKIP") != "" {
			t.Fatalf("cannot start a child in its own mount namespace (%v): this test needs user namespaces, or root", err)
		}
		t.Skipf("cannot start a child in its own mount namespace: %v", err)
	}
	var out strings.Builder
	var mu sync.Mutex
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stdout)
		signalled := sig == nil
		for sc.Scan() {
			mu.Lock()
			out.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if !signalled && strings.Contains(sc.Text(), signalAt) {
				signalled = true
				time.AfterFunc(delay, func() { _ = cmd.Process.Signal(sig) })
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	waited := make(chan error, 1)
	go func() { <-readDone; waited <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-waited:
	case <-time.After(bound):
		_ = cmd.Process.Kill()
		t.Fatalf("the child did not finish within %s\nstdout:\n%s\nstderr:\n%s", bound, out.String(), errOut.String())
	}
	r := childResult{took: time.Since(began), errOut: errOut.String()}
	mu.Lock()
	r.out = out.String()
	mu.Unlock()
	var ee *exec.ExitError
	switch {
	case werr == nil:
	case errors.As(werr, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("child: %v", werr)
	}
	if r.code == 97 || r.code == 98 {
		t.Fatalf("the child could not set up (%d): %s", r.code, r.errOut)
	}
	return r
}

// readRun reads a run's JSON file from dir.
func readRun(t *testing.T, dir string) (runData, map[string][]byte) {
	t.Helper()
	files := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var data runData
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
		if strings.HasPrefix(e.Name(), "iamaudit_2") && strings.HasSuffix(e.Name(), ".json") {
			var doc report.Document
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatalf("%s: %v", e.Name(), err)
			}
			data = runData{inv: doc.Inventory, findings: doc.Findings}
		}
	}
	return data, files
}

// noSecrets: none of the sandbox's secrets is in what the child wrote or printed.
func noSecrets(t *testing.T, srv *sandbox.Server, texts map[string]string) {
	t.Helper()
	for _, secret := range srv.Secrets() {
		for name, text := range texts {
			if strings.Contains(text, secret) {
				t.Errorf("a secret of the sandbox (%s…) is in %s", secret[:4], name)
			}
		}
	}
}

func (s *suite) childCases(t *testing.T) {
	runArgs := func(dir string, more ...string) []string {
		return append([]string{"run", "--role", demoRole, "--output-dir", dir, "--no-progress"}, more...)
	}
	// Slow enough to be interrupted mid-run: CloudTrail's own 2/s and 200 ms a call.
	slow := &scenario.Knobs{Latency: map[string]scenario.Latency{"cloudtrail": {Mean: scenario.Duration{Duration: 200 * time.Millisecond}}}}
	for sig, name := range map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"} {
		t.Run(name+" mid-run", func(t *testing.T) {
			srv, err := sandbox.Start(scenario.Demo(), sandbox.Options{Clock: s.clock(), Knobs: slow}, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			dir := filepath.Join(t.TempDir(), "out")
			r := startChild(t, srv, childSpec{Args: runArgs(dir)}, sig, "Querying CloudTrail", 300*time.Millisecond, time.Minute)
			row := faultRow{order: 900 + int(sig), name: name + " mid-run", fault: name + " once CloudTrail is being queried (real child process)", took: r.took}
			defer func() { s.record(row) }()
			data, files := readRun(t, dir)
			row.outcome = outcomeOf(runResult{code: r.code, data: data}) + ", outputs written"
			if r.code != ExitIncomplete {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, ExitIncomplete, r.out, r.errOut)
			}
			if data.inv == nil {
				t.Fatalf("no run JSON written after %s; files: %v\nstderr:\n%s", name, mapKeys(files), r.errOut)
			}
			if !hasSection(data.inv.Gaps, inventory.SectionRun) || !strings.Contains(r.errOut, "interrupted") {
				t.Errorf("the run does not say it was interrupted:\n%s", r.errOut)
			}
			akid, _ := srv.Credentials()
			cmp := compareRuns(s.cleanRun(t, false).data, data, checks.DefaultConfig(), akid)
			row.lost = cmp.lost()
			for _, l := range cmp.silent {
				t.Errorf("lost silently: %s", l)
			}
			for _, l := range cmp.invented {
				t.Errorf("invented: %s", l)
			}
			texts := map[string]string{"stdout": r.out, "stderr": r.errOut}
			for n, b := range files {
				texts[n] = string(b)
			}
			noSecrets(t, srv, texts)
		})
	}

	t.Run("full disk", func(t *testing.T) {
		srv, err := sandbox.Start(scenario.Demo(), sandbox.Options{Clock: s.clock(), Knobs: suiteKnobs(nil)}, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		dir, copyTo := filepath.Join(t.TempDir(), "out"), t.TempDir()
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		r := startChild(t, srv, childSpec{Args: runArgs(dir), Mount: "size=24k", Dir: dir, CopyTo: copyTo}, nil, "", 0, time.Minute)
		row := faultRow{order: 950, name: "full disk", fault: "the output directory is a 24 KiB tmpfs (real child process)", took: r.took}
		defer func() { s.record(row) }()
		_, files := readRun(t, copyTo)
		notWritten := regexp.MustCompile(`(?m)^Not written: (.+)$`).FindAllStringSubmatch(r.out, -1)
		row.outcome = fmt.Sprintf("exit %d, %d files written, %d named as not written, findings printed", r.code, len(files), len(notWritten))
		if r.code != ExitOutputs {
			t.Errorf("exit %d, want %d (outputs not written)\nstdout:\n%s\nstderr:\n%s", r.code, ExitOutputs, r.out, r.errOut)
		}
		if !strings.Contains(r.out, "Findings: ") || !strings.Contains(r.out, "By severity:") {
			t.Errorf("the findings summary is not printed when the disk is full:\n%s", r.out)
		}
		if len(notWritten) == 0 {
			t.Fatalf("no file is named as not written:\n%s", r.out)
		}
		// Every output is either written whole or named: together, the five formats of
		// one run id.
		named := map[string]bool{}
		for _, m := range notWritten {
			named[filepath.Base(m[1])] = true
			if !strings.Contains(r.errOut, m[1]) {
				t.Errorf("stderr does not name %s", m[1])
			}
		}
		runID := regexp.MustCompile(`\d{8}_\d{6}(_\d+)?`).FindString(notWritten[0][1])
		for _, f := range report.Formats() {
			name := f.FileName(runID)
			b, written := files[name]
			switch {
			case written && named[name]:
				t.Errorf("%s is written and named as not written", name)
			case !written && !named[name]:
				t.Errorf("%s is neither written nor named as not written", name)
			case written && len(b) == 0:
				t.Errorf("%s is written empty", name)
			}
		}
		for name := range files {
			if strings.HasPrefix(name, ".iamaudit-") {
				t.Errorf("a temporary file was left on the full disk: %s", name)
			}
		}
		row.lost = fmt.Sprintf("nothing silently: %d files named as not written (%s); the findings are printed", len(named), strings.Join(mapKeys(named), ", "))
		noSecrets(t, srv, map[string]string{"stdout": r.out, "stderr": r.errOut})
	})

	t.Run("unwritable directory", func(t *testing.T) {
		srv, err := sandbox.Start(scenario.Demo(), sandbox.Options{Clock: s.clock(), Knobs: suiteKnobs(nil)}, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		dir := filepath.Join(t.TempDir(), "out")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		r := startChild(t, srv, childSpec{Args: runArgs(dir), Mount: "ro", Dir: dir}, nil, "", 0, 30*time.Second)
		row := faultRow{order: 951, name: "unwritable directory", fault: "the output directory is a read-only tmpfs (real child process)", took: r.took,
			outcome: fmt.Sprintf("exit %d before any AWS call", r.code), lost: "nothing (nothing was collected: the check comes first)"}
		defer func() { s.record(row) }()
		if r.code != ExitError || !strings.Contains(r.errOut, "cannot write in the output directory") {
			t.Errorf("exit %d, want %d with the directory named\nstderr:\n%s", r.code, ExitError, r.errOut)
		}
		if n := srv.Stats().Requests; n != 0 {
			t.Errorf("%d AWS requests made before the output directory was found unwritable", n)
		}
	})
}

func hasSection(gaps []inventory.Gap, section inventory.Section) bool {
	for _, g := range gaps {
		if g.Section == section {
			return true
		}
	}
	return false
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
