package bench

import (
	"fmt"

	"github.com/iamaudit/iamaudit/internal/scenario"
)

// Management account of the generated Organization (audited too, without users).
const managementID = "200000000001"

// Generate generates the benchmark's Organization: the management account and
// accounts generated accounts of users users each, with events CloudTrail events per
// account, every account with its audit role (so that no account may fail).
func Generate(accounts, users, events int) (*scenario.Scenario, error) {
	src := fmt.Sprintf(`name: bench
organization:
  id: o-benchmark01
  management_account_id: "%s"
  access_key_id: AKIAIOSFODNN7BENCHMK
  secret_access_key: sandbox-benchmark-secret
  caller_name: audit-runner
accounts:
  - id: "%s"
    name: Management
generator:
  seed: 7
  accounts: %d
  users_per_account: %d
  events_per_account: %d
  missing_role_every: 0
`, managementID, managementID, accounts, users, events)
	return scenario.Parse("bench.yaml", []byte(src))
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
