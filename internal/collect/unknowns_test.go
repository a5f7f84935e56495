package collect

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamaudit/iamaudit/internal/credreport"
	"github.com/iamaudit/iamaudit/internal/inventory"
)

// gapOf returns the account's gap in section about subject.
func gapOf(a inventory.Account, section inventory.Section, subject string) (inventory.Gap, bool) {
	for _, g := range a.Gaps {
		if g.Section == section && g.Subject == subject {
			return g, true
		}
	}
	return inventory.Gap{}, false
}

func userNamed(t *testing.T, a inventory.Account, name string) inventory.User {
	t.Helper()
	for _, u := range a.Users {
		if u.Name == name {
			return u
		}
	}
	t.Fatalf("no user %s among %+v", name, a.Users)
	return inventory.User{}
}

// withUser adds an IAM user the credential report does not know (created after it).
func withUser(f *fakeIAM, name string, password bool, lastUsed *time.Time) {
	f.users = append(f.users, types.UserDetail{UserName: aws.String(name), Arn: aws.String("arn:aws:iam::222222222222:user/" + name),
		UserId: aws.String("AID" + name), CreateDate: ts("2026-02-28T00:00:00Z")})
	f.login[name] = password
	if f.passwordLastUsed == nil {
		f.passwordLastUsed = map[string]*time.Time{}
	}
	f.passwordLastUsed[name] = lastUsed
}

