package scenario

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		str  string
	}{
		{"now", now, "now"},
		{"-400d", now.Add(-400 * Day), "-400d"},
		{"-3h", now.Add(-3 * time.Hour), "-3h0m0s"},
		{"-90d12h", now.Add(-90*Day - 12*time.Hour), "-90d12h0m0s"},
		{"+30d", now.Add(30 * Day), "+30d"},
		{"-1h30m", now.Add(-90 * time.Minute), "-1h30m0s"},
		{"2018-06-15", time.Date(2018, 6, 15, 0, 0, 0, 0, time.UTC), "2018-06-15 00:00:00"},
		{"2018-06-15 10:20:30", time.Date(2018, 6, 15, 10, 20, 30, 0, time.UTC), "2018-06-15 10:20:30"},
		{"2018-06-15T10:20:30Z", time.Date(2018, 6, 15, 10, 20, 30, 0, time.UTC), "2018-06-15 10:20:30"},
		{"2018-06-15T12:20:30+02:00", time.Date(2018, 6, 15, 10, 20, 30, 0, time.UTC), "2018-06-15 10:20:30"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ParseDate(tt.in)
			if err != nil {
				t.Fatalf("ParseDate(%q): %v", tt.in, err)
			}
			if got := d.Resolve(now); !got.Equal(tt.want) {
				t.Errorf("Resolve = %v, want %v", got, tt.want)
			}
			if got := d.String(); got != tt.str {
				t.Errorf("String = %q, want %q", got, tt.str)
			}
			back, err := ParseDate(d.String())
			if err != nil || !back.Resolve(now).Equal(tt.want) {
				t.Errorf("round trip of %q: %v, %v", d.String(), back, err)
			}
		})
	}
}

func TestParseDateErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `empty date: write "now", a relative date such as "-400d", or "2018-06-15"`},
		{"400d", `invalid date "400d": a relative date needs a sign ("-400d" is in the past)`},
		{"-3x", `invalid relative date "-3x": units are d, h, m, s, ms`},
		{"-d", `invalid relative date "-d": days must be a whole number, as in "400d"`},
		{"-", `invalid relative date "-": missing offset`},
		{"--3d", `invalid relative date "--3d": days must be a whole number, as in "400d"`},
		{"-3d-2h", `invalid relative date "-3d-2h": the sign goes only in front`},
		{"-99999d", `invalid relative date "-99999d": more than 100 years`},
		{"2018-13-01", `invalid date "2018-13-01": use "now", "-400d", "-3h", "-90d12h", "2018-06-15", "2018-06-15 10:20:30" or RFC 3339`},
		{"yesterday", `invalid date "yesterday": use "now", "-400d", "-3h", "-90d12h", "2018-06-15", "2018-06-15 10:20:30" or RFC 3339`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseDate(tt.in)
			if err == nil {
				t.Fatalf("ParseDate(%q) succeeded, want error", tt.in)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q\nwant    %q", err, tt.want)
			}
		})
	}
}

func TestResolveTruncatesToSecondUTC(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 999_999_999, time.FixedZone("CET", 3600))
	got := Date{Rel: -time.Hour, IsRel: true}.Resolve(now)
	want := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Resolve = %v, want %v", got, want)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "250ms", want: 250 * time.Millisecond},
		{in: "2s", want: 2 * time.Second},
		{in: "1h", want: time.Hour},
		{in: "0", want: 0},
		{in: "-1s", wantErr: `invalid duration "-1s": must not be negative`},
		{in: "2 seconds", wantErr: `invalid duration "2 seconds": write it as "250ms", "2s" or "1h"`},
		{in: "5d", wantErr: `invalid duration "5d": write it as "250ms", "2s" or "1h"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ParseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || d.Duration != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, d, err, tt.want)
			}
		})
	}
}
