package store

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// rowCounts counts every table's rows: "the store as it was" is the same counts.
func rowCounts(t *testing.T, s *Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range append(pruneTables, "runs", "finding_lifecycle") {
		var n int
		if err := s.DB().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func childCmd(t *testing.T, mode, target, runID string, accounts, users int) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = childEnviron(mode, target, runID, accounts, users)
	return cmd
}

// Three processes write to one new store at once (the schema is created by one of
// them, the others wait): every run lands, whole; two runs with the same run id
// (two output directories, same second) both land, the second as _2.
func TestConcurrentWritersAllLand(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		target := b.target(t)
		ids := []string{"20260105_090000", "20260105_090001", "20260105_090000"}
		cmds := make([]*exec.Cmd, len(ids))
		outs := make([]*strings.Builder, len(ids))
		for i, id := range ids {
			cmds[i] = childCmd(t, "write", target, id, 4, 30)
			outs[i] = &strings.Builder{}
			cmds[i].Stdout, cmds[i].Stderr = outs[i], outs[i]
		}
		for _, c := range cmds {
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
		}
		for i, c := range cmds {
			if err := c.Wait(); err != nil {
				t.Fatalf("writer %d: %v\n%s", i, err, outs[i])
			}
		}
		s := open(t, target)
		runs, err := s.Runs(context.Background(), RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range runs {
			got = append(got, r.RunID)
			if r.Accounts.Total != 4 {
				t.Errorf("%s: %d accounts", r.RunID, r.Accounts.Total)
			}
		}
		if want := []string{"20260105_090000", "20260105_090000_2", "20260105_090001"}; !slices.Equal(got, want) {
			t.Errorf("runs %v, want %v", got, want)
		}
		counts := rowCounts(t, s)
		if counts["users"] != 3*4*30 {
			t.Errorf("users rows %d, want %d", counts["users"], 3*4*30)
		}
	})
}

// A writer killed in the middle of its transaction (SIGKILL: no deferred code, no
// rollback of its own) leaves the store exactly as it was, and the store takes the
// next run.
func TestKilledWriterLeavesStoreAsItWas(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		target := b.target(t)
		first := childCmd(t, "write", target, "20260105_090000", 3, 40)
		if out, err := first.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		s := open(t, target)
		before := rowCounts(t, s)

		c := childCmd(t, "hang", target, "20260106_090000", 3, 40)
		stdout, err := c.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		c.Stderr = &stderr
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		line := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if sc.Text() == inTransaction {
					line <- sc.Text()
					return
				}
			}
			close(line)
		}()
		select {
		case l, ok := <-line:
			if !ok || l != inTransaction {
				c.Process.Kill()
				c.Wait()
				t.Fatalf("the writer ended before its transaction: %s", stderr.String())
			}
		case <-time.After(60 * time.Second):
			c.Process.Kill()
			c.Wait()
			t.Fatal("the writer never reached its transaction")
		}
		// The write is under way: rows are in the transaction, not yet committed.
		if err := c.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		c.Wait()

		after := rowCounts(t, s)
		for table, n := range before {
			if after[table] != n {
				t.Errorf("%s: %d rows before the killed write, %d after", table, n, after[table])
			}
		}
		if _, err := s.RunSummaryOf(context.Background(), "20260106_090000"); err == nil {
			t.Error("the killed run is in the store")
		}
		// The store is usable: the same run, written again, lands.
		again := childCmd(t, "write", target, "20260106_090000", 3, 40)
		if out, err := again.CombinedOutput(); err != nil || !strings.Contains(string(out), "RECORDED 20260106_090000") {
			t.Fatalf("write after the kill: %v\n%s", err, out)
		}
		if n := rowCounts(t, s)["runs"]; n != 2 {
			t.Errorf("%d runs after the second write", n)
		}
	})
}
