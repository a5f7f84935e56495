package remediate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamaudit/iamaudit/internal/fix"
)

// iamListVirtualMFADevices is the read that confirms a virtual MFA device is gone.
var iamListVirtualMFADevices = fix.API{Service: "iam", Name: "ListVirtualMFADevices"}

// Effect states of an action, as a fresh read of IAM sees them.
const (
	InEffect    = "in-effect"
	NotInEffect = "not-in-effect"
)

// effect reads IAM to tell whether an action's change is in effect now: the key is
// Inactive, the policy is there, the user is gone. For a CreateAccessKey whose answer
// was lost (res nil), since is when it was sent: a key made since is its key. found
// names what was found (the new key's id).
func (s *Session) effect(ctx context.Context, a fix.Action, res *callResult, since time.Time) (state, found string, err error) {
	r, p := a.Resource, a.Params
	user := r.UserName
	yes := func(ok bool) (string, string, error) {
		if ok {
			return InEffect, "", nil
		}
		return NotInEffect, "", nil
	}
	// Removals are in effect once the user itself is gone.
	gone := func(err error) (string, string, error) {
		if isNotFound(err) {
			return InEffect, "the user is gone", nil
		}
		return "", "", err
	}
	switch a.API {
	case fix.IAMUpdateAccessKey:
		k, ok, err := s.liveKey(ctx, user, r.AccessKeyID)
		if err != nil {
			return "", "", err
		}
		if !ok {
			return NotInEffect, "the key is deleted", nil
		}
		return yes(strings.EqualFold(k.Status, p.Status))
	case fix.IAMDeleteAccessKey:
		keys, err := s.liveKeys(ctx, user)
		if err != nil {
			return gone(err)
		}
		return yes(!slices.ContainsFunc(keys, func(k KeyEvidence) bool { return k.ID == r.AccessKeyID }))
	case fix.IAMCreateAccessKey:
		keys, err := s.liveKeys(ctx, user)
		if err != nil {
			return "", "", err
		}
		for _, k := range keys {
			if res != nil && res.NewKeyID != "" {
				if k.ID == res.NewKeyID {
					return InEffect, k.ID, nil
				}
				continue
			}
			if k.ID != r.AccessKeyID && k.Created != nil && !k.Created.Before(since.Add(-useTolerance)) {
				return InEffect, k.ID, nil
			}
		}
		return NotInEffect, "", nil
	case fix.IAMPutUserPolicy:
		doc, ok, err := s.liveInline(ctx, user, p.PolicyName)
		if err != nil {
			return "", "", err
		}
		want, derr := p.Document.Text()
		if derr != nil {
			return "", "", derr
		}
		return yes(ok && samePolicy(doc, want))
	case fix.IAMDeleteUserPolicy:
		_, ok, err := s.liveInline(ctx, user, p.PolicyName)
		if err != nil {
			return gone(err)
		}
		return yes(!ok)
	case fix.IAMDeleteLoginProfile:
		ok, err := s.liveConsole(ctx, user)
		if err != nil {
			return gone(err)
		}
		return yes(!ok)
	case fix.IAMDeactivateMFADevice:
		mfa, err := s.liveMFA(ctx, user)
		if err != nil {
			return gone(err)
		}
		return yes(!slices.Contains(mfa, r.MFASerial))
	case iamListVirtualMFADevices, fix.IAMDeleteVirtualMFADevice:
		pg := iam.NewListVirtualMFADevicesPaginator(s.read, &iam.ListVirtualMFADevicesInput{})
		for pg.HasMorePages() {
			page, err := pg.NextPage(ctx)
			if err != nil {
				return "", "", fmt.Errorf("iam:ListVirtualMFADevices: %w", err)
			}
			for _, d := range page.VirtualMFADevices {
				if aws.ToString(d.SerialNumber) == r.MFASerial {
					return NotInEffect, "", nil
				}
			}
		}
		return InEffect, "", nil
	case fix.IAMDeleteSigningCertificate, fix.IAMDeleteSSHPublicKey, fix.IAMDeleteServiceSpecificCredential,
		fix.IAMRemoveUserFromGroup, fix.IAMDetachUserPolicy, fix.IAMDeleteUserPermissionsBoundary,
		fix.IAMAddUserToGroup, fix.IAMAttachUserPolicy, fix.IAMPutUserPermissionsBoundary:
		u, ok, err := s.liveUser(ctx, user)
		if err != nil {
			return "", "", err
		}
		if !ok {
			removal := !slices.Contains([]fix.API{fix.IAMAddUserToGroup, fix.IAMAttachUserPolicy, fix.IAMPutUserPermissionsBoundary}, a.API)
			if removal {
				return InEffect, "the user is gone", nil
			}
			return NotInEffect, "the user does not exist", nil
		}
		switch a.API {
		case fix.IAMDeleteSigningCertificate:
			return yes(!slices.ContainsFunc(u.SigningCertificates, func(c SigningCertificate) bool { return c.ID == r.SigningCertificateID }))
		case fix.IAMDeleteSSHPublicKey:
			return yes(!slices.Contains(u.SSHPublicKeys, r.SSHPublicKeyID))
		case fix.IAMDeleteServiceSpecificCredential:
			return yes(!slices.ContainsFunc(u.ServiceCredentials, func(c ServiceCredential) bool { return c.ID == r.ServiceSpecificCredentialID }))
		case fix.IAMRemoveUserFromGroup:
			return yes(!slices.Contains(u.Groups, p.GroupName))
		case fix.IAMAddUserToGroup:
			return yes(slices.Contains(u.Groups, p.GroupName))
		case fix.IAMDetachUserPolicy:
			return yes(!slices.Contains(u.AttachedPolicies, p.PolicyARN))
		case fix.IAMAttachUserPolicy:
			return yes(slices.Contains(u.AttachedPolicies, p.PolicyARN))
		case fix.IAMDeleteUserPermissionsBoundary:
			return yes(u.PermissionsBoundary == "")
		default: // PutUserPermissionsBoundary
			return yes(u.PermissionsBoundary == p.PermissionsBoundary)
		}
	case fix.IAMDeleteUser:
		ok, err := s.userExists(ctx, user)
		if err != nil {
			return "", "", err
		}
		return yes(!ok)
	case fix.IAMCreateUser:
		ok, err := s.userExists(ctx, user)
		if err != nil {
			return "", "", err
		}
		return yes(ok)
	}
	return "", "", fmt.Errorf("no fresh read tells whether %s is in effect", apiName(a.API))
}
