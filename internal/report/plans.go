package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/fix"
)

// The run's JSON says each remediation once (docs/inventory-schema.md,
// "Remediation plans"): the findings of one check have the same actions but for the
// names they act on, so the document's "remediations" table holds each distinct
// plan (the check's workflow and its actions, where the names of the finding's
// subject are placeholders such as ${user_name}) under a key, and a finding's
// "remediation" names its plan, gives its subject (the names), and keeps what is its
// own: the AWS CLI text for that resource. Reading the document back
// (Document.UnmarshalJSON) gives every finding its workflow and actions again.

// RemediationPlan is a remediation shared by findings: the check's workflow and its
// actions, in which a string that is exactly a placeholder (${account_id},
// ${user_name}, ${access_key_id}, ${role_name}, ${group_name},
// ${server_certificate_name}, ${mfa_serial}, ${signing_certificate_id},
// ${ssh_public_key_id}, ${service_specific_credential_id}) stands for that name of the
// finding's subject, and ${account_id} in an ARN for the subject's account id.
type RemediationPlan struct {
	CheckID  string       `json:"check_id"`
	Workflow string       `json:"workflow"`
	Actions  []fix.Action `json:"actions"`
}

// maxPlans bounds the table (memory of a streamed run): a finding whose plan is new
// once the table is full carries its actions itself. The checks plan a few shapes
// each (one more per account where an action names an ARN); the bound is far.
const maxPlans = 4096

// accountToken stands for the subject's account id in an ARN of a plan
// (arn:aws:iam::${account_id}:policy/…).
const accountToken = "${account_id}"

// subjectName is one name of a subject and its placeholder.
type subjectName struct {
	token string
	value *string
}

// subjectNames are the names of a subject a plan's placeholders stand for (an
// array: no allocation for each of a run's findings).
func subjectNames(r *fix.Resource) [10]subjectName {
	return [10]subjectName{
		{"${account_id}", &r.AccountID}, {"${user_name}", &r.UserName}, {"${access_key_id}", &r.AccessKeyID},
		{"${role_name}", &r.RoleName}, {"${group_name}", &r.GroupName}, {"${server_certificate_name}", &r.ServerCertificateName},
		{"${mfa_serial}", &r.MFASerial}, {"${signing_certificate_id}", &r.SigningCertificateID},
		{"${ssh_public_key_id}", &r.SSHPublicKeyID}, {"${service_specific_credential_id}", &r.ServiceSpecificCredentialID},
	}
}

// subjectOf is the names the actions act on: each the first value any action's
// resource gives it.
func subjectOf(actions []fix.Action) fix.Resource {
	var subject fix.Resource
	names := subjectNames(&subject)
	for _, a := range actions {
		res := a.Resource
		for i, n := range subjectNames(&res) {
			if *names[i].value == "" {
				*names[i].value = *n.value
			}
		}
	}
	return subject
}

// names calls f on each string of an action a plan may hold a placeholder in,
// after copying what the action shares with others through pointers and slices.
func names(a *fix.Action, f func(*string)) {
	r := &a.Resource
	for _, n := range subjectNames(r) {
		f(n.value)
	}
	p := &a.Params
	for _, s := range []*string{&p.Status, &p.GroupName, &p.PolicyName, &p.PolicyARN, &p.Query, &p.RoleSessionName,
		&p.StackSetName, &p.StackInstanceRegion, &p.Path, &p.PermissionsBoundary} {
		f(s)
	}
	if p.Tag != nil {
		t := *p.Tag
		p.Tag = &t
		f(&t.Key)
		f(&t.Value)
	}
	if p.LookupAttribute != nil {
		l := *p.LookupAttribute
		p.LookupAttribute = &l
		f(&l.Key)
		f(&l.Value)
	}
	if p.Tags != nil {
		p.Tags = slices.Clone(p.Tags)
		for i := range p.Tags {
			f(&p.Tags[i].Key)
			f(&p.Tags[i].Value)
		}
	}
}

// planOf is the plan of actions acting on subject: each name of the subject replaced
// by its placeholder. ok is false when an action already holds a placeholder's text
// (the plan could not be told from it: the finding keeps its actions).
func planOf(actions []fix.Action, subject fix.Resource) (out []fix.Action, ok bool) {
	ok = true
	out = make([]fix.Action, len(actions))
	sn := subjectNames(&subject)
	copy(out, actions)
	for i := range out {
		names(&out[i], func(s *string) {
			if strings.Contains(*s, "${") {
				ok = false
			}
			for _, n := range sn {
				if *n.value != "" && *s == *n.value {
					*s = n.token
					return
				}
			}
			if acct := subject.AccountID; acct != "" && strings.HasPrefix(*s, "arn:") {
				*s = strings.Replace(*s, ":"+acct+":", ":"+accountToken+":", 1)
			}
		})
	}
	return out, ok
}

