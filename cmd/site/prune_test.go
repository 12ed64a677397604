package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestDeviceCookieAndRetentionSettings(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef-key"
	cases := []struct {
		name            string
		vars            []string
		want            string // the setting named in the error; "" when valid
		device, retains time.Duration
	}{
		{"defaults", nil, "", 180 * 24 * time.Hour, 90 * 24 * time.Hour},
		{"set", []string{"GATEHOUSE_DEVICE_COOKIE_AGE", "86400", "GATEHOUSE_EVENT_RETENTION", "604800"}, "", 24 * time.Hour, 7 * 24 * time.Hour},
		{"zero: off and for good", []string{"GATEHOUSE_DEVICE_COOKIE_AGE", "0", "GATEHOUSE_EVENT_RETENTION", "0"}, "", -1, -1},
		{"device age abc", []string{"GATEHOUSE_DEVICE_COOKIE_AGE", "abc"}, "GATEHOUSE_DEVICE_COOKIE_AGE", 0, 0},
		{"device age negative", []string{"GATEHOUSE_DEVICE_COOKIE_AGE", "-1"}, "GATEHOUSE_DEVICE_COOKIE_AGE", 0, 0},
		{"device age a minute", []string{"GATEHOUSE_DEVICE_COOKIE_AGE", "60"}, "GATEHOUSE_DEVICE_COOKIE_AGE", 0, 0},
		{"retention an hour", []string{"GATEHOUSE_EVENT_RETENTION", "3600"}, "GATEHOUSE_EVENT_RETENTION", 0, 0},
		{"retention abc", []string{"GATEHOUSE_EVENT_RETENTION", "abc"}, "GATEHOUSE_EVENT_RETENTION", 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t).with(append([]string{"GATEHOUSE_SECRET_KEY", key}, tc.vars...)...)
			cfg, err := f.env(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}).authConfig(f.vars["GATEHOUSE_DB"])
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("want an error naming %s, got %v", tc.want, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.DeviceCookieAge != tc.device || cfg.EventRetention != tc.retains {
				t.Fatalf("device cookie age %s, retention %s; want %s, %s", cfg.DeviceCookieAge, cfg.EventRetention, tc.device, tc.retains)
			}
		})
	}
}

func TestPruneCommand(t *testing.T) {
	f := newFixture(t).with("GATEHOUSE_SECRET_KEY", "0123456789abcdef0123456789abcdef-key")
	r := f.mustRun("", "prune")
	if !strings.Contains(r.stdout, "Deleted throttle rows 0, sessions 0, events 0, pending 0.") {
		t.Fatalf("prune output: %q", r.stdout)
	}
}
