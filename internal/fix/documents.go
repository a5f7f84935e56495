package fix

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
)

// shipped holds the policy documents the plans refer to by name.
//
//go:embed documents/*.json
var shipped embed.FS

// RequireMFAPolicy is the shipped document of seed 004's workflow 1: deny everything but
// setting up MFA until the user signs in with MFA (documents/require-mfa.json).
const RequireMFAPolicy = "require-mfa"

// Document is a policy document: one this package ships, by Name, or one written for
// the action (a trust policy naming the account), as JSON.
type Document struct {
	Name string `json:"name,omitempty"`
	JSON string `json:"json,omitempty"`
}

// Text is the document as compact JSON: the shipped document's, or JSON.
func (d Document) Text() (string, error) {
	raw := []byte(d.JSON)
	if d.Name != "" {
		b, err := ShippedDocument(d.Name)
		if err != nil {
			return "", err
		}
		raw = b
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return "", fmt.Errorf("policy document %q: %w", d.Name, err)
	}
	return buf.String(), nil
}

// ShippedDocument returns a shipped document as it is stored (indented JSON).
func ShippedDocument(name string) ([]byte, error) {
	b, err := shipped.ReadFile("documents/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("no shipped policy document %q", name)
	}
	return b, nil
}
