package collect

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

func TestTrustBeforeEvents(t *testing.T) {
	t.Parallel()
	window := t0.Add(-90 * 24 * time.Hour)
	reused := func(age time.Duration) *inventory.CredentialReport {
		return &inventory.CredentialReport{Reused: true, GeneratedAt: t0.Add(-age)}
	}
	for _, tc := range []struct {
		name       string
		info       *inventory.CredentialReport
		check      string
		all        reportPart
		needEvents bool
		why        string
	}{
		{"no report", nil, inventory.ReportGenerated, 0, false, ""},
		{"generated for this audit", &inventory.CredentialReport{GeneratedAt: t0.Add(-time.Minute)}, inventory.ReportGenerated, 0, false, ""},
		{"reused, 5 minutes old: inside CloudTrail's delay", reused(5 * time.Minute), inventory.ReportReread, partsCredentials, false, "less than CloudTrail's delivery delay"},
		{"reused, 14m59s old", reused(15*time.Minute - time.Second), inventory.ReportReread, partsCredentials, false, "14m59s"},
		{"reused, 15 minutes old: CloudTrail decides", reused(15 * time.Minute), inventory.ReportCheckedCloudTrail, 0, true, ""},
		{"reused, 3 hours old", reused(3 * time.Hour), inventory.ReportCheckedCloudTrail, 0, true, ""},
		{"reused, older than the event window (moto's fixed 2015 date)", &inventory.CredentialReport{Reused: true, GeneratedAt: time.Date(2015, 2, 2, 20, 2, 2, 0, time.UTC)},
			inventory.ReportReread, partsCredentials, false, "before the CloudTrail window"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, need := trustBeforeEvents(tc.info, t0, window)
			if tr.check != tc.check || tr.all != tc.all || need != tc.needEvents || !strings.Contains(tr.allWhy, tc.why) {
				t.Fatalf("trust = %+v need %v", tr, need)
			}
			if need {
				if !tr.since.Equal(tc.info.GeneratedAt.Add(-cloudTrailDeliveryLag)) || !tr.completeUntil.Equal(t0.Add(-cloudTrailDeliveryLag)) {
					t.Errorf("since %v until %v", tr.since, tr.completeUntil)
				}
			}
		})
	}
}

// ev is a CloudTrail event as convertEvent makes it.
func ev(name string, at time.Time, by string, params map[string]any, resources ...string) inventory.Event {
	e := inventory.Event{Name: name, Time: at, Username: by, RequestParameters: params, Resources: []inventory.EventResource{}}
	for _, r := range resources {
		typ := "AWS::IAM::User"
		if strings.HasPrefix(r, "AKIA") {
			typ = "AWS::IAM::AccessKey"
		}
		e.Resources = append(e.Resources, inventory.EventResource{Type: typ, Name: r})
	}
	return e
}

