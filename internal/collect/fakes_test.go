package collect

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"
)

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " (fake)"}
}

// fakeIAM is an in-memory IAM account. fail[op] makes an operation fail; for
// per-user operations failUser[op] names the one user it fails for.
type fakeIAM struct {
	mu        sync.Mutex
	report    string
	generated time.Time
	// complete makes GenerateCredentialReport answer COMPLETE: the report is reused.
	complete bool
	// summary replaces GetAccountSummary's SummaryMap when set.
	summary map[string]int32
	// reportSteps are errors GetCredentialReport returns, in order, before the report.
	reportSteps   []error
	generateSteps []error
	users         []types.UserDetail
	virtual       []types.VirtualMFADevice
	mfa           map[string][]types.MFADevice
	keys          map[string][]types.AccessKeyMetadata
	lastUsed      map[string]types.AccessKeyLastUsed
	login         map[string]bool
	// passwordLastUsed is GetUser's and ListUsers' PasswordLastUsed per user.
	passwordLastUsed map[string]*time.Time
	fail             map[string]error
	failUser         map[string]string
	calls            map[string]int
	seq              []string // operations in the order they were called
}

func (f *fakeIAM) call(op, user string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[op]++
	f.seq = append(f.seq, op)
	if err := f.fail[op]; err != nil && (f.failUser[op] == "" || f.failUser[op] == user) {
		return err
	}
	return nil
}

func (f *fakeIAM) GenerateCredentialReport(context.Context, *iam.GenerateCredentialReportInput, ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error) {
	if err := f.call("GenerateCredentialReport", ""); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.generateSteps) > 0 {
		err := f.generateSteps[0]
		f.generateSteps = f.generateSteps[1:]
		return nil, err
	}
	if f.complete {
		return &iam.GenerateCredentialReportOutput{State: types.ReportStateTypeComplete}, nil
	}
	return &iam.GenerateCredentialReportOutput{State: types.ReportStateTypeStarted}, nil
}

func (f *fakeIAM) GetCredentialReport(context.Context, *iam.GetCredentialReportInput, ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error) {
	if err := f.call("GetCredentialReport", ""); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reportSteps) > 0 {
		err := f.reportSteps[0]
		f.reportSteps = f.reportSteps[1:]
		return nil, err
	}
	return &iam.GetCredentialReportOutput{Content: []byte(f.report), GeneratedTime: aws.Time(f.generated)}, nil
}

func (f *fakeIAM) GetAccessKeyLastUsed(_ context.Context, in *iam.GetAccessKeyLastUsedInput, _ ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	if err := f.call("GetAccessKeyLastUsed", ""); err != nil {
		return nil, err
	}
	lu := f.lastUsed[aws.ToString(in.AccessKeyId)]
	return &iam.GetAccessKeyLastUsedOutput{AccessKeyLastUsed: &lu}, nil
}

func (f *fakeIAM) GetAccountSummary(context.Context, *iam.GetAccountSummaryInput, ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error) {
	if err := f.call("GetAccountSummary", ""); err != nil {
		return nil, err
	}
	if f.summary != nil {
		return &iam.GetAccountSummaryOutput{SummaryMap: f.summary}, nil
	}
	return &iam.GetAccountSummaryOutput{SummaryMap: map[string]int32{"Users": int32(len(f.users)), "AccountMFAEnabled": 1}}, nil
}

func (f *fakeIAM) GetAccountPasswordPolicy(context.Context, *iam.GetAccountPasswordPolicyInput, ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error) {
	if err := f.call("GetAccountPasswordPolicy", ""); err != nil {
		return nil, err
	}
	return &iam.GetAccountPasswordPolicyOutput{PasswordPolicy: &types.PasswordPolicy{MinimumPasswordLength: aws.Int32(14), PasswordReusePrevention: aws.Int32(24)}}, nil
}

func (f *fakeIAM) GetLoginProfile(_ context.Context, in *iam.GetLoginProfileInput, _ ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error) {
	user := aws.ToString(in.UserName)
	if err := f.call("GetLoginProfile", user); err != nil {
		return nil, err
	}
	if !f.login[user] {
		return nil, apiErr("NoSuchEntity")
	}
	return &iam.GetLoginProfileOutput{LoginProfile: &types.LoginProfile{UserName: in.UserName}}, nil
}

func (f *fakeIAM) GetUser(_ context.Context, in *iam.GetUserInput, _ ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	user := aws.ToString(in.UserName)
	if err := f.call("GetUser", user); err != nil {
		return nil, err
	}
	for _, u := range f.users {
		if aws.ToString(u.UserName) == user {
			return &iam.GetUserOutput{User: &types.User{UserName: u.UserName, Arn: u.Arn, UserId: u.UserId, CreateDate: u.CreateDate,
				PasswordLastUsed: f.passwordLastUsed[user]}}, nil
		}
	}
	return nil, apiErr("NoSuchEntity")
}

func (f *fakeIAM) GetAccountAuthorizationDetails(context.Context, *iam.GetAccountAuthorizationDetailsInput, ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error) {
	if err := f.call("GetAccountAuthorizationDetails", ""); err != nil {
		return nil, err
	}
	return &iam.GetAccountAuthorizationDetailsOutput{UserDetailList: f.users}, nil
}

func (f *fakeIAM) ListVirtualMFADevices(context.Context, *iam.ListVirtualMFADevicesInput, ...func(*iam.Options)) (*iam.ListVirtualMFADevicesOutput, error) {
	if err := f.call("ListVirtualMFADevices", ""); err != nil {
		return nil, err
	}
	return &iam.ListVirtualMFADevicesOutput{VirtualMFADevices: f.virtual}, nil
}

