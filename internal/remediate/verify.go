package remediate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/fix/awscli"
	"github.com/iamaudit/iamaudit/internal/store"
)

// VerifyOptions configure Verify.
type VerifyOptions struct {
	Journal   Journal
	Connector *Connector
	Clock     func() time.Time
	Out       io.Writer
}

// Check results of verify.
const (
	// IAM: a fresh read shows the change in effect, not in effect, or could not tell.
	IAMConfirmed = "confirmed"
	IAMNot       = "NOT IN EFFECT"
	IAMUnknown   = "unknown"
	// CloudTrail: the call's event was found (made with the journal's session key),
	// not found yet, or CloudTrail could not be read.
	TrailFound       = "in CloudTrail"
	TrailNotYet      = "not in CloudTrail yet"
	TrailUnavailable = "CloudTrail unavailable"
)

// Verified is one journaled action and what verify found.
type Verified struct {
	Phase        string
	Item, Action int
	Call         fix.Action `json:"call"`
	// Journal is the journal's word: ok, uncertain (begun, no answer).
	Journal string
	// Superseded: a later action of the journal (a rollback) changed the same thing;
	// the later one is the one verified.
	Superseded bool
	IAM        string
	IAMNote    string
	Trail      string
	TrailNote  string
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	JournalID string
	Actions   []Verified
}

// Problems counts the actions whose change a fresh read of IAM does not show.
func (r *VerifyReport) Problems() int {
	n := 0
	for _, v := range r.Actions {
		if !v.Superseded && v.IAM == IAMNot && v.Journal == StatusOK {
			n++
		}
	}
	return n
}

// Verify confirms each action a journal records as done (or begun without an
// answer), by a fresh read of IAM and in CloudTrail (seed 004: "confirm the actions
// appear in CloudTrail"): the event of that call, made with the journal's session
// key, since the call. moto has no CloudTrail LookupEvents: against it only the fresh
// read answers, and the report says CloudTrail was unavailable.
func Verify(ctx context.Context, journalID string, opts VerifyOptions) (*VerifyReport, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	r, err := readRecord(ctx, opts.Journal, journalID)
	if err != nil {
		return nil, err
	}
	c := opts.Connector
	if c.Partition == "" && r.begin.Plan != nil {
		c.Partition, c.Region = r.begin.Plan.Partition, r.begin.Plan.Region
	}
	caller, err := c.Caller(ctx)
	if err != nil {
		return nil, err
	}
	rep := &VerifyReport{JournalID: journalID}
	all := append(r.steps(PhaseApply), r.steps(PhaseRollback)...)
	sortSteps(all)
	last := map[string]int{}
	for i, st := range all {
		if st.state() != StatusFailed {
			last[identity(st)] = i
		}
	}
	trail := &trailCache{events: map[string][]cttypes.Event{}, errs: map[string]error{}}
	w := &writer{j: opts.Journal, id: journalID, phase: PhaseVerify, clock: opts.Clock}
	for i, st := range all {
		state := st.state()
		if state == StatusFailed {
			continue
		}
		a := st.detail.Action
		v := Verified{Phase: st.phase, Item: st.item, Action: st.action, Call: a, Journal: state}
		if last[identity(st)] != i {
			v.Superseded, v.IAM, v.Trail = true, "-", "-"
			rep.Actions = append(rep.Actions, v)
			continue
		}
		s, err := c.Account(ctx, a.Resource.AccountID, caller)
		if err != nil {
			return rep, err
		}
		var res *callResult
		if st.result.Result != nil {
			res = st.result.Result
		}
		since := st.before.RecordedAt
		switch eff, found, err := s.effect(ctx, a, res, since); {
		case err != nil:
			v.IAM, v.IAMNote = IAMUnknown, shortError(err)
		case eff == InEffect:
			v.IAM, v.IAMNote = IAMConfirmed, found
		default:
			v.IAM, v.IAMNote = IAMNot, found
		}
		sess := r.sessions[a.Resource.AccountID]
		v.Trail, v.TrailNote = trail.find(ctx, s, a, since.Add(-5*time.Minute), sess.AccessKeyID, res)
		rep.Actions = append(rep.Actions, v)
		b, _ := json.Marshal(v)
		if err := w.add(ctx, store.JournalEntry{Kind: KindVerify, Item: st.item, Action: st.action, API: apiName(a.API),
			AccountID: a.Resource.AccountID, UserName: a.Resource.UserName, AccessKeyID: a.Resource.AccessKeyID,
			Status: v.IAM, Message: v.Trail}, json.RawMessage(b)); err != nil {
			return rep, err
		}
	}
	printVerify(opts.Out, rep)
	return rep, nil
}

