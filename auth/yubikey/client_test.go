package yubikey_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/auth/yubikey"
)

var (
	apiKey     = []byte("0123456789abcdefghij")
	otherKey   = []byte("jihgfedcba9876543210")
	testAESKey = []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	testPriv   = [6]byte{1, 2, 3, 4, 5, 6}
)

const testPublicID = "vvccccjddvhv"

func params(f *fakeVal) yubikey.ServiceParams {
	return yubikey.ServiceParams{URL: f.verify, APIID: "42", APIKey: apiKey, VerifySignature: true}
}

func TestClientOK(t *testing.T) {
	f := newFakeVal(t, "42", apiKey)
	otp := makeOTP(t, testPublicID, testAESKey, testPriv, 3, 7)
	f.allow(otp, 3, 7)
	var c yubikey.Client
	a, err := c.Verify(context.Background(), params(f), otp)
	if err != nil {
		t.Fatal(err)
	}
	if !a.HasCounters || a.SessionCounter != 3 || a.SessionUse != 7 {
		t.Errorf("answer %+v", a)
	}
	q := f.requests()[0]
	if q.Get("id") != "42" || q.Get("otp") != otp || q.Get("timestamp") != "1" || q.Get("h") == "" {
		t.Errorf("request %v", q)
	}
	if n := len(q.Get("nonce")); n < 16 || n > 40 {
		t.Errorf("nonce of %d chars", n)
	}
	// The same OTP again: the service says REPLAYED_OTP.
	_, err = c.Verify(context.Background(), params(f), otp)
	var se *yubikey.StatusError
	if !errors.As(err, &se) || se.Status != yubikey.StatusReplayedOTP || !se.Rejected() {
		t.Fatalf("replay: %v", err)
	}
	// Nonces are fresh each time.
	if a, b := f.requests()[0].Get("nonce"), f.requests()[1].Get("nonce"); a == b {
		t.Error("two requests shared a nonce")
	}
}

// TestClientFailsClosed: every status but OK, and every answer that cannot
// be trusted, is an error.
func TestClientFailsClosed(t *testing.T) {
	otp := makeOTP(t, testPublicID, testAESKey, testPriv, 3, 7)
	other := makeOTP(t, testPublicID, testAESKey, testPriv, 3, 8)
	type check func(t *testing.T, err error)
	status := func(want yubikey.Status) check {
		return func(t *testing.T, err error) {
			var se *yubikey.StatusError
			if !errors.As(err, &se) || se.Status != want {
				t.Fatalf("want status %s, got %v", want, err)
			}
		}
	}
	is := func(want error) check {
		return func(t *testing.T, err error) {
			if !errors.Is(err, want) {
				t.Fatalf("want %v, got %v", want, err)
			}
		}
	}
	cases := []struct {
		name  string
		setup func(f *fakeVal)
		p     func(p *yubikey.ServiceParams)
		check check
	}{
		{"BAD_OTP (not registered)", nil, nil, status(yubikey.StatusBadOTP)},
		{"BAD_SIGNATURE (our key is wrong)", func(f *fakeVal) { f.allow(otp, 1, 1) }, func(p *yubikey.ServiceParams) { p.APIKey = otherKey }, status(yubikey.StatusBadSignature)},
		{"NO_SUCH_CLIENT", func(f *fakeVal) { f.allow(otp, 1, 1) }, func(p *yubikey.ServiceParams) { p.APIID = "43" }, status(yubikey.StatusNoSuchClient)},
	}
	for _, s := range []yubikey.Status{yubikey.StatusBadOTP, yubikey.StatusReplayedOTP, yubikey.StatusBadSignature,
		yubikey.StatusMissingParameter, yubikey.StatusNoSuchClient, yubikey.StatusOperationNotAllowed, yubikey.StatusBackendError,
		yubikey.StatusNotEnoughAnswers, yubikey.StatusReplayedRequest, "SOMETHING_NEW"} {
		cases = append(cases, struct {
			name  string
			setup func(f *fakeVal)
			p     func(p *yubikey.ServiceParams)
			check check
		}{"status " + string(s), func(f *fakeVal) { f.allow(otp, 1, 1); f.force = string(s) }, nil, status(s)})
	}
	more := []struct {
		name  string
		setup func(f *fakeVal)
		p     func(p *yubikey.ServiceParams)
		check check
	}{
		{"OK signed with another key", func(f *fakeVal) {
			f.allow(otp, 1, 1)
			f.after = func(r map[string]string) { r["h"] = fakeSign(r, otherKey) }
		}, nil, is(yubikey.ErrResponseSignature)},
		{"OK unsigned", func(f *fakeVal) { f.allow(otp, 1, 1); f.after = func(r map[string]string) { delete(r, "h") } }, nil, is(yubikey.ErrResponseSignature)},
		{"OK with a status changed after signing", func(f *fakeVal) {
			f.force = "BAD_OTP"
			f.after = func(r map[string]string) { r["status"] = "OK" } // otp and nonce are echoed
		}, nil, is(yubikey.ErrResponseSignature)},
		{"OK for another OTP (cut and paste)", func(f *fakeVal) {
			f.allow(otp, 1, 1)
			f.mutate = func(r map[string]string) { r["otp"] = other }
		}, nil, is(yubikey.ErrEcho)},
		{"OK for another nonce (replayed answer)", func(f *fakeVal) {
			f.allow(otp, 1, 1)
			f.mutate = func(r map[string]string) { r["nonce"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }
		}, nil, is(yubikey.ErrEcho)},
		{"OK without echo", func(f *fakeVal) {
			f.allow(otp, 1, 1)
			f.mutate = func(r map[string]string) { delete(r, "otp"); delete(r, "nonce") }
		}, nil, is(yubikey.ErrEcho)},
		{"HTTP 500", func(f *fakeVal) { f.code = http.StatusInternalServerError }, nil, is(yubikey.ErrBadResponse)},
		{"no status", func(f *fakeVal) { f.raw = func(url.Values) string { return "t=now\r\n" } }, nil, is(yubikey.ErrBadResponse)},
		{"garbage", func(f *fakeVal) { f.raw = func(url.Values) string { return "<html>oops</html>" } }, nil, is(yubikey.ErrBadResponse)},
		{"status twice", func(f *fakeVal) { f.raw = func(url.Values) string { return "status=BAD_OTP\r\nstatus=OK\r\n" } }, nil, is(yubikey.ErrBadResponse)},
		{"huge answer", func(f *fakeVal) {
			f.raw = func(url.Values) string { return "status=OK\r\nx=" + strings.Repeat("a", 5000) + "\r\n" }
		}, nil, is(yubikey.ErrBadResponse)},
		{"bad counters", func(f *fakeVal) {
			f.allow(otp, 1, 1)
			f.mutate = func(r map[string]string) { r["sessioncounter"] = "-1" }
		}, nil, is(yubikey.ErrBadResponse)},
		{"http without a key", func(f *fakeVal) { f.allow(otp, 1, 1) }, func(p *yubikey.ServiceParams) { p.APIKey = nil }, is(yubikey.ErrInsecureURL)},
		{"http when https is required", func(f *fakeVal) { f.allow(otp, 1, 1) }, func(p *yubikey.ServiceParams) { p.RequireHTTPS = true }, is(yubikey.ErrInsecureURL)},
	}
	cases = append(cases, more...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeVal(t, "42", apiKey)
			if tc.setup != nil {
				f.set(tc.setup)
			}
			p := params(f)
			if tc.p != nil {
				tc.p(&p)
			}
			var c yubikey.Client
			a, err := c.Verify(context.Background(), p, otp)
			if a != nil {
				t.Fatalf("an answer was accepted: %+v", a)
			}
			tc.check(t, err)
		})
	}
}

