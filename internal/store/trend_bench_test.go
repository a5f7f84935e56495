package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/store"
	"github.com/iamaudit/iamaudit/internal/trend"
)

// BenchmarkTrend is `iamaudit trend` over 24 monthly runs of 100 accounts × 200
// users (about 20,000 users and 20,000 access keys a run), by month and by run, for
// each backend: trend.Load (the figures of every run, their CloudTrail windows, one
// event count per row). Run with
//
//	go test ./internal/store -run '^$' -bench Trend -benchtime 3x
//
// Numbers are in docs/store-schema.md and docs/diff-trend-import.md.
func BenchmarkTrend(b *testing.B) {
	const accounts, users, runs = 100, 200, 24
	for _, be := range store.BenchBackends() {
		b.Run(be.Name, func(b *testing.B) {
			ctx := context.Background()
			target := be.Target(b)
			s, err := store.Open(ctx, target, store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			start := time.Now()
			for i := 0; i < runs; i++ {
				at := time.Date(2024, 1, 15, 9, 0, 0, 0, time.UTC).AddDate(0, i, 0)
				inv := store.BenchWorld(accounts, users, at.Format("20060102_150405"), at)
				base, err := s.Baseline(ctx, inv, nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Write(ctx, store.BenchEvaluate(inv, at, base), store.WriteOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.Logf("%s: %d runs of %d accounts × %d users recorded in %s, store %.0f MB", be.Name, runs, accounts, users,
				time.Since(start).Round(time.Second), store.BenchSize(b, s, target)/1e6)
			for _, by := range []trend.By{trend.ByMonth, trend.ByRun} {
				b.Run(string(by), func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						t, err := trend.Load(ctx, s, trend.Query{By: by})
						if err != nil || len(t.Rows) != runs {
							b.Fatalf("%d rows, %v", len(t.Rows), err)
						}
					}
				})
			}
		})
	}
}
