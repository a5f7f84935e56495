package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

const (
	lookupMaxResults = 50                  // LookupEvents returns at most 50 events per page
	eventRetention   = 90 * 24 * time.Hour // LookupEvents covers 90 days of history
)

type lookupRequest struct {
	LookupAttributes []struct {
		AttributeKey   string `json:"AttributeKey"`
		AttributeValue string `json:"AttributeValue"`
	} `json:"LookupAttributes"`
	StartTime  *float64 `json:"StartTime"`
	EndTime    *float64 `json:"EndTime"`
	MaxResults int      `json:"MaxResults"`
	NextToken  string   `json:"NextToken"`
}

func (c *call) serveCloudTrail() *apiError {
	if c.op != "LookupEvents" {
		return errf(400, "UnknownOperationException", "The sandbox does not implement CloudTrail %s", c.op)
	}
	var req lookupRequest
	if len(c.body) > 0 {
		if err := json.Unmarshal(c.body, &req); err != nil {
			return errf(400, "SerializationException", "could not parse the request body: %v", err)
		}
	}
	if len(req.LookupAttributes) > 1 {
		return errf(400, "InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
	}
	match := func(*event) bool { return true }
	if len(req.LookupAttributes) == 1 {
		m, err := attributeMatcher(req.LookupAttributes[0].AttributeKey, req.LookupAttributes[0].AttributeValue)
		if err != nil {
			return err
		}
		match = m
	}
	if req.MaxResults < 0 || req.MaxResults > lookupMaxResults {
		return errf(400, "InvalidMaxResultsException", "Value %d for MaxResults is invalid. It must be between 1 and 50.", req.MaxResults)
	}
	from, to := c.now.Add(-eventRetention), c.now.Add(time.Minute)
	if req.StartTime != nil {
		from = epoch(*req.StartTime)
	}
	if req.EndTime != nil {
		to = epoch(*req.EndTime)
	}
	if from.After(to) {
		return errf(400, "InvalidTimeRangeException", "Start time must be before end time.")
	}
	if oldest := c.now.Add(-eventRetention); from.Before(oldest) {
		from = oldest
	}
	cursorTime, cursorSeq := int64(math.MaxInt64), int64(math.MaxInt64)
	if req.NextToken != "" {
		var ok bool
		cursorTime, cursorSeq, ok = parseEventCursor(req.NextToken)
		if !ok {
			return errf(400, "InvalidNextTokenException", "Invalid NextToken.")
		}
	}
	size := c.s.knobs.pageSize(req.MaxResults, lookupMaxResults, lookupMaxResults)
	home := c.region == "" || c.region == c.s.org.homeRegion
	a := c.acct
	var page []*event
	next := ""
	a.mu.RLock()
	for i := len(a.events) - 1; i >= 0; i-- {
		e := a.events[i]
		tn := e.time.UnixNano()
		if tn > cursorTime || (tn == cursorTime && e.seq >= cursorSeq) {
			continue
		}
		if e.time.Before(from) {
			break
		}
		if e.time.After(to) || !match(e) || (!home && isGlobalSource(e.source)) || !delivered(e, c.now, c.s.knobs.CloudTrailDelay.Duration) {
			continue
		}
		if len(page) == size {
			last := page[len(page)-1]
			next = eventCursor(last.time.UnixNano(), last.seq)
			break
		}
		page = append(page, e)
	}
	a.mu.RUnlock()
	// {"Events":[…],"NextToken":…}: what json.Marshal gives for the map (sorted keys),
	// with each event rendered once for the sandbox's life (eventBytes).
	var b bytes.Buffer
	b.WriteString(`{"Events":[`)
	for i, e := range page {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(c.eventBytes(a, e))
	}
	b.WriteByte(']')
	if tok := c.nextToken(req.NextToken, next); tok != "" {
		enc, _ := json.Marshal(tok)
		b.WriteString(`,"NextToken":`)
		b.Write(enc)
	}
	b.WriteByte('}')
	c.status, c.response = 200, b.Bytes()
	return nil
}

// eventBytes is the event as LookupEvents renders it (eventJSON, encoded), rendered
// on first use and kept: an event does not change once recorded, and rendering it
// (two JSON encodings of maps) was most of LookupEvents' cost. Two concurrent first
// uses render the same bytes; either is kept.
func (c *call) eventBytes(a *account, e *event) []byte {
	if r := e.rendered.Load(); r != nil {
		return *r
	}
	out, _ := json.Marshal(c.eventJSON(a, e))
	e.rendered.Store(&out)
	return out
}

func isGlobalSource(src string) bool {
	switch src {
	case "iam.amazonaws.com", "sts.amazonaws.com", "signin.amazonaws.com":
		return true
	}
	return false
}

func epoch(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

func attributeMatcher(k, v string) (func(*event) bool, *apiError) {
	switch k {
	case "EventId":
		return func(e *event) bool { return e.id == v }, nil
	case "EventName":
		return func(e *event) bool { return e.name == v }, nil
	case "ReadOnly":
		return func(e *event) bool { return strconv.FormatBool(e.readOnly) == v }, nil
	case "Username":
		return func(e *event) bool { return e.username == v }, nil
	case "EventSource":
		return func(e *event) bool { return e.source == v }, nil
	case "AccessKeyId":
		return func(e *event) bool { return e.accessKeyID == v }, nil
	case "ResourceType", "ResourceName":
		return func(e *event) bool {
			for _, r := range e.resources {
				if (k == "ResourceType" && r.Type == v) || (k == "ResourceName" && r.Name == v) {
					return true
				}
			}
			return false
		}, nil
	}
	return nil, errf(400, "InvalidLookupAttributesException", "Lookup attribute key %q is not valid: use EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource or AccessKeyId.", k)
}

func eventCursor(t, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("sandbox-events:%d:%d", t, seq)))
}

