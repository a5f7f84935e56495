package sandbox

import (
	"fmt"
	"strings"
	"time"
)

// A user's other credentials and settings, which seed 004 workflow 4 removes before
// DeleteUser can succeed (and a rollback puts back): signing certificates, SSH public
// keys, service-specific credentials and the permissions boundary; with the reads
// the remediation needs (GetUserPolicy, ListAccountAliases).

type signingCert struct {
	id, body, status string
	uploaded         time.Time
}

type sshKey struct {
	id, body, fingerprint, status string
	uploaded                      time.Time
}

type serviceCred struct {
	id, service, serviceUser, status string
	created                          time.Time
}

// userCredentialOps are served as IAM operations (registered in iam.go's init).
var userCredentialOps = map[string]iamHandler{
	"GetUserPolicy":                   {fn: onUser((*call).getUserPolicy)},
	"ListAccountAliases":              {fn: (*call).listAccountAliases},
	"ListSigningCertificates":         {fn: onUser((*call).listSigningCertificates)},
	"ListSSHPublicKeys":               {fn: onUser((*call).listSSHPublicKeys)},
	"ListServiceSpecificCredentials":  {fn: onUser((*call).listServiceSpecificCredentials)},
	"UploadSigningCertificate":        {write: true, fn: userWrite((*call).uploadSigningCertificate)},
	"DeleteSigningCertificate":        {write: true, fn: userWrite((*call).deleteSigningCertificate)},
	"UploadSSHPublicKey":              {write: true, fn: userWrite((*call).uploadSSHPublicKey)},
	"DeleteSSHPublicKey":              {write: true, fn: userWrite((*call).deleteSSHPublicKey)},
	"CreateServiceSpecificCredential": {write: true, fn: userWrite((*call).createServiceSpecificCredential)},
	"DeleteServiceSpecificCredential": {write: true, fn: userWrite((*call).deleteServiceSpecificCredential)},
	"PutUserPermissionsBoundary":      {write: true, fn: userWrite((*call).putUserPermissionsBoundary)},
	"DeleteUserPermissionsBoundary":   {write: true, fn: userWrite((*call).deleteUserPermissionsBoundary)},
}

// Per-user quotas (IAM User Guide, "IAM and AWS STS quotas").
const (
	maxSigningCertsPerUser = 2
	maxSSHKeysPerUser      = 5
	maxServiceCredsPerUser = 2 // per service
)

func (c *call) getUserPolicy(a *account, u *user, b *xw) *apiError {
	name := c.form.Get("PolicyName")
	doc, ok := u.inline[name]
	if !ok {
		return errf(404, "NoSuchEntity", "The user policy with name %s cannot be found.", name)
	}
	b.el("UserName", u.name)
	b.el("PolicyName", name)
	b.el("PolicyDocument", policyDoc(doc))
	return nil
}

// listAccountAliases: the sandbox's accounts have no alias.
func (c *call) listAccountAliases(a *account, b *xw) *apiError {
	b.open("AccountAliases")
	b.close("AccountAliases")
	b.elBool("IsTruncated", false)
	return nil
}

func (c *call) listSigningCertificates(a *account, u *user, b *xw) *apiError {
	return listPage(c, b, "Certificates", u.signingCerts, func(sc *signingCert) {
		b.el("UserName", u.name)
		b.el("CertificateId", sc.id)
		b.el("CertificateBody", sc.body)
		b.el("Status", sc.status)
		b.elTime("UploadDate", sc.uploaded)
	})
}

