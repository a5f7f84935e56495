// Package deploy holds the CloudFormation templates; this test checks them against the
// CloudFormation resource specification.
package deploy

import (
	"os"
	"slices"
	"sort"
	"testing"

	"github.com/goccy/go-yaml"
)

// spec is the part of the CloudFormation resource specification the templates use:
// each resource type's properties, required ones marked, encoded from the AWS
// CloudFormation User Guide's "AWS resource and property types reference" pages
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-<service>-<type>.html,
// read on 2026-07-23), not vendored.
var spec = map[string]struct {
	required, optional []string
}{
	// aws-resource-s3-bucket.html
	"AWS::S3::Bucket": {nil, []string{"AbacStatus", "AccelerateConfiguration", "AnalyticsConfigurations", "BucketEncryption", "BucketName",
		"CorsConfiguration", "IntelligentTieringConfigurations", "InventoryConfigurations", "LifecycleConfiguration", "LoggingConfiguration",
		"MetadataConfiguration", "MetadataTableConfiguration", "MetricsConfigurations", "NotificationConfiguration", "ObjectLockConfiguration",
		"ObjectLockEnabled", "OwnershipControls", "PublicAccessBlockConfiguration", "ReplicationConfiguration", "Tags",
		"VersioningConfiguration", "WebsiteConfiguration"}},
	// aws-resource-iam-managedpolicy.html
	"AWS::IAM::ManagedPolicy": {[]string{"PolicyDocument"}, []string{"Description", "Groups", "ManagedPolicyName", "Path", "Roles", "Users"}},
	// aws-resource-iam-role.html
	"AWS::IAM::Role": {[]string{"AssumeRolePolicyDocument"}, []string{"Description", "ManagedPolicyArns", "MaxSessionDuration", "Path",
		"PermissionsBoundary", "Policies", "RoleName", "Tags"}},
	// aws-resource-iam-rolepolicy.html
	"AWS::IAM::RolePolicy": {[]string{"PolicyName", "RoleName"}, []string{"PolicyDocument"}},
	// aws-resource-lambda-function.html
	"AWS::Lambda::Function": {[]string{"Code", "Role"}, []string{"Architectures", "CodeSigningConfigArn", "DeadLetterConfig", "Description",
		"Environment", "EphemeralStorage", "FileSystemConfigs", "FunctionName", "Handler", "ImageConfig", "KmsKeyArn", "Layers",
		"LoggingConfig", "MemorySize", "PackageType", "RecursiveLoop", "ReservedConcurrentExecutions", "Runtime",
		"RuntimeManagementConfig", "SnapStart", "Tags", "Timeout", "TracingConfig", "VpcConfig"}},
	// aws-resource-lambda-eventinvokeconfig.html
	"AWS::Lambda::EventInvokeConfig": {[]string{"FunctionName", "Qualifier"}, []string{"DestinationConfig", "MaximumEventAgeInSeconds", "MaximumRetryAttempts"}},
	// aws-resource-ecs-cluster.html
	"AWS::ECS::Cluster": {nil, []string{"CapacityProviders", "ClusterName", "ClusterSettings", "Configuration", "DefaultCapacityProviderStrategy",
		"ServiceConnectDefaults", "Tags"}},
	// aws-resource-ecs-taskdefinition.html
	"AWS::ECS::TaskDefinition": {nil, []string{"ContainerDefinitions", "Cpu", "EnableFaultInjection", "EphemeralStorage", "ExecutionRoleArn", "Family",
		"InferenceAccelerators", "IpcMode", "Memory", "NetworkMode", "PidMode", "PlacementConstraints", "ProxyConfiguration",
		"RequiresCompatibilities", "RuntimePlatform", "Tags", "TaskRoleArn", "Volumes"}},
	// aws-resource-logs-loggroup.html
	"AWS::Logs::LogGroup": {nil, []string{"DataProtectionPolicy", "FieldIndexPolicies", "KmsKeyId", "LogGroupClass", "LogGroupName", "RetentionInDays", "Tags"}},
	// aws-resource-scheduler-schedule.html
	"AWS::Scheduler::Schedule": {[]string{"FlexibleTimeWindow", "ScheduleExpression", "Target"}, []string{"Description", "EndDate", "GroupName",
		"KmsKeyArn", "Name", "ScheduleExpressionTimezone", "StartDate", "State"}},
}

