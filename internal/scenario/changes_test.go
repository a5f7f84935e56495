package scenario

import (
	"strings"
	"testing"
	"time"
)

func TestParseChanges(t *testing.T) {
	src := base + `    users:
      - name: kate
      - name: ned
        mfa: [{type: virtual}]
    credential_report: {generated_at: -2h}
    changes:
      - {time: -90m, action: CreateAccessKey, user: kate}
      - {time: -80m, action: EnableMFADevice, user: ned, mfa: {type: virtual}}
      - {time: -70m, action: EnableMFADevice, user: kate, mfa: {type: hardware}, by: secops}
      - {time: -60m, action: UpdateAccessKey, user: kate, key_id: AKIAKATE000000000001, status: Inactive}
knobs:
  cloudtrail_delay: 10m
`
	s, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a := s.Accounts[0]
	if a.CredentialReport == nil || a.CredentialReport.GeneratedAt == nil || a.CredentialReport.GeneratedAt.Rel != -2*time.Hour {
		t.Errorf("credential_report = %+v", a.CredentialReport)
	}
	ch := a.Changes
	if len(ch) != 4 || ch[0].By != DefaultChangeBy || ch[2].By != "secops" {
		t.Fatalf("changes = %+v", ch)
	}
	if !reKeyID.MatchString(ch[0].KeyID) {
		t.Errorf("CreateAccessKey key id not generated: %q", ch[0].KeyID)
	}
	// ned has one virtual device already: the enabled one gets the next serial.
	if ch[1].MFA.Serial != "arn:aws:iam::210987654321:mfa/ned-2" || !strings.HasPrefix(ch[2].MFA.Serial, "GAHT") {
		t.Errorf("serials %q %q", ch[1].MFA.Serial, ch[2].MFA.Serial)
	}
	if s.Knobs.CloudTrailDelay.Duration != 10*time.Minute {
		t.Errorf("cloudtrail_delay = %v", s.Knobs.CloudTrailDelay)
	}
}

func TestParseChangeErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown action", `{time: -1h, action: AttachUserPolicy, user: kate}`, `change 1: action "AttachUserPolicy" must be one of CreateUser`},
		{"no time", `{action: CreateUser, user: kate}`, `change 1: time is required`},
		{"bad user", `{time: -1h, action: CreateUser, user: "a b"}`, `change 1: user "a b" must be an IAM user name`},
		{"delete without key", `{time: -1h, action: DeleteAccessKey, user: kate}`, `change 1: DeleteAccessKey needs key_id`},
		{"update without status", `{time: -1h, action: UpdateAccessKey, user: kate, key_id: AKIAKATE000000000001}`, `UpdateAccessKey needs status Active or Inactive`},
		{"enable without device", `{time: -1h, action: EnableMFADevice, user: kate}`, `EnableMFADevice needs mfa`},
		{"bad serial", `{time: -1h, action: EnableMFADevice, user: kate, mfa: {type: virtual, serial: GAHT1}}`, `virtual serial "GAHT1" must be an ARN`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(base+"    changes:\n      - "+tc.yaml+"\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	_, err := Parse("x.yaml", []byte(base+"    credential_report: {}\n"))
	if err == nil || !strings.Contains(err.Error(), "credential_report: generated_at is required") {
		t.Errorf("error %v", err)
	}
	_, err = Parse("x.yaml", []byte(base+"knobs:\n  cloudtrail_delay: -1m\n"))
	if err == nil || !strings.Contains(err.Error(), "must not be negative") {
		t.Errorf("error %v", err)
	}
}
