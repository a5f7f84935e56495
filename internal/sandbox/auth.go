package sandbox

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Principal kinds.
const (
	principalMgmtUser = iota // the scenario's management caller
	principalUser            // an IAM user's access key
	principalSession         // AssumeRole session credentials
)

// credential is a key the sandbox accepts, and who it belongs to.
type credential struct {
	AccessKeyID, Secret, Token string
	Account                    string // account the calls are served from
	Kind                       int
	Name                       string // user name, or role session name
	RoleName                   string
	Arn                        string // caller ARN (user or assumed-role)
	Expires                    time.Time
	ReadOnly                   bool // a session of a read-only role: readOnlyActions only
	userKey                    *key // principalUser: the key, for last-used tracking
}

// credStore maps access key ids to credentials; sync.Map keeps the hot path lock-free.
type credStore struct {
	m sync.Map
	// secrets are every secret access key and session token ever stored (Secrets).
	mu      sync.Mutex
	secrets []string
}

func newCredStore() *credStore { return &credStore{} }
func (c *credStore) put(cr *credential) {
	c.m.Store(cr.AccessKeyID, cr)
	c.mu.Lock()
	for _, s := range []string{cr.Secret, cr.Token} {
		if s != "" {
			c.secrets = append(c.secrets, s)
		}
	}
	c.mu.Unlock()
}

// Secrets returns every secret access key and session token the sandbox has handed
// out or accepts (the caller's, the users' keys', every assumed session's, expired
// ones included): tests scan a run's outputs, logs and errors for them.
func (s *Server) Secrets() []string {
	s.creds.mu.Lock()
	defer s.creds.mu.Unlock()
	return append([]string(nil), s.creds.secrets...)
}
func (c *credStore) remove(id string) { c.m.Delete(id) }
func (c *credStore) get(id string) (*credential, bool) {
	v, ok := c.m.Load(id)
	if !ok {
		return nil, false
	}
	return v.(*credential), true
}

// sigScope is the parsed Authorization header.
type sigScope struct {
	accessKeyID, date, region, service string
	signedHeaders                      []string
	signature                          string
}

const sigAlgorithm = "AWS4-HMAC-SHA256"

// parseAuthorization parses "AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, SignedHeaders=a;b, Signature=hex".
func parseAuthorization(h string) (sigScope, bool) {
	var s sigScope
	rest, ok := strings.CutPrefix(h, sigAlgorithm+" ")
	if !ok {
		return s, false
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return s, false
		}
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return s, false
			}
			s.accessKeyID, s.date, s.region, s.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			s.signedHeaders = strings.Split(v, ";")
		case "Signature":
			s.signature = v
		}
	}
	return s, s.accessKeyID != "" && s.signature != "" && len(s.signedHeaders) > 0
}

// authError is an authentication failure, rendered in the service's error shape.
type authError struct {
	code    string // query-protocol code
	message string
}

const maxSkew = 15 * time.Minute

