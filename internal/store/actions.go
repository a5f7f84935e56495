package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/fix"
	"github.com/iamaudit/iamaudit/internal/fix/awscli"
)

// A finding's remediation is stored as its typed actions (fix.Action, as JSON), not
// as the AWS CLI text they render to (report.Commands derives it). Findings of one
// check differ in their actions mostly by the finding's own account, user and
// resource, so these are written as placeholders: then the findings of a check share
// one list, which finding_checks.remediation_actions holds once per run, and a
// findings row holds a list only where it differs (docs/store-schema.md).
//
// The placeholders replace whole string values only (never part of one), wherever
// they are in an action (resource, parameters, unknown inputs, notes): a string equal
// to the finding's account id is "$account", to its user name "$user", to its
// resource "$resource". A string that starts with "$" is written with one more "$".
// Reading does the reverse, so that a loaded action equals the written one.
const (
	placeholderAccount  = "$account"
	placeholderUser     = "$user"
	placeholderResource = "$resource"
)

// actionContext is what a finding's placeholders stand for.
type actionContext struct{ account, user, resource string }

func contextOf(f checks.Finding) actionContext {
	return actionContext{account: f.AccountID, user: f.User, resource: f.Resource}
}

// decode is one stored string as written; bad names a placeholder this version does
// not know.
func (c actionContext) decode(s string) (out string, bad string) {
	switch {
	case !strings.HasPrefix(s, "$"):
		return s, ""
	case strings.HasPrefix(s, "$$"):
		return s[1:], ""
	case s == placeholderAccount:
		return c.account, ""
	case s == placeholderUser:
		return c.user, ""
	case s == placeholderResource:
		return c.resource, ""
	}
	return s, s
}

// encodeActions is the stored text of a finding's actions: "" when it has none.
//
// It rewrites the JSON text of the actions (faster than a copy of them: a run has
// tens of thousands of findings): every string value, never an object key. The
// actions are plain encoding/json of exported fields (package fix has no custom
// marshalers, no ",string" options, no []byte), so the string values of the text are
// the string values decodeActions walks; TestActionsEncoding checks every recipe.
func encodeActions(f checks.Finding) string {
	var e actionsEncoder
	return e.encode(f)
}

// actionsEncoder is encodeActions with its buffers kept from finding to finding (a
// run's findings are encoded one after another: two buffers each were a tenth of
// the store's allocations). Not safe for concurrent use.
type actionsEncoder struct {
	raw *bytes.Buffer
	enc *json.Encoder // into raw, as json.Marshal (HTML escaped), and a newline
	out []byte
	ctx [3][]byte // the finding's account, user and resource as JSON strings
}

// marshal is json.Marshal(v) in e.raw, valid until e.raw is written again.
func (e *actionsEncoder) marshal(v any) []byte {
	if e.enc == nil {
		e.raw = new(bytes.Buffer)
		e.enc = json.NewEncoder(e.raw)
	}
	e.raw.Reset()
	if err := e.enc.Encode(v); err != nil {
		panic(fmt.Sprintf("store: remediation actions do not marshal: %v", err)) // only our own types
	}
	return bytes.TrimSuffix(e.raw.Bytes(), []byte{'\n'})
}

func (e *actionsEncoder) encode(f checks.Finding) string {
	if len(f.Remediation.Actions) == 0 {
		return ""
	}
	c := contextOf(f)
	raw := &e.ctx
	for i, v := range []string{c.account, c.user, c.resource} {
		raw[i] = raw[i][:0]
		if v != "" {
			raw[i] = append(raw[i], e.marshal(v)...)
		}
	}
	b := e.marshal(f.Remediation.Actions)
	placeholders := [3]string{`"` + placeholderAccount + `"`, `"` + placeholderUser + `"`, `"` + placeholderResource + `"`}
	out := e.out[:0]
	for i := 0; i < len(b); {
		if b[i] != '"' {
			out = append(out, b[i])
			i++
			continue
		}
		j := i + 1
		for j < len(b) && b[j] != '"' {
			if b[j] == '\\' {
				j++
			}
			j++
		}
		tok := b[i : j+1]
		i = j + 1
		if i < len(b) && b[i] == ':' { // an object key (encoding/json writes no spaces)
			out = append(out, tok...)
			continue
		}
		switch {
		case len(tok) > 2 && tok[1] == '$':
			out = append(append(out, '"', '$'), tok[1:]...)
			continue
		case len(raw[0]) > 0 && bytes.Equal(tok, raw[0]):
			out = append(out, placeholders[0]...)
		case len(raw[1]) > 0 && bytes.Equal(tok, raw[1]):
			out = append(out, placeholders[1]...)
		case len(raw[2]) > 0 && bytes.Equal(tok, raw[2]):
			out = append(out, placeholders[2]...)
		default:
			out = append(out, tok...)
		}
	}
	e.out = out
	return string(out)
}

