package bench

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine is what a run's numbers depend on besides iamaudit. The benchmark is
// CPU-bound on a machine of few cores, and such a machine's speed is not constant: the
// same build's 1000 × 50 took 23 s in one session and 32 s in another on a "2-core
// machine" (docs/bench.md). These say which machine a number was measured on and
// whether something else had its CPU.
type Machine struct {
	CPUs     int    `json:"cpus"`      // runtime.NumCPU
	CPUModel string `json:"cpu_model"` // /proc/cpuinfo's "model name"; "unknown" where it does not say
	// ProbeMilliseconds is the time of a fixed single-core workload (probe), run just
	// before the audit: a machine twice as fast takes half the time.
	ProbeMilliseconds float64 `json:"probe_ms"`
	// StealPercent is the share of the machine's CPU time the hypervisor gave to
	// others while the audit ran (/proc/stat); OtherCPUSeconds the CPU that neither
	// the audit nor the sandbox used but something else on the machine did. Null:
	// unknown (no /proc/stat: not Linux).
	StealPercent    *float64 `json:"steal_percent"`
	OtherCPUSeconds *float64 `json:"other_cpu_seconds"`
}

// String is the machine as the result line says it.
func (m Machine) String() string {
	steal, other := "unknown", "unknown"
	if m.StealPercent != nil {
		steal = fmt.Sprintf("%.1f%%", *m.StealPercent)
	}
	if m.OtherCPUSeconds != nil {
		other = secs(*m.OtherCPUSeconds)
	}
	return fmt.Sprintf("%d CPUs %s, probe %.0f ms, steal %s, other CPU %s", m.CPUs, m.CPUModel, m.ProbeMilliseconds, steal, other)
}

// cpuModel is the first "model name" of /proc/cpuinfo, or "unknown".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	return parseCPUModel(f)
}

func parseCPUModel(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
	}
	return "unknown"
}

// probe times a fixed workload on one core, of the kinds the audit spends its CPU on
// (hashing as SigV4 does, JSON encoding, allocation), about 0.1 s: the fastest of
// three, the machine's speed rather than a moment's noise.
func probe() time.Duration {
	best := probeOnce()
	for range 2 {
		best = min(best, probeOnce())
	}
	return best
}

func probeOnce() time.Duration {
	type row struct {
		Name, Arn string
		Created   time.Time
		Keys      []string
		Active    bool
	}
	rows := make([]row, 256)
	for i := range rows {
		rows[i] = row{Name: "user-" + strconv.Itoa(i), Arn: "arn:aws:iam::123456789012:user/user-" + strconv.Itoa(i),
			Created: time.Date(2018, 1, 1, 0, 0, i, 0, time.UTC), Keys: []string{"AKIAEXAMPLE" + strconv.Itoa(i)}, Active: i%2 == 0}
	}
	start := time.Now()
	h := sha256.New()
	var buf bytes.Buffer
	for range 200 {
		buf.Reset()
		_ = json.NewEncoder(&buf).Encode(rows)
		for range 8 {
			h.Write(buf.Bytes())
		}
	}
	_ = h.Sum(nil)
	return time.Since(start)
}

// cpuTimes are /proc/stat's first line: the whole machine's CPU time, in ticks.
type cpuTimes struct {
	busy, total, steal int64
}

// procStat reads /proc/stat (ok false where there is none).
func procStat() (cpuTimes, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, false
	}
	return parseProcStat(b)
}

// parseProcStat parses "cpu  user nice system idle iowait irq softirq steal guest
// guest_nice" (guest time is counted in user already).
func parseProcStat(b []byte) (cpuTimes, bool) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return cpuTimes{}, false
	}
	var v [8]int64
	for i := range v {
		n, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil || n < 0 {
			return cpuTimes{}, false
		}
		v[i] = n
	}
	user, nice, system, idle, iowait, irq, softirq, steal := v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
	busy := user + nice + system + irq + softirq + steal
	return cpuTimes{busy: busy, total: busy + idle + iowait, steal: steal}, true
}

// ticksPerSecond is /proc/stat's unit (USER_HZ: 100 on every Linux architecture Go
// supports, whatever the kernel's own tick rate).
const ticksPerSecond = 100

// during fills in steal and other CPU from /proc/stat before and after the audit,
// given the CPU the audit and the sandbox used meanwhile.
func (m *Machine) during(before, after cpuTimes, audit, sandbox time.Duration) {
	total := after.total - before.total
	if total <= 0 {
		return
	}
	steal := 100 * float64(after.steal-before.steal) / float64(total)
	other := float64(after.busy-before.busy-(after.steal-before.steal))/ticksPerSecond - audit.Seconds() - sandbox.Seconds()
	other = max(other, 0) // ticks are coarser than rusage's microseconds
	m.StealPercent, m.OtherCPUSeconds = &steal, &other
}

func newMachine(probeTime time.Duration) Machine {
	return Machine{CPUs: runtime.NumCPU(), CPUModel: cpuModel(), ProbeMilliseconds: float64(probeTime.Microseconds()) / 1000}
}
