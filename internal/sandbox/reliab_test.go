package sandbox

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamaudit/iamaudit/internal/scenario"
)

// Issue 13, defect 7: --session-duration (session_duration) governs the sessions the
// SDKs actually ask for (DurationSeconds 900): every session lasts at most that long,
// so a session can expire in the middle of a run. Without it, the asked duration.
func TestSessionDurationCapsSessions(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		knob, want time.Duration
	}{
		{2 * time.Second, 2 * time.Second},
		{0, 900 * time.Second},
		{2 * time.Hour, 900 * time.Second}, // a longer cap does not lengthen what is asked
	} {
		clock := newFakeClock()
		s := startTest(t, testScenario(), clock, &scenario.Knobs{SessionDuration: scenario.Duration{Duration: tt.knob}})
		out, err := sts.NewFromConfig(mgmtConfig(s)).AssumeRole(ctx(t), &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::" + prodID + ":role/IAMAuditRole"), RoleSessionName: aws.String("tester"), DurationSeconds: aws.Int32(900)})
		if err != nil {
			t.Fatal(err)
		}
		if got := out.Credentials.Expiration.Sub(clock.Now()); got != tt.want {
			t.Errorf("session_duration %s: the session lasts %s, want %s", tt.knob, got, tt.want)
		}
	}
}

// Issue 13, defect 7: a fault with rate 0 is refused (it used to fire on every
// request, 0 being read as "not given"), on the command line and in a scenario file.
func TestZeroRateFaultRefused(t *testing.T) {
	t.Parallel()
	if _, err := ParseFault("error=Throttling,rate=0"); err == nil || !strings.Contains(err.Error(), "never fire") {
		t.Errorf("--fault error=Throttling,rate=0: %v, want it refused", err)
	}
	if f, err := ParseFault("error=Throttling,rate=0.25"); err != nil || f.Rate != 0.25 {
		t.Errorf("rate=0.25: %+v %v", f, err)
	}
	yaml := "name: z\norganization:\n  management_account_id: \"111111111111\"\naccounts:\n  - id: \"111111111111\"\n    name: M\nknobs:\n  faults:\n    - error: Throttling\n      rate: 0\n"
	if _, err := scenario.Parse("z.yaml", []byte(yaml)); err == nil || !strings.Contains(err.Error(), "rate 0 would never fire") || !strings.Contains(err.Error(), "z.yaml:") {
		t.Errorf("a scenario fault with rate: 0: %v, want it refused at its line", err)
	}
}

// Secrets lists every secret the sandbox handed out: the caller's, and each assumed
// session's secret key and token (what a test scans outputs for).
func TestSecretsListsSessions(t *testing.T) {
	t.Parallel()
	s := startTest(t, testScenario(), nil, nil)
	out, err := sts.NewFromConfig(mgmtConfig(s)).AssumeRole(ctx(t), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + prodID + ":role/IAMAuditRole"), RoleSessionName: aws.String("tester")})
	if err != nil {
		t.Fatal(err)
	}
	_, secret := s.Credentials()
	got := s.Secrets()
	for _, want := range []string{secret, aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken)} {
		if !slices.Contains(got, want) {
			t.Errorf("Secrets lacks %s…", want[:4])
		}
	}
}
