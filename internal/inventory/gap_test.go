package inventory

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// An old run file's gap (written before "unknown" existed) still decodes, and means
// what it meant then.
func TestDecodeOldGap(t *testing.T) {
	old := `{"schema":"iamaudit.inventory/v1","accounts":[{"id":"111122223333","status":"partial","users":[],"gaps":[
		{"account_id":"111122223333","section":"access_keys","subject":"alice","operation":"iam:GetAccessKeyLastUsed","error_code":"AccessDenied","message":"last use of key AKIA…0001 is unknown: iam:GetAccessKeyLastUsed failed: AccessDenied"},
		{"account_id":"111122223333","section":"users","operation":"iam:GetAccountAuthorizationDetails","error_code":"AccessDenied","message":"denied"}]}],
		"gaps":[{"section":"run","message":"run interrupted (context canceled)"}]}`
	var inv Inventory
	if err := json.Unmarshal([]byte(old), &inv); err != nil {
		t.Fatal(err)
	}
	g := inv.Accounts[0].Gaps[0]
	if g.Section != SectionAccessKeys || g.Subject != "alice" || g.Operation != "iam:GetAccessKeyLastUsed" || g.ErrorCode != "AccessDenied" ||
		!slices.Equal(g.Unknown, []Field{FieldKeyLastUse}) {
		t.Errorf("old gap decoded as %+v", g)
	}
	if g := inv.Accounts[0].Gaps[1]; !g.Leaves(FieldRoles) || !g.Leaves(FieldUserTags) || g.Leaves(FieldUsers) || g.Leaves(FieldPassword) {
		t.Errorf("old GetAccountAuthorizationDetails gap decoded as %+v", g)
	}
	if g := inv.Gaps[0]; g.Section != SectionRun || !slices.Equal(g.Unknown, []Field{FieldRun}) {
		t.Errorf("old run gap decoded as %+v", g)
	}
}

