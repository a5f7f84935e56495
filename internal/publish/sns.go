package publish

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"golang.org/x/time/rate"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
)

// SNS's limits (docs/aws-facts.md "SNS", SNS API Reference, Publish): a message of at
// most 262,144 bytes of UTF-8; a subject of fewer than 100 characters with no line
// breaks or control characters.
const (
	snsMaxMessage = 262144
	snsMaxSubject = 99
)

// SNS publishes seed 003's summary to a topic: the subject "IAM Audit: N critical,
// N high, N medium", and a message with the same line, the most severe findings and
// the console summary, cut to fit SNS's size limit (the findings file has the rest).
type SNS struct {
	Config   aws.Config
	TopicARN string
	// Lang is the summary's language (en, es).
	Lang  string
	Retry Retry
}

// Name implements Destination.
func (s *SNS) Name() string { return "SNS " + s.TopicARN }

// Subject is seed 003's subject line, within SNS's rules.
func Subject(o *outcome.Outcome) string {
	n := map[checks.Severity]int{}
	if o.Bounded != nil { // a streamed run keeps the most severe findings: count from the scores
		c := o.Scores.Organization.Findings
		n[checks.Critical], n[checks.High], n[checks.Medium] = c.Critical, c.High, c.Medium
	}
	for _, f := range o.Findings {
		if !f.Suppressed && o.Bounded == nil {
			n[f.Severity]++
		}
	}
	subj := fmt.Sprintf("IAM Audit: %d critical, %d high, %d medium", n[checks.Critical], n[checks.High], n[checks.Medium])
	if o.Incomplete() {
		subj += " (incomplete)"
	}
	return cleanSubject(subj)
}

// cleanSubject keeps printable ASCII only and fewer than 100 characters.
func cleanSubject(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return ' '
		}
		return r
	}, s)
	if len(s) > snsMaxSubject {
		s = s[:snsMaxSubject]
	}
	return s
}

// Message is the summary published, at most 262,144 bytes: fewer finding lines when
// the full list does not fit. where names the findings file (or its S3 location).
func Message(o *outcome.Outcome, lang, where string) (string, error) {
	var msg string
	for _, max := range []int{report.DefaultMaxFindings, 25, 10, 5, 1} {
		var b bytes.Buffer
		b.WriteString(Subject(o) + "\n\n")
		fmt.Fprintf(&b, "Run %s, %s %s\n\n", o.Inventory.RunID, o.Inventory.Tool, o.Inventory.Version)
		if err := report.WriteSummaryWith(&b, o.Findings, o.Scores, o.Expired, report.SummaryOptions{
			Lang: lang, MaxFindings: max, FindingsFile: where, Resolved: o.Resolved, Inventory: o.Inventory}); err != nil {
			return "", err
		}
		msg = b.String()
		if len(msg) <= snsMaxMessage {
			return msg, nil
		}
	}
	// Still too long (thousands of accounts): cut at the limit, on a rune boundary.
	return strings.ToValidUTF8(msg[:snsMaxMessage-len("\n…")], "") + "\n…", nil
}

// Publish implements Destination.
func (s *SNS) Publish(ctx context.Context, run Run) Result {
	var res Result
	a, err := arn.Parse(s.TopicARN)
	if err != nil || a.Service != "sns" {
		res.Failures = append(res.Failures, Failure{Item: "summary", Message: fmt.Sprintf("%q is not an SNS topic ARN", s.TopicARN)})
		return res
	}
	where := ""
	for _, f := range run.Files {
		if strings.Contains(f, report.FindingsReportName(run.Outcome.Inventory.RunID)) {
			where = f
		}
	}
	msg, err := Message(run.Outcome, s.Lang, where)
	if err != nil {
		res.Failures = append(res.Failures, Failure{Item: "summary", Message: err.Error()})
		return res
	}
	cfg := s.Config.Copy()
	cfg.Region = a.Region // a topic is published to in its own Region
	lim := rate.NewLimiter(10, 1)
	client := sns.NewFromConfig(cfg, func(o *sns.Options) {
		o.Retryer, o.RetryMaxAttempts = s.Retry.retryer(), 0
		o.APIOptions = append(o.APIOptions, pace(lim))
	})
	out, err := client.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(s.TopicARN), Subject: aws.String(Subject(run.Outcome)), Message: aws.String(msg)})
	if err != nil {
		res.Failures = append(res.Failures, Failure{Item: "summary", Code: errorCode(err), Message: errorMessage(err)})
		return res
	}
	res.Sent = 1
	res.Summary = fmt.Sprintf("summary published (message %s, %d bytes)", aws.ToString(out.MessageId), len(msg))
	return res
}