// A failed call never turns what is already known into "none": the report's data is
// kept, and every per-user unknown is a gap of that user in one of the user sections.
func TestUnknownUserDataIsKeptOrAGap(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fakeIAM)
		check func(t *testing.T, a inventory.Account, f *fakeIAM)
	}{
		{"ListAccessKeys denied: the report's key slots are kept without ids", func(f *fakeIAM) {
			f.fail = map[string]error{"ListAccessKeys": apiErr("AccessDenied")}
		}, func(t *testing.T, a inventory.Account, _ *fakeIAM) {
			carol := userNamed(t, a, "carol")
			want := []inventory.AccessKey{
				{ID: "", Status: "Active", Slot: 1, CreatedAt: *ts("2024-02-01T00:00:00Z"), LastUsedAt: ts("2026-02-01T00:00:00Z"), LastUsedService: "s3", LastUsedRegion: "us-east-1", LastUsedSource: credreport.LastUsedSourceReport},
				{ID: "", Status: "Active", Slot: 2, CreatedAt: *ts("2024-03-01T00:00:00Z"), LastUsedAt: ts("2026-02-01T00:00:00Z"), LastUsedService: "s3", LastUsedRegion: "us-east-1", LastUsedSource: credreport.LastUsedSourceReport},
			}
			if fmt.Sprint(carol.AccessKeys) != fmt.Sprint(want) {
				t.Errorf("carol keys\n got %+v\nwant %+v", carol.AccessKeys, want)
			}
			if k := userNamed(t, a, "alice").AccessKeys; len(k) != 1 || k[0].ID != "" || k[0].Status != "Active" || k[0].LastUsedAt == nil {
				t.Errorf("alice keys %+v", k)
			}
			for _, user := range []string{"alice", "carol"} {
				g, ok := gapOf(a, SectionAccessKeys, user)
				if !ok || g.Operation != "iam:ListAccessKeys" || g.ErrorCode != "AccessDenied" || !strings.Contains(g.Message, "key slots") ||
					!slices.Equal(g.Unknown, []inventory.Field{inventory.FieldKeyIDs}) { // the keys are known, their ids are not
					t.Errorf("%s gap %+v", user, g)
				}
			}
			if _, ok := gapOf(a, SectionAccessKeys, "bob"); ok || len(userNamed(t, a, "bob").AccessKeys) != 0 {
				t.Errorf("bob has no key in the report: no call, no gap: %+v", a.Gaps)
			}
		}},
		{"no report and the per-user calls fail: a gap per unknown section of the user", func(f *fakeIAM) {
			f.fail = map[string]error{"GenerateCredentialReport": apiErr("AccessDenied"), "ListUsers": apiErr("AccessDenied"),
				"GetLoginProfile": apiErr("AccessDenied"), "ListMFADevices": apiErr("AccessDenied"), "ListAccessKeys": apiErr("AccessDenied"),
				"GetUser": apiErr("AccessDenied")}
			f.failUser = map[string]string{"GetLoginProfile": "alice", "ListMFADevices": "alice", "ListAccessKeys": "alice", "GetUser": "bob"}
		}, func(t *testing.T, a inventory.Account, f *fakeIAM) {
			for _, want := range []struct {
				section     inventory.Section
				subject, op string
				unknown     inventory.Field
			}{
				{SectionPassword, "alice", "iam:GetLoginProfile", inventory.FieldPassword},
				{SectionMFA, "alice", "iam:ListMFADevices", inventory.FieldMFA},
				{SectionAccessKeys, "alice", "iam:ListAccessKeys", inventory.FieldAccessKeys}, // no report: no key slots to keep
				{SectionPassword, "bob", "iam:GetUser", inventory.FieldPasswordLastUsed},      // has a password; ListUsers failed, so GetUser asks its last use
			} {
				if g, ok := gapOf(a, want.section, want.subject); !ok || g.Operation != want.op || g.ErrorCode != "AccessDenied" ||
					!slices.Equal(g.Unknown, []inventory.Field{want.unknown}) {
					t.Errorf("no %s gap for %s (%s): %+v", want.section, want.subject, want.op, a.Gaps)
				}
			}
			if _, ok := gapOf(a, SectionPassword, "carol"); ok || f.calls["GetUser"] != 1 { // bob only: alice's password is a gap already
				t.Errorf("carol has no password: no last use to ask (GetUser calls %d), gaps %+v", f.calls["GetUser"], a.Gaps)
			}
			for _, g := range a.Gaps {
				if g.Subject != "" && !isUserSection(g.Section) {
					t.Errorf("per-user gap outside the user sections: %+v", g)
				}
			}
		}},
		{"no report: password last use from ListUsers, not asked again", func(f *fakeIAM) {
			f.fail = map[string]error{"GenerateCredentialReport": apiErr("AccessDenied")}
			f.passwordLastUsed = map[string]*time.Time{"alice": ts("2026-02-27T09:00:00Z")}
		}, func(t *testing.T, a inventory.Account, f *fakeIAM) {
			if u := userNamed(t, a, "alice"); u.PasswordLastUsed == nil || !u.PasswordLastUsed.Equal(*ts("2026-02-27T09:00:00Z")) {
				t.Errorf("alice last sign-in %v", u.PasswordLastUsed)
			}
			if f.calls["GetUser"] != 0 {
				t.Errorf("GetUser called %d times", f.calls["GetUser"])
			}
		}},
		{"user newer than a reused report: last sign-in from GetUser", func(f *fakeIAM) {
			withUser(f, "dave", true, ts("2026-03-01T08:00:00Z"))
			withUser(f, "erin", false, nil)
		}, func(t *testing.T, a inventory.Account, f *fakeIAM) {
			dave := userNamed(t, a, "dave")
			if !dave.PasswordEnabled || dave.PasswordLastUsed == nil || !dave.PasswordLastUsed.Equal(*ts("2026-03-01T08:00:00Z")) {
				t.Errorf("dave = %+v", dave)
			}
			if erin := userNamed(t, a, "erin"); erin.PasswordEnabled || erin.PasswordLastUsed != nil {
				t.Errorf("erin = %+v", erin)
			}
			if len(a.Gaps) != 0 || f.calls["GetUser"] != 1 || f.calls["GetLoginProfile"] != 2 {
				t.Errorf("gaps %+v, calls %v: GetUser only for dave, who has a password", a.Gaps, f.calls)
			}
		}},
		{"user newer than a reused report, GetUser denied: a password gap, not 'never'", func(f *fakeIAM) {
			withUser(f, "dave", true, ts("2026-03-01T08:00:00Z"))
			f.fail = map[string]error{"GetUser": apiErr("AccessDenied")}
		}, func(t *testing.T, a inventory.Account, _ *fakeIAM) {
			g, ok := gapOf(a, SectionPassword, "dave")
			if !ok || g.Operation != "iam:GetUser" || !strings.HasPrefix(g.Message, "last console sign-in unknown: the user is newer than the credential report") ||
				!slices.Equal(g.Unknown, []inventory.Field{inventory.FieldPasswordLastUsed}) {
				t.Errorf("gap %+v ok %v; all %+v", g, ok, a.Gaps)
			}
			if dave := userNamed(t, a, "dave"); !dave.PasswordEnabled || dave.PasswordLastUsed != nil {
				t.Errorf("dave = %+v", dave)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fakeAccount()
			tt.setup(f)
			a := auditAccount(context.Background(), fakeDeps(f, &fakeTrail{}), unitOptions(), prodAccount)
			if a.Status != inventory.StatusPartial && len(a.Gaps) > 0 {
				t.Errorf("status %s with gaps", a.Status)
			}
			for _, g := range a.Gaps {
				if len(g.Unknown) == 0 {
					t.Errorf("gap %+v does not say what it leaves unknown", g)
				}
			}
			tt.check(t, a, f)
		})
	}
}

