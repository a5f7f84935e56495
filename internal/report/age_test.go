package report

import (
	"testing"
	"time"
)

func TestAge(t *testing.T) {
	m, _ := MessagesFor("en")
	for d, want := range map[time.Duration]string{
		20 * time.Minute: "20 minutes", time.Minute: "1 minute", 3 * time.Hour: "3 hours",
		269 * 24 * time.Hour: "269 days", 47 * time.Hour: "47 hours",
	} {
		if got := Age(d, m); got != want {
			t.Errorf("Age(%v) = %q, want %q", d, got, want)
		}
	}
}
