package mototest

import (
	"net/http"
	"testing"
)

// Two servers started at once each answer on their own port, and Stop ends one.
func TestStart(t *testing.T) {
	a, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Start()
	if err != nil {
		a.Stop()
		t.Fatal(err)
	}
	defer b.Stop()
	if a.URL == b.URL {
		t.Fatalf("both at %s", a.URL)
	}
	for _, s := range []*Server{a, b} {
		resp, err := http.Get(s.URL + "/moto-api/")
		if err != nil {
			t.Fatalf("%s: %v", s.URL, err)
		}
		resp.Body.Close()
	}
	a.Stop()
	if resp, err := http.Get(a.URL + "/moto-api/"); err == nil {
		resp.Body.Close()
		t.Errorf("%s still answers after Stop", a.URL)
	}
}
