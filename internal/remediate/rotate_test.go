package remediate

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// confirmNewKey is the operator who confirms the new key works.
type confirmNewKey struct{ asked []string }

func (c *confirmNewKey) Accounts(context.Context, []AccountRef) error { return nil }
func (c *confirmNewKey) NewKey(_ context.Context, _ *Item, id string) (bool, error) {
	c.asked = append(c.asked, id)
	return true, nil
}

var secretLine = regexp.MustCompile(`aws_secret_access_key = (\S+)`)

// readSecret reads the one secret of a secret file.
func readSecret(t *testing.T, path string) (keyID, secret string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file %s: %v %v", path, fi, err)
	}
	b, _ := os.ReadFile(path)
	m := secretLine.FindSubmatch(b)
	k := regexp.MustCompile(`aws_access_key_id = (\S+)`).FindSubmatch(b)
	if m == nil || k == nil {
		t.Fatalf("secret file:\n%s", b)
	}
	return string(k[1]), string(m[1])
}

// scanForSecret fails when secret is in any file under the directories (but the one
// allowed), or in any of the texts.
func scanForSecret(t *testing.T, secret, allowed string, dirs []string, texts map[string]string) {
	t.Helper()
	if len(secret) < 20 {
		t.Fatalf("secret %q too short to scan for", secret)
	}
	n := 0
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || p == allowed {
				return nil
			}
			b, rerr := os.ReadFile(p)
			if rerr != nil {
				t.Errorf("read %s: %v", p, rerr)
				return nil
			}
			n++
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("the secret is in %s", p)
			}
			return nil
		})
	}
	if n == 0 {
		t.Fatal("no file scanned")
	}
	for name, s := range texts {
		if strings.Contains(s, secret) {
			t.Errorf("the secret is in %s", name)
		}
	}
}

// rotate-key (seed 004 workflow 5): the second key is created, its secret written only
// to the file named, 0600; once the owner confirms it works, the old key is
// deactivated. The secret is in no other file, not in the output, the journal or the
// store, and not in CloudTrail. Rollback reactivates the old key and deactivates the new.
func TestRotateKeySandbox(t *testing.T) {
	w := demoWorld(t, nil)
	p := w.plan(Selection{Workflows: []Workflow{RotateKey}, Users: []string{"qa-runner"}}, DefaultConfig())
	if len(p.Items) != 1 || p.Items[0].CheckID != "access_key_not_rotated" {
		t.Fatalf("plan %+v %+v", p.Items, p.Skipped)
	}
	old := p.Items[0].AccessKeyID
	planDir := t.TempDir()
	planFile := filepath.Join(planDir, "plan.json")
	if err := WritePlan(planFile, p); err != nil {
		t.Fatal(err)
	}
	secretDir := t.TempDir()
	secretFile := filepath.Join(secretDir, "new-keys")
	conf := &confirmNewKey{}
	// Without a secret file, an executed apply is refused before anything is done.
	var out strings.Builder
	opts := w.applyOpts(p, &out)
	if _, err := Apply(ctxT(t), p, opts); err == nil || !strings.Contains(err.Error(), "--secret-file") {
		t.Fatalf("no secret file: %v", err)
	}
	rep, log := w.apply(p, func(o *ApplyOptions) {
		o.Secrets, o.Confirm = &SecretFile{Path: secretFile}, conf
	})
	if rep.Items[0].Status != ItemApplied || len(conf.asked) != 1 || conf.asked[0] != rep.Items[0].NewKeyID {
		t.Fatalf("%+v asked %v\n%s", rep.Items, conf.asked, log)
	}
	newKey, secret := readSecret(t, secretFile)
	if newKey != rep.Items[0].NewKeyID || w.keyStatus(stagingID, "qa-runner", newKey) != "Active" || w.keyStatus(stagingID, "qa-runner", old) != "Inactive" {
		t.Fatalf("keys after rotation: new %s %s, old %s", newKey, w.keyStatus(stagingID, "qa-runner", newKey), w.keyStatus(stagingID, "qa-runner", old))
	}
	// The secret is the new key's: it signs a request.
	cfg := w.base.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(newKey, secret, "")
	if id, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil ||
		!strings.HasSuffix(aws.ToString(id.Arn), "/qa-runner") {
		t.Fatalf("the new key does not sign: %v %v", id, err)
	}
	v, vout := w.verify(rep.JournalID)
	rb, rout := w.rollback(rep.JournalID, true)
	if w.keyStatus(stagingID, "qa-runner", old) != "Active" || w.keyStatus(stagingID, "qa-runner", newKey) != "Inactive" {
		t.Fatalf("after rollback: old %s new %s\n%s", w.keyStatus(stagingID, "qa-runner", old), w.keyStatus(stagingID, "qa-runner", newKey), rout)
	}
	for _, vv := range v.Actions {
		if vv.IAM != IAMConfirmed || vv.Trail != TrailFound {
			t.Errorf("verify %+v\n%s", vv, vout)
		}
	}
	// Scan: the store's files (database, WAL), the plan's directory, every output, the
	// journal's entries, CloudTrail.
	entries, err := w.store.JournalEntries(context.Background(), storeFilterAll())
	if err != nil {
		t.Fatal(err)
	}
	var journal strings.Builder
	for _, e := range entries {
		journal.WriteString(e.Message + string(e.Detail))
	}
	ev, err := cloudtrail.NewFromConfig(w.assumed(stagingID, "OrganizationAccountAccessRole")).LookupEvents(context.Background(),
		&cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("CreateAccessKey")}}})
	if err != nil || len(ev.Events) == 0 {
		t.Fatalf("CloudTrail: %v", err)
	}
	var trail strings.Builder
	for _, e := range ev.Events {
		trail.WriteString(aws.ToString(e.CloudTrailEvent))
	}
	w.store.DB().Exec("PRAGMA wal_checkpoint(FULL)")
	scanForSecret(t, secret, secretFile, []string{filepath.Dir(w.dbPath), planDir, secretDir},
		map[string]string{"apply output": log, "verify output": vout, "rollback output": rout, "journal": journal.String(), "CloudTrail": trail.String()})
	if !strings.Contains(log, "its secret is in "+secretFile) {
		t.Errorf("the output does not say where the secret is:\n%s", log)
	}
	_ = rb
	w.checkCalls()
}

