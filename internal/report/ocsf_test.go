package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/iamaudit/iamaudit/internal/checks"
)

// ocsfSchema is the vendored subset of OCSF 1.3.0 (testdata/ocsf-1.3.0/SOURCE.md).
type ocsfSchema struct {
	dir  string
	dict map[string]ocsfAttr
}

type ocsfAttr struct {
	Requirement string                     `json:"requirement"`
	Type        string                     `json:"type"`
	IsArray     bool                       `json:"is_array"`
	Enum        map[string]json.RawMessage `json:"enum"`
}

type ocsfDef struct {
	Extends    string                     `json:"extends"`
	Profiles   []string                   `json:"profiles"`
	Attributes map[string]json.RawMessage `json:"attributes"`
}

func loadOCSF(t *testing.T) *ocsfSchema {
	t.Helper()
	s := &ocsfSchema{dir: "testdata/ocsf-1.3.0"}
	var d struct{ Attributes map[string]ocsfAttr }
	s.read(t, "dictionary.json", &d)
	s.dict = d.Attributes
	return s
}

func (s *ocsfSchema) read(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		t.Fatalf("OCSF schema file %s not vendored: %v", name, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// attrs merges a definition with what it extends and includes (profiles only when
// active), the most specific layer last.
func (s *ocsfSchema) attrs(t *testing.T, file string, profiles map[string]bool) map[string]ocsfAttr {
	t.Helper()
	var def ocsfDef
	s.read(t, file, &def)
	out := map[string]ocsfAttr{}
	if def.Extends != "" && def.Extends != "object" {
		parent := "objects/" + def.Extends + ".json"
		if strings.HasPrefix(file, "events/") {
			parent = "events/" + def.Extends + ".json"
			if def.Extends != "base_event" {
				parent = "events/findings/" + def.Extends + ".json"
			}
		}
		for k, v := range s.attrs(t, parent, profiles) {
			out[k] = v
		}
	}
	if inc, ok := def.Attributes["$include"]; ok {
		var files []string
		_ = json.Unmarshal(inc, &files)
		for _, f := range files {
			if strings.HasPrefix(f, "profiles/") && !profiles[strings.TrimSuffix(strings.TrimPrefix(f, "profiles/"), ".json")] {
				continue
			}
			for k, v := range s.attrs(t, f, profiles) {
				out[k] = v
			}
		}
	}
	for k, raw := range def.Attributes {
		if k == "$include" {
			continue
		}
		var a ocsfAttr
		_ = json.Unmarshal(raw, &a)
		prev := out[k]
		if a.Requirement == "" {
			a.Requirement = prev.Requirement
		}
		if a.Enum == nil {
			a.Enum = prev.Enum
		}
		out[k] = a
	}
	return out
}

// validate checks v against the attributes: the required ones present, none that the
// class or object does not define, types and enums as the dictionary says.
func (s *ocsfSchema) validate(t *testing.T, where string, v map[string]any, attrs map[string]ocsfAttr, profiles map[string]bool) []string {
	var errs []string
	for name, a := range attrs {
		if _, ok := v[name]; a.Requirement == "required" && !ok {
			errs = append(errs, fmt.Sprintf("%s: required %s missing", where, name))
		}
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a, ok := attrs[k]
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: %s is not an attribute of it", where, k))
			continue
		}
		d := s.dict[k]
		enum := a.Enum
		if enum == nil {
			enum = d.Enum
		}
		vals := []any{v[k]}
		if d.IsArray {
			arr, ok := v[k].([]any)
			if !ok {
				errs = append(errs, fmt.Sprintf("%s.%s: not an array", where, k))
				continue
			}
			vals = arr
		}
		for _, val := range vals {
			switch d.Type {
			case "string_t":
				if _, ok := val.(string); !ok {
					errs = append(errs, fmt.Sprintf("%s.%s: %v is not a string", where, k, val))
				}
			case "integer_t", "long_t", "timestamp_t":
				n, ok := val.(float64)
				if !ok || n != float64(int64(n)) {
					errs = append(errs, fmt.Sprintf("%s.%s: %v is not an integer", where, k, val))
				}
				// class_uid, category_uid and type_uid enums are built by the schema's
				// server from the classes; they are checked against the class below.
				if enum != nil && k != "class_uid" && k != "category_uid" && k != "type_uid" {
					if _, ok := enum[fmt.Sprint(int64(n))]; !ok {
						errs = append(errs, fmt.Sprintf("%s.%s: %v is not in its enum", where, k, val))
					}
				}
			case "json_t", "object":
			default: // an object type
				m, ok := val.(map[string]any)
				if !ok {
					errs = append(errs, fmt.Sprintf("%s.%s: not an object", where, k))
					continue
				}
				errs = append(errs, s.validate(t, where+"."+k, m, s.attrs(t, "objects/"+d.Type+".json", profiles), profiles)...)
			}
		}
	}
	return errs
}

// Every finding of the demo fixture, open and resolved, is a valid OCSF 1.3.0
// Compliance Finding: required attributes, known attributes only, types and enums
// from the schema itself.
func TestOCSFValidAgainstTheSchema(t *testing.T) {
	t.Parallel()
	o := markdownOutcome()
	if len(o.Findings) == 0 {
		t.Fatal("no findings in the fixture")
	}
	res := o.Findings[0]
	res.State = checks.StateResolved
	o.Resolved = append(o.Resolved, res)
	var b bytes.Buffer
	if err := writeOCSF(&b, o, Messages{}); err != nil {
		t.Fatal(err)
	}
	var events []map[string]any
	if err := json.Unmarshal(b.Bytes(), &events); err != nil {
		t.Fatal(err)
	}
	if len(events) != len(o.Findings)+1 {
		t.Fatalf("%d events for %d findings", len(events), len(o.Findings)+1)
	}
	s := loadOCSF(t)
	profiles := map[string]bool{"cloud": true}
	class := s.attrs(t, "events/findings/compliance_finding.json", profiles)
	for i, e := range events {
		for _, err := range s.validate(t, fmt.Sprintf("event %d", i), e, class, profiles) {
			t.Error(err)
		}
		if e["class_uid"] != float64(2003) || e["category_uid"] != float64(2) ||
			e["type_uid"] != float64(200300)+e["activity_id"].(float64) {
			t.Errorf("event %d: class %v category %v type %v", i, e["class_uid"], e["category_uid"], e["type_uid"])
		}
	}
	last := events[len(events)-1]
	comp := last["compliance"].(map[string]any)
	if last["activity_id"] != float64(3) || comp["status_id"] != float64(1) || last["status_id"] != float64(4) {
		t.Errorf("resolved finding: activity %v compliance %v status %v", last["activity_id"], comp["status_id"], last["status_id"])
	}
	first := events[0]
	if first["finding_info"].(map[string]any)["uid"] != o.Findings[0].ID || first["metadata"].(map[string]any)["version"] != "1.3.0" {
		t.Errorf("first event: %v", first)
	}
}