// actionsCache holds the stored lists a read has decoded (with their placeholders):
// most findings share their check's.
type actionsCache map[string][]fix.Action

// decodeActions sets f's actions from their stored text (NULL or "[]": none).
func (cache actionsCache) decodeActions(f *checks.Finding, text string) error {
	if text == "" {
		return nil
	}
	list, ok := cache[text]
	if !ok {
		if err := json.Unmarshal([]byte(text), &list); err != nil {
			return fmt.Errorf("finding %s: cannot read its remediation actions: %w", f.ID, err)
		}
		cache[text] = list
	}
	if len(list) == 0 {
		return nil
	}
	c := contextOf(*f)
	var bad string
	out := rewriteStrings(reflect.ValueOf(list), func(s string) string {
		v, b := c.decode(s)
		if b != "" {
			bad = b
		}
		return v
	})
	if bad != "" {
		return fmt.Errorf("finding %s: its remediation actions hold %q, which this iamaudit does not know", f.ID, bad)
	}
	f.Remediation.Actions = out.Interface().([]fix.Action)
	return nil
}

// storedCommands is what findings.remediation_commands keeps of a finding: its
// commands only when they are not the rendering of its actions (a finding read from
// an older run's file has commands and no actions); NULL otherwise.
func storedCommands(f checks.Finding) any {
	cmds := f.Remediation.Commands
	if len(cmds) == 0 || len(f.Remediation.Actions) > 0 && slices.Equal(cmds, awscli.Commands(f.Remediation.Actions)) {
		return nil
	}
	return js(cmds)
}

// rewriteStrings is a deep copy of v with every string value (of any string type,
// in structs, pointers, slices, arrays and map values; map keys are kept) replaced
// by f's result. v is not modified. Unexported fields are copied as they are.
func rewriteStrings(v reflect.Value, f func(string) string) reflect.Value {
	out := reflect.New(v.Type()).Elem()
	out.Set(v)
	rewriteInPlace(out, f)
	return out
}

// rewriteInPlace rewrites the strings of v, a settable copy, copying what it shares
// (what pointers, slices and maps refer to) before changing it.
func rewriteInPlace(v reflect.Value, f func(string) string) {
	switch v.Kind() {
	case reflect.String:
		if s := v.String(); s != "" {
			if n := f(s); n != s {
				v.SetString(n)
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if fld := v.Field(i); fld.CanSet() {
				rewriteInPlace(fld, f)
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			c := reflect.New(v.Type().Elem())
			c.Elem().Set(v.Elem())
			rewriteInPlace(c.Elem(), f)
			v.Set(c)
		}
	case reflect.Slice:
		if !v.IsNil() {
			c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			reflect.Copy(c, v)
			for i := 0; i < c.Len(); i++ {
				rewriteInPlace(c.Index(i), f)
			}
			v.Set(c)
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			rewriteInPlace(v.Index(i), f)
		}
	case reflect.Map:
		if !v.IsNil() {
			c := reflect.MakeMapWithSize(v.Type(), v.Len())
			iter := v.MapRange()
			for iter.Next() {
				val := reflect.New(v.Type().Elem()).Elem()
				val.Set(iter.Value())
				rewriteInPlace(val, f)
				c.SetMapIndex(iter.Key(), val)
			}
			v.Set(c)
		}
	}
}
