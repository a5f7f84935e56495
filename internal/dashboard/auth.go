package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// The dashboard's access rule (docs/dashboard.md, "Safety"):
//
//   - On a loopback address (127.0.0.0/8, ::1, localhost) only this machine can
//     connect; no token is needed, and the Host header must be a loopback name of
//     the port (Options.Hosts), so that a web page cannot read the dashboard
//     through the browser by pointing its own DNS name at 127.0.0.1.
//   - Anywhere else (0.0.0.0, a LAN address) a token is required: generated
//     (GenerateToken, 32 random bytes, printed once by `iamaudit serve`, never
//     written anywhere) or read from a file (ReadTokenFile). A request carries it
//     as ?token= once (the dashboard answers with a session cookie and a redirect
//     to the same URL without it, so the token does not stay in the address bar,
//     the history or a bookmark), or as `Authorization: Bearer` (curl, scripts).
//   - Tokens and sessions are compared in constant time, as SHA-256 digests, so
//     neither the content nor the length of a wrong token changes the time taken.

// ErrTokenRequired: a non-loopback listen address without a token.
var ErrTokenRequired = errors.New("a token is required")

// MinTokenLength is the shortest token accepted from a file.
const MinTokenLength = 20

// sessionCookie is the cookie that carries a session after ?token=.
const sessionCookie = "iamaudit_session"

// CheckListen says whether addr may be listened on with or without a token: a
// non-loopback address without one is refused (ErrTokenRequired).
func CheckListen(addr string, haveToken bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: give host:port, e.g. 127.0.0.1:8080", addr)
	}
	if Loopback(host) || haveToken {
		return nil
	}
	what := host
	if host == "" || host == "0.0.0.0" || host == "::" {
		what = "every address of this machine"
	}
	return fmt.Errorf("--listen %s would serve the dashboard beyond this machine (%s): %w; give --generate-token (a token printed once) or --token-file FILE, or listen on 127.0.0.1",
		addr, what, ErrTokenRequired)
}

// Loopback tells whether host (a name or an IP address, without port) only
// reaches this machine.
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// LoopbackHosts are the Host header values a browser sends to a loopback
// listener on port: what Options.Hosts should hold for it.
func LoopbackHosts(port int) []string {
	p := strconv.Itoa(port)
	return []string{"127.0.0.1:" + p, "localhost:" + p, "[::1]:" + p}
}

// GenerateToken is a new random token: 32 bytes from crypto/rand, base64url.
func GenerateToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cannot generate a token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ReadTokenFile reads a token from a file that only its owner can read (like an
// SSH key): its first line, at least MinTokenLength characters of printable ASCII.
func ReadTokenFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("--token-file %s can be read by other users (mode %04o): chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	tok, _, _ := strings.Cut(string(b), "\n")
	tok = strings.TrimSpace(tok)
	if len(tok) < MinTokenLength {
		return "", fmt.Errorf("--token-file %s: the token must be at least %d characters (iamaudit serve --generate-token makes one)", path, MinTokenLength)
	}
	for _, r := range tok {
		if r < 0x21 || r > 0x7e {
			return "", fmt.Errorf("--token-file %s: the token must be printable ASCII without spaces", path)
		}
	}
	return tok, nil
}

// tokenAuth checks requests against one token.
type tokenAuth struct {
	token   [32]byte // SHA-256 of the token
	session string   // the session cookie's value: HMAC-SHA256(token, …), hex
	sessSum [32]byte
	secure  bool
}

func newTokenAuth(token string, secure bool) *tokenAuth {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("iamaudit dashboard session v1"))
	session := hex.EncodeToString(m.Sum(nil))
	return &tokenAuth{token: sha256.Sum256([]byte(token)), session: session, sessSum: sha256.Sum256([]byte(session)), secure: secure}
}

func (a *tokenAuth) tokenOK(given string) bool {
	sum := sha256.Sum256([]byte(given))
	return subtle.ConstantTimeCompare(sum[:], a.token[:]) == 1
}

func (a *tokenAuth) sessionOK(given string) bool {
	sum := sha256.Sum256([]byte(given))
	return subtle.ConstantTimeCompare(sum[:], a.sessSum[:]) == 1
}

// check lets the request through (true), or answers it (false): a redirect that
// sets the session for a right ?token=, a 401 for a wrong or missing one.
func (a *tokenAuth) check(w http.ResponseWriter, r *http.Request) bool {
	if q := r.URL.Query(); q.Has("token") {
		if !a.tokenOK(q.Get("token")) {
			unauthorized(w, "wrong token")
			return false
		}
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: a.session, Path: "/", HttpOnly: true,
			Secure: a.secure, SameSite: http.SameSiteStrictMode})
		q.Del("token")
		u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
		return false
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") && a.tokenOK(strings.TrimSpace(tok)) {
			return true
		}
		unauthorized(w, "wrong token")
		return false
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if a.sessionOK(c.Value) {
			return true
		}
		unauthorized(w, "wrong or old session: open the address iamaudit serve printed, with its token")
		return false
	}
	unauthorized(w, "this dashboard needs its token: open the address iamaudit serve printed (it ends with ?token=…), or send Authorization: Bearer TOKEN")
	return false
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="iamaudit"`)
	http.Error(w, msg, http.StatusUnauthorized)
}
