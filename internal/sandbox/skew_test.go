package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestSigningTimeSkew signs requests by hand 3 days away from the sandbox clock (the
// SDK would correct its own clock and retry) and checks AWS's wording for each side.
func TestSigningTimeSkew(t *testing.T) {
	clock := newFakeClock()
	s := startTest(t, testScenario(), clock, nil)
	ak, sk := s.Credentials()
	now := clock.Now()
	const f = "20060102T150405Z"
	for _, tc := range []struct {
		name     string
		signedAt time.Time
		want     string
	}{
		{"in the future", now.Add(72 * time.Hour), "Signature not yet current: " + now.Add(72*time.Hour).Format(f) +
			" is still later than " + now.Add(15*time.Minute).Format(f) + " (" + now.Format(f) + " + 15 min.)"},
		{"in the past", now.Add(-72 * time.Hour), "Signature expired: " + now.Add(-72*time.Hour).Format(f) +
			" is now earlier than " + now.Add(-15*time.Minute).Format(f) + " (" + now.Format(f) + " - 15 min.)"},
	} {
		t.Run(tc.name+" (query protocol)", func(t *testing.T) {
			body := "Action=GetCallerIdentity&Version=2011-06-15"
			status, raw := signedPost(t, s, ak, sk, "sts", tc.signedAt, body, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := xml.Unmarshal(raw, &e); err != nil {
				t.Fatalf("bad XML %q: %v", raw, err)
			}
			if status != 403 || e.Error.Code != "SignatureDoesNotMatch" || e.Error.Message != tc.want {
				t.Fatalf("got %d %s %q, want 403 SignatureDoesNotMatch %q", status, e.Error.Code, e.Error.Message, tc.want)
			}
		})
		t.Run(tc.name+" (JSON protocol)", func(t *testing.T) {
			status, raw := signedPost(t, s, ak, sk, "organizations", tc.signedAt, "{}", map[string]string{
				"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSOrganizationsV20161128.ListRoots"})
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatalf("bad JSON %q: %v", raw, err)
			}
			if status != 400 || e.Type != "InvalidSignatureException" || e.Message != tc.want {
				t.Fatalf("got %d %s %q, want 400 InvalidSignatureException %q", status, e.Type, e.Message, tc.want)
			}
		})
	}
}

// signedPost POSTs body to the sandbox, SigV4-signed for service at signedAt.
func signedPost(t *testing.T, s *Server, ak, sk, service string, signedAt time.Time, body string, headers map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), http.MethodPost, s.URL()+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	hash := sha256Hex(body)
	req.Header.Set("X-Amz-Content-Sha256", hash)
	creds := aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}
	if err := v4.NewSigner().SignHTTP(ctx(t), creds, req, hash, service, s.Region(), signedAt); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
