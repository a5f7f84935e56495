package sandbox

import "regexp"

// accessKeyIDRe is the shape of an access key id (AKIA… long-term, ASIA… temporary).
var accessKeyIDRe = regexp.MustCompile(`^(AKIA|ASIA)[A-Z0-9]{16}$`)

// getAccessKeyInfo answers sts:GetAccessKeyInfo: the account a key belongs to. AWS
// answers for any key id, even of another Organization, and does not say whether the
// key is active; for a key it does not hold (never made, or deleted), the sandbox
// answers InvalidParameterValue (AWS documents only that "a deleted access key
// might return an error that the key doesn't exist", docs/remediation.md).
func (c *call) getAccessKeyInfo() *apiError {
	id := c.form.Get("AccessKeyId")
	if !accessKeyIDRe.MatchString(id) {
		return errf(400, "ValidationError", "1 validation error detected: Value '%s' at 'accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]*", id)
	}
	acct := ""
	if cr, ok := c.s.creds.get(id); ok {
		acct = cr.Account
	}
	for _, a := range c.s.org.accounts {
		if acct != "" {
			break
		}
		a.mu.RLock()
		if _, _, k := a.findKey(id); k != nil {
			acct = a.id
		}
		a.mu.RUnlock()
	}
	if acct == "" {
		return errf(400, "InvalidParameterValue", "The access key ID %s does not exist.", id)
	}
	var b xw
	b.el("Account", acct)
	c.okXML(&b)
	return nil
}
