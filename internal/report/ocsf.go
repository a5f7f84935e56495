package report

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/outcome"
)

// OCSFReportName is the run's OCSF file name.
func OCSFReportName(runID string) string { return "iamaudit_ocsf_" + runID + ".json" }

// OCSFVersion is the OCSF schema version the file follows.
const OCSFVersion = "1.3.0"

// ocsfFormat writes the findings as OCSF 1.3.0 Compliance Finding events (class 2003),
// a JSON array, for SIEMs that ingest OCSF (Amazon Security Lake, Splunk, Microsoft
// Sentinel). Compliance Finding, not Detection Finding: every check is an evaluation
// of a resource against a rule (CIS AWS Foundations Benchmark controls, Security Hub
// controls, the checks of docs/checks.md), with a pass or fail status, which is what
// OCSF's Compliance Finding describes; Detection Finding is for detections of threats
// and anomalies in activity. Open findings are activity Create (new) or Update (seen
// before), status Fail; resolved ones Close, status Pass (docs/checks.md "Outputs").
var ocsfFormat = Format{
	Name:        "ocsf",
	Description: "findings as OCSF 1.3.0 Compliance Finding events (Security Lake, Splunk, Sentinel)",
	FileName:    OCSFReportName,
	Analyze:     true,
	Write:       writeOCSF,
	Stream:      streamOCSF,
}

type ocsfEvent struct {
	ActivityID   int             `json:"activity_id"`
	ActivityName string          `json:"activity_name"`
	CategoryUID  int             `json:"category_uid"`
	CategoryName string          `json:"category_name"`
	ClassUID     int             `json:"class_uid"`
	ClassName    string          `json:"class_name"`
	TypeUID      int             `json:"type_uid"`
	TypeName     string          `json:"type_name"`
	SeverityID   int             `json:"severity_id"`
	Severity     string          `json:"severity"`
	Time         int64           `json:"time"`
	Message      string          `json:"message"`
	StatusID     int             `json:"status_id"`
	Status       string          `json:"status"`
	Metadata     ocsfMetadata    `json:"metadata"`
	Cloud        ocsfCloud       `json:"cloud"`
	FindingInfo  ocsfFindingInfo `json:"finding_info"`
	Compliance   ocsfCompliance  `json:"compliance"`
	Resources    []ocsfResource  `json:"resources"`
	Remediation  *ocsfRemedy     `json:"remediation,omitempty"`
	Unmapped     map[string]any  `json:"unmapped,omitempty"`
}

type ocsfMetadata struct {
	Version  string      `json:"version"`
	Product  ocsfProduct `json:"product"`
	Profiles []string    `json:"profiles"`
	LogName  string      `json:"log_name"`
	UID      string      `json:"uid"`
}

type ocsfProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

type ocsfCloud struct {
	Provider string       `json:"provider"`
	Region   string       `json:"region,omitempty"`
	Account  *ocsfAccount `json:"account,omitempty"`
}

type ocsfAccount struct {
	UID    string `json:"uid"`
	Name   string `json:"name,omitempty"`
	Type   string `json:"type"`
	TypeID int    `json:"type_id"`
}

type ocsfFindingInfo struct {
	UID           string   `json:"uid"`
	Title         string   `json:"title"`
	Desc          string   `json:"desc"`
	Types         []string `json:"types,omitempty"`
	CreatedTime   int64    `json:"created_time"`
	FirstSeenTime int64    `json:"first_seen_time,omitempty"`
	LastSeenTime  int64    `json:"last_seen_time,omitempty"`
}

type ocsfCompliance struct {
	Standards    []string `json:"standards"`
	Requirements []string `json:"requirements,omitempty"`
	Control      string   `json:"control"`
	StatusID     int      `json:"status_id"`
	Status       string   `json:"status"`
}

type ocsfResource struct {
	UID            string `json:"uid"`
	Name           string `json:"name,omitempty"`
	Type           string `json:"type"`
	CloudPartition string `json:"cloud_partition,omitempty"`
	Region         string `json:"region,omitempty"`
}

type ocsfRemedy struct {
	Desc       string   `json:"desc"`
	References []string `json:"references,omitempty"`
}

func writeOCSF(w io.Writer, o *outcome.Outcome, _ Messages) error {
	arr := jsonArray{w: w, outer: "", indent: "  "}
	for _, f := range WithCommands(o.Findings) {
		if err := arr.add(ocsfOf(o, f)); err != nil {
			return err
		}
	}
	for _, f := range WithCommands(o.Resolved) {
		if err := arr.add(ocsfOf(o, f)); err != nil {
			return err
		}
	}
	return arr.end("\n")
}

