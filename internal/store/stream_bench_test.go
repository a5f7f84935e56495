package store

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/score"
)

// BenchmarkStreamVsWrite records one run of a large Organization (200 accounts of
// 500 users by default: 100,000 users, about 100,000 access keys; set
// IAMAUDIT_BENCH_ACCOUNTS and IAMAUDIT_BENCH_USERS) into a new SQLite store, twice:
//
//   - write: as a run that holds its whole outcome does: the inventory built, the
//     checks run on it (outcome.Evaluate), then Write;
//   - stream: as a streamed run does: each account built, evaluated on its own
//     (outcome.Evaluate of a one-account inventory: checks.Run, states, lifecycle,
//     score.AccountScore), handed to the Recording and dropped but for its summary;
//     Finish with the summary (score.Aggregate, findings bounded).
//
// It reports the store's time per account (Account, or Write's share), the whole
// time, and the peak heap in use (runtime.ReadMemStats every 10 ms, after a GC at
// the start), which is what bounds the audit process's RSS. Run with
//
//	go test ./internal/store -run '^$' -bench StreamVsWrite -benchtime 1x
//
// Numbers are in docs/store-schema.md.
func BenchmarkStreamVsWrite(b *testing.B) {
	accounts, users := envInt("IAMAUDIT_BENCH_ACCOUNTS", 200), envInt("IAMAUDIT_BENCH_USERS", 500)
	w := world{accounts: accounts, users: users}
	id, now := monthly(0)
	set := outcome.Settings{Checks: checks.DefaultConfig()}
	b.Run("write", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			s := open(b, sqliteTarget(b))
			p := samplePeak()
			start := time.Now()
			inv := w.inventory(id, now)
			o := evaluate(inv, now, nil)
			built := time.Since(start)
			if _, err := s.Write(context.Background(), o, WriteOptions{}); err != nil {
				b.Fatal(err)
			}
			total := time.Since(start)
			peak := p.stop()
			b.ReportMetric(float64((total-built).Milliseconds())/float64(accounts), "store-ms/account")
			b.ReportMetric(total.Seconds(), "total-s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			countUsers(b, s, accounts*users)
		}
	})
	b.Run("stream", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ctx := context.Background()
			s := open(b, sqliteTarget(b))
			p := samplePeak()
			start := time.Now()
			head := world{}.inventory(id, now) // the run without accounts
			rec, err := s.BeginRecording(ctx, head, set, WriteOptions{})
			if err != nil {
				b.Fatal(err)
			}
			var stored time.Duration
			sums := make([]inventory.Account, 0, accounts)
			scores := make([]score.Score, 0, accounts)
			var bounded []checks.Finding
			for ai := 0; ai < accounts; ai++ {
				one := *head
				one.Accounts = []inventory.Account{w.account(ai, now)}
				o := outcome.Evaluate(outcome.CommandRun, &one, now, set, nil)
				part := outcome.Part{Account: &one.Accounts[0], Findings: o.Findings, Resolved: o.Resolved, Score: o.Scores.Accounts[0]}
				t := time.Now()
				if err := rec.Account(ctx, part); err != nil {
					b.Fatal(err)
				}
				stored += time.Since(t)
				sums = append(sums, one.Accounts[0].Summarised())
				scores = append(scores, part.Score)
				if len(bounded) < 100 {
					bounded = append(bounded, o.Findings[:min(len(o.Findings), 100-len(bounded))]...)
				}
			}
			inv := *head
			inv.Accounts = sums
			sum := &outcome.Outcome{Command: outcome.CommandRun, Inventory: &inv, Now: now, Findings: bounded, Resolved: []checks.Finding{},
				Settings: set, Scores: score.Aggregate(scores, set.Checks), Files: []string{"/reports/iamaudit_" + id + ".json"}}
			t := time.Now()
			if err := rec.Finish(ctx, sum); err != nil {
				b.Fatal(err)
			}
			finish := time.Since(t)
			total := time.Since(start)
			peak := p.stop()
			b.ReportMetric(float64(stored.Milliseconds())/float64(accounts), "store-ms/account")
			b.ReportMetric(finish.Seconds(), "finish-s")
			b.ReportMetric(total.Seconds(), "total-s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			countUsers(b, s, accounts*users)
		}
	})
}

func sqliteTarget(b *testing.B) string { return backends[0].target(b) }

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// countUsers checks the users stored and reports the findings.
func countUsers(b *testing.B, s *Store, want int) {
	var n, f int
	if err := s.DB().QueryRow(`SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM findings)`).Scan(&n, &f); err != nil || n != want {
		b.Fatalf("%d users stored (%v), want %d", n, err, want)
	}
	b.ReportMetric(float64(f), "findings")
}

// peakSampler follows the heap in use until stopped.
type peakSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	max  uint64
}

func samplePeak() *peakSampler {
	runtime.GC()
	p := &peakSampler{done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			p.max = max(p.max, m.HeapInuse)
			select {
			case <-p.done:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

// stop ends the sampling and returns the peak heap in use, in bytes.
func (p *peakSampler) stop() uint64 {
	close(p.done)
	p.wg.Wait()
	return p.max
}
