package credreport

import (
	"sort"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

// LastUsedSourceReport is the AccessKey.LastUsedSource value for data taken from a
// credential report.
const LastUsedSourceReport = "credential_report"

// ToAccount builds an inventory account from a credential report alone, for offline
// analysis. What a report cannot answer (access key ids, MFA device types, policies,
// groups, tags, roles, the password policy, events …) is recorded as Gaps, so the
// account's Status is partial.
func ToAccount(rep *Report, accountID, accountName string) inventory.Account {
	acct := inventory.Account{
		ID:                 accountID,
		Name:               accountName,
		Status:             inventory.StatusPartial,
		CollectedAt:        rep.GeneratedAt,
		Users:              []inventory.User{},
		Groups:             []inventory.Group{},
		Roles:              []inventory.Role{},
		Policies:           []inventory.ManagedPolicy{},
		ServerCertificates: []inventory.ServerCertificate{},
		Events:             []inventory.Event{},
	}
	if !rep.GeneratedAt.IsZero() {
		acct.CredentialReport = &inventory.CredentialReport{GeneratedAt: rep.GeneratedAt}
	}
	for _, row := range rep.Users() {
		acct.Users = append(acct.Users, UserFromRow(row))
	}
	sort.SliceStable(acct.Users, func(i, j int) bool { return acct.Users[i].Name < acct.Users[j].Name })

	if row, ok := rep.Root(); ok {
		acct.Root = RootFromRow(row)
	}
	acct.Gaps = reportOnlyGaps(accountID, acct.Root != nil)
	return acct
}

// UserFromRow converts a user's row: password and key data from the report, keys
// without ids (the report has none), MFAActive without devices (the report has no
// device types).
func UserFromRow(row Row) inventory.User {
	u := inventory.User{
		Name:                row.User,
		ARN:                 row.ARN,
		CreatedAt:           row.UserCreationTime,
		PasswordEnabled:     row.PasswordEnabled,
		PasswordLastUsed:    row.PasswordLastUsed,
		PasswordLastChanged: row.PasswordLastChanged,
		MFAActive:           row.MFAActive,
		MFADevices:          []inventory.MFADevice{},
		AccessKeys:          []inventory.AccessKey{},
		Groups:              []string{},
		AttachedPolicies:    []inventory.AttachedPolicy{},
		InlinePolicies:      []inventory.InlinePolicy{},
	}
	for i, k := range row.AccessKeys {
		if !k.Present() {
			continue
		}
		u.AccessKeys = append(u.AccessKeys, KeyFromSlot(k, i+1, ""))
	}
	return u
}

// KeyFromSlot converts key slot number slot (1 or 2) to an access key with the given
// id ("" when unknown). The report knows Active from not active only: a key that is
// not active is Inactive here (an Expired key shows as inactive in the report too).
func KeyFromSlot(k KeySlot, slot int, id string) inventory.AccessKey {
	ak := inventory.AccessKey{
		ID:              id,
		Status:          inventory.KeyInactive,
		Slot:            slot,
		LastUsedAt:      k.LastUsedDate,
		LastUsedService: k.LastUsedService,
		LastUsedRegion:  k.LastUsedRegion,
		LastUsedSource:  LastUsedSourceReport,
	}
	if k.Active {
		ak.Status = inventory.KeyActive
	}
	if k.LastRotated != nil {
		ak.CreatedAt = *k.LastRotated
	}
	return ak
}

// RootFromRow converts the <root_account> row. The MFA type is unknown ("") when
// MFA is active (the report does not say which kind), None when it is not.
func RootFromRow(row Row) *inventory.Root {
	r := &inventory.Root{
		ARN:              row.ARN,
		Credentials:      RootCredentials(row),
		MFAActive:        row.MFAActive,
		MFAType:          inventory.MFANone,
		PasswordLastUsed: row.PasswordLastUsed,
		AccessKeys:       []inventory.RootKey{},
	}
	if row.MFAActive {
		r.MFAType = ""
	}
	if !row.UserCreationTime.IsZero() {
		t := row.UserCreationTime
		r.CreatedAt = &t
	}
	for i, k := range row.AccessKeys {
		if !k.Present() {
			continue
		}
		r.AccessKeys = append(r.AccessKeys, inventory.RootKey{
			Slot:            i + 1,
			Active:          k.Active,
			LastRotated:     k.LastRotated,
			LastUsedAt:      k.LastUsedDate,
			LastUsedService: k.LastUsedService,
			LastUsedRegion:  k.LastUsedRegion,
		})
	}
	return r
}

// RootCredentials tells from the <root_account> row whether the root user has any
// credential. The root's password_enabled is always not_supported, so the password
// is read from password_last_used: N/A means "the user does not have a password", a
// date or no_information (never used) means it has one (IAM User Guide, "Getting
// credential reports"; docs/aws-facts.md). A key slot, a signing certificate slot
// or MFA makes the credentials present; with none of them and password_last_used
// N/A the root has no credentials; any other sentinel there leaves it unknown.
func RootCredentials(row Row) string {
	present := row.MFAActive || row.PasswordLastUsed != nil
	for _, k := range row.AccessKeys {
		present = present || k.Present()
	}
	for _, c := range row.Certs {
		present = present || c.Present()
	}
	switch {
	case present:
		return inventory.RootCredentialsPresent
	case row.PasswordLastUsedInfo == NoInformation:
		return inventory.RootCredentialsPresent // a password, never used
	case row.PasswordLastUsedInfo == NA:
		return inventory.RootCredentialsNone
	}
	return inventory.RootCredentialsUnknown
}

// reportOnlyGaps says what a credential report cannot tell by nature. None of these
// gaps has an operation: nothing failed.
func reportOnlyGaps(accountID string, haveRoot bool) []inventory.Gap {
	g := func(section inventory.Section, msg string, unknown ...inventory.Field) inventory.Gap {
		return inventory.NewGap(accountID, section, unknown, msg)
	}
	gaps := []inventory.Gap{
		g(inventory.SectionAccessKeys, "credential report has no access key ids", inventory.FieldKeyIDs),
		g(inventory.SectionMFA, "credential report has no MFA device type", inventory.FieldMFATypes),
		g(inventory.SectionUsers, "credential report has no groups, policies, permissions boundaries or tags",
			inventory.FieldUserPolicies, inventory.FieldUserGroups, inventory.FieldUserTags, inventory.FieldGroups),
		g(inventory.SectionRoles, "credential report has no roles", inventory.FieldRoles),
		g(inventory.SectionPolicies, "credential report has no managed policies", inventory.FieldManagedPolicies),
		g(inventory.SectionPasswordPolicy, "credential report has no password policy", inventory.FieldPasswordPolicy),
		g(inventory.SectionSummary, "credential report has no account summary", inventory.FieldAccountSummary),
		g(inventory.SectionServerCertificates, "credential report has no server certificates", inventory.FieldServerCertificates),
		g(inventory.SectionEvents, "credential report has no CloudTrail events", inventory.FieldEvents),
	}
	if !haveRoot {
		gaps = append(gaps, g(inventory.SectionRoot, "credential report has no <root_account> row", inventory.FieldRoot))
	}
	return gaps
}