func (c *call) uploadSigningCertificate(a *account, u *user, b *xw) *apiError {
	body := c.form.Get("CertificateBody")
	if !strings.HasPrefix(strings.TrimSpace(body), "-----BEGIN CERTIFICATE-----") {
		return errf(400, "MalformedCertificate", "Certificate body is malformed.")
	}
	if len(u.signingCerts) >= maxSigningCertsPerUser {
		return errf(409, "LimitExceeded", "Cannot exceed quota for SigningCertificatesPerUser: %d", maxSigningCertsPerUser)
	}
	sc := &signingCert{id: randomString(32, upperAlnum), body: body, status: "Active", uploaded: c.now}
	u.signingCerts = append(u.signingCerts, sc)
	b.open("Certificate")
	b.el("UserName", u.name)
	b.el("CertificateId", sc.id)
	b.el("CertificateBody", sc.body)
	b.el("Status", sc.status)
	b.elTime("UploadDate", sc.uploaded)
	b.close("Certificate")
	c.respElems = map[string]any{"certificate": map[string]any{"userName": u.name, "certificateId": sc.id, "status": sc.status}}
	return nil
}

func (c *call) deleteSigningCertificate(a *account, u *user, b *xw) *apiError {
	id := c.form.Get("CertificateId")
	var found bool
	if u.signingCerts, found = without(u.signingCerts, func(sc *signingCert) bool { return sc.id == id }); !found {
		return errf(404, "NoSuchEntity", "The Certificate with id %s cannot be found.", id)
	}
	return nil
}

func (c *call) listSSHPublicKeys(a *account, u *user, b *xw) *apiError {
	return listPage(c, b, "SSHPublicKeys", u.sshKeys, func(k *sshKey) {
		b.el("UserName", u.name)
		b.el("SSHPublicKeyId", k.id)
		b.el("Status", k.status)
		b.elTime("UploadDate", k.uploaded)
	})
}

func (c *call) uploadSSHPublicKey(a *account, u *user, b *xw) *apiError {
	body := c.form.Get("SSHPublicKeyBody")
	if !strings.HasPrefix(body, "ssh-rsa ") && !strings.HasPrefix(body, "ssh-ed25519 ") {
		return errf(400, "InvalidPublicKey", "The public key is malformed or invalid.")
	}
	if len(u.sshKeys) >= maxSSHKeysPerUser {
		return errf(409, "LimitExceeded", "Cannot exceed quota for SSHPublicKeysPerUser: %d", maxSSHKeysPerUser)
	}
	k := &sshKey{id: "APKA" + randomString(16, upperAlnum), body: body, status: "Active", uploaded: c.now,
		fingerprint: strings.ToLower(randomString(32, "0123456789abcdef"))}
	u.sshKeys = append(u.sshKeys, k)
	b.open("SSHPublicKey")
	b.el("UserName", u.name)
	b.el("SSHPublicKeyId", k.id)
	b.el("Fingerprint", k.fingerprint)
	b.el("SSHPublicKeyBody", k.body)
	b.el("Status", k.status)
	b.elTime("UploadDate", k.uploaded)
	b.close("SSHPublicKey")
	c.respElems = map[string]any{"sSHPublicKey": map[string]any{"userName": u.name, "sSHPublicKeyId": k.id, "status": k.status}}
	return nil
}

func (c *call) deleteSSHPublicKey(a *account, u *user, b *xw) *apiError {
	id := c.form.Get("SSHPublicKeyId")
	var found bool
	if u.sshKeys, found = without(u.sshKeys, func(k *sshKey) bool { return k.id == id }); !found {
		return errf(404, "NoSuchEntity", "The Public Key with id %s cannot be found.", id)
	}
	return nil
}

// serviceCredServices are the services CreateServiceSpecificCredential accepts.
var serviceCredServices = map[string]bool{"codecommit.amazonaws.com": true, "cassandra.amazonaws.com": true}

func (c *call) listServiceSpecificCredentials(a *account, u *user, b *xw) *apiError {
	svc := c.form.Get("ServiceName")
	var list []*serviceCred
	for _, sc := range u.serviceCreds {
		if svc == "" || sc.service == svc {
			list = append(list, sc)
		}
	}
	return listPage(c, b, "ServiceSpecificCredentials", list, func(sc *serviceCred) {
		b.el("UserName", u.name)
		b.el("Status", sc.status)
		b.el("ServiceUserName", sc.serviceUser)
		b.elTime("CreateDate", sc.created)
		b.el("ServiceSpecificCredentialId", sc.id)
		b.el("ServiceName", sc.service)
	})
}

