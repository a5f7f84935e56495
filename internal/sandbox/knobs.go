package sandbox

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/iamaudit/iamaudit/internal/scenario"
	"golang.org/x/time/rate"
)

// Default rate limits per API family (requests per second, burst = rate), from
// docs/aws-facts.md: IAM has no published rate, peers use 10–20/s per account; LookupEvents
// is documented at 2/s per account and Region; Organizations 5/s is a peer figure.
var defaultRates = map[string]float64{"iam": 20, "cloudtrail": 2, "organizations": 5}

const (
	defaultReportGeneration = 2 * time.Second
	defaultSessionDuration  = time.Hour
	reportReuse             = 4 * time.Hour // AWS regenerates a credential report at most every 4 hours
)

// knobs are the effective realism settings.
type knobs struct {
	scenario.Knobs
	// sessionCap, when the scenario or the overrides set SessionDuration, is how long
	// every AssumeRole session lasts at most, whatever DurationSeconds asks (the SDK
	// asks 900 s, AWS's minimum): a session can then expire in the middle of a run.
	sessionCap time.Duration
}

// mergeKnobs applies overrides to the scenario's knobs (a SessionDuration set by
// either caps every session: sessionCap):
//   - Latency and RateLimits: each service/family the override names replaces the
//     scenario's entry; the others are kept.
//   - PageCap: a non-zero override replaces it; a negative one removes the cap.
//   - ReportGeneration, SessionDuration, CloudTrailDelay: a non-zero override replaces
//     them; a negative ReportGeneration means "ready at once", a negative
//     CloudTrailDelay "at once".
//   - Faults: the override's faults are added after the scenario's.
func mergeKnobs(base scenario.Knobs, over *scenario.Knobs) (knobs, error) {
	k := knobs{Knobs: base}
	k.Latency = map[string]scenario.Latency{}
	for s, l := range base.Latency {
		k.Latency[s] = l
	}
	k.RateLimits = map[string]float64{}
	for f, r := range base.RateLimits {
		k.RateLimits[f] = r
	}
	k.Faults = append([]scenario.Fault(nil), base.Faults...)
	if over != nil {
		for s, l := range over.Latency {
			k.Latency[s] = l
		}
		for f, r := range over.RateLimits {
			k.RateLimits[f] = r
		}
		if over.PageCap != 0 {
			k.PageCap = over.PageCap
		}
		if over.ReportGeneration.Duration != 0 {
			k.ReportGeneration = over.ReportGeneration
		}
		if over.SessionDuration.Duration != 0 {
			k.SessionDuration = over.SessionDuration
		}
		if over.CloudTrailDelay.Duration != 0 {
			k.CloudTrailDelay = over.CloudTrailDelay
		}
		k.Faults = append(k.Faults, over.Faults...)
	}
	if k.PageCap < 0 {
		k.PageCap = 0
	}
	switch {
	case k.ReportGeneration.Duration == 0:
		k.ReportGeneration.Duration = defaultReportGeneration
	case k.ReportGeneration.Duration < 0:
		k.ReportGeneration.Duration = 0
	}
	if k.CloudTrailDelay.Duration < 0 {
		k.CloudTrailDelay.Duration = 0
	}
	if k.SessionDuration.Duration > 0 {
		k.sessionCap = k.SessionDuration.Duration
	} else {
		k.SessionDuration.Duration = defaultSessionDuration
	}
	for f, r := range k.RateLimits {
		if r < 0 || math.IsNaN(r) {
			return k, fmt.Errorf("sandbox: rate limit for %q is %v: use 0 (off) or a positive rate", f, r)
		}
	}
	for _, f := range k.Faults {
		if f.Error == "" {
			return k, fmt.Errorf("sandbox: a fault needs an error code, \"slow\" or \"drop\"")
		}
		if f.Rate < 0 || f.Rate > 1 || math.IsNaN(f.Rate) {
			return k, fmt.Errorf("sandbox: fault %s: rate %v must be within 0..1 (0: the default, 1)", f.Error, f.Rate)
		}
	}
	return k, nil
}