// A gap written now keeps its fields through a run file, and the file says them.
func TestGapRoundTrip(t *testing.T) {
	g := NewGap("111122223333", SectionAccessKeys, []Field{FieldKeyIDs}, "the user's access key ids are unknown")
	g.Subject, g.Operation = "carol", "iam:ListAccessKeys"
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"unknown":["key_ids"]`) || !strings.Contains(string(b), `"section":"access_keys"`) {
		t.Errorf("JSON %s", b)
	}
	var back Gap
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Unknown, []Field{FieldKeyIDs}) || back.Leaves(FieldAccessKeys) || !back.Leaves(FieldKeyIDs) {
		t.Errorf("read back %+v", back)
	}
	if err := json.Unmarshal([]byte(`{"section":"users","unknown":"users"}`), &back); err == nil {
		t.Error("a malformed unknown was accepted")
	}
}

// LegacyUnknown: what each gap of earlier versions left unknown, as the checks of that
// version read it.
func TestLegacyUnknown(t *testing.T) {
	for _, c := range []struct {
		section       Section
		subject, op   string
		want          []Field
		whyNotObvious string
	}{
		{SectionUsers, "amy", "iam:GetLoginProfile", []Field{FieldUsers}, "a users gap about a user: everything about that user"},
		{SectionUsers, "", "iam:ListUsers", []Field{FieldUsers}, "the user list"},
		{SectionUsers, "", "iam:GetAccountAuthorizationDetails", []Field{FieldUserPolicies, FieldUserGroups, FieldUserTags, FieldGroups, FieldRoles, FieldManagedPolicies}, ""},
		{SectionUsers, "", "", []Field{FieldUserPolicies, FieldUserGroups, FieldUserTags}, "what a credential report lacks"},
		{SectionPassword, "amy", "iam:GetLoginProfile", []Field{FieldPassword}, ""},
		{SectionPassword, "amy", "", []Field{FieldPassword}, ""},
		{SectionPassword, "amy", "iam:GetUser", []Field{FieldPasswordLastUsed}, "GetUser only asked the last sign-in"},
		{SectionMFA, "amy", "iam:ListMFADevices", []Field{FieldMFA}, ""},
		{SectionMFA, "", "iam:ListMFADevices", []Field{FieldMFA}, "interrupted"},
		{SectionMFA, "", "iam:ListVirtualMFADevices", []Field{FieldMFATypes}, ""},
		{SectionMFA, "", "", []Field{FieldMFATypes}, "what a credential report lacks"},
		{SectionAccessKeys, "amy", "iam:ListAccessKeys", []Field{FieldAccessKeys}, ""},
		{SectionAccessKeys, "", "iam:ListAccessKeys", []Field{FieldAccessKeys}, "interrupted"},
		{SectionAccessKeys, "amy", "iam:GetAccessKeyLastUsed", []Field{FieldKeyLastUse}, ""},
		{SectionAccessKeys, "", "", []Field{FieldKeyIDs}, "what a credential report lacks"},
		{SectionRoot, "", "", []Field{FieldRoot}, ""},
		{SectionPasswordPolicy, "", "iam:GetAccountPasswordPolicy", []Field{FieldPasswordPolicy}, ""},
		{SectionSummary, "", "iam:GetAccountSummary", []Field{FieldAccountSummary}, ""},
		{SectionRoles, "", "", []Field{FieldRoles}, ""},
		{SectionPolicies, "", "", []Field{FieldManagedPolicies}, ""},
		{SectionServerCertificates, "", "iam:ListServerCertificates", []Field{FieldServerCertificates}, ""},
		{SectionCredentialReport, "", "iam:GenerateCredentialReport", []Field{FieldCredentialReport}, ""},
		{SectionEvents, "CreateUser,DeleteUser", "cloudtrail:LookupEvents", []Field{FieldEvents}, ""},
		{SectionOrganization, "", "organizations:DescribeOrganization", []Field{FieldOrganization}, ""},
		{SectionOrganization, "", "organizations:ListAccounts", []Field{FieldAccounts}, ""},
		{SectionOrganization, "", "organizations:ListOrganizationalUnitsForParent", []Field{FieldOUNames}, ""},
		{SectionOrganization, "", "", []Field{FieldAccount}, "an account asked for is not in the Organization"},
		{SectionAccount, "", "", []Field{FieldAccount}, ""},
		{SectionRun, "", "", []Field{FieldRun}, ""},
		{Section("later"), "", "", []Field{"later"}, "a section of a later version: a field nothing here reads"},
	} {
		if got := LegacyUnknown(c.section, c.subject, c.op); !slices.Equal(got, c.want) {
			t.Errorf("%s/%s/%s: %v, want %v %s", c.section, c.subject, c.op, got, c.want, c.whyNotObvious)
		}
	}
}

func TestCovers(t *testing.T) {
	for _, c := range []struct {
		f, other Field
		want     bool
	}{
		{FieldUsers, FieldKeyLastUse, true}, {FieldUsers, FieldUserTags, true}, {FieldUsers, FieldRoles, false},
		{FieldAccessKeys, FieldKeyIDs, true}, {FieldAccessKeys, FieldKeyLastUse, true}, {FieldKeyIDs, FieldAccessKeys, false},
		{FieldKeyLastUse, FieldKeyIDs, false}, {FieldPassword, FieldPasswordLastUsed, true}, {FieldPasswordLastUsed, FieldPassword, false},
		{FieldMFA, FieldMFATypes, true}, {FieldMFATypes, FieldMFA, false}, {FieldAccount, FieldEvents, true}, {FieldRoles, FieldRoles, true},
		{FieldPolicyDocuments, FieldUserPolicies, false},
	} {
		if got := c.f.Covers(c.other); got != c.want {
			t.Errorf("%s covers %s: %v, want %v", c.f, c.other, got, c.want)
		}
	}
}

// TestNoLiteralSectionsOutsideInventory: outside this package, sections and fields are
// named by their constants, never by string literals, so that a typo does not compile
// instead of silently matching nothing. Go converts an untyped string literal to
// Section or Field wherever one is expected; this test finds the places where that
// would happen: a literal given to a Section or Field parameter of the project's
// functions, put in a Section / Unknown field or in a []Section / []Field, or compared
// with a gap's Section.
func TestNoLiteralSectionsOutsideInventory(t *testing.T) {
	names := map[string]bool{}
	for _, s := range []Section{SectionAccount, SectionUsers, SectionPassword, SectionAccessKeys, SectionMFA, SectionRoot, SectionPasswordPolicy,
		SectionSummary, SectionRoles, SectionPolicies, SectionServerCertificates, SectionCredentialReport, SectionEvents, SectionOrganization, SectionRun} {
		names[string(s)] = true
	}
	for f := range fieldNames() {
		names[f] = true
	}
	// Functions (by name) whose string-typed parameters are Sections or Fields.
	typed := map[string]bool{"NewGap": true, "noteGap": true, "userFinding": true, "subjectGaps": true, "fields": true, "UserGap": true,
		"FieldsUnknown": true, "unknownFor": true, "Leaves": true, "Covers": true, "accountGap": true, "leavesFor": true, "related": true,
		"gapOf": true, "hasGap": true, "isUserSection": true, "legacy": true, "typed": true, "userGap": true, "LegacyUnknown": true}
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	var bad []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != root || path == filepath.Join(root, "internal", "inventory")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		literal := func(e ast.Expr) bool {
			l, ok := e.(*ast.BasicLit)
			if !ok || l.Kind != token.STRING {
				return false
			}
			v, err := strconv.Unquote(l.Value)
			return err == nil && names[v]
		}
		report := func(n ast.Node, what string) {
			bad = append(bad, fset.Position(n.Pos()).String()+": "+what)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := ""
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				}
				if typed[name] {
					for _, a := range n.Args {
						if literal(a) {
							report(a, "literal given to "+name)
						}
					}
				}
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && (k.Name == "Section" || k.Name == "Unknown") && literal(n.Value) {
					report(n, "literal "+k.Name)
				}
			case *ast.CompositeLit:
				if at, ok := n.Type.(*ast.ArrayType); ok {
					if sel, ok := at.Elt.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Field" || sel.Sel.Name == "Section") {
						for _, e := range n.Elts {
							if literal(e) {
								report(e, "literal in a []"+sel.Sel.Name)
							}
						}
					}
				}
			case *ast.BinaryExpr:
				if n.Op == token.EQL || n.Op == token.NEQ {
					for _, pair := range [][2]ast.Expr{{n.X, n.Y}, {n.Y, n.X}} {
						if sel, ok := pair[0].(*ast.SelectorExpr); ok && sel.Sel.Name == "Section" && literal(pair[1]) {
							report(n, "Section compared with a literal")
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("section or field names as string literals outside internal/inventory (use the constants):\n%s", strings.Join(bad, "\n"))
	}
}

// fieldNames is every Field constant's name, read from this package's source (so a
// new field is covered without being listed twice).
func fieldNames() map[string]bool {
	out := map[string]bool{}
	f, err := parser.ParseFile(token.NewFileSet(), "gap.go", nil, 0)
	if err != nil {
		panic(err)
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			if id, ok := v.Type.(*ast.Ident); !ok || id.Name != "Field" {
				continue
			}
			for _, val := range v.Values {
				if l, ok := val.(*ast.BasicLit); ok {
					name, _ := strconv.Unquote(l.Value)
					out[name] = true
				}
			}
		}
	}
	return out
}
