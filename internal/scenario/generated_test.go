package scenario

import (
	"fmt"
	"reflect"
	"runtime"
	"testing"
)

// benchBase is the listed part of a generated benchmark Organization.
func benchBase() Scenario {
	return Scenario{
		Name: "bench",
		Organization: Organization{ID: "o-benchmark01", ManagementAccountID: "200000000001",
			AccessKeyID: "AKIAIOSFODNN7BENCHMK", SecretAccessKey: "sandbox-benchmark-secret", CallerName: "audit-runner"},
		Accounts: []Account{{ID: "200000000001", Name: "Management"}},
	}
}

// TestGeneratedIsParse: the programmatic path gives what Parse gives for the same
// organization and generator.
func TestGeneratedIsParse(t *testing.T) {
	g := Generator{Seed: 7, Accounts: 12, UsersPerAccount: 40, EventsPerAccount: 30, MissingRoleEvery: 5}
	src := fmt.Sprintf(`name: bench
organization:
  id: o-benchmark01
  management_account_id: "200000000001"
  access_key_id: AKIAIOSFODNN7BENCHMK
  secret_access_key: sandbox-benchmark-secret
  caller_name: audit-runner
accounts:
  - id: "200000000001"
    name: Management
generator: {seed: %d, accounts: %d, users_per_account: %d, events_per_account: %d, missing_role_every: %d}
`, g.Seed, g.Accounts, g.UsersPerAccount, g.EventsPerAccount, g.MissingRoleEvery)
	want, err := Parse("bench.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Generated(benchBase(), g)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("Generated differs from Parse of the same scenario")
	}
	if !GeneratorApplied(got) {
		t.Error("GeneratorApplied(Generated(...)) = false")
	}
}

// TestGeneratedValidates: generated accounts are not validated when a scenario is
// built (valid by construction); this is where that is checked, across partitions
// and seeds.
func TestGeneratedValidates(t *testing.T) {
	for _, partition := range partitions {
		for seed := range int64(3) {
			base := benchBase()
			base.Organization.Partition = partition
			s, err := Generated(base, Generator{Seed: seed, Accounts: 8, UsersPerAccount: 60, EventsPerAccount: 40, MissingRoleEvery: 3})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range validate(s) {
				t.Errorf("%s seed %d: %s: %s", partition, seed, pathString(p.path), p.msg)
			}
		}
	}
}

func TestGeneratedRefusesBadBase(t *testing.T) {
	base := benchBase()
	base.Organization.ManagementAccountID = "999999999999"
	if _, err := Generated(base, Generator{Seed: 1, Accounts: 2, UsersPerAccount: 2}); err == nil {
		t.Error("a management account that is not listed was accepted")
	}
	if _, err := Generated(benchBase(), Generator{Seed: 1, Accounts: maxGeneratedAccounts + 1}); err == nil {
		t.Error("a generator over the limits was accepted")
	}
}

// BenchmarkGenerate1000x1000: a million users, through the programmatic path.
func BenchmarkGenerate1000x1000(b *testing.B) {
	benchGenerate(b, func() (*Scenario, error) {
		return Generated(benchBase(), Generator{Seed: 7, Accounts: 1000, UsersPerAccount: 1000, EventsPerAccount: 60})
	})
}

// BenchmarkParseGenerate1000x1000: the same through a YAML file's generator section.
func BenchmarkParseGenerate1000x1000(b *testing.B) {
	src := []byte(`name: bench
organization:
  id: o-benchmark01
  management_account_id: "200000000001"
  access_key_id: AKIAIOSFODNN7BENCHMK
  secret_access_key: sandbox-benchmark-secret
accounts:
  - id: "200000000001"
    name: Management
generator: {seed: 7, accounts: 1000, users_per_account: 1000, events_per_account: 60}
`)
	benchGenerate(b, func() (*Scenario, error) { return Parse("bench.yaml", src) })
}

func benchGenerate(b *testing.B, build func() (*Scenario, error)) {
	b.ReportAllocs()
	var s *Scenario
	for b.Loop() {
		var err error
		if s, err = build(); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "heap-MiB")
	runtime.KeepAlive(s)
}
