package sandbox

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iamaudit/iamaudit/internal/scenario"
)

// ParseLatency parses "100ms" or "100ms,20ms" (mean, jitter).
func ParseLatency(s string) (scenario.Latency, error) {
	mean, jitter, hasJitter := strings.Cut(s, ",")
	var l scenario.Latency
	var err error
	if l.Mean.Duration, err = time.ParseDuration(strings.TrimSpace(mean)); err != nil || l.Mean.Duration < 0 {
		return l, fmt.Errorf("latency %q: want a duration such as 100ms or 100ms,20ms", s)
	}
	if hasJitter {
		if l.Jitter.Duration, err = time.ParseDuration(strings.TrimSpace(jitter)); err != nil || l.Jitter.Duration < 0 {
			return l, fmt.Errorf("latency jitter %q: want a duration such as 20ms", jitter)
		}
	}
	return l, nil
}

// rateFamilies are the API families a rate limit can name.
var rateFamilies = map[string]bool{"iam": true, "cloudtrail": true, "organizations": true, "sts": true}

// ParseRates parses "iam=20,cloudtrail=2,organizations=5" (requests per second; 0 turns a limit off).
func ParseRates(s string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, part := range strings.Split(s, ",") {
		fam, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !rateFamilies[fam] {
			return nil, fmt.Errorf("rate %q: want FAMILY=PER_SECOND with FAMILY one of iam, cloudtrail, organizations, sts", part)
		}
		r, err := strconv.ParseFloat(val, 64)
		if err != nil || r < 0 {
			return nil, fmt.Errorf("rate %q: %q is not a non-negative number", part, val)
		}
		out[fam] = r
	}
	return out, nil
}

// ParseFault parses "error=Throttling,rate=0.2,service=iam,operation=ListAccessKeys,account=123456789012,count=3,delay=2s".
func ParseFault(s string) (scenario.Fault, error) {
	var f scenario.Fault
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return f, fmt.Errorf("fault %q: want KEY=VALUE pairs (error, rate, service, operation, account, count, delay)", s)
		}
		var err error
		switch k {
		case "error":
			f.Error = v
		case "rate":
			f.Rate, err = strconv.ParseFloat(v, 64)
			switch {
			case err != nil:
			case f.Rate == 0:
				// Rate 0 in a Fault means "unset" (every request): a rate given as 0 would
				// silently fire on every request instead of never.
				err = fmt.Errorf("a fault with rate 0 would never fire: give a probability above 0 and at most 1, or drop the fault")
			case f.Rate < 0 || f.Rate > 1 || f.Rate != f.Rate:
				err = fmt.Errorf("out of 0..1")
			}
		case "service":
			f.Service = v
		case "operation":
			f.Operation = v
		case "account":
			f.Account = v
		case "count":
			f.Count, err = strconv.Atoi(v)
		case "delay":
			f.Delay.Duration, err = time.ParseDuration(v)
		default:
			return f, fmt.Errorf("fault %q: unknown key %q (use error, rate, service, operation, account, count, delay)", s, k)
		}
		if err != nil {
			return f, fmt.Errorf("fault %q: bad %s %q: %w", s, k, v, err)
		}
	}
	if f.Error == "" {
		return f, fmt.Errorf("fault %q: error= is required (an AWS error code, slow, drop or %s)", s, scenario.FaultRepeatToken)
	}
	return f, nil
}
