package store

import (
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

// Test helpers of this package for the external test package (store_test), whose
// benchmarks use packages that import the store (internal/trend).

// BenchBackend is a backend of the store's test suite.
type BenchBackend struct {
	Name   string
	Target func(t testing.TB) string
}

// BenchBackends are the suite's backends (PostgreSQL is started on first use).
func BenchBackends() []BenchBackend {
	out := make([]BenchBackend, len(backends))
	for i, b := range backends {
		out[i] = BenchBackend{Name: b.name, Target: b.target}
	}
	return out
}

// BenchWorld is the inventory of the benchmarks' Organization (accounts × users)
// as a run at now collects it, and its outcome against base.
func BenchWorld(accounts, users int, runID string, now time.Time) *inventory.Inventory {
	return world{accounts: accounts, users: users}.inventory(runID, now)
}

// BenchEvaluate is a run's outcome as the suite evaluates it.
func BenchEvaluate(inv *inventory.Inventory, now time.Time, base *outcome.Baseline) *outcome.Outcome {
	return evaluate(inv, now, base)
}

// BenchSize is the store's size in bytes.
func BenchSize(b *testing.B, s *Store, target string) float64 { return storeSize(b, s, target) }
