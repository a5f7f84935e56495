// Package sandboxtest starts sandboxes for tests, fast by default: no rate limit,
// credential reports ready at once, and a clock the test owns. Only the tests whose
// subject is pacing (rate limits, throttling, report waits) pay AWS's real pacing;
// they say so in a comment and ask for it through the knobs.
//
// It is test code: import it only from _test.go files. It does not import
// internal/collect (whose own tests use it), so the matching client settings are
// constants:
//
//	srv := sandboxtest.Start(t, scenario.Demo(), sandbox.Options{Clock: clk.Now})
//	cfg := sandboxtest.Config(t, srv)
//	copts := collect.Options{Role: "IAMAuditRole", Clock: clk.Now,
//		IAMRate: sandboxtest.ClientRate, EventsRate: sandboxtest.ClientRate, OrgRate: sandboxtest.ClientRate,
//		ReportPoll: sandboxtest.ReportPoll}
package sandboxtest

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// Client settings for code that talks to a fast sandbox.
const (
	// ClientRate is a requests-per-second limit so high that a client-side limiter
	// (collect.Options IAMRate, EventsRate, OrgRate) never waits.
	ClientRate = 10000
	// ReportPoll is a credential report poll interval (collect.Options.ReportPoll)
	// for a sandbox whose reports are ready at once.
	ReportPoll = 5 * time.Millisecond
)

// families are the sandbox's rate-limited API families (scenario.Knobs.RateLimits).
var families = []string{"iam", "cloudtrail", "organizations", "sts"}

// Knobs are the fast knobs with over applied on top of them: every rate limit off
// and the credential report ready at once, unless over names a rate limit or a
// report generation time of its own; over's latency, page cap, session duration and
// faults are kept as they are. Use it with sandbox.New; Start applies it itself.
// The result replaces the scenario's own rate limits and report time.
func Knobs(over *scenario.Knobs) *scenario.Knobs {
	k := &scenario.Knobs{RateLimits: map[string]float64{}, ReportGeneration: scenario.Duration{Duration: -1}}
	for _, f := range families {
		k.RateLimits[f] = 0
	}
	if over == nil {
		return k
	}
	maps.Copy(k.RateLimits, over.RateLimits)
	if over.ReportGeneration.Duration != 0 {
		k.ReportGeneration = over.ReportGeneration
	}
	k.Latency = maps.Clone(over.Latency)
	k.PageCap = over.PageCap
	k.SessionDuration = over.SessionDuration
	k.Faults = slices.Clone(over.Faults)
	k.CloudTrailDelay = over.CloudTrailDelay
	return k
}

// Start serves sc on a free local port until the test ends, with the fast knobs
// (see Knobs) under opts.Knobs. opts.Clock and opts.Logger are passed on as they
// are (a nil Clock is the sandbox's default: real time).
func Start(t testing.TB, sc *scenario.Scenario, opts sandbox.Options) *sandbox.Server {
	t.Helper()
	opts.Knobs = Knobs(opts.Knobs)
	srv, err := sandbox.Start(sc, opts, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// Config is an SDK configuration for the management account's caller of srv: its
// endpoint, region and static credentials, no shared config or credential file.
func Config(t testing.TB, srv *sandbox.Server) aws.Config {
	t.Helper()
	akid, secret := srv.Credentials()
	return ConfigFor(t, srv.URL(), srv.Region(), akid, secret, "")
}

// ConfigFor is Config for any endpoint (a sandbox behind a recording proxy, moto)
// and credentials.
func ConfigFor(t testing.TB, url, region, akid, secret, token string) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(akid, secret, token)),
		config.WithBaseEndpoint(url),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Clock is a test clock: it stands still at its start and moves only by Advance.
// Share Now between the sandbox (sandbox.Options.Clock) and the code under test so
// that both see the same "now".
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a Clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// NewClockNow is a Clock at the current time, in UTC, truncated to the second.
func NewClockNow() *Clock { return NewClock(time.Now().UTC().Truncate(time.Second)) }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
