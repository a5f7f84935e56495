package bench

import (
	"os/exec"
	"runtime"
	"syscall"
	"testing"
)

// A child's peak is its own memory, not the memory of the process that started it
// (which ru_maxrss carries over from before exec).
func TestPeakRSSIsTheChilds(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	ballast := make([]byte, 300<<20)
	for i := range ballast {
		if i%4096 == 0 {
			ballast[i] = 1 // resident
		}
	}
	cmd := exec.Command("sleep", "0.3")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var p peakRSS
	stop := p.watch(cmd.Process.Pid)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	stop()
	kib, ok := p.max()
	if !ok {
		t.Fatal("no VmHWM read")
	}
	if kib > 50<<10 {
		t.Errorf("peak of sleep: %d KiB, more than 50 MiB: the parent's memory?", kib)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		t.Logf("sleep: VmHWM %d KiB, ru_maxrss %d KiB (the parent holds 300 MiB)", kib, ru.Maxrss)
	}
	runtime.KeepAlive(ballast)
}
