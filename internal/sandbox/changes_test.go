package sandbox

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamaudit/iamaudit/internal/credreport"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// historyScenario: Production has a credential report generated 2 hours ago and, after
// it, one change of each kind; one change (ivy's key) predates the report.
func historyScenario() *scenario.Scenario {
	sc := testScenario()
	for i := range sc.Accounts {
		a := &sc.Accounts[i]
		if a.ID != prodID {
			continue
		}
		a.Users = append(a.Users,
			scenario.User{Name: "kate", CreatedAt: scenario.DaysAgo(30)},
			scenario.User{Name: "leo", CreatedAt: scenario.DaysAgo(30), AccessKeys: []scenario.Key{{ID: "AKIALEO0000000000001", CreatedAt: scenario.DaysAgo(29), LastUsed: scenario.Ago(time.Hour)}}},
			scenario.User{Name: "ned", CreatedAt: scenario.DaysAgo(30), Password: &scenario.Password{}},
			scenario.User{Name: "olga", CreatedAt: scenario.DaysAgo(30), Password: &scenario.Password{}, MFA: []scenario.MFADevice{{Type: scenario.MFAVirtual}}},
			scenario.User{Name: "ivy", CreatedAt: scenario.DaysAgo(30)},
		)
		a.CredentialReport = &scenario.CredentialReport{GeneratedAt: scenario.Ago(2 * time.Hour)}
		a.Changes = []scenario.Change{
			{Time: scenario.Ago(90 * time.Minute), Action: scenario.ChangeCreateAccessKey, User: "kate", KeyID: "AKIAKATE000000000001"},
			{Time: scenario.Ago(80 * time.Minute), Action: scenario.ChangeDeleteAccessKey, User: "leo", KeyID: "AKIALEO0000000000001", By: "secops"},
			{Time: scenario.Ago(70 * time.Minute), Action: scenario.ChangeCreateLoginProfile, User: "kate"},
			{Time: scenario.Ago(60 * time.Minute), Action: scenario.ChangeDeleteLoginProfile, User: "ned"},
			{Time: scenario.Ago(50 * time.Minute), Action: scenario.ChangeDeactivateMFADevice, User: "olga"},
			{Time: scenario.Ago(40 * time.Minute), Action: scenario.ChangeEnableMFADevice, User: "ned", MFA: &scenario.MFADevice{Type: scenario.MFAHardware, Serial: "GAHT00000042"}},
			{Time: scenario.Ago(30 * time.Minute), Action: scenario.ChangeEnableMFADevice, User: "kate", MFA: &scenario.MFADevice{Type: scenario.MFAVirtual}},
			{Time: scenario.Ago(3 * time.Hour), Action: scenario.ChangeCreateAccessKey, User: "ivy", KeyID: "AKIAIVY0000000000001"},
		}
	}
	return sc
}

