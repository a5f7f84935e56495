package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Security Hub speaks REST-JSON: BatchImportFindings is POST /findings/import with a
// JSON body, errors carry X-Amzn-ErrorType. Its limits and rules (docs/aws-facts.md
// "Security Hub"): at most 100 findings per call and 6 MB per call, 240 KB per
// finding, 10 calls per second per account and Region with a burst of 30; a finding
// imported with the default product ARN must name the calling account.
const (
	securityHubMaxFindings   = 100
	securityHubMaxBatchBytes = 6 << 20
	securityHubMaxFinding    = 240 << 10
	securityHubRate          = 10
	securityHubBurst         = 30
	asffSchemaVersion        = "2018-10-08"
)

// asffRequired are the top-level attributes every finding must have (Security Hub
// User Guide, "Required top-level ASFF attributes").
var asffRequired = []string{"AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn",
	"Resources", "SchemaVersion", "Severity", "Title", "Types", "UpdatedAt"}

var (
	asffTypeNamespaces = []string{"Software and Configuration Checks", "TTPs", "Effects", "Unusual Behaviors", "Sensitive Data Identifications"}
	asffLabels         = []string{"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
	asffCompliance     = []string{"PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"}
	asffRecordStates   = []string{"ACTIVE", "ARCHIVED"}
)

func (c *call) serveSecurityHub(r *http.Request) *apiError {
	if c.op != "BatchImportFindings" {
		return errf(404, "ResourceNotFoundException", "The sandbox does not serve %s %s", r.Method, r.URL.Path)
	}
	d := c.s.dest
	if d.disabled[c.cred.Account] {
		return errf(401, "InvalidAccessException", "Account %s is not subscribed to AWS Security Hub", c.cred.Account)
	}
	key := c.cred.Account + "/" + c.region
	d.mu.Lock()
	lim := d.limiters[key]
	if lim == nil {
		lim = rate.NewLimiter(securityHubRate, securityHubBurst)
		d.limiters[key] = lim
	}
	d.mu.Unlock()
	if !lim.Allow() {
		return errf(429, "LimitExceededException", "Rate exceeded")
	}
	if len(c.body) > securityHubMaxBatchBytes {
		return errf(400, "InvalidInputException", "Request size exceeds the maximum of 6 MB")
	}
	var req struct {
		Findings []json.RawMessage
	}
	if err := json.Unmarshal(c.body, &req); err != nil {
		return errf(400, "InvalidInputException", "Invalid JSON: %v", err)
	}
	if req.Findings == nil {
		return errf(400, "InvalidInputException", "Invalid parameter 'Findings': must not be null")
	}
	if len(req.Findings) > securityHubMaxFindings {
		return errf(400, "InvalidInputException", "Invalid parameter 'Findings': array length %d exceeds the maximum of %d", len(req.Findings), securityHubMaxFindings)
	}
	type failed struct {
		Id, ErrorCode, ErrorMessage string
	}
	fails := []failed{}
	imp := Import{Account: c.cred.Account, Region: c.region, Findings: len(req.Findings)}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, raw := range req.Findings {
		var f map[string]any
		if err := json.Unmarshal(raw, &f); err != nil {
			fails = append(fails, failed{"", "InvalidInput", "Finding is not a JSON object"})
			continue
		}
		id, _ := f["Id"].(string)
		code, msg := c.validateFinding(f, len(raw))
		if code == "" {
			d.attempts[key+"/"+id]++
			if d.attempts[key+"/"+id] <= d.opts.FlakyFindings {
				code, msg = "InternalException", "Internal service error, retry the finding"
			}
		}
		if code != "" {
			fails = append(fails, failed{id, code, msg})
			imp.FailedIDs, imp.ErrorCodes = append(imp.FailedIDs, id), append(imp.ErrorCodes, code)
			continue
		}
		if i, ok := d.index[key+"/"+id]; ok {
			d.findings[key][i] = f // the same Id updates the finding
		} else {
			d.index[key+"/"+id] = len(d.findings[key])
			d.findings[key] = append(d.findings[key], f)
		}
	}
	imp.Failed = len(fails)
	d.imports = append(d.imports, imp)
	return c.okRESTJSON(map[string]any{"FailedCount": len(fails), "SuccessCount": len(req.Findings) - len(fails), "FailedFindings": fails})
}

// validateFinding checks a finding as Security Hub does before it accepts it: the
// required attributes, their formats, and that it names the calling account and that
// account's default product. It returns the per-finding error code and message.
func (c *call) validateFinding(f map[string]any, size int) (code, msg string) {
	bad := func(format string, a ...any) (string, string) { return "InvalidInput", fmt.Sprintf(format, a...) }
	if size > securityHubMaxFinding {
		return bad("Finding size %d bytes exceeds the maximum of 240 KB", size)
	}
	for _, k := range asffRequired {
		v, ok := f[k]
		if !ok || v == nil || v == "" {
			return bad("Finding is missing the required attribute %s", k)
		}
	}
	str := func(k string) string { s, _ := f[k].(string); return s }
	if str("SchemaVersion") != asffSchemaVersion {
		return bad("SchemaVersion must be %s", asffSchemaVersion)
	}
	for k, max := range map[string]int{"Id": 512, "Title": 256, "Description": 1024, "GeneratorId": 512} {
		if n := len([]rune(str(k))); n > max {
			return bad("%s is %d characters long, longer than %d", k, n, max)
		}
	}
	for _, k := range []string{"CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt"} {
		if v, ok := f[k]; ok {
			s, _ := v.(string)
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				return bad("%s %q is not an RFC 3339 timestamp", k, s)
			}
		}
	}
	types, _ := f["Types"].([]any)
	if len(types) == 0 || len(types) > 50 {
		return bad("Types must hold 1 to 50 values")
	}
	for _, t := range types {
		s, _ := t.(string)
		parts := strings.Split(s, "/")
		if len(parts) < 1 || len(parts) > 3 || !slices.Contains(asffTypeNamespaces, parts[0]) {
			return bad("Type %q is not namespace/category/classifier with a valid namespace", s)
		}
	}
	sev, _ := f["Severity"].(map[string]any)
	if label, _ := sev["Label"].(string); !slices.Contains(asffLabels, label) {
		return bad("Severity.Label %q must be one of %s", label, strings.Join(asffLabels, ", "))
	}
	res, _ := f["Resources"].([]any)
	if len(res) == 0 || len(res) > 32 {
		return bad("Resources must hold 1 to 32 resources")
	}
	for _, r := range res {
		m, _ := r.(map[string]any)
		if t, _ := m["Type"].(string); t == "" {
			return bad("Resource.Type is required")
		}
		if id, _ := m["Id"].(string); id == "" {
			return bad("Resource.Id is required")
		}
	}
	if comp, ok := f["Compliance"].(map[string]any); ok {
		if st, _ := comp["Status"].(string); !slices.Contains(asffCompliance, st) {
			return bad("Compliance.Status %q must be one of %s", st, strings.Join(asffCompliance, ", "))
		}
	}
	if rs, ok := f["RecordState"]; ok {
		if s, _ := rs.(string); !slices.Contains(asffRecordStates, s) {
			return bad("RecordState %q must be ACTIVE or ARCHIVED", s)
		}
	}
	acct := c.cred.Account
	if str("AwsAccountId") != acct {
		return "AccessDeniedException", fmt.Sprintf("AwsAccountId %s is not the calling account %s: with the default product ARN, import a finding from the account it names", str("AwsAccountId"), acct)
	}
	want := fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", c.s.org.partition, c.region, acct, acct)
	if str("ProductArn") != want {
		return "AccessDeniedException", fmt.Sprintf("ProductArn %s is not %s, the default product of the calling account in %s", str("ProductArn"), want, c.region)
	}
	return "", ""
}

// okRESTJSON renders a REST-JSON response.
func (c *call) okRESTJSON(v any) *apiError {
	out, err := json.Marshal(v)
	if err != nil {
		return errf(500, "InternalException", "encode response: %v", err)
	}
	c.status, c.response = 200, out
	return nil
}
