package sandbox

import (
	"unicode"
	"unicode/utf8"
)

// SNS speaks the Query protocol (form POST, XML answers), as IAM does. Publish's
// rules (SNS API Reference, Publish; docs/aws-facts.md "SNS"): the topic exists
// (NotFound); Message is non-empty UTF-8 of at most 262,144 bytes; Subject, when
// given, has no line breaks or control characters and is under 100 characters.
const (
	snsMaxMessage = 262144
	snsMaxSubject = 99
)

func (c *call) serveSNS() *apiError {
	if c.op != "Publish" {
		return errf(400, "InvalidAction", "The action %s is not valid for this web service.", c.op)
	}
	d := c.s.dest
	topic, msg, subject := c.form.Get("TopicArn"), c.form.Get("Message"), c.form.Get("Subject")
	if topic == "" {
		return errf(400, "InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
	}
	if !d.topics[topic] {
		return errf(404, "NotFound", "Topic does not exist")
	}
	switch {
	case msg == "":
		return errf(400, "InvalidParameter", "Invalid parameter: Empty message")
	case len(msg) > snsMaxMessage:
		return errf(400, "InvalidParameter", "Invalid parameter: Message too long")
	case !utf8.ValidString(msg):
		return errf(400, "InvalidParameter", "Invalid parameter: Message must be UTF-8")
	}
	if c.form.Has("Subject") {
		if subject == "" || utf8.RuneCountInString(subject) > snsMaxSubject || !utf8.ValidString(subject) {
			return errf(400, "InvalidParameter", "Invalid parameter: Subject")
		}
		for _, r := range subject {
			if unicode.IsControl(r) {
				return errf(400, "InvalidParameter", "Invalid parameter: Subject")
			}
		}
	}
	id := newRequestID()
	d.mu.Lock()
	d.messages = append(d.messages, Message{TopicArn: topic, Subject: subject, Message: msg, MessageID: id, Account: c.cred.Account})
	d.mu.Unlock()
	var b xw
	b.el("MessageId", id)
	c.okXML(&b)
	return nil
}
