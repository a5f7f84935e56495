package fix

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var subjects = []Subject{
	{AccountID: "111122223333", User: "alice", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Role: "r", ServerCertificate: "c",
		AttachedPolicies: []Policy{{Name: "p", ARN: "arn:aws:iam::111122223333:policy/p"}, {Name: "q"}}, InlinePolicies: []string{"i"}},
	{AccountID: "111122223333", User: "bob"}, // a key without id, no owner tag, no thresholds
	{AccountID: "111122223333", Group: "g"},
}

var targets = []Target{
	{Partition: "aws", Region: "us-east-1", AuditRole: "IAMAuditRole"},
	{Partition: "aws-us-gov", Region: "us-gov-west-1"},
	{Partition: "aws-cn", Region: "cn-north-1", AuditRole: "OrganizationAccountAccessRole"},
}

// Every action carries what an executor needs: the operation, the account, the
// partition and region of the target, credentials; read-only operations are checks and
// only they are; a field left to the operator is empty and has a placeholder.
func TestPlanActionsAreComplete(t *testing.T) {
	t.Parallel()
	readOnly := func(api API) bool {
		return api == STSAssumeRole || strings.HasPrefix(api.Name, "Get") || strings.HasPrefix(api.Name, "List") ||
			strings.HasPrefix(api.Name, "Describe") || strings.HasPrefix(api.Name, "Lookup")
	}
	for _, tg := range targets {
		for _, s := range subjects {
			for _, r := range Recipes() {
				actions := Plan(r, s, tg)
				if len(actions) == 0 {
					t.Fatalf("%s: no actions", r)
				}
				for i, a := range actions {
					where := string(r) + "/" + tg.Partition + "/" + s.User + s.Group
					if a.Partition != tg.Partition || a.Region != tg.Region || a.Resource.AccountID != s.AccountID || a.Credentials == "" {
						t.Errorf("%s action %d: target or account missing: %+v", where, i, a)
					}
					switch a.Kind {
					case Manual:
						if a.API != (API{}) || a.Note == "" {
							t.Errorf("%s action %d: a manual step has a note and no API: %+v", where, i, a)
						}
					case Check, Change:
						if a.API.Service == "" || a.API.Name == "" || (a.Kind == Check) != readOnly(a.API) {
							t.Errorf("%s action %d: kind %s for %s", where, i, a.Kind, a.API.Name)
						}
					default:
						t.Errorf("%s action %d: kind %q", where, i, a.Kind)
					}
					for f, ph := range a.Unknown {
						if ph == "" || fieldValue(t, a, f) != "" {
							t.Errorf("%s action %d: unknown %s has placeholder %q and value %q", where, i, f, ph, fieldValue(t, a, f))
						}
					}
					if d := a.Params.Document; d != nil {
						if _, err := d.Text(); err != nil {
							t.Errorf("%s action %d: %v", where, i, err)
						}
					}
					for _, arn := range []string{a.Params.PolicyARN, a.Params.Document.text(t)} {
						fromInventory := slices.ContainsFunc(s.AttachedPolicies, func(p Policy) bool { return p.ARN == arn })
						if strings.Contains(arn, "arn:") && !strings.Contains(arn, "arn:"+tg.Partition+":") && !fromInventory {
							t.Errorf("%s action %d: ARN outside %s: %s", where, i, tg.Partition, arn)
						}
					}
				}
			}
		}
	}
	if Plan("no_such_recipe", subjects[0], targets[0]) != nil {
		t.Error("an unknown recipe planned actions")
	}
}

func (d *Document) text(t *testing.T) string {
	if d == nil {
		return ""
	}
	s, err := d.Text()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fieldValue reads the field an Unknown key names, through the action's JSON, so the
// Field constants are checked against the JSON names too.
func fieldValue(t *testing.T, a Action, f Field) string {
	t.Helper()
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var cur any = m
	for _, p := range strings.Split(string(f), ".") {
		obj, _ := cur.(map[string]any)
		cur = obj[p] // nil when absent: the field is empty
	}
	s, _ := cur.(string)
	return s
}

// The Field constants name the JSON paths of the fields they stand for.
func TestFieldNames(t *testing.T) {
	t.Parallel()
	a := Action{Resource: Resource{RoleName: "x", AccessKeyID: "x"}, Params: Params{GroupName: "x", PolicyName: "x", PolicyARN: "x",
		Tag: &Tag{Key: "k", Value: "x"}, LookupAttribute: &LookupAttribute{Key: "k", Value: "x"}}}
	for _, f := range []Field{FieldRoleName, FieldAccessKeyID, FieldGroupName, FieldPolicyName, FieldPolicyARN, FieldTagValue, FieldLookupValue} {
		if fieldValue(t, a, f) != "x" {
			t.Errorf("field %s does not name a field of Action's JSON", f)
		}
	}
}

// An action survives the JSON of the run file: the remediation issue reads it back.
func TestActionJSONRoundTrip(t *testing.T) {
	t.Parallel()
	for _, r := range Recipes() {
		for _, a := range Plan(r, subjects[0], targets[1]) {
			b, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			var back Action
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a, back) {
				t.Errorf("%s: round trip\n got %+v\nwant %+v", r, back, a)
			}
		}
	}
}