func (f *fakeIAM) ListMFADevices(_ context.Context, in *iam.ListMFADevicesInput, _ ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error) {
	user := aws.ToString(in.UserName)
	if err := f.call("ListMFADevices", user); err != nil {
		return nil, err
	}
	return &iam.ListMFADevicesOutput{MFADevices: f.mfa[user]}, nil
}

func (f *fakeIAM) ListAccessKeys(_ context.Context, in *iam.ListAccessKeysInput, _ ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	user := aws.ToString(in.UserName)
	if err := f.call("ListAccessKeys", user); err != nil {
		return nil, err
	}
	return &iam.ListAccessKeysOutput{AccessKeyMetadata: f.keys[user]}, nil
}

func (f *fakeIAM) ListServerCertificates(context.Context, *iam.ListServerCertificatesInput, ...func(*iam.Options)) (*iam.ListServerCertificatesOutput, error) {
	if err := f.call("ListServerCertificates", ""); err != nil {
		return nil, err
	}
	return &iam.ListServerCertificatesOutput{}, nil
}

func (f *fakeIAM) ListUsers(context.Context, *iam.ListUsersInput, ...func(*iam.Options)) (*iam.ListUsersOutput, error) {
	if err := f.call("ListUsers", ""); err != nil {
		return nil, err
	}
	out := &iam.ListUsersOutput{}
	for _, u := range f.users {
		out.Users = append(out.Users, types.User{UserName: u.UserName, Arn: u.Arn, UserId: u.UserId, CreateDate: u.CreateDate,
			PasswordLastUsed: f.passwordLastUsed[aws.ToString(u.UserName)]})
	}
	return out, nil
}

// fakeTrail answers every lookup with no events, or fails.
type fakeTrail struct {
	err   error
	mu    sync.Mutex
	calls int
	// windows are the [StartTime, EndTime] of every lookup.
	windows [][2]time.Time
}

func (f *fakeTrail) LookupEvents(_ context.Context, in *cloudtrail.LookupEventsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	f.mu.Lock()
	f.calls++
	f.windows = append(f.windows, [2]time.Time{aws.ToTime(in.StartTime), aws.ToTime(in.EndTime)})
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return &cloudtrail.LookupEventsOutput{}, nil
}

// fakeOrg is an Organization: accounts and a parent tree.
type fakeOrg struct {
	mgmt     string
	accounts []orgtypes.Account
	parent   map[string]string // child → parent id
	ouName   map[string]string
	listErr  error
	namesErr error
	mu       sync.Mutex
	calls    map[string]int
}

func (f *fakeOrg) count(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[op]++
}

func (f *fakeOrg) DescribeOrganization(context.Context, *organizations.DescribeOrganizationInput, ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error) {
	f.count("DescribeOrganization")
	return &organizations.DescribeOrganizationOutput{Organization: &orgtypes.Organization{Id: aws.String("o-fake"), MasterAccountId: aws.String(f.mgmt)}}, nil
}

// ListOrganizationalUnitsForParent lists the OUs whose parent is ParentId, one a
// page, to exercise pagination; namesErr makes it fail.
func (f *fakeOrg) ListOrganizationalUnitsForParent(_ context.Context, in *organizations.ListOrganizationalUnitsForParentInput, _ ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error) {
	f.count("ListOrganizationalUnitsForParent")
	if f.namesErr != nil {
		return nil, f.namesErr
	}
	var ids []string
	for child, parent := range f.parent {
		if parent == aws.ToString(in.ParentId) && strings.HasPrefix(child, "ou-") {
			ids = append(ids, child)
		}
	}
	sort.Strings(ids)
	start := 0
	if in.NextToken != nil {
		start = slices.Index(ids, *in.NextToken)
	}
	out := &organizations.ListOrganizationalUnitsForParentOutput{}
	if start < len(ids) {
		out.OrganizationalUnits = []orgtypes.OrganizationalUnit{{Id: aws.String(ids[start]), Name: aws.String(f.ouName[ids[start]])}}
	}
	if start+1 < len(ids) {
		out.NextToken = aws.String(ids[start+1])
	}
	return out, nil
}

// ListAccounts serves two accounts a page, to exercise pagination.
func (f *fakeOrg) ListAccounts(_ context.Context, in *organizations.ListAccountsInput, _ ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	f.count("ListAccounts")
	start := 0
	if in.NextToken != nil {
		for i, a := range f.accounts {
			if aws.ToString(a.Id) == *in.NextToken {
				start = i
			}
		}
	}
	if f.listErr != nil && start > 0 {
		return nil, f.listErr
	}
	if f.listErr != nil && len(f.accounts) == 0 {
		return nil, f.listErr
	}
	end := min(start+2, len(f.accounts))
	out := &organizations.ListAccountsOutput{Accounts: f.accounts[start:end]}
	if end < len(f.accounts) {
		out.NextToken = f.accounts[end].Id
	}
	return out, nil
}

func (f *fakeOrg) ListParents(_ context.Context, in *organizations.ListParentsInput, _ ...func(*organizations.Options)) (*organizations.ListParentsOutput, error) {
	f.count("ListParents")
	p, ok := f.parent[aws.ToString(in.ChildId)]
	if !ok {
		return nil, errors.New("no such child")
	}
	return &organizations.ListParentsOutput{Parents: []orgtypes.Parent{{Id: aws.String(p)}}}, nil
}
