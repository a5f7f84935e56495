package sandbox

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamaudit/iamaudit/internal/scenario"
)

// timelineScenario: Production has dan (password, a key, in group devs) who signs in
// daily and uses his key hourly until his credentials are taken away and he is
// removed; carol gets a key an hour after the start; one change cannot be made (bob
// has no such key); the Legacy account's missing audit role is created after a day.
func timelineScenario() *scenario.Scenario {
	sc := testScenario()
	in := func(d time.Duration) *scenario.Date { return scenario.Ago(-d) }
	const danKey = "AKIADAN0000000000001"
	for i := range sc.Accounts {
		a := &sc.Accounts[i]
		switch a.ID {
		case prodID:
			a.Users = append(a.Users, scenario.User{Name: "dan", CreatedAt: scenario.DaysAgo(300), Groups: []string{"devs"},
				Password:   &scenario.Password{CreatedAt: scenario.DaysAgo(300), LastUsed: scenario.DaysAgo(10)},
				AccessKeys: []scenario.Key{{ID: danKey, CreatedAt: scenario.DaysAgo(200), LastUsed: scenario.DaysAgo(10), Service: "ec2"}}})
			a.Changes = []scenario.Change{
				{Time: in(time.Hour), Action: scenario.ChangeCreateAccessKey, User: "carol", KeyID: "AKIACAROLNEW00000001"},
				{Time: scenario.DaysAgo(3), Action: scenario.ChangeConsoleLogin, User: "dan", Every: scenario.Period{Duration: scenario.Day}},
				{Time: in(2 * time.Hour), Action: scenario.ChangeUseAccessKey, User: "dan", KeyID: danKey, Service: "s3", Region: "eu-west-1", Every: scenario.Period{Duration: time.Hour}},
				{Time: in(25*time.Hour + 30*time.Minute), Action: scenario.ChangeUpdateAccessKey, User: "dan", KeyID: danKey, Status: "Inactive"},
				{Time: in(49 * time.Hour), Action: scenario.ChangeDeleteLoginProfile, User: "dan"},
				{Time: in(72 * time.Hour), Action: scenario.ChangeRemoveUserFromGroup, User: "dan", Group: "devs"},
				{Time: in(72 * time.Hour), Action: scenario.ChangeDeleteAccessKey, User: "dan", KeyID: danKey},
				{Time: in(72*time.Hour + time.Minute), Action: scenario.ChangeDeleteUser, User: "dan"},
				{Time: in(2 * time.Hour), Action: scenario.ChangeDeleteAccessKey, User: "bob", KeyID: "AKIANOSUCHKEY0000001"},
				{Time: in(time.Hour), Action: scenario.ChangeUseRole, Role: "app", Region: "eu-west-1", Every: scenario.Period{Duration: time.Hour}},
			}
		case missingID:
			a.Changes = []scenario.Change{{Time: in(24 * time.Hour), Action: scenario.ChangeCreateRole, Role: "IAMAuditRole", By: "stacksets"}}
		}
	}
	return sc
}