// TestClientSendsNothingForNonOTPs: modhex and length are checked before
// anything leaves.
func TestClientSendsNothingForNonOTPs(t *testing.T) {
	f := newFakeVal(t, "42", apiKey)
	var c yubikey.Client
	for _, bad := range []string{"", "123456", "vvccccjddvhv", "vvccccjddvhvdvgtiblfkbgturecfllberrvkinnctnx",
		"vvccccjddvhv&id=1&otp=x", "vvccccjddvhvdvgtiblfkbgturecfllberrvkinnctnn\r\nh=abc"} {
		if _, err := c.Verify(context.Background(), params(f), bad); !errors.Is(err, yubikey.ErrNotOTP) {
			t.Errorf("Verify(%q): %v", bad, err)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("%d requests left for non-OTPs", n)
	}
}

// TestClientHTTPSWithoutKey: unsigned requests go over https (to a TLS
// fake whose certificate the client trusts) and their answers are taken
// on the strength of TLS alone.
func TestClientHTTPSWithoutKey(t *testing.T) {
	f := &fakeVal{t: t, apiID: "7", valid: map[string][2]int{}, seen: map[string]bool{}, pairs: map[string]bool{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusting client's handshake failure
	srv.StartTLS()
	t.Cleanup(srv.Close)
	otp := makeOTP(t, testPublicID, testAESKey, testPriv, 1, 0)
	f.allow(otp, 1, 0)
	c := yubikey.Client{HTTP: srv.Client()}
	a, err := c.Verify(context.Background(), yubikey.ServiceParams{URL: srv.URL + "/wsapi/2.0/verify", APIID: "7", VerifySignature: true}, otp)
	if err != nil || a == nil {
		t.Fatalf("https without key: %v", err)
	}
	if f.requests()[0].Get("h") != "" {
		t.Error("a request was signed without a key")
	}
	// A client that does not trust the certificate sends nothing useful.
	if _, err := (&yubikey.Client{}).Verify(context.Background(), yubikey.ServiceParams{URL: srv.URL + "/wsapi/2.0/verify", APIID: "7"}, otp); err == nil {
		t.Fatal("an untrusted certificate was accepted")
	}
}
