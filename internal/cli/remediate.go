package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamaudit/iamaudit/internal/remediate"
	"github.com/iamaudit/iamaudit/internal/store"
)

// RemediateOptions are the options of `iamaudit remediate` and its subcommands.
type RemediateOptions struct {
	factory *Factory
	DB      string
	Config  string
	// plan
	Workflows []string
	Findings  []string
	Accounts  []string
	Users     []string
	RunID     string
	Out       string
	Format    string
	// apply, rollback, verify, whois
	Plan           string
	JournalID      string
	Execute        bool
	Yes            bool
	Role           string
	Profile        string
	Region         string
	ExternalID     string
	SessionName    string
	OwnCredentials bool
	Force          bool
	SecretFile     string
	Resume         string
	Case           string
}

func (o *RemediateOptions) addStoreFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DB, "db", "", "store of runs and journals: a SQLite file or postgres://… (default $"+store.EnvDB+", else ~/.local/state/iamaudit/iamaudit.db)")
	fs.StringVar(&o.Config, "config", "", "remediation config (protected accounts, users, tags; guard rail numbers): configs/remediation/remediation.yaml")
}

func (o *RemediateOptions) addAWSFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Role, "role", remediate.DefaultRole, "the remediation role to assume in each account (never the read-only audit role)")
	fs.StringVar(&o.Profile, "profile", "", "AWS CLI profile of the management account (default: the standard chain)")
	fs.StringVar(&o.Region, "region", "", "AWS region for the SDK (IAM and CloudTrail calls go to the partition's home region)")
	fs.StringVar(&o.ExternalID, "external-id", "", "external id required by the role's trust policy")
	fs.StringVar(&o.SessionName, "session-name", "iamaudit-remediate", "role session name (shows in CloudTrail)")
	fs.BoolVar(&o.OwnCredentials, "own-credentials", false, "in your own account, act with your own credentials when the role is not there")
}

func (o *RemediateOptions) addChangeFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.Execute, "execute", false, "act: without it this is a dry run that changes nothing")
	fs.BoolVar(&o.Yes, "yes", false, "confirm without typing each account's name (automation); without it stdin must be a terminal")
}