func (c *call) createServiceSpecificCredential(a *account, u *user, b *xw) *apiError {
	svc := c.form.Get("ServiceName")
	if !serviceCredServices[svc] {
		return errf(400, "NotSupportedService", "The specified service %s is not supported for service-specific credentials.", svc)
	}
	n := 0
	for _, sc := range u.serviceCreds {
		if sc.service == svc {
			n++
		}
	}
	if n >= maxServiceCredsPerUser {
		return errf(409, "LimitExceeded", "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: %d", maxServiceCredsPerUser)
	}
	sc := &serviceCred{id: "ACCA" + randomString(16, upperAlnum), service: svc, status: "Active", created: c.now,
		serviceUser: fmt.Sprintf("%s-at-%s", u.name, a.id)}
	u.serviceCreds = append(u.serviceCreds, sc)
	b.open("ServiceSpecificCredential")
	b.elTime("CreateDate", sc.created)
	b.el("ServiceName", sc.service)
	b.el("ServiceUserName", sc.serviceUser)
	b.el("ServicePassword", randomString(44, secretChars)) // returned once, never kept
	b.el("ServiceSpecificCredentialId", sc.id)
	b.el("UserName", u.name)
	b.el("Status", sc.status)
	b.close("ServiceSpecificCredential")
	// CloudTrail records the credential without its password.
	c.respElems = map[string]any{"serviceSpecificCredential": map[string]any{"serviceSpecificCredentialId": sc.id,
		"serviceName": sc.service, "serviceUserName": sc.serviceUser, "userName": u.name, "status": sc.status}}
	return nil
}

func (c *call) deleteServiceSpecificCredential(a *account, u *user, b *xw) *apiError {
	id := c.form.Get("ServiceSpecificCredentialId")
	var found bool
	if u.serviceCreds, found = without(u.serviceCreds, func(sc *serviceCred) bool { return sc.id == id }); !found {
		return errf(404, "NoSuchEntity", "No such credential %s exists.", id)
	}
	return nil
}

func (c *call) putUserPermissionsBoundary(a *account, u *user, b *xw) *apiError {
	arn := c.form.Get("PermissionsBoundary")
	if !policyArnRe.MatchString(arn) {
		return errf(400, "InvalidInput", "ARN %s is not valid.", arn)
	}
	if !strings.Contains(arn, ":iam::aws:") && !a.hasPolicy(arn, c.partition()) {
		return errf(404, "NoSuchEntity", "Policy %s does not exist or is not attachable.", arn)
	}
	u.boundary = arn
	return nil
}

func (c *call) deleteUserPermissionsBoundary(a *account, u *user, b *xw) *apiError {
	if u.boundary == "" {
		return errf(404, "NoSuchEntity", "The user %s has no permissions boundary.", u.name)
	}
	u.boundary = ""
	return nil
}

// boundaryXML is GetUser's PermissionsBoundary element.
func boundaryXML(b *xw, u *user) {
	if u.boundary == "" {
		return
	}
	b.open("PermissionsBoundary")
	b.el("PermissionsBoundaryType", "Policy")
	b.el("PermissionsBoundaryArn", u.boundary)
	b.close("PermissionsBoundary")
}

// otherCredentialsConflict is DeleteUser's refusal while the user still has one of
// these credentials.
func otherCredentialsConflict(u *user) *apiError {
	switch {
	case len(u.signingCerts) > 0:
		return errf(409, "DeleteConflict", "Cannot delete entity, must delete signing certificates first.")
	case len(u.sshKeys) > 0:
		return errf(409, "DeleteConflict", "Cannot delete entity, must delete SSH public keys first.")
	case len(u.serviceCreds) > 0:
		return errf(409, "DeleteConflict", "Cannot delete entity, must delete service specific credentials first.")
	}
	return nil
}
