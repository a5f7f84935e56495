package bench

import (
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// Management account of the generated Organization (audited too, without users).
const managementID = "200000000001"

// Generate generates the benchmark's Organization: the management account and
// accounts generated accounts of users users each, with events CloudTrail events per
// account, every account with its audit role (so that no account may fail).
func Generate(accounts, users, events int) (*scenario.Scenario, error) {
	// The programmatic path (no YAML written or read): a 1000 × 1000 Organization is
	// built in seconds.
	base := scenario.Scenario{
		Name: "bench",
		Organization: scenario.Organization{ID: "o-benchmark01", ManagementAccountID: managementID,
			AccessKeyID: "AKIAIOSFODNN7BENCHMK", SecretAccessKey: "sandbox-benchmark-secret", CallerName: "audit-runner"},
		Accounts: []scenario.Account{{ID: managementID, Name: "Management"}},
	}
	return scenario.Generated(base, scenario.Generator{Seed: 7, Accounts: accounts, UsersPerAccount: users, EventsPerAccount: events})
}

// Shapes are what the floor needs of each account of sc.
func Shapes(sc *scenario.Scenario) []Account {
	out := make([]Account, 0, len(sc.Accounts))
	for _, a := range sc.Accounts {
		s := Account{
			Users:       len(a.Users),
			AuthEntries: len(a.Users) + len(a.Groups) + len(a.Roles) + len(a.Policies),
			Events:      map[string]int{},
			// The collector asks for the role in the management account too (it
			// falls back to the caller's own credentials when the role is absent).
			AssumesRole: true,
		}
		for _, u := range a.Users {
			if len(u.AccessKeys) > 0 {
				s.UsersWithKeys++
			}
			if len(u.MFA) > 0 {
				s.UsersWithMFA++
			}
		}
		for _, e := range a.Events {
			s.Events[e.Name]++
		}
		out = append(out, s)
	}
	return out
}
