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

// trailRecord is an event's CloudTrailEvent document; trailIdentity its
// userIdentity. Fields in key order: they encode as the maps they replace did.
type trailRecord struct {
	AdditionalEventData map[string]any `json:"additionalEventData,omitempty"`
	AwsRegion           string         `json:"awsRegion"`
	ErrorMessage        string         `json:"errorMessage,omitempty"`
	EventCategory       string         `json:"eventCategory"`
	EventID             string         `json:"eventID"`
	EventName           string         `json:"eventName"`
	EventSource         string         `json:"eventSource"`
	EventTime           string         `json:"eventTime"`
	EventType           string         `json:"eventType"`
	EventVersion        string         `json:"eventVersion"`
	ManagementEvent     bool           `json:"managementEvent"`
	ReadOnly            bool           `json:"readOnly"`
	RecipientAccountID  string         `json:"recipientAccountId"`
	RequestID           string         `json:"requestID,omitempty"` // absent from sign-in records
	RequestParameters   any            `json:"requestParameters"`
	ResponseElements    any            `json:"responseElements"`
	SourceIPAddress     string         `json:"sourceIPAddress"`
	UserAgent           string         `json:"userAgent"`
	UserIdentity        trailIdentity  `json:"userIdentity"`
}

type trailIdentity struct {
	AccessKeyID    *string       `json:"accessKeyId,omitempty"`
	AccountID      string        `json:"accountId"`
	Arn            *string       `json:"arn,omitempty"`
	PrincipalID    string        `json:"principalId,omitempty"`
	SessionContext *trailSession `json:"sessionContext,omitempty"`
	Type           string        `json:"type"`
	UserName       *string       `json:"userName,omitempty"`
}

type trailSession struct {
	SessionIssuer trailIssuer `json:"sessionIssuer"`
}

type trailIssuer struct {
	AccountID   string `json:"accountId"`
	Arn         string `json:"arn"`
	PrincipalID string `json:"principalId"`
	Type        string `json:"type"`
	UserName    string `json:"userName"`
}

// trailEvent is an event as LookupEvents lists it (fields in key order).
type trailEvent struct {
	AccessKeyID     string          `json:"AccessKeyId,omitempty"`
	CloudTrailEvent string          `json:"CloudTrailEvent"`
	EventID         string          `json:"EventId"`
	EventName       string          `json:"EventName"`
	EventSource     string          `json:"EventSource"`
	EventTime       float64         `json:"EventTime"`
	ReadOnly        string          `json:"ReadOnly"`
	Resources       []trailResource `json:"Resources"`
	Username        string          `json:"Username,omitempty"` // as AWS: none when CloudTrail cannot name the performer
}

type trailResource struct {
	ResourceName string `json:"ResourceName"`
	ResourceType string `json:"ResourceType"`
}

// eventJSON renders an event as LookupEvents does.
func (c *call) eventJSON(a *account, e *event) trailEvent {
	arn := e.userArn
	identity := trailIdentity{Type: e.userType, Arn: &arn, AccountID: a.id}
	switch e.userType {
	case "Root":
		identity.PrincipalID = a.id
	case "Unknown":
		identity.Arn = nil
	case "AssumedRole":
		role := strings.Split(e.userArn, "/")
		roleName := ""
		if len(role) >= 2 {
			roleName = role[1]
		}
		roleID := stableID("AROA", 17, a.id, "role", roleName)
		identity.PrincipalID = roleID + ":" + e.username
		identity.SessionContext = &trailSession{SessionIssuer: trailIssuer{
			Type: "Role", UserName: roleName, AccountID: a.id, PrincipalID: roleID,
			Arn: fmt.Sprintf("arn:%s:iam::%s:role/%s", c.partition(), a.id, roleName)}}
	default:
		identity.PrincipalID = stableID("AIDA", 17, a.id, "user", e.username)
		name := e.username
		identity.UserName = &name
	}
	if e.accessKeyID != "" {
		k := e.accessKeyID
		identity.AccessKeyID = &k
	}
	var params, response any
	if len(e.params) > 0 {
		params = e.params
	}
	if len(e.response) > 0 {
		response = e.response
	}
	record := trailRecord{
		EventVersion: "1.08", EventTime: isoTime(e.time), EventSource: e.source,
		EventName: e.name, AwsRegion: e.region, SourceIPAddress: orDefault(e.sourceIP, "127.0.0.1"), UserAgent: "iamaudit-sandbox",
		RequestParameters: params, ResponseElements: response, RequestID: e.id, EventID: e.id,
		ReadOnly: e.readOnly, EventType: orDefault(e.eventType, "AwsApiCall"), ManagementEvent: true, RecipientAccountID: a.id,
		EventCategory: "Management", ErrorMessage: e.errorMessage,
	}
	if e.eventType == "AwsConsoleSignIn" {
		// A sign-in record: no request id; the identity has an empty accessKeyId, and a
		// failed IAM user sign-in no ARN (CloudTrail User Guide, sign-in events).
		record.RequestID = ""
		empty := ""
		identity.AccessKeyID = &empty
		if e.errorMessage != "" && e.userType == "IAMUser" {
			identity.Arn = nil
		}
	}
	record.UserIdentity = identity
	if len(e.additional) > 0 {
		record.AdditionalEventData = e.additional
	}
	detail, _ := json.Marshal(record)
	resources := make([]trailResource, 0, len(e.resources))
	for _, r := range e.resources {
		resources = append(resources, trailResource{ResourceType: r.Type, ResourceName: r.Name})
	}
	return trailEvent{
		EventID: e.id, EventName: e.name, ReadOnly: strconv.FormatBool(e.readOnly),
		EventTime: float64(e.time.UnixNano()) / 1e9, EventSource: e.source, Username: e.username,
		Resources: resources, CloudTrailEvent: string(detail), AccessKeyID: e.accessKeyID,
	}
}

// delivered tells whether LookupEvents shows the event yet: CloudTrail delivers an
// event minutes after the call (knob cloudtrail_delay).
func delivered(e *event, now time.Time, delay time.Duration) bool {
	return delay <= 0 || !e.time.Add(delay).After(now)
}