func parseEventCursor(tok string) (t, seq int64, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, 0, false
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 || parts[0] != "sandbox-events" {
		return 0, 0, false
	}
	t, err1 := strconv.ParseInt(parts[1], 10, 64)
	seq, err2 := strconv.ParseInt(parts[2], 10, 64)
	return t, seq, err1 == nil && err2 == nil
}

// eventJSON renders an event as LookupEvents does.
func (c *call) eventJSON(a *account, e *event) map[string]any {
	identity := map[string]any{"type": e.userType, "arn": e.userArn, "accountId": a.id}
	switch e.userType {
	case "Root":
		identity["principalId"] = a.id
	case "Unknown":
		delete(identity, "arn")
	case "AssumedRole":
		role := strings.Split(e.userArn, "/")
		roleName := ""
		if len(role) >= 2 {
			roleName = role[1]
		}
		identity["principalId"] = stableID("AROA", 17, a.id, "role", roleName) + ":" + e.username
		identity["sessionContext"] = map[string]any{"sessionIssuer": map[string]any{
			"type": "Role", "userName": roleName, "accountId": a.id, "principalId": stableID("AROA", 17, a.id, "role", roleName),
			"arn": fmt.Sprintf("arn:%s:iam::%s:role/%s", c.partition(), a.id, roleName)}}
	default:
		identity["principalId"] = stableID("AIDA", 17, a.id, "user", e.username)
		identity["userName"] = e.username
	}
	if e.accessKeyID != "" {
		identity["accessKeyId"] = e.accessKeyID
	}
	params := any(e.params)
	if len(e.params) == 0 {
		params = nil
	}
	response := any(e.response)
	if len(e.response) == 0 {
		response = nil
	}
	record := map[string]any{
		"eventVersion": "1.08", "userIdentity": identity, "eventTime": isoTime(e.time), "eventSource": e.source,
		"eventName": e.name, "awsRegion": e.region, "sourceIPAddress": orDefault(e.sourceIP, "127.0.0.1"), "userAgent": "iamaudit-sandbox",
		"requestParameters": params, "responseElements": response, "requestID": e.id, "eventID": e.id,
		"readOnly": e.readOnly, "eventType": orDefault(e.eventType, "AwsApiCall"), "managementEvent": true, "recipientAccountId": a.id,
		"eventCategory": "Management",
	}
	if e.eventType == "AwsConsoleSignIn" {
		// A sign-in record: no request id; the identity has an empty accessKeyId, and a
		// failed IAM user sign-in no ARN (CloudTrail User Guide, sign-in events).
		delete(record, "requestID")
		identity["accessKeyId"] = ""
		if e.errorMessage != "" && e.userType == "IAMUser" {
			delete(identity, "arn")
		}
	}
	if e.errorMessage != "" {
		record["errorMessage"] = e.errorMessage
	}
	if len(e.additional) > 0 {
		record["additionalEventData"] = e.additional
	}
	detail, _ := json.Marshal(record)
	resources := make([]map[string]string, 0, len(e.resources))
	for _, r := range e.resources {
		resources = append(resources, map[string]string{"ResourceType": r.Type, "ResourceName": r.Name})
	}
	out := map[string]any{
		"EventId": e.id, "EventName": e.name, "ReadOnly": strconv.FormatBool(e.readOnly),
		"EventTime": float64(e.time.UnixNano()) / 1e9, "EventSource": e.source, "Username": e.username,
		"Resources": resources, "CloudTrailEvent": string(detail),
	}
	if e.accessKeyID != "" {
		out["AccessKeyId"] = e.accessKeyID
	}
	if e.username == "" {
		delete(out, "Username") // as AWS: no Username when CloudTrail cannot name the performer
	}
	return out
}

// delivered tells whether LookupEvents shows the event yet: CloudTrail delivers an
// event minutes after the call (knob cloudtrail_delay).
func delivered(e *event, now time.Time, delay time.Duration) bool {
	return delay <= 0 || !e.time.Add(delay).After(now)
}
