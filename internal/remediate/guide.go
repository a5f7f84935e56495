package remediate

import (
	"fmt"
	"sort"
	"strings"
)

// Seed 004 workflow 3 (migrate from long-term keys to temporary credentials) is
// guidance, not an action iamaudit can take: which role to create and where to
// attach it depends on the application. Guide prints the seed's steps for a case.

// GuideCases are the cases of workflow 3.
var GuideCases = map[string]string{
	"ec2": `Workflow 3 (EC2): an application on EC2 using long-term access keys.
  1. Create a role EC2 can assume:
     aws iam create-role --role-name MyAppEC2Role --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}' --profile ACCOUNT_PROFILE
  2. Grant it what the key had (the user's policies: iamaudit remediate plan lists them):
     aws iam attach-role-policy --role-name MyAppEC2Role --policy-arn POLICY_ARN --profile ACCOUNT_PROFILE
  3. Make an instance profile and put the role in it:
     aws iam create-instance-profile --instance-profile-name MyAppEC2Role --profile ACCOUNT_PROFILE
     aws iam add-role-to-instance-profile --instance-profile-name MyAppEC2Role --role-name MyAppEC2Role --profile ACCOUNT_PROFILE
  4. Attach it to the instance:
     aws ec2 associate-iam-instance-profile --instance-id INSTANCE_ID --iam-instance-profile Name=MyAppEC2Role --profile ACCOUNT_PROFILE
  5. Remove the keys from the code and configuration: the AWS SDKs use the instance profile's credentials by themselves.
  6. When the application works with the role: iamaudit remediate plan --workflow deactivate-key --user USER, apply, then delete-key after 48 hours.`,
	"lambda": `Workflow 3 (Lambda): a function with access keys in its environment variables.
  1. Give the function an execution role with the permissions it needs:
     aws lambda update-function-configuration --function-name MyFunction --role arn:aws:iam::ACCOUNT_ID:role/LambdaExecutionRole --profile ACCOUNT_PROFILE
  2. Remove AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the function's environment.
  3. Then deactivate the key (iamaudit remediate plan --workflow deactivate-key --user USER) and delete it after 48 hours.`,
	"ecs": `Workflow 3 (ECS): containers with access keys in their task definitions.
  1. Use a task role: set "taskRoleArn": "arn:aws:iam::ACCOUNT_ID:role/MyTaskRole" in the task definition.
  2. Register the updated task definition and redeploy the services; remove the keys from the containers' environment.
  3. Then deactivate the key (iamaudit remediate plan --workflow deactivate-key --user USER) and delete it after 48 hours.`,
	"ci": `Workflow 3 (CI/CD): build pipelines using long-term keys.
  1. Use OIDC federation with the CI provider (GitHub Actions, GitLab, …): an IAM OIDC identity provider and a role it may assume.
  2. GitHub Actions example:
       - name: Configure AWS Credentials
         uses: aws-actions/configure-aws-credentials@v2
         with:
           role-to-assume: arn:aws:iam::ACCOUNT_ID:role/GitHubActionsRole
           aws-region: us-east-1
  3. No access key is needed any more: deactivate it (iamaudit remediate plan --workflow deactivate-key --user USER), delete it after 48 hours.`,
	"cross-account": `Workflow 3 (cross-account): access keys used to reach resources in another account.
  1. In the target account, a role trusting the source account (its trust policy names arn:aws:iam::SOURCE_ACCOUNT:root, or a role of it).
  2. The application assumes it instead of using static keys:
     aws sts assume-role --role-arn arn:aws:iam::TARGET_ACCOUNT:role/CrossAccountRole --role-session-name MySession --profile SOURCE_ACCOUNT_PROFILE
  3. Then deactivate the key (iamaudit remediate plan --workflow deactivate-key --user USER) and delete it after 48 hours.`,
}

// Guide is the guidance of one case, or of every case when name is empty.
func Guide(name string) (string, error) {
	if name == "" {
		var b strings.Builder
		for _, k := range guideNames() {
			b.WriteString(GuideCases[k] + "\n\n")
		}
		return strings.TrimSpace(b.String()) + "\n", nil
	}
	g, ok := GuideCases[name]
	if !ok {
		return "", fmt.Errorf("no guidance for %q: use one of %s", name, strings.Join(guideNames(), ", "))
	}
	return g + "\n", nil
}

func guideNames() []string {
	var out []string
	for k := range GuideCases {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
