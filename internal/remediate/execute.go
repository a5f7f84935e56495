package remediate

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamaudit/iamaudit/internal/fix"
)

// callResult is what a change call answered, without any secret.
type callResult struct {
	// NewKeyID and NewKeyCreated: CreateAccessKey's new key.
	NewKeyID      string     `json:"new_access_key_id,omitempty"`
	NewKeyCreated *time.Time `json:"new_key_created,omitempty"`
	// UserARN: CreateUser's new user.
	UserARN string `json:"user_arn,omitempty"`
	// Gone: the call found nothing to remove (NoSuchEntity), where that means done.
	Gone bool `json:"already_gone,omitempty"`
}

// do runs one change action with the SDK, from its typed fields. The secret of a key
// CreateAccessKey makes is returned apart, never in the result.
func (s *Session) do(ctx context.Context, a fix.Action) (res callResult, secret string, err error) {
	if a.Kind != fix.Change {
		return res, "", fmt.Errorf("action %s is a %s, not a change", apiName(a.API), a.Kind)
	}
	if len(a.Unknown) > 0 {
		return res, "", fmt.Errorf("action %s leaves inputs to the operator (%v): the plan must name them", apiName(a.API), a.Unknown)
	}
	r, p := a.Resource, a.Params
	user := aws.String(r.UserName)
	c := s.write
	switch a.API {
	case fix.IAMUpdateAccessKey:
		_, err = c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: user, AccessKeyId: aws.String(r.AccessKeyID), Status: iamtypes.StatusType(p.Status)})
	case fix.IAMDeleteAccessKey:
		_, err = c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: user, AccessKeyId: aws.String(r.AccessKeyID)})
	case fix.IAMCreateAccessKey:
		var out *iam.CreateAccessKeyOutput
		out, err = c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: user})
		if err == nil && out.AccessKey != nil {
			res.NewKeyID = aws.ToString(out.AccessKey.AccessKeyId)
			if out.AccessKey.CreateDate != nil {
				t := out.AccessKey.CreateDate.UTC()
				res.NewKeyCreated = &t
			}
			secret = aws.ToString(out.AccessKey.SecretAccessKey)
		}
	case fix.IAMPutUserPolicy:
		if p.Document == nil {
			return res, "", fmt.Errorf("PutUserPolicy without a document")
		}
		doc, derr := p.Document.Text()
		if derr != nil {
			return res, "", derr
		}
		_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: user, PolicyName: aws.String(p.PolicyName), PolicyDocument: aws.String(doc)})
	case fix.IAMDeleteUserPolicy:
		_, err = c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: user, PolicyName: aws.String(p.PolicyName)})
	case fix.IAMDeleteLoginProfile:
		_, err = c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: user})
	case fix.IAMDeactivateMFADevice:
		_, err = c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: user, SerialNumber: aws.String(r.MFASerial)})
	case fix.IAMDeleteVirtualMFADevice:
		_, err = c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(r.MFASerial)})
	case fix.IAMDeleteSigningCertificate:
		_, err = c.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: user, CertificateId: aws.String(r.SigningCertificateID)})
	case fix.IAMDeleteSSHPublicKey:
		_, err = c.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: user, SSHPublicKeyId: aws.String(r.SSHPublicKeyID)})
	case fix.IAMDeleteServiceSpecificCredential:
		_, err = c.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: user,
			ServiceSpecificCredentialId: aws.String(r.ServiceSpecificCredentialID)})
	case fix.IAMRemoveUserFromGroup:
		_, err = c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: user, GroupName: aws.String(p.GroupName)})
	case fix.IAMAddUserToGroup:
		_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: user, GroupName: aws.String(p.GroupName)})
	case fix.IAMDetachUserPolicy:
		_, err = c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: user, PolicyArn: aws.String(p.PolicyARN)})
	case fix.IAMAttachUserPolicy:
		_, err = c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: user, PolicyArn: aws.String(p.PolicyARN)})
	case fix.IAMDeleteUserPermissionsBoundary:
		_, err = c.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: user})
	case fix.IAMPutUserPermissionsBoundary:
		_, err = c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: user, PermissionsBoundary: aws.String(p.PermissionsBoundary)})
	case fix.IAMDeleteUser:
		_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: user})
	case fix.IAMCreateUser:
		in := &iam.CreateUserInput{UserName: user}
		if p.Path != "" {
			in.Path = aws.String(p.Path)
		}
		if p.PermissionsBoundary != "" {
			in.PermissionsBoundary = aws.String(p.PermissionsBoundary)
		}
		for _, t := range p.Tags {
			in.Tags = append(in.Tags, iamtypes.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
		}
		var out *iam.CreateUserOutput
		out, err = c.CreateUser(ctx, in)
		if err == nil && out.User != nil {
			res.UserARN = aws.ToString(out.User.Arn)
		}
	default:
		return res, "", fmt.Errorf("remediation does not execute %s", apiName(a.API))
	}
	return res, secret, err
}
