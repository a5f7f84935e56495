package dashboard

import (
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every response, pages, downloads, files and errors alike, carries the safety
// headers; pages with data are never cached.
func TestHeaders(t *testing.T) {
	t.Parallel()
	h, s := openDemo(t, Options{})
	last := h.outs[len(h.outs)-1].Inventory.RunID
	css := "/static/" + s.assets["dashboard.css"].name
	for _, p := range []string{"/", "/runs/" + last, "/runs/" + last + "?format=json", "/runs/" + last + "/findings?format=csv",
		"/trends", "/runs/nosuchrun", "/nowhere", css} {
		w := get(t, s, p)
		hd := w.Header()
		for k, want := range map[string]string{
			"Content-Security-Policy": contentSecurityPolicy,
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"X-Frame-Options":         "DENY",
		} {
			if got := hd.Get(k); got != want {
				t.Errorf("%s: %s %q, want %q", p, k, got, want)
			}
		}
		cache := hd.Get("Cache-Control")
		if p == css {
			if !strings.Contains(cache, "max-age") || w.Code != http.StatusOK || hd.Get("Content-Type") != "text/css; charset=utf-8" {
				t.Errorf("%s: %d, cache %q, type %q", p, w.Code, cache, hd.Get("Content-Type"))
			}
			continue
		}
		if cache != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", p, cache)
		}
	}
	if !strings.Contains(contentSecurityPolicy, "default-src 'self'") || strings.Contains(contentSecurityPolicy, "unsafe") {
		t.Errorf("CSP %q", contentSecurityPolicy)
	}
	// No inline script or style at all: every script and style sheet is a file.
	body := get(t, s, "/runs/"+last).Body.String()
	if strings.Contains(body, "<script>") || strings.Contains(body, "<style") || strings.Contains(body, " style=") {
		t.Error("a page has an inline script or style")
	}
}

// No request changes the store: anything but GET and HEAD is refused before it
// reaches a page, and the store file is the same byte for byte afterwards.
func TestReadOnlyRequests(t *testing.T) {
	t.Parallel()
	h, s := openDemo(t, Options{})
	sum := func() [32]byte {
		b, err := os.ReadFile(h.path)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b)
	}
	before := sum()
	last := h.outs[len(h.outs)-1].Inventory.RunID
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions, "PROPFIND"} {
		for _, p := range []string{"/", "/runs/" + last, "/runs/" + last + "/findings", "/nowhere"} {
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest(m, p, strings.NewReader("severity=critical")))
			if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: %d (Allow %q)", m, p, w.Code, w.Header().Get("Allow"))
			}
		}
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodHead, "/runs/"+last, nil))
	if w.Code != http.StatusOK {
		t.Errorf("HEAD: %d", w.Code)
	}
	for _, p := range []string{"/runs/" + last, "/trends", "/diff/" + h.outs[0].Inventory.RunID + "/" + last} {
		get(t, s, p)
	}
	if sum() != before {
		t.Error("the store changed while serving")
	}
	if !s.st.ReadOnly() {
		t.Error("the test's store is not read-only")
	}
}

// On loopback without a token, a request whose Host is not a loopback name of the
// port is refused: a web page whose DNS name points at 127.0.0.1 cannot read the
// dashboard through a browser.
func TestHostCheck(t *testing.T) {
	t.Parallel()
	_, s := openDemo(t, Options{Hosts: LoopbackHosts(8080)})
	for host, want := range map[string]int{
		"127.0.0.1:8080": http.StatusFound, "localhost:8080": http.StatusFound, "LOCALHOST:8080": http.StatusFound, "[::1]:8080": http.StatusFound,
		"evil.example:8080": http.StatusMisdirectedRequest, "127.0.0.1:9090": http.StatusMisdirectedRequest, "": http.StatusMisdirectedRequest,
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Host = host
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Host %q: %d, want %d", host, w.Code, want)
		}
	}
}

