package remediate

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// The fresh reads of IAM an apply makes before each action (the evidence), and that
// verify makes after. A read that fails is an error: never an empty answer.

// liveKey is a key read now: found, and its status, creation and last use.
func (s *Session) liveKey(ctx context.Context, user, keyID string) (k KeyEvidence, found bool, err error) {
	keys, err := s.liveKeys(ctx, user)
	if err != nil {
		return k, false, err
	}
	for _, lk := range keys {
		if lk.ID == keyID {
			if err := s.lastUse(ctx, &lk); err != nil {
				return k, true, err
			}
			return lk, true, nil
		}
	}
	return k, false, nil
}

// liveKeys are the user's keys (without last use).
func (s *Session) liveKeys(ctx context.Context, user string) ([]KeyEvidence, error) {
	var out []KeyEvidence
	p := iam.NewListAccessKeysPaginator(s.read, &iam.ListAccessKeysInput{UserName: aws.String(user)}, func(o *iam.ListAccessKeysPaginatorOptions) {
		o.StopOnDuplicateToken = true
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:ListAccessKeys %s: %w", user, err)
		}
		for _, m := range page.AccessKeyMetadata {
			k := KeyEvidence{ID: aws.ToString(m.AccessKeyId), Status: string(m.Status)}
			if m.CreateDate != nil {
				t := m.CreateDate.UTC()
				k.Created = &t
			}
			out = append(out, k)
		}
	}
	return out, nil
}

// lastUse fills a key's last use from GetAccessKeyLastUsed (no date: never used).
func (s *Session) lastUse(ctx context.Context, k *KeyEvidence) error {
	out, err := s.read.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(k.ID)})
	if err != nil {
		return fmt.Errorf("iam:GetAccessKeyLastUsed %s: %w", k.ID, err)
	}
	k.LastUseKnown = true
	if lu := out.AccessKeyLastUsed; lu != nil {
		if lu.LastUsedDate != nil {
			t := lu.LastUsedDate.UTC()
			k.LastUsed = &t
		}
		k.Service, k.Region = naEmpty(aws.ToString(lu.ServiceName)), naEmpty(aws.ToString(lu.Region))
	}
	return nil
}

func naEmpty(s string) string {
	if s == "N/A" {
		return ""
	}
	return s
}

// liveConsole tells whether the user has a login profile.
func (s *Session) liveConsole(ctx context.Context, user string) (bool, error) {
	_, err := s.read.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(user)})
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("iam:GetLoginProfile %s: %w", user, err)
	}
	return true, nil
}

// liveMFA are the serials of the user's MFA devices.
func (s *Session) liveMFA(ctx context.Context, user string) ([]string, error) {
	var out []string
	p := iam.NewListMFADevicesPaginator(s.read, &iam.ListMFADevicesInput{UserName: aws.String(user)}, func(o *iam.ListMFADevicesPaginatorOptions) {
		o.StopOnDuplicateToken = true
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:ListMFADevices %s: %w", user, err)
		}
		for _, d := range page.MFADevices {
			out = append(out, aws.ToString(d.SerialNumber))
		}
	}
	return out, nil
}

// liveInline is the user's inline policy document (found false when it has none by that name).
func (s *Session) liveInline(ctx context.Context, user, name string) (doc string, found bool, err error) {
	out, err := s.read.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name)})
	if isNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("iam:GetUserPolicy %s %s: %w", user, name, err)
	}
	doc = aws.ToString(out.PolicyDocument)
	if strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return doc, true, nil // an endpoint that does not URL-encode the document (moto)
	}
	doc, err = url.QueryUnescape(doc)
	if err != nil {
		return "", true, fmt.Errorf("iam:GetUserPolicy %s %s: the document is not URL-encoded: %w", user, name, err)
	}
	return doc, true, nil
}

// liveTags are the user's tags.
func (s *Session) liveTags(ctx context.Context, user string) (map[string]string, error) {
	tags := map[string]string{}
	p := iam.NewListUserTagsPaginator(s.read, &iam.ListUserTagsInput{UserName: aws.String(user)}, func(o *iam.ListUserTagsPaginatorOptions) {
		o.StopOnDuplicateToken = true
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iam:ListUserTags %s: %w", user, err)
		}
		for _, t := range page.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return tags, nil
}

// userExists tells whether IAM has the user (GetUser).
func (s *Session) userExists(ctx context.Context, user string) (bool, error) {
	_, err := s.read.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)})
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("iam:GetUser %s: %w", user, err)
	}
	return true, nil
}

