// Package remediate carries out seed 004's remediation workflows (docs/remediation.md):
// a plan built purely from the latest stored run (plan.go), applied with the AWS SDK
// through a separate remediation role (apply.go), every action journaled in the store
// before and after it runs (journal.go), guarded in the manner of aws-nuke (guard.go),
// verified in CloudTrail and by fresh IAM reads (verify.go) and undone where it can be
// (rollback.go). It executes the typed fix.Action values that internal/fix plans, never
// their CLI text; APIs lists every call it can make, for a least-privilege policy.
package remediate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/iamaudit/iamaudit/internal/fix"
)

// Workflow names a remediation workflow of seed 004.
type Workflow string

// The workflows.
const (
	// EnforceMFA is workflow 1: the RequireMFAPolicy inline policy on console users without MFA.
	EnforceMFA Workflow = "enforce-mfa"
	// ReleaseMFA is workflow 1's last step: remove RequireMFAPolicy once the user has MFA.
	ReleaseMFA Workflow = "release-mfa"
	// DeactivateKey is workflow 2: set an old or unused key Inactive (never delete first).
	DeactivateKey Workflow = "deactivate-key"
	// DeleteKey is workflow 2's last step: delete a key Inactive for at least 48 hours.
	DeleteKey Workflow = "delete-key"
	// RotateKey is workflow 5: create the second key, then deactivate the old one.
	RotateKey Workflow = "rotate-key"
	// DeleteUser is workflow 4: the whole chain, then the user.
	DeleteUser Workflow = "delete-user"
)

// Workflows lists the workflows in the order a plan applies them.
func Workflows() []Workflow {
	return []Workflow{EnforceMFA, ReleaseMFA, RotateKey, DeactivateKey, DeleteKey, DeleteUser}
}

// DefaultWorkflows are planned when none is asked for: every workflow but rotate-key,
// which needs a secret file and the owner's confirmation (and would compete with
// deactivate-key for the same old key).
func DefaultWorkflows() []Workflow {
	return []Workflow{EnforceMFA, ReleaseMFA, DeactivateKey, DeleteKey, DeleteUser}
}

// ParseWorkflow reads a workflow name ("release" is release-mfa).
func ParseWorkflow(s string) (Workflow, error) {
	if s == "release" {
		return ReleaseMFA, nil
	}
	for _, w := range Workflows() {
		if string(w) == s {
			return w, nil
		}
	}
	names := make([]string, 0, len(Workflows()))
	for _, w := range Workflows() {
		names = append(names, string(w))
	}
	return "", fmt.Errorf("unknown workflow %q: use one of %s (migrate-to-roles is guidance: iamaudit remediate guide)", s, strings.Join(names, ", "))
}

// checksOf are the checks whose findings a workflow fixes (release-mfa has none: it
// follows enforce-mfa).
var checksOf = map[Workflow][]string{
	EnforceMFA:    {"console_without_mfa"},
	DeactivateKey: {"access_key_not_rotated", "access_key_never_used", "access_key_unused"},
	RotateKey:     {"access_key_not_rotated"},
	DeleteKey:     {"inactive_key_not_deleted"},
	DeleteUser:    {"inactive_user"},
}

// changes are the change calls a workflow's apply makes (its plan's actions, and for
// delete-user the chain expanded from the user's live configuration).
var changes = map[Workflow][]fix.API{
	EnforceMFA:    {fix.IAMPutUserPolicy},
	ReleaseMFA:    {fix.IAMDeleteUserPolicy},
	DeactivateKey: {fix.IAMUpdateAccessKey},
	DeleteKey:     {fix.IAMDeleteAccessKey},
	RotateKey:     {fix.IAMCreateAccessKey, fix.IAMUpdateAccessKey},
	DeleteUser: {fix.IAMDeleteAccessKey, fix.IAMDeleteLoginProfile, fix.IAMDeactivateMFADevice, fix.IAMDeleteVirtualMFADevice,
		fix.IAMDeleteSigningCertificate, fix.IAMDeleteSSHPublicKey, fix.IAMDeleteServiceSpecificCredential,
		fix.IAMRemoveUserFromGroup, fix.IAMDetachUserPolicy, fix.IAMDeleteUserPolicy, fix.IAMDeleteUserPermissionsBoundary,
		fix.IAMDeleteUser},
}

