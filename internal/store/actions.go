package store

import (
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

// encode is one string as stored.
func (c actionContext) encode(s string) string {
	switch {
	case strings.HasPrefix(s, "$"):
		return "$" + s
	case s == "":
		return s
	case s == c.account:
		return placeholderAccount
	case s == c.user:
		return placeholderUser
	case s == c.resource:
		return placeholderResource
	}
	return s
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
func encodeActions(f checks.Finding) string {
	if len(f.Remediation.Actions) == 0 {
		return ""
	}
	c := contextOf(f)
	stored := rewriteStrings(reflect.ValueOf(f.Remediation.Actions), func(s string) string { return c.encode(s) })
	return js(stored.Interface())
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
	switch v.Kind() {
	case reflect.String:
		out := reflect.New(v.Type()).Elem()
		out.SetString(f(v.String()))
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := 0; i < v.NumField(); i++ {
			if fld := out.Field(i); fld.CanSet() {
				fld.Set(rewriteStrings(v.Field(i), f))
			}
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(rewriteStrings(v.Elem(), f))
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(rewriteStrings(v.Index(i), f))
		}
		return out
	case reflect.Array:
		out := reflect.New(v.Type()).Elem()
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(rewriteStrings(v.Index(i), f))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			out.SetMapIndex(iter.Key(), rewriteStrings(iter.Value(), f))
		}
		return out
	}
	return v
}
