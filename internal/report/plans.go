package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/fix"
)

// The run's JSON says each remediation once (docs/inventory-schema.md,
// "Remediation plans"): the findings of one check have the same actions but for the
// resource they act on, so the document's "remediations" table holds each distinct
// plan (the check's workflow and its actions without their resource) under a key,
// and a finding's "remediation" names its plan, gives the resource, and keeps what
// is its own: the AWS CLI text for that resource. Reading the document back
// (Document.UnmarshalJSON) gives every finding its workflow and actions again.

// RemediationPlan is a remediation shared by findings: the check's workflow and its
// actions, where an action without a resource acts on the finding's resource.
type RemediationPlan struct {
	CheckID  string       `json:"check_id"`
	Workflow string       `json:"workflow"`
	Actions  []PlanAction `json:"actions"`
}

// PlanAction is an action of a plan: Resource nil means the finding's resource.
type PlanAction struct {
	fix.Action
	Resource *fix.Resource `json:"resource,omitempty"`
}

// maxPlans bounds the table (memory of a streamed run): a finding whose plan is new
// once the table is full carries its actions itself. The checks plan a few shapes
// each; the bound is never reached by them.
const maxPlans = 4096

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
	r := f.Remediation
	out := jsonFinding{Finding: f, Remediation: jsonRemediation{Workflow: r.Workflow, Actions: r.Actions, Commands: Commands(f)}}
	out.Finding.Remediation = checks.Remediation{}
	if len(r.Actions) == 0 {
		return out, nil
	}
	subject := mostUsed(r.Actions)
	plan := RemediationPlan{CheckID: f.CheckID, Workflow: r.Workflow, Actions: make([]PlanAction, len(r.Actions))}
	for i, a := range r.Actions {
		plan.Actions[i].Action = a
		if a.Resource != subject {
			res := a.Resource
			plan.Actions[i].Resource = &res
		}
	}
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

// mostUsed is the resource most of the actions act on (the first of those tied).
func mostUsed(actions []fix.Action) fix.Resource {
	best, bestN := actions[0].Resource, 0
	for _, a := range actions {
		n := 0
		for _, b := range actions {
			if b.Resource == a.Resource {
				n++
			}
		}
		if n > bestN {
			best, bestN = a.Resource, n
		}
	}
	return best
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
	f.Remediation.Actions = make([]fix.Action, len(plan.Actions))
	for i, a := range plan.Actions {
		act := a.Action
		act.Resource = subject
		if a.Resource != nil {
			act.Resource = *a.Resource
		}
		f.Remediation.Actions[i] = act
	}
	return f, nil
}