// verify checks the request's SigV4 signature and the credential's validity. The
// signing time must be within 15 minutes of the sandbox clock or of the wall clock
// (clients sign with their own clock, and a scenario may pin the sandbox clock in the
// past); session expiry is judged by the sandbox clock.
func (s *Server) verify(r *http.Request, body []byte, sc sigScope) (*credential, *authError) {
	if !s.validScopeRegion(sc.service, sc.region) {
		return nil, &authError{"SignatureDoesNotMatch", fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. ", sc.region)}
	}
	cred, ok := s.creds.get(sc.accessKeyID)
	if !ok {
		return nil, &authError{"InvalidClientTokenId", "The security token included in the request is invalid."}
	}
	now := s.clock()
	if cred.Kind == principalSession {
		if r.Header.Get("X-Amz-Security-Token") != cred.Token {
			return nil, &authError{"InvalidClientTokenId", "The security token included in the request is invalid."}
		}
		if !now.Before(cred.Expires) {
			return nil, &authError{"ExpiredToken", "The security token included in the request is expired"}
		}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	signedAt, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return nil, &authError{"IncompleteSignature", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."}
	}
	if !within(signedAt, now, maxSkew) && !within(signedAt, s.wall(), maxSkew) {
		return nil, &authError{"SignatureDoesNotMatch", skewMessage(amzDate, signedAt, now)}
	}
	want := signature(cred.Secret, sc, amzDate, canonicalRequest(r, body, sc.signedHeaders))
	if !hmac.Equal([]byte(want), []byte(sc.signature)) {
		return nil, &authError{"SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	}
	return cred, nil
}

// regionRe is the shape of a region name (us-east-1, eu-central-2, us-gov-west-1,
// cn-northwest-1, ap-southeast-5).
var regionRe = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// validScopeRegion tells whether a request signed for region may be served, as AWS
// decides it: IAM and Organizations have one endpoint per partition, signed for the
// partition's home region (us-east-1, us-gov-west-1, cn-north-1; Organizations in
// China also signs for cn-northwest-1); STS and CloudTrail have regional endpoints,
// so any region of the Organization's partition is valid (the sandbox plays every
// regional endpoint at once). Anything else AWS refuses with SignatureDoesNotMatch
// "Credential should be scoped to a valid region, not '<region>'. " (HTTP 403;
// InvalidSignatureException in the JSON protocols) (docs/aws-facts.md).
func (s *Server) validScopeRegion(service, region string) bool {
	home := s.org.homeRegion
	switch service {
	case "iam":
		return region == home
	case "organizations":
		return region == home || (s.org.partition == "aws-cn" && region == "cn-northwest-1")
	}
	if !regionRe.MatchString(region) {
		return false
	}
	gov, cn := strings.HasPrefix(region, "us-gov-"), strings.HasPrefix(region, "cn-")
	switch s.org.partition {
	case "aws-us-gov":
		return gov
	case "aws-cn":
		return cn
	}
	return !gov && !cn
}

// skewMessage is AWS's message for a request signed more than 15 minutes away from
// now: "Signature expired" in the past, "Signature not yet current" in the future.
func skewMessage(amzDate string, signedAt, now time.Time) string {
	const f = "20060102T150405Z"
	now = now.UTC()
	if signedAt.After(now) {
		return fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			amzDate, now.Add(maxSkew).Format(f), now.Format(f))
	}
	return fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
		amzDate, now.Add(-maxSkew).Format(f), now.Format(f))
}

func within(a, b time.Time, d time.Duration) bool {
	diff := a.Sub(b)
	return diff <= d && diff >= -d
}

// canonicalRequest builds the SigV4 canonical request.
func canonicalRequest(r *http.Request, body []byte, signed []string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery))
	b.WriteByte('\n')
	for _, h := range signed {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	if ph := r.Header.Get("X-Amz-Content-Sha256"); ph != "" {
		b.WriteString(ph)
	} else {
		sum := sha256.Sum256(body)
		b.WriteString(hex.EncodeToString(sum[:]))
	}
	return b.String()
}

func headerValue(r *http.Request, name string) string {
	switch name {
	case "host":
		return r.Host
	case "content-length":
		return strconv.FormatInt(r.ContentLength, 10)
	}
	vals := r.Header.Values(name)
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return raw
	}
	type kv struct{ k, v string }
	var pairs []kv
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, kv{uriEncode(k), uriEncode(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// uriEncode is RFC 3986 encoding as SigV4 wants it.
func uriEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	return strings.ReplaceAll(e, "%7E", "~")
}

func signature(secret string, sc sigScope, amzDate, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	scope := sc.date + "/" + sc.region + "/" + sc.service + "/aws4_request"
	sts := sigAlgorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	return hex.EncodeToString(hmacSHA256(signingKey(secret, sc), sts))
}

// signingKeys caches SigV4's derived signing keys, as AWS's SDKs do: four HMACs per
// request otherwise, a tenth of the sandbox's CPU in a large benchmark. The key
// is derived from the secret, a day, a Region and a service, so the cache holds a
// few per credential; it is emptied past maxSigningKeys (memory only, never logged).
var signingKeys struct {
	sync.Mutex
	m map[string][]byte
}

const maxSigningKeys = 100_000

func signingKey(secret string, sc sigScope) []byte {
	id := secret + "\x00" + sc.date + "\x00" + sc.region + "\x00" + sc.service
	signingKeys.Lock()
	k, ok := signingKeys.m[id]
	signingKeys.Unlock()
	if ok {
		return k
	}
	k = hmacSHA256([]byte("AWS4"+secret), sc.date)
	k = hmacSHA256(k, sc.region)
	k = hmacSHA256(k, sc.service)
	k = hmacSHA256(k, "aws4_request")
	signingKeys.Lock()
	if signingKeys.m == nil || len(signingKeys.m) >= maxSigningKeys {
		signingKeys.m = map[string][]byte{}
	}
	signingKeys.m[id] = k
	signingKeys.Unlock()
	return k
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// randomString returns n characters from alphabet, from crypto/rand.
func randomString(n int, alphabet string) string {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on supported platforms
	}
	for i, c := range buf {
		buf[i] = alphabet[int(c)%len(alphabet)]
	}
	return string(buf)
}

const (
	upperAlnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func randomToken() string {
	buf := make([]byte, 96)
	if _, err := rand.Read(buf); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return "IQoJb3JpZ2luX2Vj" + base64.StdEncoding.EncodeToString(buf)
}
