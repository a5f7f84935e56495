package store

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// Benchmarks of the store at the scale of a large Organization: 100 accounts of
// 200 users (about 20,000 users, 20,000 access keys and 60,000 findings a run).
// Run with
//
//	go test ./internal/store -run '^$' -bench . -benchtime 3x
//
// (BenchmarkMetrics records its 24 runs for each b.N it is tried with: -bench Metrics
// -benchtime 1x records them once.)
// BenchmarkWrite reports the time to write one run, to read its baseline, and the
// store's growth per run; BenchmarkMetrics the trend's aggregate queries (Metrics
// and EventCounts) over 24 runs.
// Numbers are in docs/store-schema.md.

const benchAccounts, benchUsers = 100, 200

func monthly(i int) (string, time.Time) {
	at := time.Date(2024, 1, 15, 9, 0, 0, 0, time.UTC).AddDate(0, i, 0)
	return at.Format("20060102_150405"), at
}

// recordBench records one monthly run of the benchmark's world and returns how
// long the store took: its baseline query and its write (not the checks).
func recordBench(b *testing.B, s *Store, i int) (baseline, write time.Duration) {
	ctx := context.Background()
	id, at := monthly(i)
	inv := world{accounts: benchAccounts, users: benchUsers}.inventory(id, at)
	start := time.Now()
	base, err := s.Baseline(ctx, inv, nil)
	if err != nil {
		b.Fatal(err)
	}
	baseline = time.Since(start)
	o := evaluate(inv, at, base)
	start = time.Now()
	if _, err := s.Write(ctx, o, WriteOptions{}); err != nil {
		b.Fatal(err)
	}
	return baseline, time.Since(start)
}

func storeSize(b *testing.B, s *Store, target string) float64 {
	if s.Backend() == Postgres {
		var n int64
		if err := s.DB().QueryRow(`SELECT pg_database_size(current_database())`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return float64(n)
	}
	if _, err := s.DB().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(target)
	if err != nil {
		b.Fatal(err)
	}
	return float64(fi.Size())
}

func BenchmarkWrite(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			target := be.target(b)
			s := open(b, target)
			recordBench(b, s, 0) // the first run: nothing to compare with
			before := storeSize(b, s, target)
			var base, write time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				bt, wt := recordBench(b, s, i+1)
				base, write = base+bt, write+wt
			}
			b.StopTimer()
			perRun := (storeSize(b, s, target) - before) / float64(b.N)
			b.ReportMetric(perRun/1e6, "MB/run")
			b.ReportMetric(float64(write.Milliseconds())/float64(b.N), "write-ms/run")
			b.ReportMetric(float64(base.Milliseconds())/float64(b.N), "baseline-ms/run")
		})
	}
}

func BenchmarkMetrics(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name+"/24runs", func(b *testing.B) {
			target := be.target(b)
			s := open(b, target)
			start := time.Now()
			for i := 0; i < 24; i++ {
				recordBench(b, s, i)
			}
			b.Logf("%s: 24 runs of %d accounts × %d users recorded in %s, store %.0f MB", be.name, benchAccounts, benchUsers,
				time.Since(start).Round(time.Millisecond), storeSize(b, s, target)/1e6)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m, err := s.Metrics(context.Background(), MetricsQuery{})
				if err != nil || len(m) != 24 || len(m[23].Accounts) != benchAccounts {
					b.Fatal(fmt.Sprint(len(m)), err)
				}
				if _, err := s.EventCounts(context.Background(), EventQuery{Names: []string{"CreateAccessKey", "DeleteAccessKey", "DeleteUser"}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
