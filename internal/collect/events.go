package collect

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// collectEvents looks up each event name in the run's window (Options.window, the one
// the inventory records; [now-Days, now] when collection is driven without a run), one lookup
// attribute per call (LookupEvents takes only one), 50 events a page (the maximum),
// paced by the account's 2/s limiter. A failed name is a Gap; the events found
// before the failure are kept. An authorization failure stops the lookups (every
// other name would be denied the same way) and is recorded for every name left.
func collectEvents(ctx context.Context, c trailAPI, opts Options, gaps *gapList) []inventory.Event {
	start, end := opts.window.start, opts.window.end
	if end.IsZero() {
		end = opts.Clock().UTC()
		start = end.Add(-time.Duration(opts.Days) * 24 * time.Hour)
	}
	byID := map[string]inventory.Event{}
	failures := 0 // consecutive event names that failed after all retries
	for i, name := range opts.EventNames {
		err := lookupEvents(ctx, c, name, start, end, byID)
		if err == nil {
			failures = 0
			continue
		}
		rest := strings.Join(opts.EventNames[i:], ",")
		switch {
		case ctx.Err() != nil:
			gaps.add(failLookupEvents, rest, err, "events not looked up: "+strings.TrimPrefix(stopReason(ctx), "not collected: "))
		case isAccessDenied(err):
			gaps.add(failLookupEvents, rest, err,
				"CloudTrail events are missing: grant cloudtrail:LookupEvents to the audit role")
		default:
			gaps.add(failLookupEvents, name, err, "events "+name+" are missing or incomplete")
			// Two names in a row failing after every retry (a throttling storm, an
			// outage): give up on the rest rather than spend minutes per name.
			if failures++; failures < 2 || i+1 == len(opts.EventNames) {
				continue
			}
			gaps.add(failLookupEvents, strings.Join(opts.EventNames[i+1:], ","), err,
				"events not looked up: CloudTrail failed for two event names in a row after all retries; rerun later")
		}
		break
	}
	out := make([]inventory.Event, 0, len(byID))
	for _, e := range byID {
		out = append(out, e)
	}
	sortEvents(out)
	return out
}

func sortEvents(ev []inventory.Event) {
	sort.Slice(ev, func(i, j int) bool {
		if !ev[i].Time.Equal(ev[j].Time) {
			return ev[i].Time.Before(ev[j].Time)
		}
		return ev[i].ID < ev[j].ID
	})
}

func lookupEvents(ctx context.Context, c trailAPI, name string, start, end time.Time, into map[string]inventory.Event) error {
	p := cloudtrail.NewLookupEventsPaginator(c, &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(name)}},
		StartTime:        aws.Time(start),
		EndTime:          aws.Time(end),
		MaxResults:       aws.Int32(50), // the most LookupEvents gives per page (docs/aws-facts.md)
	}, func(o *cloudtrail.LookupEventsPaginatorOptions) { o.StopOnDuplicateToken = true })
	tk := newTokens(failLookupEvents.op)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err == nil {
			err = tk.next(page.NextToken)
		}
		if err != nil {
			return err
		}
		for _, e := range page.Events {
			if !wanted(e) {
				continue
			}
			ev := convertEvent(e)
			into[ev.ID] = ev
		}
	}
	return nil
}

// wanted filters what LookupEvents returns: ConsoleLogin is kept only for the root
// user's sign-ins (docs/seed-contract.md: "ConsoleLogin for root sign-ins"); IAM users'
// and federated sign-ins are not part of the audit. The record's userIdentity.type
// decides ("Root"); without it, the user name ("root" or "<root_account>").
func wanted(e cttypes.Event) bool {
	if aws.ToString(e.EventName) != "ConsoleLogin" {
		return true
	}
	var rec cloudTrailRecord
	if e.CloudTrailEvent != nil && json.Unmarshal([]byte(*e.CloudTrailEvent), &rec) == nil && rec.UserIdentity.Type != "" {
		return rec.UserIdentity.Type == "Root"
	}
	switch aws.ToString(e.Username) {
	case "root", "<root_account>":
		return true
	}
	return false
}

// cloudTrailRecord is the part of the CloudTrailEvent JSON that is kept. A failed
// console sign-in has no errorCode: errorMessage "Failed authentication" and
// responseElements.ConsoleLogin "Failure" (CloudTrail User Guide, "CloudTrail record
// contents for sign-in events"; docs/aws-facts.md).
type cloudTrailRecord struct {
	EventSource     string `json:"eventSource"`
	EventType       string `json:"eventType"`
	SourceIPAddress string `json:"sourceIPAddress"`
	ErrorCode       string `json:"errorCode"`
	ErrorMessage    string `json:"errorMessage"`
	UserIdentity    struct {
		Type        string `json:"type"`
		UserName    string `json:"userName"`
		ARN         string `json:"arn"`
		AccessKeyID string `json:"accessKeyId"`
	} `json:"userIdentity"`
	RequestParameters   map[string]any `json:"requestParameters"`
	ResponseElements    map[string]any `json:"responseElements"`
	AdditionalEventData map[string]any `json:"additionalEventData"`
}

// stringField is m[key] when it is a string.
func stringField(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func convertEvent(e cttypes.Event) inventory.Event {
	ev := inventory.Event{
		ID:        aws.ToString(e.EventId),
		Time:      utc(e.EventTime),
		Name:      aws.ToString(e.EventName),
		Source:    aws.ToString(e.EventSource),
		Username:  aws.ToString(e.Username),
		AccessKey: aws.ToString(e.AccessKeyId),
		Resources: []inventory.EventResource{},
	}
	for _, r := range e.Resources {
		ev.Resources = append(ev.Resources, inventory.EventResource{Type: aws.ToString(r.ResourceType), Name: aws.ToString(r.ResourceName)})
	}
	var rec cloudTrailRecord
	if e.CloudTrailEvent != nil && json.Unmarshal([]byte(*e.CloudTrailEvent), &rec) == nil {
		ev.RequestParameters = rec.RequestParameters
		ev.ErrorCode = rec.ErrorCode
		ev.ErrorMessage = rec.ErrorMessage
		ev.EventType = rec.EventType
		ev.UserType = rec.UserIdentity.Type
		ev.SourceIP = rec.SourceIPAddress
		if ev.Name == "ConsoleLogin" {
			ev.LoginResult = stringField(rec.ResponseElements, "ConsoleLogin")
		}
		ev.MFAUsed = stringField(rec.AdditionalEventData, "MFAUsed")
		if ev.Source == "" {
			ev.Source = rec.EventSource
		}
		if ev.AccessKey == "" {
			ev.AccessKey = rec.UserIdentity.AccessKeyID
		}
		if ev.Username == "" {
			ev.Username = identityName(rec.UserIdentity.Type, rec.UserIdentity.UserName, rec.UserIdentity.ARN)
		}
	}
	return ev
}

// identityName names who performed an event when LookupEvents' Username is empty.
func identityName(typ, userName, arn string) string {
	switch {
	case userName != "":
		return userName
	case typ == "Root":
		return "root"
	case arn != "":
		return arn[strings.LastIndex(arn, "/")+1:]
	}
	return ""
}
