package collect

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamaudit/iamaudit/internal/credreport"
	"github.com/iamaudit/iamaudit/internal/inventory"
)

// TestMatchKeysSlots: a listed key takes its report slot's number; an inactive slot
// without last_rotated (but used) is matched to the one remaining inactive key.
func TestMatchKeysSlots(t *testing.T) {
	key := func(id, created string, st types.StatusType) types.AccessKeyMetadata {
		return types.AccessKeyMetadata{AccessKeyId: aws.String(id), CreateDate: ts(created), Status: st}
	}
	slot2Only := &credreport.Row{AccessKeys: [2]credreport.KeySlot{{}, {Active: true, LastRotated: ts("2024-01-01T10:00:00Z")}}}
	undated := &credreport.Row{AccessKeys: [2]credreport.KeySlot{
		{Active: true, LastRotated: ts("2024-01-01T10:00:00Z")},
		{Active: false, LastUsedDate: ts("2025-07-01T00:00:00Z"), LastUsedService: "ec2"},
	}}
	twoUndated := &credreport.Row{AccessKeys: [2]credreport.KeySlot{
		{Active: false, LastUsedDate: ts("2025-07-01T00:00:00Z")}, {Active: false, LastUsedDate: ts("2025-08-01T00:00:00Z")}}}
	tests := []struct {
		name string
		keys []types.AccessKeyMetadata
		row  *credreport.Row
		want []int
	}{
		{"slot 2 only", []types.AccessKeyMetadata{key("B", "2024-01-01T10:00:00Z", types.StatusTypeActive)}, slot2Only, []int{2}},
		{"created after the report: no slot", []types.AccessKeyMetadata{key("C", "2026-01-01T10:00:00Z", types.StatusTypeActive)}, slot2Only, []int{0}},
		{"undated inactive slot by elimination", []types.AccessKeyMetadata{key("A", "2024-01-01T10:00:00Z", types.StatusTypeActive),
			key("B", "2019-01-01T00:00:00Z", types.StatusTypeInactive)}, undated, []int{1, 2}},
		{"an active unmatched key is not the undated inactive slot", []types.AccessKeyMetadata{key("A", "2024-01-01T10:00:00Z", types.StatusTypeActive),
			key("N", "2026-02-01T00:00:00Z", types.StatusTypeActive)}, undated, []int{1, 0}},
		{"two undated slots cannot be told apart", []types.AccessKeyMetadata{key("A", "2019-01-01T00:00:00Z", types.StatusTypeInactive),
			key("B", "2019-02-01T00:00:00Z", types.StatusTypeInactive)}, twoUndated, []int{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := matchKeys(tt.keys, tt.row)
			for i, m := range got {
				if m.slotNo != tt.want[i] || (m.slotNo == 0) != (m.slot == nil) {
					t.Errorf("key %s slot %d (%v), want %d", aws.ToString(m.meta.AccessKeyId), m.slotNo, m.slot, tt.want[i])
				}
			}
		})
	}
	if m := matchKeys([]types.AccessKeyMetadata{key("A", "2024-01-01T10:00:00Z", types.StatusTypeActive), key("B", "2019-01-01T00:00:00Z", types.StatusTypeInactive)}, undated); m[1].slot.LastUsedService != "ec2" {
		t.Errorf("undated slot's last use not kept: %+v", m[1].slot)
	}
}

// TestKeysFromReportKeepSlots: when ListAccessKeys fails, the report's keys keep their slot.
func TestKeysFromReportKeepSlots(t *testing.T) {
	keys := keysFromReport(&credreport.Row{AccessKeys: [2]credreport.KeySlot{{}, {Active: true, LastRotated: ts("2024-01-01T10:00:00Z")}}})
	if len(keys) != 1 || keys[0].Slot != 2 || keys[0].ID != "" || keys[0].Status != inventory.KeyActive {
		t.Fatalf("keys %+v", keys)
	}
}

// TestBuildRootCredentials: without the report's root row the root's password is
// unknown; a root key or MFA in the summary makes its credentials present.
func TestBuildRootCredentials(t *testing.T) {
	for _, tt := range []struct {
		name    string
		summary map[string]int32
		want    string
	}{
		{"no mfa, no key: unknown", map[string]int32{"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0}, inventory.RootCredentialsUnknown},
		{"a key", map[string]int32{"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 1}, inventory.RootCredentialsPresent},
		{"mfa", map[string]int32{"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}, inventory.RootCredentialsPresent},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := buildRoot("aws", "1", nil, reportAge{}, tt.summary, true, &virtualMFA{}, &gapList{acct: "1"})
			if r.Credentials != tt.want {
				t.Errorf("credentials %q, want %q", r.Credentials, tt.want)
			}
		})
	}
}

// TestConvertSignInEvent reads a failed root sign-in as CloudTrail records it: no
// errorCode, errorMessage and responseElements.ConsoleLogin Failure.
func TestConvertSignInEvent(t *testing.T) {
	e := convertEvent(cttypes.Event{
		EventId: aws.String("e1"), EventName: aws.String("ConsoleLogin"), EventTime: ts("2026-02-01T10:00:00Z"),
		CloudTrailEvent: aws.String(`{"eventVersion":"1.05","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333","accessKeyId":""},` +
			`"eventTime":"2026-02-01T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.0",` +
			`"errorMessage":"Failed authentication","requestParameters":null,"responseElements":{"ConsoleLogin":"Failure"},` +
			`"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"No"},"eventType":"AwsConsoleSignIn"}`),
	})
	if e.ErrorCode != "" || e.ErrorMessage != "Failed authentication" || e.LoginResult != inventory.LoginFailure || e.EventType != "AwsConsoleSignIn" ||
		e.UserType != "Root" || e.SourceIP != "192.0.2.0" || e.MFAUsed != "No" || e.Username != "root" {
		t.Errorf("event = %+v", e)
	}
}

func TestParseRole(t *testing.T) {
	for _, tt := range []struct{ in, path, name, arn string }{
		{"IAMAuditRole", "/", "IAMAuditRole", "arn:aws:iam::111122223333:role/IAMAuditRole"},
		{"security/IAMAuditRole", "/security/", "IAMAuditRole", "arn:aws:iam::111122223333:role/security/IAMAuditRole"},
		{"/security/IAMAuditRole", "/security/", "IAMAuditRole", "arn:aws:iam::111122223333:role/security/IAMAuditRole"},
		{"/a/b.c/IAMAuditRole", "/a/b.c/", "IAMAuditRole", "arn:aws:iam::111122223333:role/a/b.c/IAMAuditRole"},
	} {
		path, name, err := ParseRole(tt.in)
		if err != nil || path != tt.path || name != tt.name || roleARN("aws", "111122223333", tt.in) != tt.arn || roleName(tt.in) != tt.name {
			t.Errorf("%q: %q %q %v, arn %s", tt.in, path, name, err, roleARN("aws", "111122223333", tt.in))
		}
	}
	for _, bad := range []string{"", "/", "security/", "bad name", "/sec urity/R", "/ünï/R"} {
		if _, _, err := ParseRole(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
