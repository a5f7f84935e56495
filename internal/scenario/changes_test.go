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
		{"repeated write", `{time: +1d, action: CreateAccessKey, user: kate, every: 7d}`, `change 1: every repeats a use (ConsoleLogin, UseAccessKey, UseRole); CreateAccessKey is an IAM write, made once`},
		{"too often", `{time: +1d, action: ConsoleLogin, user: kate, every: 10m}`, `change 1: every 10m0s is shorter than 1h0m0s`},
		{"bad interval", `{time: +1d, action: ConsoleLogin, user: kate, every: weekly}`, `invalid interval "weekly": units are d, h, m, s, ms, as in "7d" or "12h"`},
		{"negative interval", `{time: +1d, action: ConsoleLogin, user: kate, every: -7d}`, `invalid interval "-7d": write it without a sign`},
		{"until without every", `{time: +1d, action: ConsoleLogin, user: kate, until: +9d}`, `change 1: until ends the repetitions of every: set every too, or remove until`},
		{"until before time", `{time: +10d, action: ConsoleLogin, user: kate, every: 1d, until: +9d}`, `change 1: until +9d is before time +10d`},
		{"use without key", `{time: +1d, action: UseAccessKey, user: kate}`, `change 1: UseAccessKey needs key_id: the key used`},
		{"service of a write", `{time: +1d, action: CreateAccessKey, user: kate, service: s3}`, `change 1: service is for UseAccessKey only`},
		{"bad region", `{time: +1d, action: UseAccessKey, user: kate, key_id: AKIAKATE000000000001, region: Ireland}`, `change 1: region "Ireland" is not a region name such as eu-west-1`},
		{"group missing", `{time: +1d, action: RemoveUserFromGroup, user: kate}`, `change 1: RemoveUserFromGroup needs group: the group's name (got "")`},
		{"group elsewhere", `{time: +1d, action: DeleteUser, user: kate, group: devs}`, `change 1: group is for RemoveUserFromGroup only`},
		{"role missing", `{time: +1d, action: CreateRole}`, `change 1: CreateRole needs role: a role name with an optional path`},
		{"role with user", `{time: +1d, action: CreateRole, role: IAMAuditRole, user: kate}`, `change 1: CreateRole changes no user: remove user (role names the role)`},
		{"role elsewhere", `{time: +1d, action: DeleteUser, user: kate, role: IAMAuditRole}`, `change 1: role is for CreateRole and UseRole only`},
		{"region elsewhere", `{time: +1d, action: ConsoleLogin, user: kate, region: eu-west-1}`, `change 1: region is for UseAccessKey and UseRole only`},
		{"use role without role", `{time: +1d, action: UseRole, every: 1d}`, `change 1: UseRole needs role: the role's name (got "")`},
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

// A timeline: changes after the start, repeated uses with their defaults filled in.
func TestParseTimeline(t *testing.T) {
	src := base + `    users:
      - name: kate
        password: {}
        access_keys: [{id: AKIAKATE000000000001}]
    changes:
      - {time: +1d, action: ConsoleLogin, user: kate, every: 7d, until: +60d}
      - {time: +1d, action: UseAccessKey, user: kate, key_id: AKIAKATE000000000001, every: 1d12h}
      - {time: +30d, action: RemoveUserFromGroup, user: kate, group: devs}
      - {time: +40d, action: CreateRole, role: /security/IAMAuditRole, by: stacksets}
      - {time: +1h, action: UseRole, role: app, every: 12h}
`
	s, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	ch := s.Accounts[0].Changes
	if ch[0].Every.Duration != 7*Day || ch[0].Until == nil || ch[0].Until.Rel != 60*Day || ch[0].Time.Rel != Day {
		t.Errorf("sign-ins %+v", ch[0])
	}
	if ch[1].Every.Duration != 36*time.Hour || ch[1].Service != "sts" || ch[1].Region != "us-east-1" {
		t.Errorf("key use %+v: want every 36h, the default service sts and region us-east-1", ch[1])
	}
	if ch[2].Group != "devs" || ch[3].Role != "/security/IAMAuditRole" || ch[3].User != "" || ch[3].By != "stacksets" {
		t.Errorf("changes %+v %+v", ch[2], ch[3])
	}
	if ch[4].Region != "us-east-1" || ch[4].Service != "" || ch[4].Every.Duration != 12*time.Hour {
		t.Errorf("role use %+v: want region us-east-1, no service", ch[4])
	}
	for in, want := range map[string]string{"7d": "7d", "36h": "1d12h0m0s", "90m": "1h30m0s"} {
		p, err := ParsePeriod(in)
		if err != nil || p.String() != want {
			t.Errorf("ParsePeriod(%q) = %v %v, want %s", in, p, err, want)
		}
		if q, err := ParsePeriod(p.String()); err != nil || q != p {
			t.Errorf("ParsePeriod(%q) does not read back %v: %v %v", p.String(), p, q, err)
		}
	}
	if _, err := ParsePeriod("0d"); err == nil {
		t.Error("ParsePeriod(0d) succeeded")
	}
}