// With --yes nobody can confirm the new key works: the old key stays Active and the
// item waits; --resume later (after deploying the key) deactivates the old one, and an
// existing secret file is never overwritten.
func TestRotateKeyWaitsForConfirmation(t *testing.T) {
	w := demoWorld(t, nil)
	p := w.plan(Selection{Workflows: []Workflow{RotateKey}, Users: []string{"qa-runner"}}, DefaultConfig())
	old := p.Items[0].AccessKeyID
	taken := filepath.Join(t.TempDir(), "taken")
	os.WriteFile(taken, []byte("do not touch\n"), 0o600)
	var out strings.Builder
	opts := w.applyOpts(p, &out)
	opts.Secrets = &SecretFile{Path: taken}
	if _, err := Apply(ctxT(t), p, opts); err == nil || !strings.Contains(err.Error(), "secret file") {
		t.Fatalf("existing secret file: %v", err)
	}
	if b, _ := os.ReadFile(taken); string(b) != "do not touch\n" {
		t.Fatalf("the existing file was changed: %q", b)
	}
	if keys, _ := w.admin(stagingID).ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String("qa-runner")}); len(keys.AccessKeyMetadata) != 1 {
		t.Fatalf("a key was created although the secret file could not be: %+v", keys.AccessKeyMetadata)
	}
	secretFile := filepath.Join(t.TempDir(), "new-keys")
	rep, log := w.apply(p, func(o *ApplyOptions) { o.Secrets = &SecretFile{Path: secretFile} })
	if rep.Items[0].Status != ItemPending || w.keyStatus(stagingID, "qa-runner", old) != "Active" || rep.Items[0].NewKeyID == "" {
		t.Fatalf("%+v\n%s", rep.Items, log)
	}
	rep2, log2 := w.apply(p, func(o *ApplyOptions) { o.JournalID, o.Resume = rep.JournalID, true })
	if rep2.Items[0].Status != ItemApplied || w.keyStatus(stagingID, "qa-runner", old) != "Inactive" || w.keyStatus(stagingID, "qa-runner", rep.Items[0].NewKeyID) != "Active" {
		t.Fatalf("resume %+v\n%s", rep2.Items, log2)
	}
	if keys, _ := w.admin(stagingID).ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String("qa-runner")}); len(keys.AccessKeyMetadata) != 2 {
		t.Fatalf("resume created another key: %+v", keys.AccessKeyMetadata)
	}
}