func printVerify(w io.Writer, rep *VerifyReport) {
	fmt.Fprintf(w, "Verify journal %s:\n", rep.JournalID)
	for _, v := range rep.Actions {
		fmt.Fprintf(w, "  %-8s item %d action %d: %s\n", v.Phase, v.Item, v.Action, awscli.Command(v.Call))
		if v.Superseded {
			fmt.Fprintln(w, "      superseded by a later step on the same resource")
			continue
		}
		iam := "IAM: " + v.IAM
		if v.IAMNote != "" {
			iam += " (" + v.IAMNote + ")"
		}
		if v.Journal != StatusOK {
			iam += "; the journal has no answer for this call (interrupted)"
		}
		fmt.Fprintf(w, "      %s; %s", iam, v.Trail)
		if v.TrailNote != "" {
			fmt.Fprintf(w, " (%s)", v.TrailNote)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%d action(s) checked; %d not in effect.\n", len(rep.Actions), rep.Problems())
}

// sortSteps orders steps by when they began.
func sortSteps(all []*step) {
	at := func(s *step) time.Time {
		if s.before != nil {
			return s.before.RecordedAt
		}
		return s.after.RecordedAt
	}
	seq := func(s *step) int64 {
		if s.before != nil {
			return s.before.Seq
		}
		return s.after.Seq
	}
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && (at(all[j]).Before(at(all[j-1])) || at(all[j]).Equal(at(all[j-1])) && seq(all[j]) < seq(all[j-1])); j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
}

// identity names what a step changes, so that a later step on the same thing (its
// rollback) supersedes it.
func identity(st *step) string {
	a := st.detail.Action
	r, p := a.Resource, a.Params
	u := r.AccountID + "/" + r.UserName
	switch a.API {
	case fix.IAMUpdateAccessKey, fix.IAMDeleteAccessKey:
		return "key/" + r.AccessKeyID
	case fix.IAMCreateAccessKey:
		if st.result.Result != nil && st.result.Result.NewKeyID != "" {
			return "key/" + st.result.Result.NewKeyID
		}
		return "newkey/" + u
	case fix.IAMPutUserPolicy, fix.IAMDeleteUserPolicy:
		return "inline/" + u + "/" + p.PolicyName
	case fix.IAMRemoveUserFromGroup, fix.IAMAddUserToGroup:
		return "group/" + u + "/" + p.GroupName
	case fix.IAMDetachUserPolicy, fix.IAMAttachUserPolicy:
		return "attached/" + u + "/" + p.PolicyARN
	case fix.IAMDeleteUserPermissionsBoundary, fix.IAMPutUserPermissionsBoundary:
		return "boundary/" + u
	case fix.IAMDeleteUser, fix.IAMCreateUser:
		return "user/" + u
	}
	return fmt.Sprintf("%s/%s/%+v", apiName(a.API), u, r)
}

// trailCache looks up CloudTrail events by event name, once per account and name.
type trailCache struct {
	events map[string][]cttypes.Event
	errs   map[string]error
}

// find looks for the call's event: seed 004's lookup by EventName, then the event
// whose request parameters name the action's resource and whose identity is the
// journal's session key.
func (t *trailCache) find(ctx context.Context, s *Session, a fix.Action, since time.Time, sessionKey string, res *callResult) (string, string) {
	k := s.AccountID + "/" + a.API.Name
	if _, ok := t.events[k]; !ok && t.errs[k] == nil {
		p := cloudtrail.NewLookupEventsPaginator(s.trail, &cloudtrail.LookupEventsInput{StartTime: aws.Time(since),
			LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(a.API.Name)}}})
		var all []cttypes.Event
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.errs[k] = err
				break
			}
			all = append(all, page.Events...)
		}
		if t.errs[k] == nil {
			t.events[k] = all
		}
	}
	if err := t.errs[k]; err != nil {
		return TrailUnavailable, shortError(err)
	}
	for _, e := range t.events[k] {
		if e.EventTime != nil && e.EventTime.Before(since) {
			continue
		}
		var rec struct {
			ErrorCode    string `json:"errorCode"`
			UserIdentity struct {
				AccessKeyID string `json:"accessKeyId"`
			} `json:"userIdentity"`
			RequestParameters map[string]any `json:"requestParameters"`
			ResponseElements  map[string]any `json:"responseElements"`
		}
		if json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec) != nil || rec.ErrorCode != "" {
			continue
		}
		if sessionKey != "" && rec.UserIdentity.AccessKeyID != sessionKey {
			continue
		}
		if !paramsMatch(a, rec.RequestParameters, rec.ResponseElements, res) {
			continue
		}
		return TrailFound, fmt.Sprintf("event %s at %s", aws.ToString(e.EventId), e.EventTime.UTC().Format(time.RFC3339))
	}
	return TrailNotYet, "CloudTrail shows an event some minutes after the call: verify again later"
}

// paramsMatch tells whether an event's request parameters are the action's.
func paramsMatch(a fix.Action, req, resp map[string]any, res *callResult) bool {
	get := func(k string) string {
		v, _ := req[k].(string)
		return v
	}
	r, p := a.Resource, a.Params
	for _, c := range []struct{ key, want string }{
		{"userName", r.UserName}, {"accessKeyId", r.AccessKeyID}, {"policyName", p.PolicyName}, {"groupName", p.GroupName},
		{"policyArn", p.PolicyARN}, {"serialNumber", r.MFASerial}, {"status", p.Status},
	} {
		if c.want != "" && !strings.EqualFold(get(c.key), c.want) {
			return false
		}
	}
	if a.API == fix.IAMCreateAccessKey && res != nil && res.NewKeyID != "" {
		if ak, ok := resp["accessKey"].(map[string]any); ok {
			id, _ := ak["accessKeyId"].(string)
			return id == res.NewKeyID
		}
	}
	return true
}