// The shipped RequireMFAPolicy is seed 004's workflow 1 document.
func TestRequireMFAPolicyIsTheSeeds(t *testing.T) {
	t.Parallel()
	b, err := ShippedDocument(RequireMFAPolicy)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version   string
		Statement []struct {
			Sid, Effect, Resource string
			NotAction             []string
			Condition             map[string]map[string]string
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	want := []string{"iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices",
		"iam:ListVirtualMFADevices", "iam:ResyncMFADevice", "sts:GetSessionToken"}
	if doc.Version != "2012-10-17" || len(doc.Statement) != 1 {
		t.Fatalf("document %s", b)
	}
	st := doc.Statement[0]
	if st.Sid != "DenyAllExceptMFASetup" || st.Effect != "Deny" || st.Resource != "*" || !slices.Equal(st.NotAction, want) ||
		st.Condition["BoolIfExists"]["aws:MultiFactorAuthPresent"] != "false" {
		t.Errorf("statement %+v", st)
	}
	if _, err := ShippedDocument("nope"); err == nil {
		t.Error("a document that is not shipped was found")
	}
}

func TestPlanValues(t *testing.T) {
	t.Parallel()
	gov := targets[1]
	role := Plan(DeployAuditRole, subjects[0], gov)[0]
	if role.Credentials != InManagement || role.Resource.RoleName != "" || role.Unknown[FieldRoleName] != "ROLE_NAME" {
		t.Errorf("assume-role without a known role: %+v", role)
	}
	if a := Plan(DeployAuditRole, subjects[0], targets[0])[0]; a.Resource.RoleName != "IAMAuditRole" || a.Unknown != nil {
		t.Errorf("assume-role with the audit role: %+v", a)
	}
	if a := Plan(DeployAuditRole, subjects[0], gov)[1]; a.Params.StackInstanceRegion != "us-gov-west-1" {
		t.Errorf("stack instance region %q", a.Params.StackInstanceRegion)
	}
	if a := Plan(ReviewRootUse, subjects[0], gov)[0]; !a.RegionPinned || a.Region != "us-gov-west-1" {
		t.Errorf("root sign-in events are in the home region: %+v", a)
	}
	pp := Plan(SetPasswordPolicy, Subject{AccountID: "1", PasswordMinLength: 20, PasswordReusePrevention: 24}, gov)[0].Params.PasswordPolicy
	if pp == nil || pp.MinimumPasswordLength != 20 || pp.PasswordReusePrevention != 24 || !pp.RequireSymbols || !pp.AllowUsersToChangePassword {
		t.Errorf("password policy %+v", pp)
	}
	if pp := Plan(SetPasswordPolicy, Subject{AccountID: "1"}, gov)[0].Params.PasswordPolicy; pp.MinimumPasswordLength != 14 || pp.PasswordReusePrevention != 1 {
		t.Errorf("password policy floor %+v", pp)
	}
	if a := Plan(TagOwner, subjects[1], gov)[1]; a.Params.Tag == nil || a.Params.Tag.Key != "Owner" || a.Unknown[FieldTagValue] != "OWNER" {
		t.Errorf("tag owner: %+v", a)
	}
	moved := Plan(MovePoliciesToGroups, subjects[0], gov)
	if len(moved) != 4 || moved[1].Params.PolicyARN != "arn:aws:iam::111122223333:policy/p" ||
		moved[2].Unknown[FieldPolicyARN] != "POLICY_ARN_OF_q" || moved[3].Params.PolicyName != "i" {
		t.Errorf("move policies: %+v", moved)
	}
	if a := Plan(CreateSupportRole, subjects[0], gov)[0]; !strings.Contains(a.Params.Document.JSON, `"arn:aws-us-gov:iam::111122223333:root"`) {
		t.Errorf("trust policy %s", a.Params.Document.JSON)
	}
	keyless := Plan(DisableAccessKey, subjects[1], gov)
	if keyless[0].Unknown[FieldAccessKeyID] != "ACCESS_KEY_ID" || keyless[1].Unknown[FieldLookupValue] != "ACCESS_KEY_ID" {
		t.Errorf("a key without id: %+v", keyless)
	}
}
