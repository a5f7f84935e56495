// Package policy reads IAM policy documents and answers the one question the checks
// ask of them: does a set of policies grant full administrative privileges (every
// action on every resource)? It is pure: no AWS SDK, no I/O.
//
// The grammar is IAM's (docs/aws-facts.md, "Policy documents"): a JSON object with an
// optional Version and Id and a Statement that is one object or a list of them; each
// statement has an Effect (Allow or Deny), exactly one of Action / NotAction and, in
// identity policies, one of Resource / NotResource, each a string or a list of
// strings, and an optional Condition whose values may be strings, numbers or booleans.
// Element names are case-sensitive. A document may come URL-encoded, as IAM returns it.
// Anything else does not parse, and a document that does not parse allows something
// unknown: callers record that as a gap, never as "allows nothing".
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Effect is a statement's effect.
type Effect string

// The two effects IAM knows.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Statement is one statement of a policy document. Exactly one of Actions and
// NotActions is set; Resources and NotResources are both empty in a trust policy.
type Statement struct {
	Effect       Effect
	Actions      []string
	NotActions   []string
	Resources    []string
	NotResources []string
	// Conditional: the statement has a Condition (it applies only when that holds).
	Conditional bool
}

// Document is a parsed policy document.
type Document struct {
	Statements []Statement
}

// Parse reads a policy document, URL-decoding it first when it is encoded (it then
// starts with "%"). It fails on anything that is not IAM's grammar.
func Parse(doc string) (Document, error) {
	s := strings.TrimSpace(doc)
	if strings.HasPrefix(s, "%") {
		dec, err := url.QueryUnescape(s)
		if err != nil {
			return Document{}, fmt.Errorf("URL-encoded document does not decode: %w", err)
		}
		s = strings.TrimSpace(dec)
	}
	if s == "" {
		return Document{}, errors.New("empty document")
	}
	top, err := object([]byte(s), "document", "Version", "Id", "Statement")
	if err != nil {
		return Document{}, err
	}
	raw, ok := top["Statement"]
	if !ok {
		return Document{}, errors.New("no Statement")
	}
	var list []json.RawMessage
	if t := firstByte(raw); t == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return Document{}, fmt.Errorf("element Statement: %w", err)
		}
	} else {
		list = []json.RawMessage{raw}
	}
	var d Document
	for i, r := range list {
		st, err := statement(r)
		if err != nil {
			return Document{}, fmt.Errorf("statement %d: %w", i+1, err)
		}
		d.Statements = append(d.Statements, st)
	}
	return d, nil
}

// object decodes a JSON object with only the given (case-sensitive) keys, each once,
// and nothing after it.
func object(b []byte, what string, keys ...string) (map[string]json.RawMessage, error) {
	if firstByte(b) != '{' {
		return nil, fmt.Errorf("%s is not a JSON object", what)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		k, _ := t.(string)
		known := false
		for _, want := range keys {
			known = known || k == want
		}
		if !known {
			return nil, fmt.Errorf("%s: unknown element %q", what, k)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s: %q appears twice", what, k)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", what, k, err)
		}
		out[k] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("%s: data after the closing brace", what)
	}
	return out, nil
}

func firstByte(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

func statement(raw json.RawMessage) (Statement, error) {
	m, err := object(raw, "statement", "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition")
	if err != nil {
		return Statement{}, err
	}
	var st Statement
	var effect string
	if err := json.Unmarshal(m["Effect"], &effect); err != nil || (effect != string(Allow) && effect != string(Deny)) {
		return Statement{}, fmt.Errorf("element Effect must be %q or %q", Allow, Deny)
	}
	st.Effect = Effect(effect)
	if st.Actions, err = strings1(m, "Action"); err != nil {
		return Statement{}, err
	}
	if st.NotActions, err = strings1(m, "NotAction"); err != nil {
		return Statement{}, err
	}
	if (st.Actions == nil) == (st.NotActions == nil) {
		return Statement{}, errors.New("want exactly one of Action and NotAction")
	}
	for _, a := range append(append([]string(nil), st.Actions...), st.NotActions...) {
		if a != "*" && strings.Count(a, ":") != 1 || strings.HasPrefix(a, ":") || strings.HasSuffix(a, ":") {
			return Statement{}, fmt.Errorf("action %q is not \"*\" nor \"service:action\"", a)
		}
	}
	if st.Resources, err = strings1(m, "Resource"); err != nil {
		return Statement{}, err
	}
	if st.NotResources, err = strings1(m, "NotResource"); err != nil {
		return Statement{}, err
	}
	if st.Resources != nil && st.NotResources != nil {
		return Statement{}, errors.New("both Resource and NotResource")
	}
	if c, ok := m["Condition"]; ok {
		var cond map[string]map[string]any
		if err := json.Unmarshal(c, &cond); err != nil {
			return Statement{}, fmt.Errorf("element Condition: %w", err)
		}
		st.Conditional = len(cond) > 0
	}
	return st, nil
}

// strings1 reads an element that is a string or a non-empty list of strings; nil
// when absent.
func strings1(m map[string]json.RawMessage, key string) ([]string, error) {
	raw, ok := m[key]
	if !ok {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
		return nil, fmt.Errorf("%s must be a string or a non-empty list of strings", key)
	}
	return list, nil
}
