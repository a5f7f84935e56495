// Package mototest starts moto_server, the independent AWS emulator the tests run the
// real SDK against. Test code only.
//
// moto picks its own port (-p 0) and this package reads it from moto's first lines:
// a port chosen here and closed before moto binds it could be taken in the meantime,
// and with the packages' tests running in parallel another package's moto_server
// could then answer this one's test (a user "already exists" that this test never
// created).
package mototest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"syscall"
	"time"
)

// Server is a running moto_server.
type Server struct {
	URL string
	cmd *exec.Cmd
}

// ErrMissing is returned by Start when moto_server is not on the PATH.
var ErrMissing = errors.New("moto_server is required (pip install 'moto[server]')")

var running = regexp.MustCompile(`Running on (http://127\.0\.0\.1:[0-9]+)`)

// Start runs moto_server on a port of its choosing, in its own process group, and
// returns once it answers; Stop ends it.
func Start() (*Server, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMissing, err)
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", "0")
	cmd.Env = append(cmd.Environ(), "MOTO_ALLOW_NONEXISTENT_REGION=true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = cmd.Stderr // the same pipe: whatever moto prints is read below
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &Server{cmd: cmd}
	found := make(chan string, 1)
	go func(found chan<- string) {
		// Read every line moto writes (it logs each request: a pipe left unread
		// would stop it), the first "Running on" giving the URL.
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := running.FindStringSubmatch(sc.Text()); m != nil && found != nil {
				found <- m[1]
				found = nil
			}
		}
		_, _ = io.Copy(io.Discard, out)
		if found != nil {
			close(found)
		}
	}(found)
	select {
	case url, ok := <-found:
		if !ok {
			s.Stop()
			return nil, errors.New("moto_server exited before it said its port")
		}
		s.URL = url
	case <-time.After(30 * time.Second):
		s.Stop()
		return nil, errors.New("moto_server did not say its port within 30s")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("moto_server at %s did not answer within 30s: %w", s.URL, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop kills moto_server's process group and waits for it.
func (s *Server) Stop() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL) // its own process group, started above
	_ = s.cmd.Wait()
}
