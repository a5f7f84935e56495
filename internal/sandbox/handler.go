package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Protocols.
const (
	protoQuery    = "query"     // STS, IAM, SNS: form POST, XML responses
	protoJSON     = "json"      // Organizations, CloudTrail: JSON 1.1
	protoRESTJSON = "rest-json" // Security Hub: method and path name the operation, JSON bodies
	protoRESTXML  = "rest-xml"  // S3: method and path name the operation, headers, XML errors
)

// Query protocol namespaces.
var namespaces = map[string]string{
	"iam": "https://iam.amazonaws.com/doc/2010-05-08/",
	"sts": "https://sts.amazonaws.com/doc/2011-06-15/",
	"sns": "http://sns.amazonaws.com/doc/2010-03-31/",
}

// apiError is an AWS error: code, message and HTTP status.
type apiError struct {
	status        int
	code, message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// call is one request being served.
type call struct {
	s        *Server
	service  string
	region   string
	op       string
	proto    string
	form     url.Values // query protocol parameters
	body     []byte     // JSON protocol body
	cred     *credential
	acct     *account // account the call is served from
	reqID    string
	now      time.Time
	response []byte
	status   int
	// respElems are the responseElements recordWrite puts in the call's CloudTrail
	// event (nil: null, as for most IAM writes).
	respElems map[string]any
	// keyID is the id CreateAccessKey gives the new key (a scenario change's);
	// empty: a random one.
	keyID string
	// signedAt is the request's signing time (X-Amz-Date): the client's clock.
	signedAt time.Time
	// headers are response headers besides the protocol's own (S3's ETag, SSE).
	headers http.Header
	// s3Bucket is the bucket an S3 request names (its errors name it); path the
	// request's path.
	s3Bucket, path string
}

// header sets a response header.
func (c *call) header(k, v string) {
	if c.headers == nil {
		c.headers = http.Header{}
	}
	c.headers.Set(k, v)
}

// ServeHTTP serves AWS API requests, routed by the service in the SigV4 credential
// scope, and the sandbox's own GET /_sandbox/stats.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_sandbox/stats" && r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s.Stats())
		return
	}
	s.stats.requests.Add(1)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.stats.bytesIn.Add(int64(len(body)))
	c := &call{s: s, reqID: newRequestID(), body: body, path: r.URL.Path}
	sc, ok := parseAuthorization(r.Header.Get("Authorization"))
	c.service, c.region = sc.service, sc.region
	c.proto = protocolOf(c.service, r)
	switch c.proto {
	case protoQuery:
		c.form = parseForm(r, body)
		c.op = c.form.Get("Action")
	case protoRESTJSON:
		c.op = securityHubOp(r)
	case protoRESTXML:
		c.op = s3Op(r)
	default:
		if t := r.Header.Get("X-Amz-Target"); t != "" {
			c.op = t[strings.LastIndex(t, ".")+1:]
		}
	}
	switch {
	case len(body) > maxBody:
		c.fail(errf(413, "RequestEntityTooLarge", "Request body is larger than %d bytes", maxBody))
	case !ok:
		bump(&s.stats.calls, statKey("-", c.service, c.op))
		c.fail(errf(403, "MissingAuthenticationToken", "Request is missing Authentication Token"))
	default:
		c.serve(w, r, sc)
	}
	c.write(w)
}

func (c *call) serve(w http.ResponseWriter, r *http.Request, sc sigScope) {
	s := c.s
	// The timeline first: a key it deleted no longer signs, a role it created can
	// be assumed.
	s.catchUp(s.clock())
	cred, aerr := s.verify(r, c.body, sc)
	if aerr != nil {
		bump(&s.stats.calls, statKey("-", c.service, c.op))
		c.fail(c.authFailure(aerr))
		return
	}
	c.cred = cred
	c.signedAt, _ = time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date")) // checked by verify
	c.acct = s.org.byID[cred.Account]
	bump(&s.stats.calls, statKey(cred.Account, c.service, c.op))
	if cred.userKey != nil && !c.acct.touchKey(cred.userKey, s.clock(), c.service, orDefault(c.region, s.org.homeRegion)) {
		c.fail(c.authFailure(&authError{"InvalidClientTokenId", "The security token included in the request is invalid."}))
		return
	}
	if aerr := c.authorize(); aerr != nil {
		c.fail(aerr)
		return
	}
	if f := matchFault(s.faults, cred.Account, c.service, c.op); f != nil {
		bump(&s.stats.faulted, statKey(cred.Account, c.service, c.op))
		s.stats.faults.Add(1)
		switch f.Error {
		case "slow":
			s.sleep(r.Context(), f.Delay.Duration)
		case "drop":
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					c.status = -1
					return
				}
			}
			c.fail(errf(500, "InternalFailure", "The request processing has failed because of an unknown error."))
			return
		default:
			c.fail(errf(faultStatus(f.Error), f.Error, "Injected fault: %s", f.Error))
			return
		}
	}
	s.sleep(r.Context(), s.knobs.latency(c.service))
	if lim := s.limiterFor(c.acct, c.service, c.op); lim != nil && !lim.Allow() {
		bump(&s.stats.throttled, statKey(cred.Account, c.service, c.op))
		s.stats.throttles.Add(1)
		c.fail(throttleError(c.service))
		return
	}
	c.now = s.clock()
	var err *apiError
	switch c.service {
	case "organizations":
		err = c.serveOrganizations()
	case "sts":
		err = c.serveSTS()
	case "iam":
		err = c.serveIAM()
	case "cloudtrail":
		err = c.serveCloudTrail()
	case "securityhub":
		err = c.serveSecurityHub(r)
	case "s3":
		err = c.serveS3(r)
	case "sns":
		err = c.serveSNS()
	default:
		err = errf(400, "UnknownService", "The sandbox does not serve service %q", c.service)
	}
	if err != nil {
		c.fail(err)
	}
}