// ocsfStream streams the OCSF file. An event names the run (metadata.uid and
// log_name hold the run id, claimed only at the end), its time (the outcome's Now)
// and the run's start, so each part's events are rendered as they come with the
// values the head gives for those, and spooled under their finding's severity and
// account; Close copies the events in Write's order (the findings in checks.Sort's
// order across all accounts, then the resolved ones in the same order) and puts the
// summary's values in place of any that changed (a run id claimed as …_2). A value
// the head does not give is rendered as a placeholder (a random nonce makes the run
// id's unguessable) and always filled in. The tool version, partition and region
// come from the run's head and must be the summary's.
type ocsfStream struct {
	w              io.Writer
	sp             *spool
	head           *outcome.Outcome // the head's inventory, run id and times, as rendered
	open, resolved findingSet
	ind            indenter
}

// ocsfSep comes before each event of the file's array (the first's is "[\n  ").
const ocsfSep = ",\n  "

// The placeholders' times: no run is that old.
var (
	ocsfNowMark     = time.UnixMilli(1)
	ocsfStartedMark = time.UnixMilli(2)
)

// findingSet is what a spool holds of findings: the accounts and severities seen.
type findingSet struct {
	prefix     string
	accounts   map[string]bool
	severities map[checks.Severity]bool
}

func newFindingSet(prefix string) findingSet {
	return findingSet{prefix: prefix, accounts: map[string]bool{}, severities: map[checks.Severity]bool{}}
}

func (s findingSet) note(f checks.Finding) string {
	s.accounts[f.AccountID], s.severities[f.Severity] = true, true
	return s.prefix + findingKey(f)
}

func (s findingSet) order() []string {
	keys := findingOrder(s.accounts, s.severities)
	for i := range keys {
		keys[i] = s.prefix + keys[i]
	}
	return keys
}

func streamOCSF(w io.Writer, head *outcome.Outcome, _ Messages) (Streamer, error) {
	nonce := make([]byte, 8)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	sp, err := newSpool(w)
	if err != nil {
		return nil, err
	}
	inv := *head.Inventory
	inv.Accounts = nil
	now := head.Now
	if inv.RunID == "" {
		inv.RunID = "\x00run-" + hex.EncodeToString(nonce) + "\x00"
	}
	if inv.StartedAt.IsZero() {
		inv.StartedAt = ocsfStartedMark
	}
	if now.IsZero() {
		now = ocsfNowMark
	}
	return &ocsfStream{w: w, sp: sp, head: &outcome.Outcome{Inventory: &inv, Now: now},
		open: newFindingSet("f/"), resolved: newFindingSet("r/")}, nil
}

func (s *ocsfStream) Account(p outcome.Part) error {
	for _, set := range []struct {
		fs  []checks.Finding
		set findingSet
	}{{p.Findings, s.open}, {p.Resolved, s.resolved}} {
		for _, f := range withCommands(sortedFindings(set.fs), partCommands(p)) {
			b, err := s.ind.append(ocsfSep, ocsfOf(s.head, f), "  ", "  ")
			if err != nil {
				return err
			}
			if err := s.sp.add(set.set.note(f), b); err != nil {
				return err
			}
		}
	}
	return nil
}

// ocsfMarks are the replacements that turn events rendered with the head's run id
// and times into the summary's: only of the values that differ. Each is anchored
// on its field's name as MarshalIndent writes it (a quote inside a JSON string is
// escaped, so user text cannot hold one).
func ocsfMarks(head, o *outcome.Outcome) [][2][]byte {
	quoted := func(v string) string { b, _ := json.Marshal(v); return string(b[1 : len(b)-1]) }
	ms := func(t time.Time) string { return strconv.FormatInt(t.UTC().UnixMilli(), 10) }
	var marks [][2][]byte
	add := func(old, new string) { marks = append(marks, [2][]byte{[]byte(old), []byte(new)}) }
	if was, is := head.Inventory.RunID, o.Inventory.RunID; was != is {
		add(`"log_name": "iamaudit `+quoted(was)+`"`, `"log_name": "iamaudit `+quoted(is)+`"`)
		add(`"uid": "`+quoted(was)+`/`, `"uid": "`+quoted(is)+`/`)
	}
	for _, end := range []string{",", "\n"} { // the number ends its field, the last of its object or not
		if was, is := ms(head.Now), ms(o.Now); was != is {
			add(`"time": `+was+end, `"time": `+is+end)
		}
		if was, is := ms(head.Inventory.StartedAt), ms(o.Inventory.StartedAt); was != is {
			add(`"created_time": `+was+end, `"created_time": `+is+end)
		}
	}
	return marks
}

