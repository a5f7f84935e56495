package inventory

// homeRegions maps each AWS partition to the region of its global services: IAM,
// STS and the IAM / sign-in events of CloudTrail (Inventory.Region).
var homeRegions = map[string]string{"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}

// HomeRegion is a partition's home region; us-east-1 for an unknown partition.
func HomeRegion(partition string) string {
	if r, ok := homeRegions[partition]; ok {
		return r
	}
	return homeRegions["aws"]
}

// KnownPartition tells whether partition is aws, aws-us-gov or aws-cn.
func KnownPartition(partition string) bool {
	_, ok := homeRegions[partition]
	return ok
}
