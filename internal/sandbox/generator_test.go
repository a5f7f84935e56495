package sandbox

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

const generatorYAML = `name: generated
organization:
  management_account_id: "111111111111"
accounts:
  - id: "111111111111"
    name: Management
generator:
  seed: 42
  accounts: 3
  users_per_account: 4
`

// orgAccountIDs lists the Organization's account ids through the SDK.
func orgAccountIDs(t *testing.T, s *Server) []string {
	t.Helper()
	var ids []string
	p := organizations.NewListAccountsPaginator(organizations.NewFromConfig(mgmtConfig(s)), &organizations.ListAccountsInput{})
	drain(ctx(t), t, p, func(o *organizations.ListAccountsOutput) int {
		for _, a := range o.Accounts {
			ids = append(ids, *a.Id)
		}
		return len(o.Accounts)
	})
	slices.Sort(ids)
	return ids
}

func TestNewAppliesTheGeneratorOfAGoScenario(t *testing.T) {
	parsed, err := scenario.Parse("generated.yaml", []byte(generatorYAML))
	if err != nil {
		t.Fatal(err)
	}
	built := &scenario.Scenario{
		Name:         "generated",
		Organization: scenario.Organization{ManagementAccountID: "111111111111"},
		Accounts:     []scenario.Account{{ID: "111111111111", Name: "Management"}},
		Generator:    &scenario.Generator{Seed: 42, Accounts: 3, UsersPerAccount: 4},
	}
	fromParse := orgAccountIDs(t, startTest(t, parsed, nil, nil))
	fromGo := orgAccountIDs(t, startTest(t, built, nil, nil))
	if len(fromParse) != 4 {
		t.Fatalf("parsed scenario serves %d accounts, want 1 listed + 3 generated (the generator must not run twice): %v", len(fromParse), fromParse)
	}
	if !slices.Equal(fromGo, fromParse) {
		t.Fatalf("Go-built scenario serves accounts %v, want the parsed one's %v", fromGo, fromParse)
	}
	if len(built.Accounts) != 1 {
		t.Fatalf("New appended to the caller's account list: %d accounts", len(built.Accounts))
	}

	// The generated users are served, normalised (ids, keys), in a generated account.
	s := startTest(t, built, nil, nil)
	var member string
	for _, id := range fromGo {
		if id != "111111111111" {
			member = id
			break
		}
	}
	users, err := iam.NewFromConfig(assume(t, s, member, 3600)).ListUsers(ctx(t), &iam.ListUsersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(users.Users) != 4 {
		t.Fatalf("generated account %s has %d users, want 4", member, len(users.Users))
	}
	for _, u := range users.Users {
		if u.UserId == nil || *u.UserId == "" {
			t.Fatalf("user %s has no id", *u.UserName)
		}
	}
}

func TestNewRejectsAnInvalidGoScenarioWithAGenerator(t *testing.T) {
	sc := &scenario.Scenario{
		Name:         "broken",
		Organization: scenario.Organization{ManagementAccountID: "999999999999"},
		Accounts:     []scenario.Account{{ID: "111111111111", Name: "Management"}},
		Generator:    &scenario.Generator{Seed: 1, Accounts: 2, UsersPerAccount: 1},
	}
	if _, err := New(sc, Options{}); err == nil {
		t.Fatal("New accepted a scenario whose management account is not among its accounts")
	}
}
