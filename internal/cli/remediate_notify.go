package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/iamaudit/iamaudit/internal/notify"
)

// NotifyOptions are the options of `iamaudit notify`.
type NotifyOptions struct {
	RemediateOptions
	OutputDir       string
	Templates       string
	From            string
	SecurityContact string
	Team            string
}

// newNotifyCmd builds `iamaudit notify`; runF, when not nil, replaces the work.
func newNotifyCmd(f *Factory, runF func(context.Context, *NotifyOptions) error) *cobra.Command {
	if runF == nil {
		runF = runNotify
	}
	opts := &NotifyOptions{RemediateOptions: RemediateOptions{factory: f}}
	cmd := &cobra.Command{
		Use:   "notify [--output-dir DIR] [--templates DIR]",
		Short: "Write seed 004's notices (MFA, key deactivation, user deletion) per owner, as Markdown and .eml",
		Long: `Fill seed 004's three communication templates from the latest stored run's findings, per
owner (the Owner, Team or Email tag): MFA enforcement for console users without MFA, key
deactivation for old and unused keys (the key id partly hidden), user deletion for inactive
users. One Markdown file per owner and one .eml message per notice, owner-only files.
--templates DIR replaces any of mfa.md.tmpl, key.md.tmpl, user.md.tmpl (docs/remediation.md
lists their fields).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runF(cmd.Context(), opts) },
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.DB, "db", "", "store of runs (default $IAMAUDIT_DB, else ~/.local/state/iamaudit/iamaudit.db)")
	fs.StringVar(&opts.RunID, "run", "latest", "the stored run whose findings are notified")
	fs.StringVar(&opts.OutputDir, "output-dir", "", "directory of the notices (default notices_RUNID here)")
	fs.StringVar(&opts.Templates, "templates", "", "directory of your own templates (mfa.md.tmpl, key.md.tmpl, user.md.tmpl)")
	fs.StringVar(&opts.From, "from", "", "sender of the .eml messages, e.g. 'Cloud Security <security@example.com>'")
	fs.StringVar(&opts.SecurityContact, "security-contact", "", "the templates' [Security Team Contact]")
	fs.StringVar(&opts.Team, "team", "", "the templates' [Your Security Team] signature")
	return cmd
}

func runNotify(ctx context.Context, o *NotifyOptions) error {
	s, err := o.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	runID := o.RunID
	if runID == "" || runID == "latest" {
		if runID, err = s.Latest(ctx); err != nil {
			return fmt.Errorf("%w: audit first (iamaudit run)", err)
		}
	}
	run, err := s.Load(ctx, runID)
	if err != nil {
		return err
	}
	opts := notify.Options{Now: o.factory.Clock(), SecurityContact: o.SecurityContact, Team: o.Team, From: o.From, TemplateDir: o.Templates}
	ns, err := notify.Build(run, opts)
	if err != nil {
		return &UsageError{Err: err}
	}
	dir := o.OutputDir
	if dir == "" {
		dir = "notices_" + runID
	}
	files, err := notify.Write(dir, ns, opts)
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(dir)
	fmt.Fprintf(o.factory.IO.Out, "%d notice(s) from run %s: %d file(s) in %s\n", len(ns), runID, len(files), abs)
	for _, f := range files {
		fmt.Fprintf(o.factory.IO.Out, "  %s\n", filepath.Base(f))
	}
	return nil
}
