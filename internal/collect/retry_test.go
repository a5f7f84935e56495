package collect

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"
)

// throttled is the error AWS answers when a token bucket is empty.
var throttled = &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}

// drainsAfter returns how many retry tokens r hands out for throttling errors before
// refusing one (limit when it never refuses).
func drainsAfter(r aws.Retryer, limit int) int {
	for i := 0; i < limit; i++ {
		if _, err := r.GetRetryToken(context.Background(), throttled); err != nil {
			return i
		}
	}
	return limit
}

// docs/aws-facts.md, "AWS SDK for Go v2: retries under fan-out": a fresh retryer per
// client, no client-side retry quota (ratelimit.None), Options.MaxAttempts and
// MaxBackoff in force whatever the shared configuration says, and the project's
// own limiter per account and API family.
func TestRetryersUnderFanOut(t *testing.T) {
	// What is guarded against: the SDK's default retryer refuses retries once its
	// 500-token quota is spent (5 per retry), so calls fail without being sent.
	if n := drainsAfter(retry.NewStandard(), 1000); n >= 1000 {
		t.Fatalf("the SDK default retryer handed out %d retry tokens: this test could not tell a quota from none", n)
	}

	opts := Options{MaxAttempts: 7, MaxBackoff: 3 * time.Second}.withDefaults()
	// The shared configuration asks 2 attempts (AWS_MAX_ATTEMPTS=2 or max_attempts
	// in ~/.aws/config); the audit's own setting must win.
	cfg := aws.Config{Region: "us-east-1", RetryMaxAttempts: 2, Retryer: func() aws.Retryer { return retry.NewStandard() }}
	calls := newCallCounter()
	a, b := newClients(cfg, opts, accountLimiters(opts), calls, nil), newClients(cfg, opts, accountLimiters(opts), calls, nil)
	retryers := map[string]aws.Retryer{
		"account A iam":        a.iam.Options().Retryer,
		"account A cloudtrail": a.trail.Options().Retryer,
		"account B iam":        b.iam.Options().Retryer,
		"account B cloudtrail": b.trail.Options().Retryer,
		"sts":                  newSTS(cfg, opts, nil, calls).Options().Retryer,
		"organizations":        newOrganizations(cfg, opts, newLimiter(opts.OrgRate), nil).Options().Retryer,
	}
	seen := map[aws.Retryer]string{}
	for name, r := range retryers {
		t.Run(name, func(t *testing.T) {
			if other, ok := seen[r]; ok {
				t.Errorf("shares its retryer with %s", other)
			}
			seen[r] = name
			if got := r.MaxAttempts(); got != opts.MaxAttempts {
				t.Errorf("MaxAttempts = %d, want %d (Options.MaxAttempts, not the shared configuration's 2)", got, opts.MaxAttempts)
			}
			if n := drainsAfter(r, 5000); n < 5000 {
				t.Errorf("retry quota exceeded after %d retries: the client-side quota is on", n)
			}
			// Backoff is capped by MaxBackoff (the standard backoff is random up to the cap).
			for attempt := 1; attempt <= 20; attempt++ {
				d, err := r.RetryDelay(attempt, throttled)
				if err != nil || d > opts.MaxBackoff {
					t.Fatalf("attempt %d: delay %v (%v), want at most %v", attempt, d, err, opts.MaxBackoff)
				}
			}
		})
	}

	t.Run("limiters per account and API family", func(t *testing.T) {
		opts := Options{IAMRate: 12, EventsRate: 2}.withDefaults()
		x, y := accountLimiters(opts), accountLimiters(opts)
		if x.iam == y.iam || x.events == y.events || x.iam == x.events {
			t.Fatal("limiters are shared between accounts or API families")
		}
		if x.iam.Limit() != rate.Limit(12) || x.events.Limit() != rate.Limit(2) {
			t.Errorf("limits iam %v, events %v; want 12 and 2", x.iam.Limit(), x.events.Limit())
		}
		if x.events.Burst() != 1 || x.iam.Burst() != 12 {
			t.Errorf("bursts iam %d, events %d; want 12 (a second's worth) and 1", x.iam.Burst(), x.events.Burst())
		}
		for _, c := range []struct {
			rate  float64
			burst int
		}{{4, 4}, {5, 5}, {1, 2}, {2.5, 3}} {
			if org := newOrgLimiter(c.rate); org.Burst() != c.burst || org.Limit() != rate.Limit(c.rate) {
				t.Errorf("organizations limiter %v/s burst %d; want %v/s, burst %d (a second's worth, 2 at least)", org.Limit(), org.Burst(), c.rate, c.burst)
			}
		}
	})
}
