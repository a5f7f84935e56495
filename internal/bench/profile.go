package bench

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/scenario"
)

// Profile is a latency and rate setting of the sandbox, with the client-side rates
// the audit is given (0: the collector's defaults, no flag passed).
type Profile struct {
	Name        string
	Description string
	Latency     time.Duration // mean, on every service
	Jitter      time.Duration
	// Rates of the sandbox's token buckets per account (Organizations: per
	// Organization); 0 is no limit.
	IAMRate, EventsRate, OrgRate float64
	// ReportGeneration is how long a credential report takes (0: ready at once).
	ReportGeneration time.Duration
	// ClientIAMRate and ClientEventsRate are `run --iam-rate` / `--events-rate`
	// (0: not passed).
	ClientIAMRate, ClientEventsRate float64
}

// Profiles by name (docs/bench.md says where each number comes from).
var Profiles = map[string]Profile{
	"realistic": {
		Name:        "realistic",
		Description: "AWS as measured and documented: 30 ms ± 10 ms, IAM 20/s, LookupEvents 2/s, Organizations 5/s, 5 s reports",
		Latency:     30 * time.Millisecond, Jitter: 10 * time.Millisecond,
		IAMRate: 20, EventsRate: 2, OrgRate: 5,
		ReportGeneration: 5 * time.Second,
	},
	"fast": {
		Name:             "fast",
		Description:      "no latency, no rate limits, reports ready at once: the audit's own cost",
		ClientIAMRate:    10000,
		ClientEventsRate: 10000,
	},
}

// ProfileNames are the profiles' names, sorted.
func ProfileNames() []string {
	names := make([]string, 0, len(Profiles))
	for n := range Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupProfile is the named profile, or an error saying which exist.
func LookupProfile(name string) (Profile, error) {
	p, ok := Profiles[name]
	if !ok {
		return p, fmt.Errorf("unknown profile %q: use %s", name, strings.Join(ProfileNames(), " or "))
	}
	return p, nil
}

// Knobs are the sandbox's settings for the profile (they replace the sandbox's
// defaults: a rate of 0 turns the limit off, a negative report generation is "at once").
func (p Profile) Knobs() *scenario.Knobs {
	k := &scenario.Knobs{
		RateLimits: map[string]float64{"iam": p.IAMRate, "cloudtrail": p.EventsRate, "organizations": p.OrgRate},
	}
	if p.Latency > 0 || p.Jitter > 0 {
		k.Latency = map[string]scenario.Latency{"*": {Mean: scenario.Duration{Duration: p.Latency}, Jitter: scenario.Duration{Duration: p.Jitter}}}
	}
	k.ReportGeneration.Duration = p.ReportGeneration
	if p.ReportGeneration == 0 {
		k.ReportGeneration.Duration = -1
	}
	return k
}

// Limits are the numbers of the floor for the profile.
func (p Profile) Limits() Limits {
	return Limits{IAMRate: p.IAMRate, EventsRate: p.EventsRate, OrgRate: p.OrgRate,
		Latency: p.Latency, ReportGeneration: p.ReportGeneration}
}
