package inventory

// homeRegions maps each AWS partition to the region of its global services: IAM,
// STS and the IAM / sign-in events of CloudTrail (Inventory.Region).
var homeRegions = map[string]string{"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}

// HomeRegion is a partition's home region; us-east-1 for an unknown partition.
func HomeRegion(partition string) string {
	if r, ok := homeRegions[partition]; ok {
		return r
	}
	return homeRegions["aws"]
}

// KnownPartition tells whether partition is aws, aws-us-gov or aws-cn.
func KnownPartition(partition string) bool {
	_, ok := homeRegions[partition]
	return ok
}

// Gap sections that describe part of a user (Gap.Subject = the user's name) or, with
// no Subject, that part for every user of the account. Collection records every
// per-user unknown in one of these; checks and reports read them to leave unknown
// what is unknown.
const (
	// SectionUsers: the user list itself (ListUsers, GetAccountAuthorizationDetails),
	// and users' groups, policies, permissions boundaries and tags.
	SectionUsers = "users"
	// SectionPassword: whether the user has a console password, and its last sign-in
	// (GetLoginProfile, GetUser).
	SectionPassword = "password"
	// SectionMFA: the user's MFA devices (ListMFADevices, ListVirtualMFADevices).
	SectionMFA = "mfa"
	// SectionAccessKeys: the user's access keys, their ids and last use
	// (ListAccessKeys, GetAccessKeyLastUsed).
	SectionAccessKeys = "access_keys"
)
