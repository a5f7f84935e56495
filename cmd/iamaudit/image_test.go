package main

import (
	"bufio"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// built is the binary as the Dockerfile and the Lambda package build it:
// CGO_ENABLED=0, static.
func built(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "iamaudit-bin")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "bootstrap")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=test", "-o", binary, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

// image is what the Dockerfile's final stage says about how the binary runs.
type image struct {
	entrypoint, cmd []string
	env             []string
	user            string
}

func parseDockerfile(t *testing.T) image {
	t.Helper()
	f, err := os.Open("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var img image
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		word, rest, _ := strings.Cut(line, " ")
		switch word {
		case "FROM":
			img = image{} // only the final stage counts
		case "ENTRYPOINT", "CMD":
			var v []string
			if err := json.Unmarshal([]byte(rest), &v); err != nil {
				t.Fatalf("%s must be in exec form: %v", word, err)
			}
			if word == "ENTRYPOINT" {
				img.entrypoint = v
			} else {
				img.cmd = v
			}
		case "ENV":
			img.env = append(img.env, strings.Fields(rest)...)
		case "USER":
			img.user = rest
		}
	}
	return img
}

// sandboxEnv is the environment of a run against a sandbox serving the clean
// Organization, as AWS would give it to a task or a function (credentials and region
// in variables), with the endpoint pointed at the sandbox.
func sandboxEnv(t *testing.T) []string {
	t.Helper()
	srv, err := sandbox.Start(scenario.Clean(), sandbox.Options{}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	akid, secret := srv.Credentials()
	home := t.TempDir()
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_ENDPOINT_URL=" + srv.URL(), "AWS_ACCESS_KEY_ID=" + akid, "AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_REGION=" + srv.Region(), "AWS_EC2_METADATA_DISABLED=true", "IAMAUDIT_ROLE=IAMAuditRole"}
}

// The binary is static (no interpreter, no shared library): it runs on a scratch or
// distroless base and on Lambda's provided.al2023.
func TestBinaryIsStatic(t *testing.T) {
	f, err := elf.Open(built(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary has an ELF interpreter: it is dynamically linked")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("the binary needs %v", libs)
	}
}

// The container's entrypoint, run as the image runs it: ENTRYPOINT + CMD, the
// image's ENV, configured only by IAMAUDIT_* variables (the task definition's);
// IAMAUDIT_OUTPUT_DIR is moved from the image's /tmp/iamaudit into the test's
// directory, the one change.
func TestContainerEntrypoint(t *testing.T) {
	img := parseDockerfile(t)
	if len(img.entrypoint) != 1 || img.entrypoint[0] != "/iamaudit" || strings.Join(img.cmd, " ") != "run" || !strings.HasPrefix(img.user, "nonroot") {
		t.Fatalf("Dockerfile: entrypoint %v cmd %v user %q", img.entrypoint, img.cmd, img.user)
	}
	out := t.TempDir()
	env := append(sandboxEnv(t), img.env...)
	env = append(env, "IAMAUDIT_OUTPUT_DIR="+out)
	cmd := exec.Command(built(t), append(img.entrypoint[1:], img.cmd...)...)
	cmd.Env = env
	stdout, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("entrypoint: %v\n%s", err, stdout)
	}
	files, _ := filepath.Glob(filepath.Join(out, "iamaudit_*.json"))
	if len(files) == 0 || !strings.Contains(string(stdout), "No findings.") {
		t.Fatalf("no run JSON in %s, or findings on the clean Organization:\n%s", out, stdout)
	}
}

// runtimeAPI is the Lambda runtime API as the provided.al2023 runtime serves it to
// the bootstrap binary: one invocation, then it holds the next request.
type runtimeAPI struct {
	event    []byte
	deadline time.Time
	result   chan lambdaResult
	hold     chan struct{}
}

type lambdaResult struct {
	kind string // response or error
	body []byte
}

func (r *runtimeAPI) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	const prefix = "/2018-06-01/runtime/invocation/"
	switch {
	case req.Method == http.MethodGet && req.URL.Path == prefix+"next":
		if r.event == nil {
			<-r.hold // no second invocation
			return
		}
		ev := r.event
		r.event = nil
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-1")
		w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(r.deadline.UnixMilli()))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:310987654321:function:iamaudit")
		_, _ = w.Write(ev)
	case req.Method == http.MethodPost && strings.HasPrefix(req.URL.Path, prefix+"req-1/"):
		body, _ := io.ReadAll(req.Body)
		w.WriteHeader(http.StatusAccepted)
		r.result <- lambdaResult{strings.TrimPrefix(req.URL.Path, prefix+"req-1/"), body}
	default:
		http.Error(w, "unexpected "+req.Method+" "+req.URL.Path, http.StatusNotFound)
	}
}

// A scheduled event, as EventBridge delivers it.
const scheduledEvent = `{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.scheduler","account":"310987654321","time":"2026-07-01T06:00:00Z","region":"us-east-1","resources":["arn:aws:scheduler:us-east-1:310987654321:schedule/default/iamaudit"],"detail":{}}`

func invoke(t *testing.T, deadline time.Duration) lambdaResult {
	t.Helper()
	api := &runtimeAPI{event: []byte(scheduledEvent), deadline: time.Now().Add(deadline), result: make(chan lambdaResult, 1), hold: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	defer close(api.hold)
	// As the runtime starts it: the binary named bootstrap, no arguments.
	cmd := exec.Command(built(t))
	cmd.Env = append(sandboxEnv(t), "AWS_LAMBDA_RUNTIME_API="+ln.Addr().String(), "IAMAUDIT_OUTPUT_DIR="+t.TempDir(),
		"AWS_LAMBDA_FUNCTION_NAME=iamaudit", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512")
	var logs syncBuffer // the process writes while the test may read
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	select {
	case r := <-api.result:
		t.Logf("function logs:\n%s", logs.String())
		return r
	case <-time.After(3 * time.Minute):
		t.Fatalf("no answer from the function:\n%s", logs.String())
	}
	return lambdaResult{}
}

// The binary as a Lambda function: the runtime API hands it a scheduled event; the
// audit runs and the invocation answers exit code 0.
func TestLambdaScheduledInvocation(t *testing.T) {
	r := invoke(t, 15*time.Minute)
	var resp struct {
		ExitCode int `json:"exit_code"`
	}
	if r.kind != "response" || json.Unmarshal(r.body, &resp) != nil || resp.ExitCode != 0 {
		t.Fatalf("%s: %s", r.kind, r.body)
	}
}

// With less time left than the Organization is estimated to need, the function
// does not start the audit: the invocation fails saying to use Fargate.
func TestLambdaRefusesWhatItCannotFinish(t *testing.T) {
	r := invoke(t, 100*time.Second)
	if r.kind != "error" || !strings.Contains(string(r.body), "Fargate") || !strings.Contains(string(r.body), "not starting") {
		t.Fatalf("%s: %s", r.kind, r.body)
	}
}

// syncBuffer is a strings.Builder safe for a writer and a reader on two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