// sleep waits for d, or until ctx ends (the default Options.Sleep).
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// limiterFor returns the token bucket for the call's API family (nil: unlimited).
func (s *Server) limiterFor(a *account, service, op string) interface{ Allow() bool } {
	switch service {
	case "organizations":
		if s.org.limiter != nil {
			return s.org.limiter
		}
	case "cloudtrail":
		if op == "LookupEvents" && a.limiters["cloudtrail"] != nil {
			return a.limiters["cloudtrail"]
		}
	case "iam", "sts":
		if l := a.limiters[service]; l != nil {
			return l
		}
	}
	return nil
}

func throttleError(service string) *apiError {
	switch service {
	case "cloudtrail":
		return errf(400, "ThrottlingException", "Rate exceeded")
	case "organizations":
		return errf(400, "TooManyRequestsException", "AWS Organizations can't complete your request because another request is already in progress. Try again later.")
	}
	return errf(400, "Throttling", "Rate exceeded")
}

// authFailure maps an authentication failure to the protocol's code and status.
func (c *call) authFailure(e *authError) *apiError {
	if c.proto == protoQuery {
		return errf(403, e.code, "%s", e.message)
	}
	// JSON services name these failures differently, with HTTP 400/403 as AWS does.
	switch e.code {
	case "InvalidClientTokenId":
		return errf(403, "UnrecognizedClientException", "%s", e.message)
	case "SignatureDoesNotMatch":
		if strings.HasPrefix(e.message, "Signature expired") || strings.HasPrefix(e.message, "Signature not yet current") {
			return errf(400, "InvalidSignatureException", "%s", e.message)
		}
		return errf(403, "InvalidSignatureException", "%s", e.message)
	case "ExpiredToken":
		return errf(400, "ExpiredTokenException", "%s", e.message)
	}
	return errf(400, e.code, "%s", e.message)
}

func protocolOf(service string, r *http.Request) string {
	switch service {
	case "iam", "sts", "sns":
		return protoQuery
	case "organizations", "cloudtrail":
		return protoJSON
	case "securityhub":
		return protoRESTJSON
	case "s3":
		return protoRESTXML
	}
	if r.Header.Get("X-Amz-Target") != "" {
		return protoJSON
	}
	return protoQuery
}

func parseForm(r *http.Request, body []byte) url.Values {
	v, _ := url.ParseQuery(r.URL.RawQuery)
	if r.Method == http.MethodPost {
		if bv, err := url.ParseQuery(string(body)); err == nil {
			for k, vs := range bv {
				v[k] = append(v[k], vs...)
			}
		}
	}
	if v == nil {
		v = url.Values{}
	}
	return v
}

// fail renders an error in the protocol's shape.
func (c *call) fail(e *apiError) {
	bump(&c.s.stats.errors, e.code)
	c.status = e.status
	switch c.proto {
	case protoJSON:
		c.response, _ = json.Marshal(map[string]string{"__type": e.code, "message": e.message})
		return
	case protoRESTJSON:
		c.header("X-Amzn-ErrorType", e.code)
		c.response, _ = json.Marshal(map[string]string{"Code": e.code, "Message": e.message})
		return
	case protoRESTXML:
		var b xw
		b.raw(xml.Header)
		b.open("Error")
		b.el("Code", e.code)
		b.el("Message", e.message)
		if c.s3Bucket != "" && e.code == "NoSuchBucket" {
			b.el("BucketName", c.s3Bucket)
		}
		b.el("RequestId", c.reqID)
		b.el("HostId", c.reqID)
		b.close("Error")
		c.response = b.bytes()
		return
	}
	ns := namespaces[c.service]
	if ns == "" {
		ns = namespaces["iam"]
	}
	kind := "Sender"
	if e.status >= 500 {
		kind = "Receiver"
	}
	var b xw
	b.raw(`<ErrorResponse xmlns="` + ns + `">`)
	b.open("Error")
	b.el("Type", kind)
	b.el("Code", e.code)
	b.el("Message", e.message)
	b.close("Error")
	b.el("RequestId", c.reqID)
	b.raw("</ErrorResponse>")
	c.response = b.bytes()
}