// newRemediateCmd builds `iamaudit remediate`; runF, when not nil, replaces the work
// of every subcommand (runRemediate) so that flag parsing is tested apart.
func newRemediateCmd(f *Factory, runF func(context.Context, string, *RemediateOptions) error) *cobra.Command {
	if runF == nil {
		runF = runRemediate
	}
	opts := &RemediateOptions{factory: f}
	cmd := &cobra.Command{
		Use:   "remediate",
		Short: "Plan, apply, verify and roll back seed 004's remediation workflows",
		Long: `Remediate the findings of the latest stored run with seed 004's workflows, safely:

  iamaudit remediate plan --workflow deactivate-key     a plan file; changes nothing
  iamaudit remediate apply PLAN                         a dry run: reads, checks, shows
  iamaudit remediate apply PLAN --execute               asks for each account's name, then acts
  iamaudit remediate verify [JOURNAL]                   in CloudTrail and by fresh IAM reads
  iamaudit remediate rollback JOURNAL --execute         undoes what can be undone

Workflows: enforce-mfa, release-mfa (release), deactivate-key, delete-key, rotate-key,
delete-user; migrate-to-roles is guidance (iamaudit remediate guide). Every action is
written to the journal in the store before and after it runs. docs/remediation.md
describes the guard rails.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	opts.addStoreFlags(cmd.PersistentFlags())

	plan := &cobra.Command{
		Use:   "plan [--workflow W]... [--finding ID]... [--account A]... [--user U]...",
		Short: "Plan remediation from the latest stored run (changes nothing)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, w := range opts.Workflows {
				if _, err := remediate.ParseWorkflow(w); err != nil {
					return &UsageError{Err: fmt.Errorf("--workflow: %w", err)}
				}
			}
			for _, id := range opts.Accounts {
				if id == "" {
					return usageErrorf("--account: give an account id or name")
				}
			}
			if opts.Format != "" && opts.Format != "text" && opts.Format != "json" {
				return usageErrorf("--format %q: use text or json", opts.Format)
			}
			return runF(cmd.Context(), "plan", opts)
		},
	}
	pf := plan.Flags()
	pf.StringSliceVar(&opts.Workflows, "workflow", nil, "workflows to plan (comma separated; default all but rotate-key): enforce-mfa, release-mfa, deactivate-key, delete-key, rotate-key, delete-user")
	pf.StringSliceVar(&opts.Findings, "finding", nil, "only these finding ids")
	pf.StringSliceVar(&opts.Accounts, "account", nil, "only these accounts (ids or names)")
	pf.StringSliceVar(&opts.Users, "user", nil, "only these users")
	pf.StringVar(&opts.RunID, "run", "latest", "the stored run to plan from")
	pf.StringVar(&opts.Out, "out", "", "the plan file to write (default iamaudit-plan_YYYYMMDD_HHMMSS.json here)")
	pf.StringVar(&opts.Format, "format", "text", "what to print: text (the plan for a person) or json (the plan file's content)")

	apply := &cobra.Command{
		Use:   "apply PLAN [--execute] [--yes]",
		Short: "Apply a plan: a dry run unless --execute",
		Long: `Apply a plan made by 'iamaudit remediate plan'. Without --execute this is a dry run: every
item's evidence is read again and every guard rail checked, and nothing changes. With
--execute you type each account's name (or alias) to confirm, or give --yes (automation;
without --yes, stdin must be a terminal). Each action is written to the journal before and
after it runs; the first unexpected error stops everything.

rotate-key needs --secret-file FILE: the new key's secret goes to that file only (created
owner-only, never over an existing file), then you confirm the new key works before the
old one is deactivated; with --yes the old key stays Active and
'apply PLAN --execute --yes --resume JOURNAL' finishes the rotation once the new key is deployed.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("%s takes the plan file", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Plan = args[0]
			if err := opts.checkConfirmation(); err != nil {
				return err
			}
			return runF(cmd.Context(), "apply", opts)
		},
	}
	af := apply.Flags()
	opts.addAWSFlags(af)
	opts.addChangeFlags(af)
	af.BoolVar(&opts.Force, "force", false, "act on a key used in the last 7 days (seed 004: coordinate with the owner first)")
	af.StringVar(&opts.SecretFile, "secret-file", "", "rotate-key: the file that receives the new keys' secrets (must not exist)")
	af.StringVar(&opts.Resume, "resume", "", "continue this journal's apply of the same plan (after an interruption, or to finish a rotation)")

	rollback := &cobra.Command{
		Use:   "rollback JOURNAL [--execute] [--yes]",
		Short: "Undo what a journal's apply did and can be undone: a dry run unless --execute",
		Long: `Undo, newest first, what a journal's apply did: reactivate keys, remove RequireMFAPolicy (or
put it back), deactivate a rotated-in key, recreate a deleted user with its path, tags,
groups, policies and boundary. Deleted access keys, passwords, MFA devices, SSH keys and
service credentials cannot come back: the rollback says so for each.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("%s takes a journal id (iamaudit remediate journal lists them)", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.JournalID = args[0]
			if err := opts.checkConfirmation(); err != nil {
				return err
			}
			return runF(cmd.Context(), "rollback", opts)
		},
	}
	opts.addAWSFlags(rollback.Flags())
	opts.addChangeFlags(rollback.Flags())

	verify := &cobra.Command{
		Use:   "verify [JOURNAL]",
		Short: "Confirm a journal's actions in CloudTrail and by fresh IAM reads (default: the newest journal)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErrorf("%s takes at most one journal id", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.JournalID = args[0]
			}
			return runF(cmd.Context(), "verify", opts)
		},
	}
	opts.addAWSFlags(verify.Flags())

	journal := &cobra.Command{
		Use:   "journal [JOURNAL]",
		Short: "List the journals, or show one journal's entries",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErrorf("%s takes at most one journal id", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.JournalID = args[0]
			}
			return runF(cmd.Context(), "journal", opts)
		},
	}
	guide := &cobra.Command{
		Use:   "guide [--case ec2|lambda|ecs|ci|cross-account]",
		Short: "Seed 004 workflow 3: migrate from long-term keys to roles (guidance)",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runF(cmd.Context(), "guide", opts) },
	}
	guide.Flags().StringVar(&opts.Case, "case", "", "the case: ec2, lambda, ecs, ci, cross-account (default: all)")
	cmd.AddCommand(plan, apply, rollback, verify, journal, guide)
	return cmd
}

// checkConfirmation: --execute without --yes needs a terminal to type on.
func (o *RemediateOptions) checkConfirmation() error {
	if o.Execute && !o.Yes && !stdinTerminal(o.factory.IO.In) {
		return usageErrorf("stdin is not a terminal, so nobody can type the confirmation: give --yes to confirm (automation), or run in a terminal")
	}
	return nil
}

func stdinTerminal(r any) bool {
	f, ok := r.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func (o *RemediateOptions) confirmer() remediate.Confirmer {
	if o.Yes {
		return remediate.Yes{}
	}
	return &remediate.Prompt{In: o.factory.IO.In, Out: o.factory.IO.Err}
}

func (o *RemediateOptions) config() (remediate.Config, error) {
	if o.Config == "" {
		return remediate.DefaultConfig(), nil
	}
	cfg, err := remediate.LoadConfig(o.Config)
	if err != nil {
		return cfg, &UsageError{Err: err}
	}
	return cfg, nil
}

func (o *RemediateOptions) openStore(ctx context.Context) (*store.Store, error) {
	target := o.DB
	if target == "" {
		var err error
		if target, err = defaultStore(); err != nil {
			return nil, err
		}
	}
	return store.Open(ctx, target, store.Options{MustExist: true})
}

func (o *RemediateOptions) connector(ctx context.Context, partition, region string) (*remediate.Connector, error) {
	if err := roleErr(o.Role); err != nil {
		return nil, usageErrorf("--role %q: %v", o.Role, err)
	}
	if !sessionNameRe.MatchString(o.SessionName) {
		return nil, usageErrorf("--session-name %q: not a valid role session name (2-64 letters, digits and +=,.@_-)", o.SessionName)
	}
	cfg, err := o.factory.AWSConfig(ctx, o.Profile, o.Region)
	if err != nil {
		return nil, err
	}
	return &remediate.Connector{Base: cfg, Role: o.Role, ExternalID: o.ExternalID, SessionName: o.SessionName,
		Partition: partition, Region: region, OwnCredentials: o.OwnCredentials}, nil
}

func runRemediate(ctx context.Context, what string, o *RemediateOptions) error {
	if what == "guide" {
		g, err := remediate.Guide(o.Case)
		if err != nil {
			return &UsageError{Err: err}
		}
		fmt.Fprint(o.factory.IO.Out, g)
		return nil
	}
	cfg, err := o.config()
	if err != nil {
		return err
	}
	s, err := o.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	switch what {
	case "plan":
		return remediatePlan(ctx, o, s, cfg)
	case "apply":
		return remediateApply(ctx, o, s, cfg)
	case "rollback":
		return remediateRollback(ctx, o, s, cfg)
	case "verify":
		return remediateVerify(ctx, o, s)
	case "journal":
		return remediateJournal(ctx, o, s)
	}
	return fmt.Errorf("unknown remediate command %q", what)
}

func remediatePlan(ctx context.Context, o *RemediateOptions, s *store.Store, cfg remediate.Config) error {
	runID := o.RunID
	if runID == "" || runID == "latest" {
		id, err := s.Latest(ctx)
		if err != nil {
			return fmt.Errorf("%w: audit first (iamaudit run)", err)
		}
		runID = id
	}
	run, err := s.Load(ctx, runID)
	if err != nil {
		return err
	}
	d, err := remediate.Deactivations(ctx, s)
	if err != nil {
		return err
	}
	var sel remediate.Selection
	for _, w := range o.Workflows {
		wf, _ := remediate.ParseWorkflow(w)
		sel.Workflows = append(sel.Workflows, wf)
	}
	sel.Findings, sel.Accounts, sel.Users = o.Findings, o.Accounts, o.Users
	now := o.factory.Clock().UTC()
	p, err := remediate.BuildPlan(remediate.PlanInput{Outcome: run, RunID: runID, Deactivations: d, Selection: sel, Config: cfg,
		Now: now, ID: remediate.NewPlanID(now), ToolVersion: o.factory.Version})
	if err != nil {
		return err
	}
	out := o.Out
	if out == "" {
		out = "iamaudit-plan_" + now.Format("20060102_150405") + ".json"
	}
	if err := remediate.WritePlan(out, p); err != nil {
		return err
	}
	if o.Format == "json" {
		return writeJSON(o.factory.IO.Out, p)
	}
	remediate.PrintPlan(o.factory.IO.Out, p)
	abs, _ := filepath.Abs(out)
	fmt.Fprintf(o.factory.IO.Err, "iamaudit: plan written to %s (iamaudit remediate apply %s: a dry run; add --execute to act)\n", abs, out)
	return nil
}

func remediateApply(ctx context.Context, o *RemediateOptions, s *store.Store, cfg remediate.Config) error {
	p, err := remediate.ReadPlan(o.Plan)
	if err != nil {
		return &UsageError{Err: err}
	}
	stored, err := s.Load(ctx, p.RunID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	c, err := o.connector(ctx, p.Partition, p.Region)
	if err != nil {
		return err
	}
	journalID := o.Resume
	if journalID == "" {
		journalID = remediate.NewJournalID(o.factory.Clock())
	}
	opts := remediate.ApplyOptions{Journal: s, Connector: c, Config: cfg, Clock: o.factory.Clock, Execute: o.Execute, Force: o.Force,
		Confirm: o.confirmer(), Run: stored, Out: o.factory.IO.Out, JournalID: journalID, Resume: o.Resume != "", ToolVersion: o.factory.Version}
	if o.SecretFile != "" {
		opts.Secrets = &remediate.SecretFile{Path: remediate.AbsSecretPath(o.SecretFile)}
	}
	rep, err := remediate.Apply(ctx, p, opts)
	if err != nil {
		var r *remediate.Refusal
		if errors.As(err, &r) {
			return &ExitCodeError{Code: ExitError, Msg: "refused (" + r.Guard + "): " + r.Reason}
		}
		if errors.Is(err, remediate.ErrNotConfirmed) {
			return &ExitCodeError{Code: ExitError, Msg: err.Error()}
		}
		return err
	}
	if n := rep.Count(remediate.ItemRefused) + rep.Count(remediate.ItemPartial) + rep.Count(remediate.ItemPending); n > 0 && o.Execute {
		return &ExitCodeError{Code: ExitIncomplete, Msg: fmt.Sprintf("%d item(s) refused or waiting (listed above); journal %s", n, rep.JournalID)}
	}
	return nil
}

func remediateRollback(ctx context.Context, o *RemediateOptions, s *store.Store, cfg remediate.Config) error {
	c, err := o.connector(ctx, "", "")
	if err != nil {
		return err
	}
	rep, err := remediate.Rollback(ctx, o.JournalID, remediate.RollbackOptions{Journal: s, Connector: c, Config: cfg,
		Clock: o.factory.Clock, Execute: o.Execute, Confirm: o.confirmer(), Out: o.factory.IO.Out})
	if errors.Is(err, store.ErrNoJournal) {
		return &UsageError{Err: fmt.Errorf("%w: iamaudit remediate journal lists them", err)}
	}
	if err != nil {
		return err
	}
	manual := 0
	for _, u := range rep.Undos {
		if u.Status == remediate.UndoManual {
			manual++
		}
	}
	if manual > 0 {
		fmt.Fprintf(o.factory.IO.Err, "iamaudit: %d step(s) cannot be undone by iamaudit (listed above: what to do instead)\n", manual)
	}
	return nil
}

func remediateVerify(ctx context.Context, o *RemediateOptions, s *store.Store) error {
	id := o.JournalID
	if id == "" {
		list, err := s.Journals(ctx)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return fmt.Errorf("the %s holds no remediation journal yet", s.Name())
		}
		id = list[len(list)-1].JournalID
	}
	c, err := o.connector(ctx, "", "")
	if err != nil {
		return err
	}
	rep, err := remediate.Verify(ctx, id, remediate.VerifyOptions{Journal: s, Connector: c, Clock: o.factory.Clock, Out: o.factory.IO.Out})
	if errors.Is(err, store.ErrNoJournal) {
		return &UsageError{Err: err}
	}
	if err != nil {
		return err
	}
	if n := rep.Problems(); n > 0 {
		return &ExitCodeError{Code: ExitIncomplete, Msg: fmt.Sprintf("%d action(s) of journal %s are not in effect", n, id)}
	}
	return nil
}

func remediateJournal(ctx context.Context, o *RemediateOptions, s *store.Store) error {
	out := o.factory.IO.Out
	if o.JournalID == "" {
		list, err := s.Journals(ctx)
		if err != nil {
			return err
		}
		t := newTable(out, "table")
		t.row("JOURNAL", "STARTED (UTC)", "LAST (UTC)", "ENTRIES")
		for _, j := range list {
			t.row(j.JournalID, j.Started.Format(time.DateTime), j.Last.Format(time.DateTime), fmt.Sprint(j.Entries))
		}
		t.flush()
		return nil
	}
	es, err := s.Journal(ctx, o.JournalID)
	if errors.Is(err, store.ErrNoJournal) {
		return &UsageError{Err: err}
	}
	if err != nil {
		return err
	}
	t := newTable(out, "table")
	t.row("SEQ", "TIME (UTC)", "PHASE", "KIND", "ITEM", "ACTION", "API", "STATUS", "MESSAGE")
	for _, e := range es {
		t.row(fmt.Sprint(e.Seq), e.RecordedAt.Format(time.DateTime), e.Phase, e.Kind, fmt.Sprint(e.Item), fmt.Sprint(e.Action), e.API, e.Status,
			strings.ReplaceAll(e.Message, "\n", " "))
	}
	t.flush()
	return nil
}