func TestScenarioReportAndChanges(t *testing.T) {
	clock := newFakeClock()
	s := startTest(t, historyScenario(), clock, &scenario.Knobs{ReportGeneration: scenario.Duration{Duration: -1}})
	c := iam.NewFromConfig(assume(t, s, prodID, 3600))

	gen, err := c.GenerateCredentialReport(ctx(t), &iam.GenerateCredentialReportInput{})
	if err != nil || gen.State != iamtypes.ReportStateTypeComplete {
		t.Fatalf("generate: %v %+v: the scenario's 2-hour-old report is reused", err, gen)
	}
	got, err := c.GetCredentialReport(ctx(t), &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	if want := clock.Now().Add(-2 * time.Hour); !got.GeneratedTime.Equal(want) {
		t.Errorf("GeneratedTime %v, want %v", got.GeneratedTime, want)
	}
	rep, err := credreport.Parse(bytes.NewReader(got.Content))
	if err != nil {
		t.Fatal(err)
	}
	row := func(name string) credreport.Row {
		r, ok := rep.User(name)
		if !ok {
			t.Fatalf("no row for %s", name)
		}
		return r
	}
	// The report shows the account before the changes made after it.
	if r := row("kate"); r.PasswordEnabled || r.MFAActive || r.AccessKeys[0].Present() {
		t.Errorf("kate's row shows changes made after the report: %+v", r)
	}
	if r := row("leo"); !r.AccessKeys[0].Active || r.AccessKeys[0].LastUsedDate != nil {
		t.Errorf("leo's row: key deleted after the report must be there, its use 1 h ago (after the report) not: %+v", r.AccessKeys[0])
	}
	if r := row("ned"); !r.PasswordEnabled || r.MFAActive {
		t.Errorf("ned's row = %+v", r)
	}
	if r := row("olga"); !r.MFAActive {
		t.Errorf("olga's row = %+v", r)
	}
	if r := row("ivy"); !r.AccessKeys[0].Active {
		t.Errorf("ivy's key, created before the report, is missing from it: %+v", r)
	}

	// The account as it is now.
	keys := func(user string) []string {
		out, err := c.ListAccessKeys(ctx(t), &iam.ListAccessKeysInput{UserName: aws.String(user)})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, k := range out.AccessKeyMetadata {
			ids = append(ids, aws.ToString(k.AccessKeyId))
		}
		return ids
	}
	if k := keys("kate"); len(k) != 1 || k[0] != "AKIAKATE000000000001" {
		t.Errorf("kate's keys = %v", k)
	}
	if k := keys("leo"); len(k) != 0 {
		t.Errorf("leo's keys = %v", k)
	}
	if _, err := c.GetLoginProfile(ctx(t), &iam.GetLoginProfileInput{UserName: aws.String("ned")}); err == nil {
		t.Error("ned's login profile was deleted")
	}
	lp, err := c.GetLoginProfile(ctx(t), &iam.GetLoginProfileInput{UserName: aws.String("kate")})
	if err != nil || !lp.LoginProfile.CreateDate.Equal(clock.Now().Add(-70*time.Minute)) {
		t.Errorf("kate's login profile: %v %+v", err, lp)
	}
	mfa := func(user string) []string {
		out, err := c.ListMFADevices(ctx(t), &iam.ListMFADevicesInput{UserName: aws.String(user)})
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, d := range out.MFADevices {
			s = append(s, aws.ToString(d.SerialNumber))
		}
		return s
	}
	if m := mfa("olga"); len(m) != 0 {
		t.Errorf("olga's MFA = %v", m)
	}
	if m := mfa("ned"); len(m) != 1 || m[0] != "GAHT00000042" {
		t.Errorf("ned's MFA = %v", m)
	}
	if m := mfa("kate"); len(m) != 1 || m[0] != "arn:aws:iam::"+prodID+":mfa/kate" {
		t.Errorf("kate's MFA = %v", m)
	}

	// Each change is in CloudTrail as AWS records it.
	trail := cloudtrail.NewFromConfig(assume(t, s, prodID, 3600))
	lookup := func(name string) []cttypes.Event {
		out, err := trail.LookupEvents(ctx(t), &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
			{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(name)}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Events
	}
	type record struct {
		EventTime    string `json:"eventTime"`
		UserIdentity struct {
			Type, UserName string
		} `json:"userIdentity"`
		RequestParameters map[string]any `json:"requestParameters"`
		ResponseElements  map[string]any `json:"responseElements"`
	}
	decode := func(e cttypes.Event) record {
		var r record
		if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	created := lookup("CreateAccessKey")
	var kate *record
	for _, e := range created {
		if r := decode(e); r.RequestParameters["userName"] == "kate" {
			kate = &r
			if !e.EventTime.Equal(clock.Now().Add(-90 * time.Minute)) {
				t.Errorf("kate's CreateAccessKey at %v", e.EventTime)
			}
		}
	}
	if kate == nil {
		t.Fatalf("no CreateAccessKey event for kate among %d", len(created))
	}
	ak, _ := kate.ResponseElements["accessKey"].(map[string]any)
	if ak["accessKeyId"] != "AKIAKATE000000000001" || ak["userName"] != "kate" || ak["status"] != "Active" || ak["createDate"] == nil {
		t.Errorf("responseElements = %v", kate.ResponseElements)
	}
	if _, leaked := ak["secretAccessKey"]; leaked || strings.Contains(aws.ToString(created[0].CloudTrailEvent), "ecret") {
		t.Errorf("CloudTrail records the new key's secret: %v", kate.ResponseElements)
	}
	if kate.UserIdentity.Type != "IAMUser" || kate.UserIdentity.UserName != "admin" {
		t.Errorf("CreateAccessKey made by %+v, want the default IAM user admin", kate.UserIdentity)
	}
	del := lookup("DeleteAccessKey")
	found := false
	for _, e := range del {
		r := decode(e)
		if r.RequestParameters["userName"] == "leo" && r.RequestParameters["accessKeyId"] == "AKIALEO0000000000001" && r.UserIdentity.UserName == "secops" && r.ResponseElements == nil {
			found = true
		}
	}
	if !found {
		t.Errorf("no DeleteAccessKey of leo's key by secops (responseElements null)")
	}
	for _, name := range []string{"CreateLoginProfile", "DeleteLoginProfile", "DeactivateMFADevice", "EnableMFADevice", "CreateVirtualMFADevice"} {
		if len(lookup(name)) == 0 {
			t.Errorf("no %s event", name)
		}
	}
	lps := lookup("CreateLoginProfile")
	if r := decode(lps[0]); r.RequestParameters["password"] != nil || r.ResponseElements["loginProfile"] == nil {
		t.Errorf("CreateLoginProfile record = %+v", r)
	}
}

// TestCloudTrailDelay: LookupEvents shows an event only once the delivery delay has
// passed since it happened.
func TestCloudTrailDelay(t *testing.T) {
	clock := newFakeClock()
	sc := historyScenario()
	s := startTest(t, sc, clock, &scenario.Knobs{CloudTrailDelay: scenario.Duration{Duration: 45 * time.Minute}})
	names := func() map[string]bool {
		out := map[string]bool{}
		trail := cloudtrail.NewFromConfig(assume(t, s, prodID, 3600)) // a session valid at the clock's time
		p := cloudtrail.NewLookupEventsPaginator(trail, &cloudtrail.LookupEventsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Events {
				out[aws.ToString(e.EventName)] = true
			}
		}
		return out
	}
	// Made 50 minutes ago: delivered; 40 and 30 minutes ago: not yet.
	got := names()
	if !got["DeactivateMFADevice"] || got["EnableMFADevice"] {
		t.Fatalf("events shown with a 45-minute delay: %v", got)
	}
	clock.Advance(16 * time.Minute)
	if got := names(); !got["EnableMFADevice"] {
		t.Fatalf("after 16 more minutes: %v", got)
	}
	// A write served now appears only after the delay too.
	admin := iam.NewFromConfig(assumeRole(t, s, prodID, adminRole, 3600))
	if _, err := admin.CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("late")}); err != nil {
		t.Fatal(err)
	}
	if names()["CreateUser"] {
		t.Fatal("CreateUser shown at once despite the delay")
	}
	clock.Advance(45 * time.Minute)
	if !names()["CreateUser"] {
		t.Fatal("CreateUser not shown after the delay")
	}
}

// TestScenarioChangeErrors: a change the account cannot take is an error naming it.
func TestScenarioChangeErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change scenario.Change
		want   string
	}{
		{"unknown user", scenario.Change{Time: scenario.Ago(time.Hour), Action: scenario.ChangeCreateLoginProfile, User: "nobody"}, "change 1 (CreateLoginProfile of nobody"},
		{"unknown key", scenario.Change{Time: scenario.Ago(time.Hour), Action: scenario.ChangeDeleteAccessKey, User: "bob", KeyID: "AKIANOSUCHKEY0000001"}, "cannot be found"},
		{"password twice", scenario.Change{Time: scenario.Ago(time.Hour), Action: scenario.ChangeCreateLoginProfile, User: "bob"}, "already exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := testScenario()
			for i := range sc.Accounts {
				if sc.Accounts[i].ID == prodID {
					sc.Accounts[i].Changes = []scenario.Change{tc.change}
				}
			}
			_, err := New(sc, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