func TestTrustFromEvents(t *testing.T) {
	t.Parallel()
	generated := t0.Add(-2 * time.Hour)
	base, need := trustBeforeEvents(&inventory.CredentialReport{Reused: true, GeneratedAt: generated}, t0, t0.Add(-90*24*time.Hour))
	if !need {
		t.Fatal("a 2-hour-old report needs the events")
	}
	after, before := generated.Add(time.Minute), generated.Add(-20*time.Minute)
	user := func(name string) map[string]any { return map[string]any{"userName": name} }
	for _, tc := range []struct {
		name     string
		events   []inventory.Event
		lookedUp []string
		failed   []string
		users    map[string]reportPart
		all      reportPart
		why      string
	}{
		{"no event: every row used", nil, DefaultEventNames, nil, map[string]reportPart{}, 0, ""},
		{"a key created for bob", []inventory.Event{ev("CreateAccessKey", after, "admin", user("bob"))}, DefaultEventNames, nil,
			map[string]reportPart{"bob": partKeys}, 0, ""},
		{"one event per part", []inventory.Event{
			ev("DeleteLoginProfile", after, "admin", user("carol")), ev("CreateLoginProfile", after, "admin", user("dan")),
			ev("UpdateLoginProfile", after, "admin", user("erin")), ev("DeactivateMFADevice", after, "admin", user("carol")),
			ev("EnableMFADevice", after, "admin", user("fay")), ev("UpdateAccessKey", after, "admin", user("gus")),
			ev("DeleteAccessKey", after, "admin", user("gus")),
		}, DefaultEventNames, nil, map[string]reportPart{"carol": partPassword | partMFA, "dan": partPassword, "erin": partPassword, "fay": partMFA, "gus": partKeys}, 0, ""},
		{"user created again since: the whole row", []inventory.Event{ev("DeleteUser", after, "admin", user("hal")), ev("CreateUser", after, "admin", user("hal"))},
			DefaultEventNames, nil, map[string]reportPart{"hal": partsAll}, 0, ""},
		{"within the lag before the report counts", []inventory.Event{ev("CreateAccessKey", generated.Add(-10*time.Minute), "admin", user("bob"))},
			DefaultEventNames, nil, map[string]reportPart{"bob": partKeys}, 0, ""},
		{"older than that does not", []inventory.Event{ev("CreateAccessKey", before, "admin", user("bob"))}, DefaultEventNames, nil, map[string]reportPart{}, 0, ""},
		{"a failed call changed nothing", []inventory.Event{func() inventory.Event {
			e := ev("CreateAccessKey", after, "admin", user("bob"))
			e.ErrorCode = "LimitExceeded"
			return e
		}()}, DefaultEventNames, nil, map[string]reportPart{}, 0, ""},
		{"other event names do not count", []inventory.Event{ev("PutUserPolicy", after, "admin", user("bob")), ev("ConsoleLogin", after, "bob", nil)},
			DefaultEventNames, nil, map[string]reportPart{}, 0, ""},
		{"user named by a resource", []inventory.Event{ev("CreateAccessKey", after, "admin", nil, "ivy", "AKIAIVY0000000000001")}, DefaultEventNames, nil,
			map[string]reportPart{"ivy": partKeys}, 0, ""},
		{"a user's call on its own keys", []inventory.Event{ev("CreateAccessKey", after, "jo", nil)}, DefaultEventNames, nil, map[string]reportPart{"jo": partKeys}, 0, ""},
		{"root's own key: not an IAM user's", []inventory.Event{ev("CreateAccessKey", after, "root", nil)}, DefaultEventNames, nil, map[string]reportPart{}, 0, ""},
		{"an event naming no user: every user's part", []inventory.Event{ev("EnableMFADevice", after, "", nil)}, DefaultEventNames, nil,
			map[string]reportPart{}, partMFA, "names no user"},
		{"a failed lookup: its part for every user", []inventory.Event{ev("CreateAccessKey", after, "admin", user("bob"))}, DefaultEventNames, []string{"EnableMFADevice"},
			map[string]reportPart{"bob": partKeys}, partMFA, "mfa (CloudTrail EnableMFADevice not read)"},
		{"names not looked up (--events without them)", nil, []string{"CreateUser", "DeleteUser", "CreateAccessKey", "DeleteAccessKey", "UpdateAccessKey"}, nil,
			map[string]reportPart{}, partPassword | partMFA, "CloudTrail CreateLoginProfile, DeleteLoginProfile, UpdateLoginProfile not read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failed := map[string]bool{}
			for _, n := range tc.failed {
				failed[n] = true
			}
			got := base.trustFromEvents(tc.events, tc.lookedUp, failed)
			if root := strings.Contains(tc.name, "root's own key"); root != (len(got.rootKeys) == 1) {
				t.Errorf("root keys changed = %v", got.rootKeys)
			}
			if got.all != tc.all || !strings.Contains(got.allWhy, tc.why) || len(got.users) != len(tc.users) {
				t.Fatalf("all %v (%s) users %v, want all %v users %v", got.all, got.allWhy, got.users, tc.all, tc.users)
			}
			for u, p := range tc.users {
				if got.users[u] != p || len(got.events[u]) == 0 {
					t.Errorf("users[%s] = %v (events %v), want %v", u, got.users[u], got.events[u], p)
				}
			}
		})
	}
}