func isUserSection(s inventory.Section) bool {
	switch s {
	case SectionUsers, SectionPassword, SectionMFA, SectionAccessKeys, inventory.SectionEvents:
		return true // events gaps name event names as their subject
	}
	return false
}

// interruptingIAM interrupts the run at the first ListAccessKeys: that call and every
// later one fail with the context's error, as the SDK's do.
type interruptingIAM struct {
	iamAPI
	ctx    context.Context
	cancel context.CancelFunc
}

func (c *interruptingIAM) ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	c.cancel()
	return nil, fmt.Errorf("operation error IAM: ListAccessKeys, %w", c.ctx.Err())
}

// slowTrail answers LookupEvents only when the run is interrupted.
type slowTrail struct{}

func (slowTrail) LookupEvents(ctx context.Context, _ *cloudtrail.LookupEventsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("operation error CloudTrail: LookupEvents, %w", ctx.Err())
}

// An interrupted account: what was cut short is a gap (not an empty result), one per
// section for the whole account, not one per user.
func TestInterruptedSectionsAreOneGapEach(t *testing.T) {
	f := fakeAccount()
	var rows []string
	f.keys = map[string][]types.AccessKeyMetadata{}
	for i := range 40 {
		name := fmt.Sprintf("svc-%02d", i)
		withUser(f, name, false, nil)
		rows = append(rows, name+",false,false,2024-01-01T00:00:00+00:00,N/A")
		f.keys[name] = []types.AccessKeyMetadata{{AccessKeyId: aws.String(fmt.Sprintf("AKIASVC%013d", i)), Status: types.StatusTypeActive, CreateDate: ts("2024-01-01T00:00:00Z")}}
	}
	f.report = reportCSV(rows...)
	f.users = f.users[3:] // only the svc users
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ia := &interruptingIAM{iamAPI: f, ctx: ctx, cancel: cancel}
	a := auditAccount(ctx, fakeDeps(ia, slowTrail{}), unitOptions(), prodAccount)

	perSection := map[inventory.Section]int{}
	for _, g := range a.Gaps {
		perSection[g.Section]++
		if len(g.Unknown) == 0 || g.Section == SectionAccessKeys && !g.Leaves(inventory.FieldKeyIDs) {
			t.Errorf("interruption gap %+v: want what it leaves unknown (the keys, or their ids)", g)
		}
		if g.Subject != "" || !strings.Contains(g.Message, "interrupted") {
			t.Errorf("interruption gap %+v: want the whole account's section, saying the run was interrupted", g)
		}
	}
	if perSection[SectionAccessKeys] != 1 || perSection[inventory.SectionEvents] != 1 {
		t.Errorf("gaps per section %v, want one access_keys and one events gap; gaps %+v", perSection, a.Gaps)
	}
	if a.Status != inventory.StatusPartial || len(a.Users) != 40 {
		t.Errorf("status %s, %d users", a.Status, len(a.Users))
	}
}