// rate is the family's limit (0: unlimited).
func (k knobs) rate(family string) float64 {
	if r, ok := k.RateLimits[family]; ok {
		return r
	}
	return defaultRates[family]
}

// latency returns a delay for the service: mean ± uniform jitter, never negative.
func (k knobs) latency(service string) time.Duration {
	l, ok := k.Latency[service]
	if !ok {
		l, ok = k.Latency["*"]
	}
	if !ok || (l.Mean.Duration == 0 && l.Jitter.Duration == 0) {
		return 0
	}
	d := l.Mean.Duration
	if j := l.Jitter.Duration; j > 0 {
		d += time.Duration(rand.Int64N(int64(2*j)+1)) - j
	}
	return max(d, 0)
}

// pageSize is the page size for a request: the caller's ask (or the API's default),
// bounded by the API's maximum and the page cap.
func (k knobs) pageSize(asked, def, apiMax int) int {
	n := asked
	if n <= 0 {
		n = def
	}
	n = min(n, apiMax)
	if k.PageCap > 0 {
		n = min(n, k.PageCap)
	}
	return n
}

// newLimiter is a token bucket with burst = rate (nil when the limit is off).
func newLimiter(r float64) *rate.Limiter {
	if r <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(r), max(1, int(math.Ceil(r))))
}

// faultRule is a fault with its firing counter.
type faultRule struct {
	scenario.Fault
	fired atomic.Int64
}

// buildFaults returns the faults that answer a request in its place, and those that
// repeat a pagination token (applied when a page is written: repeatToken).
func buildFaults(fs []scenario.Fault) (answer, tokens []*faultRule) {
	answer = make([]*faultRule, 0, len(fs))
	for _, f := range fs {
		if f.Rate == 0 {
			f.Rate = 1
		}
		if f.Error == scenario.FaultRepeatToken {
			tokens = append(tokens, &faultRule{Fault: f})
			continue
		}
		answer = append(answer, &faultRule{Fault: f})
	}
	return answer, tokens
}

// nextToken is the pagination token a page's answer gives: next, or, when a
// FaultRepeatToken fault fires for a request that carried a token (sent) and the
// listing goes on, the token that was sent.
func (c *call) nextToken(sent, next string) string {
	if sent == "" || next == "" || len(c.s.tokenFaults) == 0 {
		return next
	}
	if f := matchFault(c.s.tokenFaults, c.cred.Account, c.service, c.op); f == nil {
		return next
	}
	bump(&c.s.stats.faulted, statKey(c.cred.Account, c.service, c.op))
	c.s.stats.faults.Add(1)
	return sent
}

// match returns the first fault that fires for the request (nil: none).
func matchFault(rules []*faultRule, acct, service, op string) *faultRule {
	for _, f := range rules {
		if (f.Account != "" && f.Account != acct) || (f.Service != "" && f.Service != service) ||
			(f.Operation != "" && f.Operation != op) {
			continue
		}
		if f.Rate < 1 && rand.Float64() >= f.Rate {
			continue
		}
		if f.Count > 0 {
			if f.fired.Add(1) > int64(f.Count) {
				continue
			}
		} else {
			f.fired.Add(1)
		}
		return f
	}
	return nil
}

// faultStatus is the HTTP status AWS uses for an injected error code.
func faultStatus(code string) int {
	switch code {
	case "AccessDenied", "AccessDeniedException", "InvalidClientTokenId", "ExpiredToken":
		return 403
	case "ServiceUnavailable", "ServiceUnavailableException":
		return 503
	case "InternalFailure", "InternalError", "ServiceFailure", "ServiceException", "InternalServerError", "InternalException":
		return 500
	case "LimitExceededException", "TooManyRequestsException":
		return 429
	case "NoSuchEntity":
		return 404
	case "LimitExceeded", "DeleteConflict", "EntityAlreadyExists":
		return 409
	}
	return 400
}