// Sub-properties checked the same way (aws-properties-scheduler-schedule-target.html,
// aws-properties-ecs-taskdefinition-containerdefinition.html).
var subSpec = map[string]struct{ required, optional []string }{
	"AWS::Scheduler::Schedule.Target": {[]string{"Arn", "RoleArn"}, []string{"DeadLetterConfig", "EcsParameters", "EventBridgeParameters", "Input",
		"KinesisParameters", "RetryPolicy", "SageMakerPipelineParameters", "SqsParameters"}},
	"AWS::ECS::TaskDefinition.ContainerDefinition": {[]string{"Image", "Name"}, []string{"Command", "Cpu", "CredentialSpecs", "DependsOn",
		"DisableNetworking", "DnsSearchDomains", "DnsServers", "DockerLabels", "DockerSecurityOptions", "EntryPoint", "Environment",
		"EnvironmentFiles", "Essential", "ExtraHosts", "FirelensConfiguration", "HealthCheck", "Hostname", "Interactive", "Links",
		"LinuxParameters", "LogConfiguration", "Memory", "MemoryReservation", "MountPoints", "PortMappings", "Privileged",
		"PseudoTerminal", "ReadonlyRootFilesystem", "RepositoryCredentials", "ResourceRequirements", "RestartPolicy", "Secrets",
		"StartTimeout", "StopTimeout", "SystemControls", "Ulimits", "User", "VersionConsistency", "VolumesFrom", "WorkingDirectory"}},
}

type template struct {
	AWSTemplateFormatVersion string                    `yaml:"AWSTemplateFormatVersion"`
	Parameters               map[string]map[string]any `yaml:"Parameters"`
	Conditions               map[string]any            `yaml:"Conditions"`
	Resources                map[string]struct {
		Type       string         `yaml:"Type"`
		Condition  string         `yaml:"Condition"`
		Properties map[string]any `yaml:"Properties"`
	} `yaml:"Resources"`
}

func checkProps(t *testing.T, where string, props map[string]any, required, optional []string) {
	t.Helper()
	for _, r := range required {
		if _, ok := props[r]; !ok {
			t.Errorf("%s: required property %s missing", where, r)
		}
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			t.Errorf("%s: %s is not a property of it", where, k)
		}
	}
}

func TestTemplatesAgainstTheResourceSpecification(t *testing.T) {
	for _, file := range []string{"iamaudit-role.yaml", "iamaudit-schedule.yaml"} {
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var tpl template
			if err := yaml.Unmarshal(raw, &tpl); err != nil {
				t.Fatalf("%s is not YAML: %v", file, err)
			}
			if tpl.AWSTemplateFormatVersion != "2010-09-09" || len(tpl.Resources) == 0 {
				t.Fatalf("%s: not a CloudFormation template", file)
			}
			for name, r := range tpl.Resources {
				s, ok := spec[r.Type]
				if !ok {
					t.Errorf("%s: resource type %s is not in the specification subset", name, r.Type)
					continue
				}
				checkProps(t, name+" ("+r.Type+")", r.Properties, s.required, s.optional)
				if _, ok := tpl.Conditions[r.Condition]; r.Condition != "" && !ok {
					t.Errorf("%s: condition %s is not defined", name, r.Condition)
				}
				switch r.Type {
				case "AWS::Scheduler::Schedule":
					target, _ := r.Properties["Target"].(map[string]any)
					st := subSpec["AWS::Scheduler::Schedule.Target"]
					checkProps(t, name+".Target", target, st.required, st.optional)
					if ftw, _ := r.Properties["FlexibleTimeWindow"].(map[string]any); ftw["Mode"] != "OFF" && ftw["Mode"] != "FLEXIBLE" {
						t.Errorf("%s: FlexibleTimeWindow.Mode %v", name, ftw["Mode"])
					}
				case "AWS::ECS::TaskDefinition":
					cs := subSpec["AWS::ECS::TaskDefinition.ContainerDefinition"]
					for _, c := range r.Properties["ContainerDefinitions"].([]any) {
						checkProps(t, name+".ContainerDefinitions[]", c.(map[string]any), cs.required, cs.optional)
					}
				case "AWS::Lambda::Function":
					// provided.al2023 runs a binary named bootstrap; 900 s is Lambda's longest timeout.
					if r.Properties["Runtime"] != "provided.al2023" || r.Properties["Handler"] != "bootstrap" {
						t.Errorf("%s: runtime %v handler %v", name, r.Properties["Runtime"], r.Properties["Handler"])
					}
					if to, _ := r.Properties["Timeout"].(uint64); to < 1 || to > 900 {
						t.Errorf("%s: Timeout %v outside 1-900", name, r.Properties["Timeout"])
					}
				}
			}
		})
	}
}