// liveUser reads a user's whole configuration (seed 004 workflow 4's "Audit User
// Permissions" and every credential DeleteUser needs gone). found is false when the
// user does not exist.
func (s *Session) liveUser(ctx context.Context, user string) (c UserConfig, found bool, err error) {
	out, err := s.read.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)})
	if isNotFound(err) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("iam:GetUser %s: %w", user, err)
	}
	u := out.User
	c = UserConfig{AccountID: s.AccountID, Name: user, Path: aws.ToString(u.Path), ARN: aws.ToString(u.Arn),
		InlinePolicies: map[string]string{}, Complete: true}
	if u.PasswordLastUsed != nil {
		t := u.PasswordLastUsed.UTC()
		c.PasswordLastUsed = &t
	}
	if u.PermissionsBoundary != nil {
		c.PermissionsBoundary = aws.ToString(u.PermissionsBoundary.PermissionsBoundaryArn)
	}
	if c.Tags, err = s.liveTags(ctx, user); err != nil {
		return c, true, err
	}
	if c.Keys, err = s.liveKeys(ctx, user); err != nil {
		return c, true, err
	}
	for i := range c.Keys {
		if err := s.lastUse(ctx, &c.Keys[i]); err != nil {
			return c, true, err
		}
	}
	if c.Console, err = s.liveConsole(ctx, user); err != nil {
		return c, true, err
	}
	if c.MFADevices, err = s.liveMFA(ctx, user); err != nil {
		return c, true, err
	}
	certs := iam.NewListSigningCertificatesPaginator(s.read, &iam.ListSigningCertificatesInput{UserName: aws.String(user)},
		func(o *iam.ListSigningCertificatesPaginatorOptions) { o.StopOnDuplicateToken = true })
	for certs.HasMorePages() {
		page, err := certs.NextPage(ctx)
		if err != nil {
			return c, true, fmt.Errorf("iam:ListSigningCertificates %s: %w", user, err)
		}
		for _, sc := range page.Certificates {
			c.SigningCertificates = append(c.SigningCertificates, SigningCertificate{ID: aws.ToString(sc.CertificateId),
				Status: string(sc.Status), Body: aws.ToString(sc.CertificateBody)})
		}
	}
	ssh := iam.NewListSSHPublicKeysPaginator(s.read, &iam.ListSSHPublicKeysInput{UserName: aws.String(user)},
		func(o *iam.ListSSHPublicKeysPaginatorOptions) { o.StopOnDuplicateToken = true })
	for ssh.HasMorePages() {
		page, err := ssh.NextPage(ctx)
		if err != nil {
			return c, true, fmt.Errorf("iam:ListSSHPublicKeys %s: %w", user, err)
		}
		for _, k := range page.SSHPublicKeys {
			c.SSHPublicKeys = append(c.SSHPublicKeys, aws.ToString(k.SSHPublicKeyId))
		}
	}
	in := &iam.ListServiceSpecificCredentialsInput{UserName: aws.String(user)}
	for {
		page, err := s.read.ListServiceSpecificCredentials(ctx, in)
		if err != nil {
			return c, true, fmt.Errorf("iam:ListServiceSpecificCredentials %s: %w", user, err)
		}
		for _, sc := range page.ServiceSpecificCredentials {
			c.ServiceCredentials = append(c.ServiceCredentials, ServiceCredential{ID: aws.ToString(sc.ServiceSpecificCredentialId),
				Service: aws.ToString(sc.ServiceName)})
		}
		if !page.IsTruncated || aws.ToString(page.Marker) == "" || aws.ToString(page.Marker) == aws.ToString(in.Marker) {
			break
		}
		in.Marker = page.Marker
	}
	groups := iam.NewListGroupsForUserPaginator(s.read, &iam.ListGroupsForUserInput{UserName: aws.String(user)},
		func(o *iam.ListGroupsForUserPaginatorOptions) { o.StopOnDuplicateToken = true })
	for groups.HasMorePages() {
		page, err := groups.NextPage(ctx)
		if err != nil {
			return c, true, fmt.Errorf("iam:ListGroupsForUser %s: %w", user, err)
		}
		for _, g := range page.Groups {
			c.Groups = append(c.Groups, aws.ToString(g.GroupName))
		}
	}
	attached := iam.NewListAttachedUserPoliciesPaginator(s.read, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(user)},
		func(o *iam.ListAttachedUserPoliciesPaginatorOptions) { o.StopOnDuplicateToken = true })
	for attached.HasMorePages() {
		page, err := attached.NextPage(ctx)
		if err != nil {
			return c, true, fmt.Errorf("iam:ListAttachedUserPolicies %s: %w", user, err)
		}
		for _, p := range page.AttachedPolicies {
			c.AttachedPolicies = append(c.AttachedPolicies, aws.ToString(p.PolicyArn))
		}
	}
	inline := iam.NewListUserPoliciesPaginator(s.read, &iam.ListUserPoliciesInput{UserName: aws.String(user)},
		func(o *iam.ListUserPoliciesPaginatorOptions) { o.StopOnDuplicateToken = true })
	for inline.HasMorePages() {
		page, err := inline.NextPage(ctx)
		if err != nil {
			return c, true, fmt.Errorf("iam:ListUserPolicies %s: %w", user, err)
		}
		for _, name := range page.PolicyNames {
			doc, _, err := s.liveInline(ctx, user, name)
			if err != nil {
				return c, true, err
			}
			c.InlinePolicies[name] = doc
		}
	}
	return c, true, nil
}

// usedWithin tells whether a last use falls in the days before now.
func usedWithin(lastUsed *time.Time, now time.Time, days int) bool {
	return lastUsed != nil && now.Sub(*lastUsed) < time.Duration(days)*24*time.Hour
}

// fmtTime is a time as RFC 3339, "never" for none.
func fmtTime(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// fmtUse says a key's last use in words: "2026-03-01T10:00:00Z (s3, eu-west-1)",
// "never", or "unknown".
func fmtUse(k KeyEvidence) string {
	if !k.LastUseKnown {
		return "unknown"
	}
	if k.LastUsed == nil {
		return "never"
	}
	var where []string
	for _, s := range []string{k.Service, k.Region} {
		if s != "" {
			where = append(where, s)
		}
	}
	if len(where) == 0 {
		return fmtTime(k.LastUsed)
	}
	return fmtTime(k.LastUsed) + " (" + strings.Join(where, ", ") + ")"
}
