package sandbox

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// TestScenarioEventUsernames: an event the scenario gives no username has none in
// LookupEvents (reports show N/A); named and root events keep theirs.
func TestScenarioEventUsernames(t *testing.T) {
	sc := testScenario()
	for i := range sc.Accounts {
		if sc.Accounts[i].ID == prodID {
			sc.Accounts[i].Events = []scenario.Event{
				{Time: scenario.DaysAgo(3), Name: "DeleteUser", Resources: []string{"gone"}},
				{Time: scenario.DaysAgo(2), Name: "CreateUser", Username: "admin", Resources: []string{"new"}},
				{Time: scenario.DaysAgo(1), Name: "ConsoleLogin", Username: "root"},
			}
		}
	}
	s := startTest(t, sc, nil, nil)
	out, err := cloudtrail.NewFromConfig(assume(t, s, prodID, 900)).LookupEvents(ctx(t), &cloudtrail.LookupEventsInput{})
	if err != nil || len(out.Events) != 3 {
		t.Fatalf("lookup: %v %+v", err, out)
	}
	for _, tc := range []struct {
		name, wantUser, wantType, wantIdentityUser string
	}{
		{"DeleteUser", "", "Unknown", ""},
		{"CreateUser", "admin", "IAMUser", "admin"},
		{"ConsoleLogin", "root", "Root", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e *cttypes.Event
			for i := range out.Events {
				if aws.ToString(out.Events[i].EventName) == tc.name {
					e = &out.Events[i]
				}
			}
			if e == nil {
				t.Fatalf("no %s event", tc.name)
			}
			if tc.wantUser == "" && e.Username != nil {
				t.Fatalf("Username %q, want none (the caller's name must not stand in)", *e.Username)
			}
			if got := aws.ToString(e.Username); got != tc.wantUser {
				t.Fatalf("Username %q, want %q", got, tc.wantUser)
			}
			var rec struct {
				UserIdentity struct {
					Type     string `json:"type"`
					UserName string `json:"userName"`
					ARN      string `json:"arn"`
				} `json:"userIdentity"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec); err != nil {
				t.Fatal(err)
			}
			id := rec.UserIdentity
			if id.Type != tc.wantType || id.UserName != tc.wantIdentityUser || (tc.wantType == "Unknown" && id.ARN != "") {
				t.Fatalf("userIdentity %+v, want type %s userName %q", id, tc.wantType, tc.wantIdentityUser)
			}
		})
	}
}