// The changes dated after the start wait for the sandbox clock; repeated uses
// repeat until their credential is gone; a failed change is reported, not fatal; a
// created audit role can be assumed.
func TestTimelineFollowsTheClock(t *testing.T) {
	clock := newFakeClock()
	start := clock.Now()
	s := startTest(t, timelineScenario(), clock, nil)
	prod := func() *iam.Client { return iam.NewFromConfig(assume(t, s, prodID, 3600)) }
	keys := func(user string) []string {
		out, err := prod().ListAccessKeys(ctx(t), &iam.ListAccessKeysInput{UserName: aws.String(user)})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, k := range out.AccessKeyMetadata {
			ids = append(ids, aws.ToString(k.AccessKeyId))
		}
		return ids
	}
	logins := func() []time.Time {
		trail := cloudtrail.NewFromConfig(assume(t, s, prodID, 3600))
		out, err := trail.LookupEvents(ctx(t), &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
			{AttributeKey: cttypes.LookupAttributeKeyUsername, AttributeValue: aws.String("dan")}}, StartTime: aws.Time(start.Add(-90 * scenario.Day)), EndTime: aws.Time(clock.Now())})
		if err != nil {
			t.Fatal(err)
		}
		var ts []time.Time
		for _, e := range out.Events {
			if aws.ToString(e.EventName) == "ConsoleLogin" {
				ts = append(ts, e.EventTime.UTC())
			}
		}
		return ts
	}
	assumeLegacy := func() error {
		_, err := sts.NewFromConfig(mgmtConfig(s)).AssumeRole(ctx(t), &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::" + missingID + ":role/IAMAuditRole"), RoleSessionName: aws.String("iamaudit")})
		return err
	}

	// At the start: the sign-ins of the last three days are made, nothing later.
	if k := keys("carol"); len(k) != 0 {
		t.Errorf("carol's key exists before its time: %v", k)
	}
	u, err := prod().GetUser(ctx(t), &iam.GetUserInput{UserName: aws.String("dan")})
	if err != nil || !u.User.PasswordLastUsed.Equal(start) {
		t.Errorf("dan's password last used %v (%v), want the sign-in at the start %v", u.User.PasswordLastUsed, err, start)
	}
	if got := logins(); len(got) != 4 {
		t.Errorf("sign-ins at the start: %v, want 4 (3, 2, 1 and 0 days ago)", got)
	}
	wantAPIError(t, assumeLegacy(), "AccessDenied")

	clock.Advance(3*time.Hour + 30*time.Minute)
	if k := keys("carol"); len(k) != 1 || k[0] != "AKIACAROLNEW00000001" {
		t.Errorf("carol's keys after an hour: %v", k)
	}
	lu, err := prod().GetAccessKeyLastUsed(ctx(t), &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIADAN0000000000001")})
	if err != nil || !lu.AccessKeyLastUsed.LastUsedDate.Equal(start.Add(3*time.Hour)) ||
		aws.ToString(lu.AccessKeyLastUsed.ServiceName) != "s3" || aws.ToString(lu.AccessKeyLastUsed.Region) != "eu-west-1" {
		t.Errorf("dan's key last used %+v (%v), want s3 in eu-west-1 at +3h", lu.AccessKeyLastUsed, err)
	}
	gaad, err := prod().GetAccountAuthorizationDetails(ctx(t), &iam.GetAccountAuthorizationDetailsInput{Filter: []iamtypes.EntityType{iamtypes.EntityTypeRole}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range gaad.RoleDetailList {
		if aws.ToString(r.RoleName) == "app" && (r.RoleLastUsed == nil || !r.RoleLastUsed.LastUsedDate.Equal(start.Add(3*time.Hour)) || aws.ToString(r.RoleLastUsed.Region) != "eu-west-1") {
			t.Errorf("role app last used %+v, want eu-west-1 at +3h", r.RoleLastUsed)
		}
	}
	if errs := s.Stats().TimelineErrors; len(errs) != 1 || !strings.Contains(errs[0], "change 9 (DeleteAccessKey of bob") ||
		!strings.Contains(errs[0], "AKIANOSUCHKEY0000001 cannot be found") {
		t.Errorf("timeline errors %q, want bob's DeleteAccessKey", errs)
	}

	// The key was deactivated at +25h30m: its last use is the one before.
	clock.Advance(24 * time.Hour)
	lu, err = prod().GetAccessKeyLastUsed(ctx(t), &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIADAN0000000000001")})
	if err != nil || !lu.AccessKeyLastUsed.LastUsedDate.Equal(start.Add(25*time.Hour)) {
		t.Errorf("dan's key last used %v (%v), want +25h", lu.AccessKeyLastUsed.LastUsedDate, err)
	}
	if err := assumeLegacy(); err != nil {
		t.Errorf("the audit role created after a day cannot be assumed: %v", err)
	}

	clock.Advance(3 * 24 * time.Hour)
	if _, err := prod().GetUser(ctx(t), &iam.GetUserInput{UserName: aws.String("dan")}); err == nil {
		t.Error("dan was not removed")
	} else {
		wantAPIError(t, err, "NoSuchEntity")
	}
	// Signed in daily until the password was deleted at +49h: +1d and +2d.
	if got := logins(); len(got) != 6 || !got[0].Equal(start.Add(2*scenario.Day)) {
		t.Errorf("sign-ins: %v, want 6, the last at +2d", got)
	}
	if errs := s.Stats().TimelineErrors; len(errs) != 1 {
		t.Errorf("timeline errors %q: a repetition that finds its credential gone ends quietly", errs)
	}

	// The role is in the account, and CloudTrail has its CreateRole by stacksets.
	legacy := assumeRole(t, s, missingID, "IAMAuditRole", 3600)
	roles, err := iam.NewFromConfig(legacy).GetAccountAuthorizationDetails(ctx(t), &iam.GetAccountAuthorizationDetailsInput{Filter: []iamtypes.EntityType{iamtypes.EntityTypeRole}})
	if err != nil || len(roles.RoleDetailList) != 1 || aws.ToString(roles.RoleDetailList[0].RoleName) != "IAMAuditRole" || !roles.RoleDetailList[0].CreateDate.Equal(start.Add(24*time.Hour)) {
		t.Fatalf("Legacy's roles %+v (%v)", roles, err)
	}
	ev, err := cloudtrail.NewFromConfig(legacy).LookupEvents(ctx(t), &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("CreateRole")}}})
	if err != nil || len(ev.Events) != 1 {
		t.Fatalf("CreateRole events %+v (%v)", ev, err)
	}
	var rec struct {
		UserIdentity struct{ UserName string } `json:"userIdentity"`
		Request      map[string]any            `json:"requestParameters"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(ev.Events[0].CloudTrailEvent)), &rec); err != nil || rec.UserIdentity.UserName != "stacksets" ||
		rec.Request["roleName"] != "IAMAuditRole" || !strings.Contains(rec.Request["assumeRolePolicyDocument"].(string), "arn:aws:iam::"+mgmtID+":root") {
		t.Errorf("CreateRole record %+v (%v)", rec, err)
	}
}

// A sandbox whose clock is months behind the client's: AssumeRole's Expiration is in
// the signer's time frame, so the SDK's credential cache (which compares it with the
// local clock) assumes the role once, not before every call; the session itself
// still expires on the sandbox clock.
func TestSessionExpirationInTheClientsFrame(t *testing.T) {
	clock := &fakeClock{t: time.Now().UTC().Truncate(time.Second).Add(-60 * scenario.Day)}
	s := startTest(t, testScenario(), clock, nil)
	base := mgmtConfig(s)
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), "arn:aws:iam::"+prodID+":role/IAMAuditRole")
	cfg := base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(provider)
	c := iam.NewFromConfig(cfg)
	for i := 0; i < 3; i++ {
		if _, err := c.ListUsers(ctx(t), &iam.ListUsersInput{}); err != nil {
			t.Fatal(err)
		}
	}
	creds, err := cfg.Credentials.Retrieve(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(creds.Expires); d < 14*time.Minute || d > 16*time.Minute {
		t.Errorf("session expires in %v of the client's time, want stscreds' 15 minutes", d)
	}
	if n := s.Stats().Calls[mgmtID]["sts:AssumeRole"]; n != 1 {
		t.Errorf("%d AssumeRole calls for 3 requests, want 1", n)
	}
	clock.Advance(16 * time.Minute)
	if _, err := iam.NewFromConfig(sdkConfig(s, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)).ListUsers(ctx(t), &iam.ListUsersInput{}); err == nil {
		t.Error("the session is still valid 16 minutes later on the sandbox clock")
	} else {
		wantAPIError(t, err, "ExpiredToken")
	}
}

// Close does not wait for a connection that never sent a request (an HTTP client's
// spare dial): net/http's Shutdown would hold it 5 s.
func TestCloseDropsUnusedConnections(t *testing.T) {
	s, err := Start(testScenario(), Options{}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("Close is still waiting for a connection that never sent a request")
	}
}

// The timelines of the built-in demo and of the examples can all be made: served on
// a clock that moves 200 days, a request every few days, none fails.
func TestScenarioTimelinesApply(t *testing.T) {
	load := func(path string) func() (*scenario.Scenario, error) {
		return func() (*scenario.Scenario, error) { return scenario.Load(path) }
	}
	for name, get := range map[string]func() (*scenario.Scenario, error){
		"demo":                   func() (*scenario.Scenario, error) { return scenario.Demo(), nil },
		"examples/timeline.yaml": load("../../examples/timeline.yaml"),
		"examples/scenario.yaml": load("../../examples/scenario.yaml"),
	} {
		t.Run(name, func(t *testing.T) {
			sc, err := get()
			if err != nil {
				t.Fatal(err)
			}
			clock := newFakeClock()
			s := startTest(t, sc, clock, nil)
			for day := 0; day <= 200; day += 3 {
				// A new client each time: the SDK would correct its signing clock by
				// the last answer's Date, which the jump makes 3 days wrong.
				c := organizations.NewFromConfig(mgmtConfig(s))
				if _, err := c.ListRoots(ctx(t), &organizations.ListRootsInput{}); err != nil {
					t.Fatal(err)
				}
				clock.Advance(3 * scenario.Day)
			}
			if errs := s.Stats().TimelineErrors; len(errs) != 0 {
				t.Errorf("timeline errors:\n%s", strings.Join(errs, "\n"))
			}
		})
	}
}
