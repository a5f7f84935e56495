package scenario

import (
	"runtime"
	"slices"
	"sync"
)

// Generated builds a scenario from Go values without a file: base (the organization,
// the listed accounts, the knobs; its Generator is ignored) validated and normalised,
// then g's accounts appended and normalised, as Parse does for a file with a
// generator section. base's account list is copied, but the listed accounts' own
// users, keys and roles get their defaults in place (as Normalize). It is the fast path for large generated
// Organizations (benchmarks): no YAML is written or read.
func Generated(base Scenario, g Generator) (*Scenario, error) {
	s := base
	s.Accounts = slices.Clone(base.Accounts)
	s.Generator = &g
	if err := Normalize(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

// appendGenerated appends the accounts of s.Generator to the normalised, validated
// s and normalises them. Generated accounts are valid by construction (the
// generator's tests validate its output across seeds and partitions), so they are not
// validated again: at a million users validation cost more than generating them.
// Generation draws from one random stream (its output depends on the order), so it
// runs in order; normalisation is per account and runs on every core.
func appendGenerated(s *Scenario) {
	listed := len(s.Accounts)
	s.Accounts = append(s.Accounts, Generate(*s.Generator, s.Organization.Partition, accountIDs(s.Accounts))...)
	gen := s.Accounts[listed:]
	partition, mgmt := s.Organization.Partition, s.Organization.ManagementAccountID
	workers := min(runtime.GOMAXPROCS(0), len(gen))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(gen); i += workers {
				normaliseAccount(&gen[i], partition, mgmt)
			}
		}()
	}
	wg.Wait()
}
