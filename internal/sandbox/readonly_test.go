package sandbox

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/iamaudit/iamaudit/internal/permissions"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// TestReadOnlyAuditRoleRefusesWrites: the AWS CLI, with a session of IAMAuditRole,
// gets AWS's AccessDenied for writes, as the role deploy/iamaudit-role.yaml deploys
// would; the same writes work with OrganizationAccountAccessRole and
// AWSControlTowerExecution.
func TestReadOnlyAuditRoleRefusesWrites(t *testing.T) {
	t.Parallel()
	sc := testScenario()
	for i := range sc.Accounts {
		if sc.Accounts[i].ID == prodID {
			sc.Accounts[i].AuditRoles = map[string]string{"IAMAuditRole": scenario.RolePresent,
				"OrganizationAccountAccessRole": scenario.RolePresent, "AWSControlTowerExecution": scenario.RolePresent}
		}
	}
	s := startTest(t, sc, nil, nil)
	ak, sk := s.Credentials()
	ep := []string{"--endpoint-url", s.URL()}
	// The sessions come from the SDK (the CLI's assume-role is TestAWSCLI's): each
	// AWS CLI process costs about half a second of CPU.
	session := func(t *testing.T, role string) []string {
		out, err := sts.NewFromConfig(sdkConfig(s, ak, sk, "")).AssumeRole(ctx(t), &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::" + prodID + ":role/" + role), RoleSessionName: aws.String("review")})
		if err != nil {
			t.Fatalf("assume %s: %v", role, err)
		}
		c := out.Credentials
		return isolatedEnv(t, s, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	}
	writes := []struct {
		action string
		args   []string
	}{
		{"iam:CreateUser", []string{"iam", "create-user", "--user-name", "intruder"}},
		{"iam:PutUserPolicy", []string{"iam", "put-user-policy", "--user-name", "intruder", "--policy-name", "p",
			"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}},
		{"iam:CreateAccessKey", []string{"iam", "create-access-key", "--user-name", "intruder"}},
	}
	audit := session(t, "IAMAuditRole")
	// The writes run in parallel (each is an AWS CLI process); the group returns
	// once they are all refused, before the users are counted.
	t.Run("IAMAuditRole", func(t *testing.T) {
		for _, w := range writes {
			t.Run(w.action, func(t *testing.T) {
				t.Parallel()
				se, err := awsCLI(t, audit, nil, append(ep, w.args...)...)
				want := "(AccessDenied) when calling the " + strings.TrimPrefix(w.action, "iam:") + " operation: User: arn:aws:sts::" + prodID +
					":assumed-role/IAMAuditRole/review is not authorized to perform: " + w.action + " on resource: arn:aws:iam::" + prodID + ":user/intruder"
				if err == nil || !strings.Contains(se, want) {
					t.Fatalf("want %q, got %v %s", want, err, se)
				}
			})
		}
	})
	var users struct{ Users []struct{ UserName string } }
	if se, err := awsCLI(t, audit, &users, append(ep, "iam", "list-users")...); err != nil || len(users.Users) != 3 {
		t.Fatalf("the denied writes changed something, or list-users is refused: %v %s %+v", err, se, users)
	}
	for _, role := range []string{"OrganizationAccountAccessRole", "AWSControlTowerExecution"} {
		t.Run(role+" stays admin", func(t *testing.T) {
			t.Parallel()
			env := session(t, role)
			for _, w := range writes {
				args := slices.Clone(w.args)
				args[3] = "admin-made-" + role[:3] // the --user-name value
				if se, err := awsCLI(t, env, nil, append(ep, args...)...); err != nil {
					t.Fatalf("%s: %v %s", w.action, err, se)
				}
			}
		})
	}
}

// TestReadOnlyAuditRoleAllowsItsPolicy: every action of the role's policy works
// through the SDK; reads beyond it, Organizations and role chaining are refused.
func TestReadOnlyAuditRoleAllowsItsPolicy(t *testing.T) {
	s := startTest(t, testScenario(), nil, &scenario.Knobs{ReportGeneration: scenario.Duration{Duration: -1}})
	cfg := assume(t, s, prodID, 3600)
	ic, c := iam.NewFromConfig(cfg), ctx(t)
	alice := aws.String("alice")
	allowed := map[string]func() error{
		"iam:GenerateCredentialReport": func() error { _, err := ic.GenerateCredentialReport(c, nil); return err },
		"iam:GetCredentialReport":      func() error { _, err := ic.GetCredentialReport(c, nil); return err },
		"iam:GetAccountAuthorizationDetails": func() error {
			_, err := ic.GetAccountAuthorizationDetails(c, &iam.GetAccountAuthorizationDetailsInput{})
			return err
		},
		"iam:ListVirtualMFADevices": func() error { _, err := ic.ListVirtualMFADevices(c, &iam.ListVirtualMFADevicesInput{}); return err },
		"iam:ListMFADevices":        func() error { _, err := ic.ListMFADevices(c, &iam.ListMFADevicesInput{UserName: alice}); return err },
		"iam:ListAccessKeys":        func() error { _, err := ic.ListAccessKeys(c, &iam.ListAccessKeysInput{UserName: alice}); return err },
		"iam:GetAccessKeyLastUsed": func() error {
			_, err := ic.GetAccessKeyLastUsed(c, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIAALICE00000000001")})
			return err
		},
		"iam:GetAccountSummary":        func() error { _, err := ic.GetAccountSummary(c, nil); return err },
		"iam:GetAccountPasswordPolicy": func() error { _, err := ic.GetAccountPasswordPolicy(c, nil); return err },
		"iam:ListServerCertificates": func() error {
			_, err := ic.ListServerCertificates(c, &iam.ListServerCertificatesInput{})
			return err
		},
		"iam:ListUsers":       func() error { _, err := ic.ListUsers(c, &iam.ListUsersInput{}); return err },
		"iam:GetLoginProfile": func() error { _, err := ic.GetLoginProfile(c, &iam.GetLoginProfileInput{UserName: alice}); return err },
		"iam:GetUser":         func() error { _, err := ic.GetUser(c, &iam.GetUserInput{UserName: alice}); return err },
		"cloudtrail:LookupEvents": func() error {
			_, err := cloudtrail.NewFromConfig(cfg).LookupEvents(c, &cloudtrail.LookupEventsInput{})
			return err
		},
	}
	for _, action := range permissions.Strings(permissions.AuditRead()) {
		t.Run(action, func(t *testing.T) {
			call, ok := allowed[action]
			if !ok {
				t.Fatalf("no call for %s in this test", action)
			}
			if err := call(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if len(allowed) != len(permissions.AuditRead()) {
		t.Fatalf("test calls %d actions, the policy has %d", len(allowed), len(permissions.AuditRead()))
	}
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(c, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity needs no permission: %v", err)
	}
	denied := map[string]func() error{
		"iam:ListUserTags": func() error { _, err := ic.ListUserTags(c, &iam.ListUserTagsInput{UserName: alice}); return err },
		"iam:ListRoles":    func() error { _, err := ic.ListRoles(c, &iam.ListRolesInput{}); return err },
		"iam:UpdateAccessKey": func() error {
			_, err := ic.UpdateAccessKey(c, &iam.UpdateAccessKeyInput{UserName: alice, AccessKeyId: aws.String("AKIAALICE00000000001"), Status: "Inactive"})
			return err
		},
		"iam:DeleteLoginProfile": func() error {
			_, err := ic.DeleteLoginProfile(c, &iam.DeleteLoginProfileInput{UserName: alice})
			return err
		},
	}
	for action, call := range denied {
		t.Run("denied "+action, func(t *testing.T) {
			ae := wantAPIError(t, call(), "AccessDenied")
			want := "User: arn:aws:sts::" + prodID + ":assumed-role/IAMAuditRole/iamaudit is not authorized to perform: " + action + " on resource: "
			if !strings.HasPrefix(ae.ErrorMessage(), want) {
				t.Fatalf("message %q, want prefix %q", ae.ErrorMessage(), want)
			}
		})
	}
	// The management account's audit role may not list the Organization nor chain.
	mgmtSC := testScenario()
	mgmtSC.Accounts[0].AuditRoles = map[string]string{"IAMAuditRole": scenario.RolePresent}
	s2 := startTest(t, mgmtSC, nil, nil)
	mcfg := assume(t, s2, mgmtID, 900)
	_, err := organizations.NewFromConfig(mcfg).ListAccounts(c, &organizations.ListAccountsInput{})
	wantAPIError(t, err, "AccessDeniedException")
	_, err = sts.NewFromConfig(mcfg).AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + prodID + ":role/IAMAuditRole"), RoleSessionName: aws.String("chain")})
	wantAPIError(t, err, "AccessDenied")
	_, err = cloudtrail.NewFromConfig(mcfg).GetTrailStatus(c, &cloudtrail.GetTrailStatusInput{Name: aws.String("t")})
	wantAPIError(t, err, "AccessDeniedException")
}

// TestReadOnlyRolesOfTheScenario: organization.read_only_roles replaces the default;
// an empty list makes no role read-only.
func TestReadOnlyRolesOfTheScenario(t *testing.T) {
	for _, tc := range []struct {
		name          string
		roles         []string
		readOnlyRoles []string // of IAMAuditRole, Auditor
	}{
		{"default", nil, []string{"IAMAuditRole"}},
		{"custom", []string{"Auditor"}, []string{"Auditor"}},
		{"none", []string{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := testScenario()
			sc.Organization.ReadOnlyRoles = tc.roles
			sc.Accounts[1].AuditRoles = map[string]string{"IAMAuditRole": scenario.RolePresent, "Auditor": scenario.RolePresent}
			s := startTest(t, sc, nil, nil)
			for _, role := range []string{"IAMAuditRole", "Auditor"} {
				_, err := iam.NewFromConfig(assumeRole(t, s, prodID, role, 900)).ListUserTags(ctx(t), &iam.ListUserTagsInput{UserName: aws.String("alice")})
				if slices.Contains(tc.readOnlyRoles, role) {
					wantAPIError(t, err, "AccessDenied")
				} else if err != nil {
					t.Fatalf("%s: %v", role, err)
				}
			}
		})
	}
}