func TestFailedEventNames(t *testing.T) {
	t.Parallel()
	got := failedEventNames([]inventory.Gap{
		{Section: inventory.SectionEvents, Subject: "CreateAccessKey"},
		{Section: inventory.SectionEvents, Subject: "EnableMFADevice,DeactivateMFADevice"},
		{Section: inventory.SectionMFA, Subject: "bob"},
	})
	if len(got) != 3 || !got["CreateAccessKey"] || !got["DeactivateMFADevice"] || got["bob"] {
		t.Errorf("failed = %v", got)
	}
}

// eventTrail answers a lookup with its events of the EventName asked.
type eventTrail struct{ events []cttypes.Event }

func (e eventTrail) LookupEvents(_ context.Context, in *cloudtrail.LookupEventsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	out := &cloudtrail.LookupEventsOutput{}
	for _, ev := range e.events {
		if len(in.LookupAttributes) == 1 && aws.ToString(in.LookupAttributes[0].AttributeValue) == aws.ToString(ev.EventName) {
			out.Events = append(out.Events, ev)
		}
	}
	return out, nil
}

// trailEvent is a LookupEvents event: name, time and the user it changes.
func trailEvent(name string, at time.Time, user string) cttypes.Event {
	rec, _ := json.Marshal(map[string]any{"eventSource": "iam.amazonaws.com", "userIdentity": map[string]any{"type": "IAMUser", "userName": "admin"},
		"requestParameters": map[string]any{"userName": user}})
	return cttypes.Event{EventId: aws.String(name + user + at.String()), EventName: aws.String(name), EventTime: aws.Time(at),
		Username: aws.String("admin"), CloudTrailEvent: aws.String(string(rec))}
}