// ConsoleLogin is kept only for the root user's sign-ins (docs/seed-contract.md).
func TestOnlyRootConsoleLogins(t *testing.T) {
	ev := func(name, user, record string) cttypes.Event {
		e := cttypes.Event{EventId: aws.String(name + user), EventName: aws.String(name), Username: aws.String(user), EventTime: aws.Time(t0)}
		if record != "" {
			e.CloudTrailEvent = aws.String(record)
		}
		return e
	}
	tests := []struct {
		name string
		e    cttypes.Event
		want bool
	}{
		{"root sign-in", ev("ConsoleLogin", "root", `{"userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"}}`), true},
		{"root sign-in, no username in the lookup", ev("ConsoleLogin", "", `{"userIdentity":{"type":"Root"}}`), true},
		{"IAM user sign-in", ev("ConsoleLogin", "alice", `{"userIdentity":{"type":"IAMUser","userName":"alice"}}`), false},
		{"IAM user named root", ev("ConsoleLogin", "root", `{"userIdentity":{"type":"IAMUser","userName":"root"}}`), false},
		{"federated sign-in", ev("ConsoleLogin", "bob", `{"userIdentity":{"type":"AssumedRole"}}`), false},
		{"no record: root by name", ev("ConsoleLogin", "<root_account>", ""), true},
		{"no record: a user", ev("ConsoleLogin", "alice", "not json"), false},
		{"other events by users are kept", ev("CreateUser", "alice", `{"userIdentity":{"type":"IAMUser"}}`), true},
	}
	var page []cttypes.Event
	want := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wanted(tt.e); got != tt.want {
				t.Errorf("wanted = %v, want %v", got, tt.want)
			}
		})
		page = append(page, tt.e)
		if tt.want {
			want++
		}
	}
	// Through collectEvents: only the wanted events reach the inventory.
	opts := unitOptions()
	opts.EventNames = []string{"ConsoleLogin"}
	got := collectEvents(context.Background(), pageTrail(page), opts, newGapList(context.Background(), "1"))
	if len(got) != want {
		t.Errorf("%d events kept, want %d: %+v", len(got), want, got)
	}
	for _, e := range got {
		if e.Name == "ConsoleLogin" && e.Username != "root" && e.Username != "<root_account>" {
			t.Errorf("kept %+v", e)
		}
	}
}

// pageTrail answers every lookup with its events.
type pageTrail []cttypes.Event

func (p pageTrail) LookupEvents(context.Context, *cloudtrail.LookupEventsInput, ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	return &cloudtrail.LookupEventsOutput{Events: p}, nil
}

// Interrupted failures in one section make one gap for the whole account, which leaves
// unknown everything those failures left unknown, not only the first one's.
func TestInterruptedGapUnionsFields(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	gaps := newGapList(ctx, "222222222222")
	err := fmt.Errorf("operation error IAM: %w", context.Canceled)
	gaps.add(failKeyLastUsed, "alice", err, "")
	gaps.add(failListKeyIDs, "bob", err, "")
	gaps.add(failListKeys, "carol", err, "")
	gaps.add(failListMFA, "carol", err, "")
	got := gaps.list()
	if len(got) != 2 {
		t.Fatalf("gaps %+v, want one access_keys and one mfa gap", got)
	}
	keys := got[0]
	want := []inventory.Field{inventory.FieldKeyLastUse, inventory.FieldKeyIDs, inventory.FieldAccessKeys}
	if keys.Section != SectionAccessKeys || keys.Subject != "" || keys.Operation != failKeyLastUsed.op || !slices.Equal(keys.Unknown, want) {
		t.Errorf("access_keys gap %+v, want no subject, the first operation and unknown %v", keys, want)
	}
	if got[1].Section != SectionMFA || !slices.Equal(got[1].Unknown, []inventory.Field{inventory.FieldMFA}) {
		t.Errorf("mfa gap %+v", got[1])
	}
	if &keys.Unknown[0] == &failKeyLastUsed.unknown[0] {
		t.Error("the gap shares its fields with the failure table")
	}
}
