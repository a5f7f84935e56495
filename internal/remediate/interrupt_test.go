package remediate

// childEnv runs the test binary as a child that applies a plan (interrupt tests).
const childEnv = "IAMAUDIT_REMEDIATE_TEST_CHILD"

func child(mode string) int { return 2 }
