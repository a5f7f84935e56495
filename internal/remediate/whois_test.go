package remediate

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// whois on a key of the demo Organization: from the store and live, with its owner,
// status, age, last use and the CloudTrail events made with it; on an unknown key:
// unknown, said so. --deactivate goes through Apply (journaled), and rolls back.
func TestWhoisSandbox(t *testing.T) {
	w := demoWorld(t, nil)
	w.audit()
	whois := func(key string) (*WhoisReport, string) {
		t.Helper()
		c := w.connector()
		r, err := Whois(context.Background(), key, WhoisOptions{Store: w.store, Connector: c, Clock: w.clock.Now})
		w.record(c)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		r.Print(&b, w.clock.Now())
		return r, b.String()
	}
	r, out := whois("AKIAUJZDEGXDNCF32EPF")
	if !r.Known || !r.Live || r.AccountID != prodID || r.AccountName != "Production" || r.User != "legacy-etl" || r.Key.Status != "Active" ||
		r.Key.Service != "s3" || len(r.Owner) != 2 || !r.EventsKnown || !strings.Contains(out, "created 2018-06-15") ||
		!strings.Contains(out, "[run ") || !strings.Contains(out, "sts:GetAccessKeyInfo") {
		t.Fatalf("%+v\n%s", r, out)
	}

	// A key that signs requests shows them.
	ctx := context.Background()
	admin := w.admin(stagingID)
	k := mustKey(t, admin, "qa-runner")
	cfg := w.base.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(k.id, k.secret, "")
	for i := 0; i < 2; i++ {
		if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	r, out = whois(k.id)
	if r.Known || !r.Live || r.User != "qa-runner" || r.AccountID != stagingID || !strings.Contains(out, "known:     in no stored run") || r.Key.LastUsed == nil {
		t.Fatalf("a key newer than the run: %+v\n%s", r, out)
	}

	r, out = whois("AKIAZZZZZZZZZZZZZZZZ")
	if r.Known || r.AccountID != "" || !strings.Contains(out, "unknown key") || !strings.Contains(out, "user:      unknown") ||
		!strings.Contains(out, "last used: unknown") {
		t.Fatalf("unknown key: %+v\n%s", r, out)
	}
	if _, err := Whois(ctx, "not-a-key", WhoisOptions{}); err == nil {
		t.Fatal("a malformed key id was accepted")
	}

	// --deactivate: a whois plan, applied like any other.
	r, _ = whois("AKIAWB5WKH7DNSIPZZ7F")
	p, err := r.DeactivatePlan(NewPlanID(w.clock.Now()), w.clock.Now(), "aws", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	rep, aout := w.apply(p, func(o *ApplyOptions) { o.Run = nil })
	if rep.Items[0].Status != ItemApplied || w.keyStatus(prodID, "backup-agent", "AKIAWB5WKH7DNSIPZZ7F") != "Inactive" {
		t.Fatalf("%+v\n%s", rep.Items, aout)
	}
	r, out = whois("AKIAWB5WKH7DNSIPZZ7F")
	if len(r.Journal) != 1 || !strings.Contains(out, "iam:UpdateAccessKey ok") {
		t.Fatalf("the journal is not shown: %+v\n%s", r.Journal, out)
	}
	w.rollback(rep.JournalID, true)
	if st := w.keyStatus(prodID, "backup-agent", "AKIAWB5WKH7DNSIPZZ7F"); st != "Active" {
		t.Fatalf("rollback %s", st)
	}
	// An edited whois plan is refused.
	p.Items[0].Actions[0].Resource.AccessKeyID = "AKIAUJZDEGXDNCF32EPF"
	_, _, err = w.applyErr(p, func(o *ApplyOptions) { o.Run = nil })
	wantRefusal(t, err, GuardPlanEdited)
	_ = time.Second
}