// okXML renders a query-protocol response; result is the inner XML of <OpResult> (empty: none).
func (c *call) okXML(result *xw) {
	c.status = 200
	var b xw
	b.raw(xml.Header[:len(xml.Header)-1])
	b.raw("\n<" + c.op + `Response xmlns="` + namespaces[c.service] + `">`)
	if result != nil && result.b.Len() > 0 {
		b.open(c.op + "Result")
		b.raw(result.b.String())
		b.close(c.op + "Result")
	}
	b.open("ResponseMetadata")
	b.el("RequestId", c.reqID)
	b.close("ResponseMetadata")
	b.raw("</" + c.op + "Response>")
	c.response = b.bytes()
}

// okJSON renders a JSON 1.1 response.
func (c *call) okJSON(v any) *apiError {
	out, err := json.Marshal(v)
	if err != nil {
		return errf(500, "InternalFailure", "encode response: %v", err)
	}
	c.status, c.response = 200, out
	return nil
}

func (c *call) write(w http.ResponseWriter) {
	if c.status < 0 {
		return // connection dropped on purpose
	}
	h := w.Header()
	h.Set("X-Amzn-RequestId", c.reqID)
	h.Set("Date", c.s.clock().UTC().Format(http.TimeFormat))
	switch c.proto {
	case protoJSON:
		h.Set("Content-Type", "application/x-amz-json-1.1")
	case protoRESTJSON:
		h.Set("Content-Type", "application/json")
	case protoRESTXML:
		h.Set("Content-Type", "application/xml")
		h.Set("X-Amz-Request-Id", c.reqID)
	default:
		h.Set("Content-Type", "text/xml")
	}
	for k, vs := range c.headers {
		h[k] = vs
	}
	h.Set("Content-Length", fmt.Sprint(len(c.response)))
	w.WriteHeader(c.status)
	n, _ := w.Write(c.response)
	c.s.stats.bytesOut.Add(int64(n))
}

func newRequestID() string {
	s := strings.ToLower(randomString(32, "0123456789abcdef"))
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// xw builds XML by hand: the responses are fixed shapes, and this is far faster than reflection.
type xw struct{ b bytes.Buffer }

func (w *xw) raw(s string) { w.b.WriteString(s) }
func (w *xw) open(n string) {
	w.b.WriteByte('<')
	w.b.WriteString(n)
	w.b.WriteByte('>')
}
func (w *xw) close(n string) {
	w.b.WriteString("</")
	w.b.WriteString(n)
	w.b.WriteByte('>')
}
func (w *xw) el(n, v string) {
	w.open(n)
	w.text(v)
	w.close(n)
}

// text writes v escaped as xml.EscapeText does; most values (names, ids, dates) are
// printable ASCII with nothing to escape, and are written as they are.
func (w *xw) text(v string) {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\'' || c == '&' || c == '<' || c == '>' {
			_ = xml.EscapeText(&w.b, []byte(v))
			return
		}
	}
	w.b.WriteString(v)
}

func (w *xw) elTime(n string, t time.Time) { w.el(n, isoTime(t)) }
func (w *xw) elBool(n string, v bool)      { w.el(n, fmt.Sprint(v)) }
func (w *xw) elInt(n string, v int)        { w.el(n, fmt.Sprint(v)) }
func (w *xw) bytes() []byte                { return w.b.Bytes() }

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// accessDenied is AWS's authorization failure in the call's protocol: JSON 1.1
// services answer 400 AccessDeniedException, Security Hub 403 AccessDeniedException,
// SNS 403 AuthorizationError, the others 403 AccessDenied.
func (c *call) accessDenied(msg string) *apiError {
	switch {
	case c.proto == protoJSON:
		return errf(400, "AccessDeniedException", "%s", msg)
	case c.proto == protoRESTJSON:
		return errf(403, "AccessDeniedException", "%s", msg)
	case c.service == "sns":
		return errf(403, "AuthorizationError", "%s", msg)
	}
	return errf(403, "AccessDenied", "%s", msg)
}

// securityHubOp names a Security Hub request's operation from its method and path.
func securityHubOp(r *http.Request) string {
	if r.Method == http.MethodPost && r.URL.Path == "/findings/import" {
		return "BatchImportFindings"
	}
	return strings.TrimPrefix(r.Method+" "+r.URL.Path, " ")
}
