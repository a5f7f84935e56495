package collect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
)

// closedPort returns a local address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// An unreachable endpoint is reported as such, not as missing credentials, and
// quickly (a few attempts, not minutes of backoff).
func TestUnreachableEndpoint(t *testing.T) {
	endpoint := "http://" + closedPort(t)
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE000000001")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Every connection attempt is counted: "quickly" is a few attempts (the retries
	// of the identity call only), each waiting at most MaxBackoff
	// (TestRetryersUnderFanOut), never a wait measured here.
	var dials atomic.Int64
	dialer := &net.Dialer{}
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dialer.DialContext(ctx, network, addr)
	}}}
	_, err = Collect(context.Background(), cfg, Options{MaxBackoff: 50 * time.Millisecond})
	if err == nil {
		t.Fatal("Collect succeeded against a closed port")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "cannot reach "+endpoint+" ") || !strings.Contains(msg, "check AWS_ENDPOINT_URL, the network or the proxy") ||
		strings.Contains(msg, "credentials") {
		t.Errorf("error = %s", msg)
	}
	if n := dials.Load(); n < 1 || n > identityAttempts {
		t.Errorf("%d connection attempts to report an unreachable endpoint, want 1 to %d", n, identityAttempts)
	}
}

func TestUnreachableClassifies(t *testing.T) {
	refused := &url.Error{Op: "Post", URL: "https://sts.us-east-1.amazonaws.com/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}}
	tests := []struct {
		name     string
		err      error
		endpoint string // "" when not a network error
	}{
		{"connection refused, wrapped", fmt.Errorf("operation error STS: GetCallerIdentity, exceeded maximum number of attempts, 3, https response error: %w", refused), "https://sts.us-east-1.amazonaws.com"},
		{"DNS", &url.Error{Op: "Post", URL: "https://sts.example.invalid/", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "sts.example.invalid"}}}, "https://sts.example.invalid"},
		{"DNS without URL", &net.DNSError{Err: "no such host", Name: "sts.example.invalid"}, "sts.example.invalid"},
		{"an API error is AWS answering", apiErr("InvalidClientTokenId"), ""},
		{"no credentials", errors.New("failed to retrieve credentials: no EC2 IMDS role found"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := unreachable(tt.err)
			if ok != (tt.endpoint != "") || got != tt.endpoint {
				t.Errorf("unreachable = %q %v, want %q", got, ok, tt.endpoint)
			}
		})
	}
}
