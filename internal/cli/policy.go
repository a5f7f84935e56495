package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/iamaudit/iamaudit/internal/permissions"
	"github.com/iamaudit/iamaudit/internal/remediate"
)

// PolicyOptions are the options of `iamaudit policy`.
type PolicyOptions struct {
	factory     *Factory
	Mode        string
	Partition   string
	Role        string
	SelfAudit   bool
	SecurityHub bool
	S3, KMSKey  string
	SNS         string
	Secrets     []string
}

// newPolicyCmd builds `iamaudit policy MODE`; runF, when not nil, replaces the work.
func newPolicyCmd(f *Factory, runF func(context.Context, *PolicyOptions) error) *cobra.Command {
	if runF == nil {
		runF = runPolicy
	}
	opts := &PolicyOptions{factory: f}
	cmd := &cobra.Command{
		Use:   "policy management|audit-role|remediation-role|stackset [flags]",
		Short: "Print the least-privilege IAM policies and the audit role's StackSet template",
		Long: `Print what iamaudit needs, generated from the one list of the API actions each mode uses
(internal/permissions), which the collection and the sandbox's enforcement also read:

  management        the policy of the identity that runs 'iamaudit run' (add --s3, --s3-kms-key,
                    --sns, --securityhub, --self-audit for what those need)
  audit-role        the policy of the audit role in every account (--securityhub adds the import)
  remediation-role  the policy of a role that runs every fix the reports propose (derived from the
                    fix recipes)
  stackset          the CloudFormation template of the audit role, for a StackSet
                    (deploy/iamaudit-role.yaml is this output)`,
		Example: `  iamaudit policy management --s3 s3://audit-reports/iam --sns arn:aws:sns:us-east-1:111122223333:security
  iamaudit policy stackset > iamaudit-role.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("%s needs one mode: management, audit-role, remediation-role or stackset", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Mode = args[0]
			return runF(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Partition, "partition", "aws", "partition of the ARNs: aws, aws-us-gov, aws-cn")
	fs.StringVar(&opts.Role, "role", "IAMAuditRole", "the audit role as --role of 'run' gives it (with its path if it has one)")
	fs.BoolVar(&opts.SelfAudit, "self-audit", false, "management: add the read actions, to audit the management account with these credentials when the role is absent there")
	fs.BoolVar(&opts.SecurityHub, "securityhub", false, "add securityhub:BatchImportFindings (management: the caller's own account; audit-role: each account's)")
	fs.StringVar(&opts.S3, "s3", "", "management: s3:PutObject on this s3://bucket/prefix")
	fs.StringVar(&opts.KMSKey, "s3-kms-key", "", "management: kms:GenerateDataKey on this key ARN")
	fs.StringVar(&opts.SNS, "sns", "", "management: sns:Publish on this topic ARN")
	fs.StringSliceVar(&opts.Secrets, "secret", nil, "management: secretsmanager:GetSecretValue on these secret ARNs (a scheduled run's IAMAUDIT_*_SECRET_ARN)")
	return cmd
}

func runPolicy(_ context.Context, o *PolicyOptions) error {
	out := o.factory.IO.Out
	switch o.Partition {
	case "aws", "aws-us-gov", "aws-cn":
	default:
		return usageErrorf("--partition %q: use aws, aws-us-gov or aws-cn", o.Partition)
	}
	if err := roleErr(o.Role); err != nil {
		return usageErrorf("--role %q: %v", o.Role, err)
	}
	switch o.Mode {
	case "management":
		d, err := permissions.ManagementPolicy(permissions.ManagementOptions{Partition: o.Partition, Role: o.Role, SelfAudit: o.SelfAudit,
			SecurityHub: o.SecurityHub, S3: o.S3, KMSKey: o.KMSKey, SNS: o.SNS, Secrets: o.Secrets})
		if err != nil {
			return usageErrorf("--s3: %v", err)
		}
		_, err = out.Write(d.JSON())
		return err
	case "audit-role":
		_, err := out.Write(permissions.AuditRolePolicy(permissions.AuditRoleOptions{Partition: o.Partition, SecurityHub: o.SecurityHub}).JSON())
		return err
	case "remediation-role":
		_, err := out.Write(permissions.RemediationRolePolicy(remediate.APIs()...).JSON())
		return err
	case "stackset":
		_, err := fmt.Fprint(out, permissions.StackSetTemplate())
		return err
	}
	return usageErrorf("unknown mode %q: use one of management, audit-role, remediation-role, stackset", o.Mode)
}
