package collect

import (
	"reflect"
	"slices"
	"testing"

	"github.com/iamaudit/iamaudit/internal/permissions"
)

// The collection's client interfaces name every AWS operation it can call: each must
// be in internal/permissions (which the policies, the StackSet template and the
// sandbox's enforcement are generated from), and each listed action must be one the
// collection calls, so that the policies grant what the code uses and no more.
func TestClientsCallExactlyThePermissionsList(t *testing.T) {
	t.Parallel()
	methods := func(service string, iface any) []string {
		typ := reflect.TypeOf(iface).Elem()
		var out []string
		for i := range typ.NumMethod() {
			out = append(out, service+":"+typ.Method(i).Name)
		}
		return out
	}
	inAccount := append(methods("iam", (*iamAPI)(nil)), methods("cloudtrail", (*trailAPI)(nil))...)
	fromCaller := append(methods("organizations", (*orgAPI)(nil)), "sts:AssumeRole")
	for _, tc := range []struct {
		name   string
		called []string
		listed []string
	}{
		{"audit role", inAccount, permissions.Strings(permissions.AuditRead())},
		{"management", fromCaller, permissions.Strings(permissions.Management())},
	} {
		slices.Sort(tc.called)
		listed := slices.Sorted(slices.Values(tc.listed))
		if !slices.Equal(tc.called, listed) {
			t.Errorf("%s: the collection calls %v, internal/permissions lists %v", tc.name, tc.called, listed)
		}
	}
}
