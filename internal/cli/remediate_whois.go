package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/iamaudit/iamaudit/internal/remediate"
	"github.com/iamaudit/iamaudit/internal/store"
)

// WhoisOptions are the options of `iamaudit whois`.
type WhoisOptions struct {
	RemediateOptions
	KeyID      string
	Days       int
	Deactivate bool
}

// newWhoisCmd builds `iamaudit whois`; runF, when not nil, replaces the work.
func newWhoisCmd(f *Factory, runF func(context.Context, *WhoisOptions) error) *cobra.Command {
	if runF == nil {
		runF = runWhois
	}
	opts := &WhoisOptions{RemediateOptions: RemediateOptions{factory: f}}
	cmd := &cobra.Command{
		Use:   "whois AKIA… [--deactivate [--execute] [--yes]]",
		Short: "Whose is this access key? (incident response: a key found in a repository or a log)",
		Long: `Find an access key: its account (sts:GetAccessKeyInfo), user, owner tags, status, age, last
use and service, and its CloudTrail activity of the last --days days. It answers from the
store when a stored run had the key, and live (through --role in the key's account) when it
can. --deactivate makes the key Inactive through the same guarded, journaled path as
'remediate apply' (a dry run unless --execute; a key used in the last 7 days needs --force).`,
		Example: `  iamaudit whois AKIAIOSFODNN7EXAMPLE
  iamaudit whois AKIAIOSFODNN7EXAMPLE --deactivate --execute --force`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("%s takes one access key id", cmd.CommandPath())
			}
			if !remediate.AccessKeyIDRe.MatchString(args[0]) {
				return usageErrorf("%q is not an access key id (AKIA… or ASIA… and 16 letters or digits)", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.KeyID = args[0]
			if opts.Days < 1 || opts.Days > 90 {
				return usageErrorf("--days %d: between 1 and 90 (CloudTrail event history holds 90 days)", opts.Days)
			}
			if (opts.Execute || opts.Yes || opts.Force) && !opts.Deactivate {
				return usageErrorf("--execute, --yes and --force go with --deactivate")
			}
			if err := opts.checkConfirmation(); err != nil {
				return err
			}
			return runF(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	opts.addStoreFlags(fs)
	opts.addAWSFlags(fs)
	opts.addChangeFlags(fs)
	fs.IntVar(&opts.Days, "days", 7, "days of CloudTrail activity to show (1-90)")
	fs.BoolVar(&opts.Deactivate, "deactivate", false, "make the key Inactive (journaled, guarded; a dry run unless --execute)")
	fs.BoolVar(&opts.Force, "force", false, "deactivate a key used in the last 7 days")
	fs.StringVar(&opts.Format, "format", "text", "text or json")
	return cmd
}

func runWhois(ctx context.Context, o *WhoisOptions) error {
	cfg, err := o.config()
	if err != nil {
		return err
	}
	var s *store.Store
	if st, err := o.openStore(ctx); err == nil {
		s = st
		defer s.Close()
	} else if !errors.Is(err, store.ErrNoStore) {
		return err
	} else if o.Deactivate && o.Execute {
		return fmt.Errorf("%w: --deactivate --execute journals in the store; give --db", err)
	}
	c, err := o.connector(ctx, "", "")
	if err != nil {
		return err
	}
	wo := remediate.WhoisOptions{Connector: c, Clock: o.factory.Clock, Days: o.Days}
	if s != nil {
		wo.Store = s
	}
	r, err := remediate.Whois(ctx, o.KeyID, wo)
	if err != nil {
		return err
	}
	if o.Format == "json" {
		if err := writeJSON(o.factory.IO.Out, r); err != nil {
			return err
		}
	} else {
		r.Print(o.factory.IO.Out, o.factory.Clock())
	}
	if !o.Deactivate {
		if r.AccountID == "" && !r.Known {
			return &ExitCodeError{Code: ExitIncomplete, Msg: "unknown key"}
		}
		return nil
	}
	now := o.factory.Clock()
	p, err := r.DeactivatePlan(remediate.NewPlanID(now), now, c.Partition, c.Region)
	if err != nil {
		return err
	}
	opts := remediate.ApplyOptions{Connector: c, Config: cfg, Clock: o.factory.Clock, Execute: o.Execute, Force: o.Force,
		Confirm: o.confirmer(), Out: o.factory.IO.Out, JournalID: remediate.NewJournalID(now), ToolVersion: o.factory.Version}
	if s != nil {
		opts.Journal = s
	}
	rep, err := remediate.Apply(ctx, p, opts)
	if err != nil {
		var ref *remediate.Refusal
		if errors.As(err, &ref) {
			return &ExitCodeError{Code: ExitError, Msg: "refused (" + ref.Guard + "): " + ref.Reason}
		}
		return err
	}
	if o.Execute && rep.Items[0].Status != remediate.ItemApplied && rep.Items[0].Status != remediate.ItemNothing {
		return &ExitCodeError{Code: ExitIncomplete, Msg: "the key was not deactivated: " + rep.Items[0].Reason}
	}
	return nil
}
