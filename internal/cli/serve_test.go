package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/store"
)

// syncBuffer is a buffer written by the command and read by the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// emptyStore is a store with no run (created and migrated, then closed).
func emptyStore(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "iamaudit.db")
	s, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	return path
}

// serving runs `iamaudit serve args…` until the test ends, and returns the
// address it printed and its streams.
func serving(t *testing.T, args ...string) (*url.URL, *syncBuffer, *syncBuffer) {
	t.Helper()
	out, errw := &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		code <- Run(ctx, append([]string{"serve"}, args...), "test", IO{In: strings.NewReader(""), Out: out, Err: errw})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case c := <-code:
			if c != 0 {
				t.Errorf("serve exited %d after the interrupt\n%s", c, errw.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop on interrupt")
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, line := range strings.Split(out.String(), "\n") {
			if rest, ok := strings.CutPrefix(line, "Open "); ok {
				u, err := url.Parse(strings.Fields(rest)[0])
				if err != nil {
					t.Fatal(err)
				}
				return u, out, errw
			}
		}
		select {
		case c := <-code:
			t.Fatalf("serve exited %d: %s%s", c, out.String(), errw.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve printed no address: %s%s", out.String(), errw.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func status(t *testing.T, method, rawURL string, hdr map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// serve refuses to listen beyond loopback without a token, before it opens the
// store or listens; with a token file others can read, it refuses too.
func TestServeRefusesWithoutToken(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "none.db")
	for _, listen := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.10:0"} {
		var out, errw bytes.Buffer
		code := Run(context.Background(), []string{"serve", "--listen", listen, "--db", missing}, "test", IO{Out: &out, Err: &errw})
		if code != ExitUsage || !strings.Contains(errw.String(), "a token is required") || !strings.Contains(errw.String(), "--generate-token") {
			t.Errorf("--listen %s: exit %d, %q", listen, code, errw.String())
		}
		if strings.Contains(out.String(), "Open ") {
			t.Errorf("--listen %s: it printed an address", listen)
		}
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("the store was created: %v", err)
	}
	tok := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tok, []byte("a-token-of-at-least-twenty-characters\n"), 0o644)
	os.Chmod(tok, 0o644)
	var errw bytes.Buffer
	if code := Run(context.Background(), []string{"serve", "--listen", "0.0.0.0:0", "--token-file", tok, "--db", emptyStore(t)}, "test", IO{Out: io.Discard, Err: &errw}); code != ExitUsage || !strings.Contains(errw.String(), "chmod 600") {
		t.Errorf("world-readable token file: exit %d, %q", code, errw.String())
	}
	for _, args := range [][]string{{"--generate-token", "--token-file", tok}, {"--tls-cert", "c.pem"}, {"--listen", "nowhere"}} {
		var errw bytes.Buffer
		if code := Run(context.Background(), append([]string{"serve", "--db", missing}, args...), "test", IO{Out: io.Discard, Err: &errw}); code != ExitUsage {
			t.Errorf("%v: exit %d, %q", args, code, errw.String())
		}
	}
}

// Beyond loopback with a generated token: the token is printed once, on
// stdout only; requests without it, with a wrong one, or with a prefix of it are
// refused; the right one (as ?token= or a bearer) is let in; nothing but GET
// and HEAD is served.
func TestServeWithGeneratedToken(t *testing.T) {
	t.Parallel()
	u, out, errw := serving(t, "--listen", "0.0.0.0:0", "--generate-token", "--db", emptyStore(t))
	tok := u.Query().Get("token")
	if len(tok) < 40 {
		t.Fatalf("printed address %s has no token", u)
	}
	if n := strings.Count(out.String(), tok); n != 1 {
		t.Errorf("the token is printed %d times", n)
	}
	if strings.Contains(errw.String(), tok) {
		t.Error("the token is on stderr")
	}
	if !strings.Contains(errw.String(), "unencrypted") {
		t.Errorf("no warning about plain HTTP: %q", errw.String())
	}
	_, port, _ := net.SplitHostPort(u.Host)
	base := "http://127.0.0.1:" + port
	for name, c := range map[string]struct {
		path string
		hdr  map[string]string
		want int
	}{
		"no token":     {"/runs", nil, http.StatusUnauthorized},
		"wrong token":  {"/runs?token=" + strings.Repeat("x", len(tok)), nil, http.StatusUnauthorized},
		"prefix":       {"/runs?token=" + tok[:len(tok)-1], nil, http.StatusUnauthorized},
		"wrong bearer": {"/runs", map[string]string{"Authorization": "Bearer " + tok[1:]}, http.StatusUnauthorized},
		"token":        {"/runs?token=" + url.QueryEscape(tok), nil, http.StatusSeeOther},
		"bearer":       {"/runs", map[string]string{"Authorization": "Bearer " + tok}, http.StatusOK},
		"other host":   {"/runs", map[string]string{"Authorization": "Bearer " + tok, "Host": "dashboard.example:" + port}, http.StatusOK},
	} {
		if got := status(t, http.MethodGet, base+c.path, c.hdr); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
	for _, m := range []string{http.MethodPost, http.MethodDelete, http.MethodPut} {
		if got := status(t, m, base+"/runs", map[string]string{"Authorization": "Bearer " + tok}); got != http.StatusMethodNotAllowed {
			t.Errorf("%s: %d", m, got)
		}
	}
}

// On loopback no token is needed, and only loopback Host names are answered.
func TestServeLoopback(t *testing.T) {
	t.Parallel()
	u, out, _ := serving(t, "--listen", "127.0.0.1:0", "--db", emptyStore(t))
	if u.Query().Has("token") || u.Hostname() != "127.0.0.1" {
		t.Errorf("address %s", u)
	}
	if !strings.Contains(out.String(), "read-only") {
		t.Errorf("output %q", out.String())
	}
	if got := status(t, http.MethodGet, u.String(), nil); got != http.StatusOK {
		t.Errorf("GET /: %d", got)
	}
	if got := status(t, http.MethodGet, u.String()+"runs", map[string]string{"Host": "rebound.example:" + u.Port()}); got != http.StatusMisdirectedRequest {
		t.Errorf("rebound Host: %d", got)
	}
}

// A token file works as the generated token does, and the token is not printed.
func TestServeTokenFile(t *testing.T) {
	t.Parallel()
	tok := "file-token-0123456789-abcdefghij"
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u, out, _ := serving(t, "--listen", "127.0.0.1:0", "--token-file", path, "--db", emptyStore(t))
	if strings.Contains(out.String(), tok) {
		t.Error("the token of the file is printed")
	}
	base := "http://" + u.Host
	if got := status(t, http.MethodGet, base+"/runs", nil); got != http.StatusUnauthorized {
		t.Errorf("without the token: %d", got)
	}
	if got := status(t, http.MethodGet, base+"/runs", map[string]string{"Authorization": "Bearer " + tok}); got != http.StatusOK {
		t.Errorf("with the token: %d", got)
	}
}
