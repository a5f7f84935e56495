package bench

import (
	"strings"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     cpuTimes
		ok       bool
	}{
		// user nice system idle iowait irq softirq steal guest guest_nice
		{"linux", "cpu  212273 194 41405 1034093 1547 0 2608 6540 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n",
			cpuTimes{busy: 212273 + 194 + 41405 + 2608 + 6540, total: 212273 + 194 + 41405 + 2608 + 6540 + 1034093 + 1547, steal: 6540}, true},
		{"old kernel without guest columns", "cpu 10 0 5 100 0 0 0 3\n", cpuTimes{busy: 18, total: 118, steal: 3}, true},
		{"too few columns", "cpu 10 0 5 100\n", cpuTimes{}, false},
		{"not the cpu line", "intr 1 2 3 4 5 6 7 8 9\n", cpuTimes{}, false},
		{"not a number", "cpu 10 x 5 100 0 0 0 3\n", cpuTimes{}, false},
		{"empty", "", cpuTimes{}, false},
	} {
		got, ok := parseProcStat([]byte(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("%s: %+v %v, want %+v %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestParseCPUModel(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\nmodel name\t: other\n", "AMD EPYC"},
		{"processor\t: 0\nmodel name\t:   \n", "unknown"},
		{"processor\t: 0\nFeatures\t: fp asimd\n", "unknown"}, // arm64 kernels name no model
		{"", "unknown"},
	} {
		if got := parseCPUModel(strings.NewReader(c.in)); got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMachineDuring(t *testing.T) {
	// Two CPUs for 10 s: 2000 ticks, 1500 busy of which 100 stolen; the audit and
	// the sandbox used 12 s: 14 s busy less the steal leaves 2 s to something else.
	var m Machine
	m.during(cpuTimes{busy: 1000, total: 5000, steal: 50}, cpuTimes{busy: 2500, total: 7000, steal: 150}, 9*time.Second, 3*time.Second)
	if m.StealPercent == nil || *m.StealPercent != 5 || m.OtherCPUSeconds == nil || *m.OtherCPUSeconds != 2 {
		t.Fatalf("steal %v other %v, want 5%% and 2 s", m.StealPercent, m.OtherCPUSeconds)
	}
	if got, want := m.String(), "0 CPUs , probe 0 ms, steal 5.0%, other CPU 2.00s"; got != want {
		t.Errorf("String %q, want %q", got, want)
	}
	// Ticks are coarser than rusage: never a negative other.
	m = Machine{CPUs: 2, CPUModel: "unknown", ProbeMilliseconds: 151.6}
	m.during(cpuTimes{busy: 0, total: 100}, cpuTimes{busy: 100, total: 200}, 1100*time.Millisecond, 0)
	if *m.OtherCPUSeconds != 0 {
		t.Errorf("other %v, want 0", *m.OtherCPUSeconds)
	}
	// No /proc/stat (or no time passed): unknown, and said so.
	m = Machine{CPUs: 2, CPUModel: "unknown", ProbeMilliseconds: 151.6}
	m.during(cpuTimes{total: 10}, cpuTimes{total: 10}, 0, 0)
	if got, want := m.String(), "2 CPUs unknown, probe 152 ms, steal unknown, other CPU unknown"; got != want {
		t.Errorf("String %q, want %q", got, want)
	}
}

func TestProbe(t *testing.T) {
	if d := probe(); d <= 0 || d > time.Minute {
		t.Errorf("probe took %v", d)
	}
}