// undo are the change calls a rollback of the workflow makes.
var undo = map[Workflow][]fix.API{
	EnforceMFA:    {fix.IAMDeleteUserPolicy, fix.IAMPutUserPolicy},
	ReleaseMFA:    {fix.IAMPutUserPolicy},
	DeactivateKey: {fix.IAMUpdateAccessKey},
	DeleteKey:     {},
	RotateKey:     {fix.IAMUpdateAccessKey},
	DeleteUser: {fix.IAMCreateUser, fix.IAMAddUserToGroup, fix.IAMAttachUserPolicy, fix.IAMPutUserPolicy,
		fix.IAMPutUserPermissionsBoundary},
}

// reads are the read-only calls a workflow makes: the evidence re-read before each
// action, the configuration saved before a destructive one, and verify's fresh reads.
var reads = map[Workflow][]fix.API{
	EnforceMFA:    {fix.IAMGetLoginProfile, fix.IAMListMFADevices, fix.IAMGetUserPolicy, fix.IAMListUserTags, fix.IAMGetUser},
	ReleaseMFA:    {fix.IAMListMFADevices, fix.IAMGetUserPolicy, fix.IAMListUserTags},
	DeactivateKey: {fix.IAMListAccessKeys, fix.IAMGetAccessKeyLastUsed, fix.IAMListUserTags},
	DeleteKey:     {fix.IAMListAccessKeys, fix.IAMGetAccessKeyLastUsed, fix.IAMListUserTags},
	RotateKey:     {fix.IAMListAccessKeys, fix.IAMGetAccessKeyLastUsed, fix.IAMListUserTags},
	DeleteUser: {fix.IAMGetUser, fix.IAMListUserTags, fix.IAMListAccessKeys, fix.IAMGetAccessKeyLastUsed, fix.IAMGetLoginProfile,
		fix.IAMListMFADevices, iamListVirtualMFADevices, fix.IAMListSigningCertificates, fix.IAMListSSHPublicKeys, fix.IAMListServiceSpecificCredentials,
		fix.IAMListGroupsForUser, fix.IAMListAttachedUserPolicies, fix.IAMListUserPolicies, fix.IAMGetUserPolicy},
}

// common are the calls of every apply, verify and rollback: who the tool is signed in
// as, the role assumption, the account's alias for the typed confirmation, and
// CloudTrail for verify and for delete-key's 48 hours.
var common = []fix.API{fix.STSGetCallerIdentity, fix.STSAssumeRole, fix.IAMListAccountAliases, fix.CloudTrailLookupEvents}

// APIs lists every AWS call remediation of the workflows can make (apply, verify and
// rollback), sorted: what a least-privilege remediation role must allow
// (internal/permissions derives its policy from fix.Recipes() and from this). No
// workflow given: all of them, and whois (sts:GetAccessKeyInfo).
func APIs(ws ...Workflow) []fix.API {
	if len(ws) == 0 {
		ws = Workflows()
	}
	set := map[fix.API]bool{}
	for _, a := range common {
		set[a] = true
	}
	if len(ws) == len(Workflows()) {
		set[fix.STSGetAccessKeyInfo] = true
	}
	for _, w := range ws {
		for _, list := range [][]fix.API{changes[w], undo[w], reads[w]} {
			for _, a := range list {
				set[a] = true
			}
		}
	}
	out := make([]fix.API, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b fix.API) int {
		return strings.Compare(a.Service+":"+a.Name, b.Service+":"+b.Name)
	})
	return out
}

// apiName is "iam:UpdateAccessKey".
func apiName(a fix.API) string { return a.Service + ":" + a.Name }