func (s *ocsfStream) Close(o *outcome.Outcome) error {
	defer s.sp.close()
	inv, head := o.Inventory, s.head.Inventory
	if inv.Version != head.Version || inv.Partition != head.Partition || inv.Region != head.Region {
		return fmt.Errorf("ocsf: the run's version, partition or region changed after its start (%s %s %s, then %s %s %s)",
			head.Version, head.Partition, head.Region, inv.Version, inv.Partition, inv.Region)
	}
	marks := ocsfMarks(s.head, o)
	bw := bufio.NewWriterSize(s.w, 1<<20) // a system call per MiB
	// Each event was spooled after its separator: the spool's bytes are the file's,
	// but for the marks.
	if err := s.sp.copyArray(bw, append(s.open.order(), s.resolved.order()...), ocsfSep, "", marks); err != nil {
		return fmt.Errorf("ocsf: the spooled events: %w", err)
	}
	if _, err := bw.WriteString("\n"); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return s.sp.close()
}

func ocsfOf(o *outcome.Outcome, f checks.Finding) ocsfEvent {
	inv := o.Inventory
	ms := func(t time.Time) int64 { return t.UTC().UnixMilli() }
	act, actName := 1, "Create"
	switch f.State {
	case checks.StateResolved:
		act, actName = 3, "Close"
	case checks.StateOpen, checks.StateSuppressed:
		act, actName = 2, "Update"
	}
	sevID, sevName := map[checks.Severity]int{checks.Low: 2, checks.Medium: 3, checks.High: 4, checks.Critical: 5}[f.Severity], "Informational"
	if sevID == 0 {
		sevID = 1
	} else {
		sevName = map[int]string{2: "Low", 3: "Medium", 4: "High", 5: "Critical"}[sevID]
	}
	statusID, status := 1, "New"
	switch {
	case f.State == checks.StateResolved:
		statusID, status = 4, "Resolved"
	case f.Suppressed:
		statusID, status = 3, "Suppressed"
	case f.State == checks.StateOpen:
		statusID, status = 2, "In Progress"
	}
	compID, comp := 3, "Fail"
	if f.State == checks.StateResolved {
		compID, comp = 1, "Pass"
	}
	standards := []string{}
	var reqs []string
	for _, c := range f.CIS {
		reqs = append(reqs, "CIS AWS Foundations Benchmark "+c)
	}
	if len(f.CIS) > 0 {
		standards = append(standards, "CIS AWS Foundations Benchmark")
	}
	if len(f.SecurityHub) > 0 {
		standards = append(standards, "AWS Foundational Security Best Practices")
		reqs = append(reqs, f.SecurityHub...)
	}
	if len(standards) == 0 {
		standards = append(standards, "iamaudit checks")
	}
	e := ocsfEvent{
		ActivityID: act, ActivityName: actName,
		CategoryUID: 2, CategoryName: "Findings", ClassUID: 2003, ClassName: "Compliance Finding",
		TypeUID: 200300 + act, TypeName: "Compliance Finding: " + actName,
		SeverityID: sevID, Severity: sevName,
		Time:     ms(o.Now),
		Message:  f.Message,
		StatusID: statusID, Status: status,
		Metadata: ocsfMetadata{Version: OCSFVersion, Product: ocsfProduct{Name: "iamaudit", VendorName: "iamaudit", Version: inv.Version},
			Profiles: []string{"cloud"}, LogName: "iamaudit " + inv.RunID, UID: inv.RunID + "/" + f.ID},
		Cloud: ocsfCloud{Provider: "AWS", Region: inv.Region, Account: &ocsfAccount{UID: f.AccountID, Name: f.AccountName, Type: "AWS Account", TypeID: 10}},
		FindingInfo: ocsfFindingInfo{UID: f.ID, Title: f.Title, Desc: f.Message, Types: []string{f.CheckID},
			CreatedTime: ms(inv.StartedAt)},
		Compliance: ocsfCompliance{Standards: standards, Requirements: reqs, Control: f.CheckID, StatusID: compID, Status: comp},
		Resources:  []ocsfResource{{UID: resourceUID(f), Name: f.User, Type: ocsfResourceType(f.ResourceType), CloudPartition: inv.Partition, Region: inv.Region}},
		Unmapped:   map[string]any{"iamaudit": map[string]any{"state": f.State, "evidence": f.Evidence, "suppression_reason": f.SuppressionReason}},
	}
	if text := f.Remediation.Workflow; text != "" {
		e.Remediation = &ocsfRemedy{Desc: text, References: f.Remediation.Commands}
	}
	return e
}

func resourceUID(f checks.Finding) string {
	if f.Resource != "" {
		return f.Resource
	}
	return f.AccountID
}

// ocsfResourceType names a finding's resource as CloudFormation types do, which OCSF
// consumers of AWS data expect.
func ocsfResourceType(t string) string {
	switch t {
	case checks.ResourceUser:
		return "AWS::IAM::User"
	case checks.ResourceAccessKey, checks.ResourceRootAccessKey:
		return "AWS::IAM::AccessKey"
	case checks.ResourceRole:
		return "AWS::IAM::Role"
	case checks.ResourceGroup:
		return "AWS::IAM::Group"
	case checks.ResourceServerCertificate:
		return "AWS::IAM::ServerCertificate"
	}
	return "AWS::::Account"
}