// With a token, nothing is served without it: a wrong token, a wrong session, a
// wrong bearer are refused; the right token once gives a session cookie (HttpOnly,
// SameSite Strict) and a redirect to the same address without the token.
func TestToken(t *testing.T) {
	t.Parallel()
	const tok = "0123456789abcdefghij-the-right-token"
	h, s := openDemo(t, Options{Token: tok})
	srv := httptest.NewServer(s)
	defer srv.Close()
	last := h.outs[len(h.outs)-1].Inventory.RunID
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(path string, hdr map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	for name, c := range map[string]struct {
		path string
		hdr  map[string]string
	}{
		"none":            {"/runs/" + last, nil},
		"wrong token":     {"/runs/" + last + "?token=0123456789abcdefghij-the-wrong-token", nil},
		"prefix":          {"/runs/" + last + "?token=" + tok[:10], nil},
		"longer":          {"/runs/" + last + "?token=" + tok + "x", nil},
		"empty":           {"/runs/" + last + "?token=", nil},
		"wrong bearer":    {"/runs/" + last, map[string]string{"Authorization": "Bearer nope"}},
		"basic":           {"/runs/" + last, map[string]string{"Authorization": "Basic " + tok}},
		"wrong session":   {"/runs/" + last, map[string]string{"Cookie": sessionCookie + "=deadbeef"}},
		"token as cookie": {"/runs/" + last, map[string]string{"Cookie": sessionCookie + "=" + tok}},
		"static file":     {"/static/" + s.assets["dashboard.js"].name, nil},
		"json":            {"/runs/" + last + "?format=json", nil},
	} {
		if r := do(c.path, c.hdr); r.StatusCode != http.StatusUnauthorized || r.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s: %d (Set-Cookie %q), want 401", name, r.StatusCode, r.Header.Get("Set-Cookie"))
		}
	}
	r := do("/runs/"+last+"/findings?severity=high&token="+tok, nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/runs/"+last+"/findings?severity=high" {
		t.Fatalf("right token: %d, Location %q", r.StatusCode, r.Header.Get("Location"))
	}
	cookies := r.Cookies()
	if len(cookies) != 1 || cookies[0].Name != sessionCookie || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode ||
		strings.Contains(cookies[0].Value, tok) {
		t.Fatalf("session cookie %+v", cookies)
	}
	if r := do("/runs/"+last, map[string]string{"Cookie": sessionCookie + "=" + cookies[0].Value}); r.StatusCode != http.StatusOK {
		t.Errorf("with the session: %d", r.StatusCode)
	}
	if r := do("/runs/"+last+"?format=csv", map[string]string{"Authorization": "Bearer " + tok}); r.StatusCode != http.StatusOK {
		t.Errorf("with the bearer token: %d", r.StatusCode)
	}
	// Another dashboard's token opens nothing here, nor its session.
	other := newTokenAuth("another-token-of-twenty-chars", false)
	if r := do("/runs/"+last, map[string]string{"Cookie": sessionCookie + "=" + other.session}); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("another dashboard's session: %d", r.StatusCode)
	}
}

func TestCheckListen(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		addr  string
		token bool
		ok    bool
	}{
		{"127.0.0.1:8080", false, true}, {"127.5.6.7:8080", false, true}, {"[::1]:8080", false, true}, {"localhost:8080", false, true},
		{"0.0.0.0:8080", false, false}, {":8080", false, false}, {"[::]:8080", false, false}, {"10.0.0.5:8080", false, false},
		{"example.com:8080", false, false}, {"localhost.example.com:8080", false, false},
		{"0.0.0.0:8080", true, true}, {"10.0.0.5:8080", true, true},
		{"127.0.0.1", false, false},
	} {
		err := CheckListen(c.addr, c.token)
		if (err == nil) != c.ok {
			t.Errorf("CheckListen(%q, token %v) = %v", c.addr, c.token, err)
		}
		if !c.ok && !c.token && strings.Contains(c.addr, ":") && c.addr != "127.0.0.1" && !errors.Is(err, ErrTokenRequired) {
			t.Errorf("%s: %v, want ErrTokenRequired", c.addr, err)
		}
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	a, err := GenerateToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateToken()
	if a == b || len(a) < 40 {
		t.Errorf("tokens %q %q", a, b)
	}
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	if tok, err := ReadTokenFile(write("ok", "a-token-of-at-least-twenty\nsecond line ignored\n", 0o600)); err != nil || tok != "a-token-of-at-least-twenty" {
		t.Errorf("good file: %q %v", tok, err)
	}
	for name, c := range map[string]struct {
		content string
		mode    os.FileMode
		want    string
	}{
		"readable": {"a-token-of-at-least-twenty", 0o644, "chmod 600"},
		"short":    {"short-token", 0o600, "at least 20"},
		"spaces":   {"a token with spaces in it ok", 0o600, "printable"},
		"empty":    {"", 0o600, "at least 20"},
	} {
		if _, err := ReadTokenFile(write(name, c.content, c.mode)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	if _, err := ReadTokenFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file accepted")
	}
}
