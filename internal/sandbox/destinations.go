package sandbox

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sync"

	"golang.org/x/time/rate"
)

// Destinations are where a run can send its results in the sandbox: S3 buckets, SNS
// topics, and Security Hub (enabled in every account unless listed as disabled).
// What arrives is kept for tests (Server.Received).
type Destinations struct {
	Buckets []Bucket
	// Topics are SNS topic ARNs (arn:aws:sns:REGION:ACCOUNT:NAME).
	Topics []string
	// SecurityHubDisabled are accounts where Security Hub is not enabled:
	// BatchImportFindings answers InvalidAccessException there, as AWS does.
	SecurityHubDisabled []string
	// FlakyFindings makes the first N import attempts of each finding id fail with a
	// per-finding InternalException (a transient failure a client must retry).
	FlakyFindings int
}

// Bucket is an S3 bucket of an account.
type Bucket struct {
	Name    string
	Account string
	// KMSKeys are the KMS key ARNs SSE-KMS may name for this bucket; any other key is
	// KMS.NotFoundException.
	KMSKeys []string
}

// Received is what the destinations received, in arrival order.
type Received struct {
	// Findings are the findings Security Hub holds, by "account/region", in the order
	// first imported, each as the JSON object last imported with its Id.
	Findings map[string][]map[string]any
	// Imports are the BatchImportFindings calls that were answered 200.
	Imports []Import
	// Objects are the objects put, by "bucket/key" (the last put of each key).
	Objects map[string]Object
	// Messages are the SNS messages published.
	Messages []Message
}

// Import is one answered BatchImportFindings call.
type Import struct {
	Account, Region       string
	Findings, Failed      int
	FailedIDs, ErrorCodes []string
}

// Object is an S3 object as stored.
type Object struct {
	Bucket, Key, ContentType string
	Body                     []byte
	// SSE is x-amz-server-side-encryption as applied (AES256 when the request named
	// none: S3 encrypts every new object with SSE-S3 by default); KMSKey its key.
	SSE, KMSKey string
	// ExpectedOwner is the x-amz-expected-bucket-owner the request carried.
	ExpectedOwner string
	// Account is who put it.
	Account string
}

// Message is one SNS Publish.
type Message struct {
	TopicArn, Subject, Message, MessageID, Account string
}

type destinations struct {
	opts     Destinations
	buckets  map[string]Bucket
	topics   map[string]bool
	disabled map[string]bool

	mu       sync.Mutex
	findings map[string][]map[string]any // account/region → findings
	index    map[string]int              // account/region/id → position in findings
	attempts map[string]int              // account/region/id → import attempts
	imports  []Import
	objects  map[string]Object
	messages []Message
	// limiters pace BatchImportFindings per account and region (10/s, burst 30).
	limiters map[string]*rate.Limiter
}

var topicARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$`)

func newDestinations(d Destinations, o *org) (*destinations, error) {
	out := &destinations{opts: d, buckets: map[string]Bucket{}, topics: map[string]bool{}, disabled: map[string]bool{},
		findings: map[string][]map[string]any{}, index: map[string]int{}, attempts: map[string]int{},
		objects: map[string]Object{}, limiters: map[string]*rate.Limiter{}}
	for _, b := range d.Buckets {
		if o.byID[b.Account] == nil {
			return nil, fmt.Errorf("sandbox: bucket %s: account %s is not in the scenario", b.Name, b.Account)
		}
		out.buckets[b.Name] = b
	}
	for _, t := range d.Topics {
		if !topicARNRe.MatchString(t) {
			return nil, fmt.Errorf("sandbox: %q is not an SNS topic ARN", t)
		}
		out.topics[t] = true
	}
	for _, a := range d.SecurityHubDisabled {
		out.disabled[a] = true
	}
	return out, nil
}

// Received returns a copy of what the destinations received.
func (s *Server) Received() Received {
	d := s.dest
	d.mu.Lock()
	defer d.mu.Unlock()
	r := Received{Findings: map[string][]map[string]any{}, Objects: maps.Clone(d.objects),
		Imports: slices.Clone(d.imports), Messages: slices.Clone(d.messages)}
	for k, fs := range d.findings {
		for _, f := range fs {
			// A deep copy through JSON: the stored values are JSON already.
			b, _ := json.Marshal(f)
			var c map[string]any
			_ = json.Unmarshal(b, &c)
			r.Findings[k] = append(r.Findings[k], c)
		}
	}
	return r
}
