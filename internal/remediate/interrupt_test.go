package remediate

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/iamaudit/iamaudit/internal/store"
)

// childEnv runs the test binary as a child that applies a plan and stops (for good:
// the parent kills it) between two actions, or during a call.
const childEnv = "IAMAUDIT_REMEDIATE_TEST_CHILD"

const paused = "PAUSED-FOR-KILL"

// child applies IAMAUDIT_REMEDIATE_TEST_PLAN against the endpoint and store the
// environment names; mode "between" pauses after item 1's action, "during" just
// before item 2's call (its before entry written).
func child(mode string) int {
	env := func(k string) string { return os.Getenv("IAMAUDIT_REMEDIATE_TEST_" + k) }
	ctx := context.Background()
	st, err := store.Open(ctx, env("DB"), store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	p, err := ReadPlan(env("PLAN"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	run, err := st.Load(ctx, p.RunID)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	base := aws.Config{Region: env("REGION"), BaseEndpoint: aws.String(env("URL")),
		Credentials: credentials.NewStaticCredentialsProvider(env("AKID"), env("SECRET"), "")}
	hook := func(point string, item, action int) {
		if (mode == "between" && point == "between-actions" && item == 1) || (mode == "during" && point == "before-call" && item == 2) {
			fmt.Println(paused)
			os.Stdout.Sync()
			select {} // killed here
		}
	}
	_, err = Apply(ctx, p, ApplyOptions{Journal: st, Config: DefaultConfig(), Execute: true, Confirm: Yes{}, Run: run,
		Connector: &Connector{Base: base, Role: DefaultRole, SessionName: "iamaudit-remediate", Partition: p.Partition, Region: p.Region},
		JournalID: env("JOURNAL"), Hook: hook})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// runAndKill runs a child apply and kills it (SIGKILL) once it says it paused.
func runAndKill(t *testing.T, w *world, mode, planFile, journalID string) {
	t.Helper()
	ak, sk := w.srv.Credentials()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, "IAMAUDIT_REMEDIATE_TEST_DB="+w.dbPath, "IAMAUDIT_REMEDIATE_TEST_PLAN="+planFile,
		"IAMAUDIT_REMEDIATE_TEST_URL="+w.srv.URL(), "IAMAUDIT_REMEDIATE_TEST_REGION="+w.srv.Region(),
		"IAMAUDIT_REMEDIATE_TEST_AKID="+ak, "IAMAUDIT_REMEDIATE_TEST_SECRET="+sk, "IAMAUDIT_REMEDIATE_TEST_JOURNAL="+journalID)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	got := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == paused {
				got <- true
				return
			}
		}
		got <- false
	}()
	select {
	case ok := <-got:
		if !ok {
			cmd.Wait()
			t.Fatalf("the child ended without pausing: %s", stderr.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the child did not pause: %s", stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
}

// An apply killed between two actions, or during a call, leaves a journal from which
// verify and rollback work: the finished action is confirmed and undone; the one the
// journal has no answer for is read fresh (it had not run) and left alone; resuming
// the journal finishes the plan.
func TestInterruptedApply(t *testing.T) {
	for _, mode := range []string{"between", "during"} {
		t.Run(mode, func(t *testing.T) {
			w := demoWorld(t, nil)
			p := w.plan(Selection{Workflows: []Workflow{DeactivateKey}, Users: []string{"backup-agent", "reporting-bot"}}, DefaultConfig())
			if len(p.Items) != 2 {
				t.Fatalf("plan %+v", p.Items)
			}
			planFile := filepath.Join(t.TempDir(), "plan.json")
			if err := WritePlan(planFile, p); err != nil {
				t.Fatal(err)
			}
			journal := NewJournalID(time.Now())
			runAndKill(t, w, mode, planFile, journal)

			k1, k2 := p.Items[0].AccessKeyID, p.Items[1].AccessKeyID
			user1, user2 := p.Items[0].User, p.Items[1].User
			if w.keyStatus(prodID, user1, k1) != "Inactive" || w.keyStatus(prodID, user2, k2) != "Active" {
				t.Fatalf("after the kill: %s %s", w.keyStatus(prodID, user1, k1), w.keyStatus(prodID, user2, k2))
			}
			want := []string{"apply/begin/0/0/", "apply/session/0/0/", "apply/before/1/1/", "apply/after/1/1/ok"}
			if mode == "during" {
				want = append(want, "apply/before/2/1/")
			}
			if got := w.entries(journal); !slices.Equal(got, want) {
				t.Fatalf("journal %v, want %v", got, want)
			}

			v, vout := w.verify(journal)
			if v.Actions[0].IAM != IAMConfirmed || v.Actions[0].Trail != TrailFound || v.Problems() != 0 {
				t.Fatalf("verify %+v\n%s", v.Actions, vout)
			}
			if mode == "during" && (len(v.Actions) != 2 || v.Actions[1].Journal != "uncertain" || v.Actions[1].IAM != IAMNot ||
				!strings.Contains(vout, "interrupted")) {
				t.Fatalf("verify of the interrupted call %+v\n%s", v.Actions, vout)
			}

			if mode == "during" {
				// Resuming finishes the plan: the interrupted call is checked and made.
				rep, out := w.apply(p, func(o *ApplyOptions) { o.JournalID, o.Resume = journal, true })
				if rep.Items[0].Status != ItemComplete || rep.Items[1].Status != ItemApplied || w.keyStatus(prodID, user2, k2) != "Inactive" {
					t.Fatalf("resume %+v\n%s", rep.Items, out)
				}
			}
			rb, rout := w.rollback(journal, true)
			if w.keyStatus(prodID, user1, k1) != "Active" || w.keyStatus(prodID, user2, k2) != "Active" {
				t.Fatalf("after rollback %s %s\n%s", w.keyStatus(prodID, user1, k1), w.keyStatus(prodID, user2, k2), rout)
			}
			for _, u := range rb.Undos {
				if u.Status != UndoDone && u.Status != UndoNotApplied {
					t.Errorf("undo %+v", u)
				}
			}
		})
	}
}