// TestReusedReportRereads: through auditAccount, with the fake account (alice: password,
// MFA, one key; bob: password, no MFA, no key; carol: no password, two keys) whose
// report is reused, each change since it is read again, and only those.
func TestReusedReportRereads(t *testing.T) {
	t.Parallel()
	after := t0.Add(-30 * time.Minute) // the report is 1 hour old
	for _, tc := range []struct {
		name   string
		events []cttypes.Event
		setup  func(f *fakeIAM)
		check  func(t *testing.T, a inventory.Account, f *fakeIAM)
	}{
		{"no change since: the rows answer", nil, nil, func(t *testing.T, a inventory.Account, f *fakeIAM) {
			if f.calls["GetLoginProfile"] != 0 || f.calls["ListAccessKeys"] != 2 || f.calls["ListMFADevices"] != 1 || f.calls["ListUsers"] != 1 {
				t.Errorf("calls = %v", f.calls)
			}
			cr := a.CredentialReport
			if cr.Check != inventory.ReportCheckedCloudTrail || cr.ChangesSince == nil || cr.CloudTrailCompleteUntil == nil || len(cr.RereadUsers) != 0 {
				t.Errorf("report = %+v", cr)
			}
		}},
		{"a key created for bob, who had none", []cttypes.Event{trailEvent("CreateAccessKey", after, "bob")}, func(f *fakeIAM) {
			f.keys["bob"] = []types.AccessKeyMetadata{{AccessKeyId: aws.String("AKIABOB00000000000001"), Status: types.StatusTypeActive, CreateDate: aws.Time(after)}}
		}, func(t *testing.T, a inventory.Account, f *fakeIAM) {
			bob := userNamed(t, a, "bob")
			if len(bob.AccessKeys) != 1 || bob.AccessKeys[0].ID != "AKIABOB00000000000001" || bob.AccessKeys[0].LastUsedSource != LastUsedSourceAPI {
				t.Errorf("bob keys = %+v", bob.AccessKeys)
			}
			if f.calls["ListAccessKeys"] != 3 || f.calls["GetLoginProfile"] != 0 {
				t.Errorf("calls = %v", f.calls)
			}
			if cr := a.CredentialReport; len(cr.RereadUsers) != 1 || cr.RereadUsers[0].User != "bob" || !slices.Equal(cr.RereadUsers[0].Sections, []string{"access_keys"}) ||
				!strings.HasPrefix(cr.RereadUsers[0].Events[0], "CreateAccessKey at ") {
				t.Errorf("reread = %+v", cr.RereadUsers)
			}
		}},
		{"a password created for carol and bob's deleted", []cttypes.Event{trailEvent("CreateLoginProfile", after, "carol"), trailEvent("DeleteLoginProfile", after, "bob")}, func(f *fakeIAM) {
			f.login = map[string]bool{"alice": true, "carol": true}
			f.passwordLastUsed = map[string]*time.Time{"carol": aws.Time(after.Add(time.Minute))}
		}, func(t *testing.T, a inventory.Account, f *fakeIAM) {
			if carol := userNamed(t, a, "carol"); !carol.PasswordEnabled || carol.PasswordLastUsed == nil || carol.PasswordLastChanged == nil || !carol.PasswordLastChanged.Equal(after) {
				t.Errorf("carol = %+v", carol)
			}
			if bob := userNamed(t, a, "bob"); bob.PasswordEnabled {
				t.Errorf("bob = %+v", bob)
			}
			if f.calls["GetLoginProfile"] != 2 || f.calls["GetUser"] != 0 {
				t.Errorf("calls = %v", f.calls)
			}
		}},
		{"alice's MFA removed, bob's hardware MFA added", []cttypes.Event{trailEvent("DeactivateMFADevice", after, "alice"), trailEvent("EnableMFADevice", after, "bob")}, func(f *fakeIAM) {
			f.virtual = f.virtual[1:] // only root's
			f.mfa = map[string][]types.MFADevice{"bob": {{SerialNumber: aws.String("GAHT00000001")}}}
		}, func(t *testing.T, a inventory.Account, f *fakeIAM) {
			if alice := userNamed(t, a, "alice"); alice.MFAActive || len(alice.MFADevices) != 0 {
				t.Errorf("alice = %+v", alice)
			}
			if bob := userNamed(t, a, "bob"); !bob.MFAActive || bob.MFAType() != inventory.MFAHardware {
				t.Errorf("bob = %+v", bob)
			}
			if f.calls["ListMFADevices"] != 2 {
				t.Errorf("calls = %v", f.calls)
			}
		}},
		{"carol deleted and created again: her row is not used", nil, func(f *fakeIAM) {
			for i := range f.users {
				if aws.ToString(f.users[i].UserName) == "carol" {
					f.users[i].CreateDate = aws.Time(after)
				}
			}
			f.keys["carol"] = nil
		}, func(t *testing.T, a inventory.Account, f *fakeIAM) {
			if carol := userNamed(t, a, "carol"); len(carol.AccessKeys) != 0 || !carol.CreatedAt.Equal(after) {
				t.Errorf("carol = %+v", carol)
			}
			if f.calls["GetLoginProfile"] != 1 || f.calls["ListMFADevices"] != 2 {
				t.Errorf("calls = %v", f.calls)
			}
		}},
		{"re-read fails: unknown, the row's keys not kept", []cttypes.Event{trailEvent("DeleteAccessKey", after, "carol"), trailEvent("DeleteLoginProfile", after, "bob")}, func(f *fakeIAM) {
			f.fail = map[string]error{"ListAccessKeys": apiErr("AccessDenied"), "GetLoginProfile": apiErr("AccessDenied")}
			f.failUser = map[string]string{"ListAccessKeys": "carol"}
		}, func(t *testing.T, a inventory.Account, f *fakeIAM) {
			if carol := userNamed(t, a, "carol"); len(carol.AccessKeys) != 0 {
				t.Errorf("carol keeps the report's key slots although they changed: %+v", carol.AccessKeys)
			}
			if bob := userNamed(t, a, "bob"); bob.PasswordEnabled {
				t.Errorf("bob = %+v", bob)
			}
			g, ok := gapOf(a, inventory.SectionAccessKeys, "carol")
			if !ok || !strings.Contains(g.Message, "changed after the credential report") {
				t.Errorf("carol's gap = %+v", g)
			}
			if _, ok := gapOf(a, inventory.SectionPassword, "bob"); !ok {
				t.Errorf("no password gap for bob: %+v", a.Gaps)
			}
			if cr := a.CredentialReport; !slices.Equal(cr.UnknownUsers, []string{"bob", "carol"}) || a.Status != inventory.StatusPartial {
				t.Errorf("unknown = %v status %s", cr.UnknownUsers, a.Status)
			}
		}},
		{"the report is 5 minutes old: every user re-read", nil, func(f *fakeIAM) {
			f.generated = t0.Add(-5 * time.Minute)
		}, func(t *testing.T, a inventory.Account, f *fakeIAM) {
			if f.calls["GetLoginProfile"] != 3 || f.calls["ListAccessKeys"] != 3 || f.calls["ListMFADevices"] != 3 {
				t.Errorf("calls = %v", f.calls)
			}
			cr := a.CredentialReport
			if cr.Check != inventory.ReportReread || !slices.Equal(cr.RereadSections, []string{"password", "access_keys", "mfa"}) || cr.CloudTrailCompleteUntil != nil {
				t.Errorf("report = %+v", cr)
			}
		}},
		{"root changed its own key since: the slots are not used", []cttypes.Event{func() cttypes.Event {
			e := trailEvent("CreateAccessKey", after, "")
			e.Username = aws.String("root")
			e.CloudTrailEvent = aws.String(`{"userIdentity":{"type":"Root"},"requestParameters":null}`)
			return e
		}()}, func(f *fakeIAM) {
			f.summary = map[string]int32{"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 1}
		}, func(t *testing.T, a inventory.Account, f *fakeIAM) {
			if len(a.Root.AccessKeys) != 1 || !a.Root.AccessKeys[0].Active || a.Root.AccessKeys[0].LastRotated != nil {
				t.Errorf("root keys = %+v", a.Root.AccessKeys)
			}
			g, ok := gapOf(a, inventory.SectionRoot, "")
			if !ok || !strings.Contains(g.Message, "CreateAccessKey at ") {
				t.Errorf("root gap = %+v", g)
			}
			if f.calls["ListAccessKeys"] != 2 {
				t.Errorf("an IAM user re-read for the root's key: %v", f.calls)
			}
		}},
		{"root: the account summary decides", nil, func(f *fakeIAM) {
			f.virtual = f.virtual[:1] // root's virtual device is gone
			f.summary = map[string]int32{"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 1}
		}, func(t *testing.T, a inventory.Account, _ *fakeIAM) {
			if a.Root.MFAActive || len(a.Root.AccessKeys) != 1 || !a.Root.AccessKeys[0].Active || !hasGap(a, inventory.SectionRoot, "") {
				t.Errorf("root = %+v gaps %+v", a.Root, a.Gaps)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fakeAccount()
			f.complete = true
			if tc.setup != nil {
				tc.setup(f)
			}
			opts := unitOptions()
			opts.EventNames = DefaultEventNames
			a := auditAccount(context.Background(), fakeDeps(f, eventTrail{tc.events}), opts, prodAccount)
			if !a.CredentialReport.Reused {
				t.Fatalf("report not reused: %+v", a.CredentialReport)
			}
			tc.check(t, a, f)
		})
	}
}

// TestFreshListDecidesMFA: when ListMFADevices answers, its list says whether MFA is
// on; a row's mfa_active counts only when the list could not be read.
func TestFreshListDecidesMFA(t *testing.T) {
	t.Parallel()
	f := fakeAccount() // a report generated for this audit
	f.virtual = f.virtual[1:]
	f.mfa = map[string][]types.MFADevice{}
	a := auditAccount(context.Background(), fakeDeps(f, &fakeTrail{}), unitOptions(), prodAccount)
	if alice := userNamed(t, a, "alice"); alice.MFAActive {
		t.Errorf("alice's row says MFA, ListMFADevices lists none: %+v", alice)
	}
	f = fakeAccount()
	f.virtual = f.virtual[1:]
	f.fail = map[string]error{"ListMFADevices": apiErr("AccessDenied")}
	a = auditAccount(context.Background(), fakeDeps(f, &fakeTrail{}), unitOptions(), prodAccount)
	if alice := userNamed(t, a, "alice"); !alice.MFAActive {
		t.Errorf("ListMFADevices failed: the row's mfa_active must stand: %+v", alice)
	}
}

// TestDefaultEventsCoverReport: the default lookups include every event that changes
// a credential report row, so a default run can vouch for a reused report.
func TestDefaultEventsCoverReport(t *testing.T) {
	t.Parallel()
	for name := range partsByEvent {
		if !slices.Contains(DefaultEventNames, name) {
			t.Errorf("%s changes a credential report row but is not looked up by default", name)
		}
	}
}
