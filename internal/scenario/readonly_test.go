package scenario

import (
	"slices"
	"strings"
	"testing"
)

func TestReadOnlyRoles(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		want       []string // nil: absent (the sandbox uses DefaultReadOnlyRoles)
		err        string
	}{
		{"absent", "", nil, ""},
		{"listed", "  read_only_roles: [IAMAuditRole, SecurityAudit]\n", []string{"IAMAuditRole", "SecurityAudit"}, ""},
		{"empty", "  read_only_roles: []\n", []string{}, ""},
		{"invalid", "  read_only_roles: [\"bad role\"]\n", nil, `x.yaml:3: organization: read_only_roles: "bad role" is not a valid IAM role name`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(base, "organization:\n", "organization:\n"+tt.yaml, 1)
			s, err := Parse("x.yaml", []byte(src))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := s.Organization.ReadOnlyRoles
			if (got == nil) != (tt.want == nil) || !slices.Equal(got, tt.want) {
				t.Fatalf("read_only_roles %#v, want %#v", got, tt.want)
			}
		})
	}
}
