package sandbox

import (
	"crypto/hmac"
	"testing"
)

// The cached signing key is SigV4's derivation, per secret and scope: a request
// signed with another secret, day, Region or service does not verify with it.
func TestSigningKeyCached(t *testing.T) {
	derive := func(secret string, sc sigScope) []byte {
		k := hmacSHA256([]byte("AWS4"+secret), sc.date)
		k = hmacSHA256(k, sc.region)
		k = hmacSHA256(k, sc.service)
		return hmacSHA256(k, "aws4_request")
	}
	base := sigScope{date: "20261202", region: "us-east-1", service: "iam"}
	scopes := []sigScope{base, {date: "20261203", region: "us-east-1", service: "iam"},
		{date: "20261202", region: "eu-west-1", service: "iam"}, {date: "20261202", region: "us-east-1", service: "sts"}}
	for _, secret := range []string{"secret-a", "secret-b"} {
		for _, sc := range scopes {
			for range 2 { // derived, then cached
				if got := signingKey(secret, sc); !hmac.Equal(got, derive(secret, sc)) {
					t.Fatalf("%s %+v: key differs from the derivation", secret, sc)
				}
			}
		}
	}
	if hmac.Equal(signingKey("secret-a", base), signingKey("secret-b", base)) {
		t.Error("two secrets share a signing key")
	}
}