// expand is planOf undone: the actions of a plan for subject.
func expand(plan []fix.Action, subject fix.Resource) []fix.Action {
	out := slices.Clone(plan)
	sn := subjectNames(&subject)
	for i := range out {
		names(&out[i], func(s *string) {
			for _, n := range sn {
				if *s == n.token {
					*s = *n.value
					return
				}
			}
			if strings.HasPrefix(*s, "arn:") {
				*s = strings.Replace(*s, ":"+accountToken+":", ":"+subject.AccountID+":", 1)
			}
		})
	}
	return out
}

// jsonFinding is a finding as the document writes it.
type jsonFinding struct {
	checks.Finding
	Remediation jsonRemediation `json:"remediation"`
}

// jsonRemediation is a finding's remediation in the document: its plan and resource,
// or (no plan: no actions, or the table full) its workflow and actions; and its
// commands.
type jsonRemediation struct {
	Plan     string        `json:"plan,omitempty"`
	Resource *fix.Resource `json:"resource,omitempty"`
	Workflow string        `json:"workflow,omitempty"`
	Actions  []fix.Action  `json:"actions,omitempty"`
	Commands []string      `json:"commands,omitempty"`
}

// plans is the table being built as findings are written.
type plans struct {
	byKey map[string]RemediationPlan
	json  map[string]string // the plan's JSON, to tell a hash collision from the same plan
}

func newPlans() *plans { return &plans{byKey: map[string]RemediationPlan{}, json: map[string]string{}} }

// table is the document's "remediations" (empty: none).
func (p *plans) table() map[string]RemediationPlan { return p.byKey }

// finding is f as the document writes it, its commands rendered (Commands), its plan
// filed in the table.
func (p *plans) finding(f checks.Finding) (jsonFinding, error) {
	return p.findingWith(f, Commands)
}

// findingWith is finding with the commands of cmds (a part's: partCommands).
func (p *plans) findingWith(f checks.Finding, cmds func(checks.Finding) []string) (jsonFinding, error) {
	r := f.Remediation
	out := jsonFinding{Finding: f, Remediation: jsonRemediation{Workflow: r.Workflow, Actions: r.Actions, Commands: cmds(f)}}
	out.Finding.Remediation = checks.Remediation{}
	if len(r.Actions) == 0 {
		return out, nil
	}
	subject := subjectOf(r.Actions)
	actions, ok := planOf(r.Actions, subject)
	if !ok {
		return out, nil
	}
	plan := RemediationPlan{CheckID: f.CheckID, Workflow: r.Workflow, Actions: actions}
	b, err := json.Marshal(plan)
	if err != nil {
		return out, err
	}
	sum := sha256.Sum256(b)
	key := f.CheckID + "." + hex.EncodeToString(sum[:6])
	if have, ok := p.json[key]; ok {
		if have != string(b) {
			return out, nil // a collision of 48 bits: this finding keeps its actions
		}
	} else {
		if len(p.byKey) >= maxPlans {
			return out, nil
		}
		p.byKey[key], p.json[key] = plan, string(b)
	}
	out.Remediation = jsonRemediation{Plan: key, Resource: &subject, Commands: out.Remediation.Commands}
	return out, nil
}

// findingsOf is findings as the document writes them.
func (p *plans) findingsOf(fs []checks.Finding) ([]jsonFinding, error) {
	out := make([]jsonFinding, len(fs))
	for i, f := range fs {
		jf, err := p.finding(f)
		if err != nil {
			return nil, err
		}
		out[i] = jf
	}
	return out, nil
}

// resolve is a finding read from a document, with its plan's workflow and actions.
func resolve(jf jsonFinding, table map[string]RemediationPlan) (checks.Finding, error) {
	f, r := jf.Finding, jf.Remediation
	f.Remediation = checks.Remediation{Workflow: r.Workflow, Actions: r.Actions, Commands: r.Commands}
	if r.Plan == "" {
		return f, nil
	}
	plan, ok := table[r.Plan]
	if !ok {
		return f, fmt.Errorf("finding %s: remediation plan %q is not in the document's remediations", f.ID, r.Plan)
	}
	var subject fix.Resource
	if r.Resource != nil {
		subject = *r.Resource
	}
	f.Remediation.Workflow = plan.Workflow
	f.Remediation.Actions = expand(plan.Actions, subject)
	return f, nil
}
