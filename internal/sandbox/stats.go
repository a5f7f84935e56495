package sandbox

import (
	"strings"
	"sync"
	"sync/atomic"
)

// Stats are the sandbox's call statistics (JSON at GET /_sandbox/stats).
type Stats struct {
	Requests int64 `json:"requests"`
	// Calls per account id, then per "service:Operation". Unauthenticated requests
	// count under account "-".
	Calls map[string]map[string]int64 `json:"calls"`
	// Throttles answered by the token buckets, same keys as Calls.
	Throttles     map[string]map[string]int64 `json:"throttles"`
	ThrottleTotal int64                       `json:"throttle_total"`
	// Faults injected, same keys as Calls.
	Faults     map[string]map[string]int64 `json:"faults"`
	FaultTotal int64                       `json:"fault_total"`
	// Errors answered, by error code (throttles and faults included).
	Errors   map[string]int64 `json:"errors"`
	BytesIn  int64            `json:"bytes_in"`
	BytesOut int64            `json:"bytes_out"`
	// TimelineErrors are the changes of the scenario's timeline (dated after the
	// sandbox's start) that failed when their time came, in the order they failed.
	TimelineErrors []string `json:"timeline_errors,omitempty"`
}

// counters are lock-free on the hot path: one atomic per (account, operation) key.
type counters struct {
	requests, throttles, faults, bytesIn, bytesOut atomic.Int64
	calls, throttled, faulted, errors              sync.Map // string -> *atomic.Int64

	mu             sync.Mutex
	timelineErrors []string
}

// timelineFailed records a change of the timeline that failed.
func (c *counters) timelineFailed(msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timelineErrors = append(c.timelineErrors, msg)
}

func newCounters() *counters { return &counters{} }

func bump(m *sync.Map, k string) {
	v, ok := m.Load(k)
	if !ok {
		v, _ = m.LoadOrStore(k, new(atomic.Int64))
	}
	v.(*atomic.Int64).Add(1)
}

func statKey(acct, service, op string) string { return acct + "\x00" + service + ":" + op }

func nested(m *sync.Map) map[string]map[string]int64 {
	out := map[string]map[string]int64{}
	m.Range(func(k, v any) bool {
		acct, op, _ := strings.Cut(k.(string), "\x00")
		if out[acct] == nil {
			out[acct] = map[string]int64{}
		}
		out[acct][op] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

func (c *counters) snapshot() Stats {
	st := Stats{
		Requests: c.requests.Load(), ThrottleTotal: c.throttles.Load(), FaultTotal: c.faults.Load(),
		BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(),
		Calls: nested(&c.calls), Throttles: nested(&c.throttled), Faults: nested(&c.faulted), Errors: map[string]int64{},
	}
	c.errors.Range(func(k, v any) bool {
		st.Errors[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	c.mu.Lock()
	st.TimelineErrors = append([]string(nil), c.timelineErrors...)
	c.mu.Unlock()
	return st
}
