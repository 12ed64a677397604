package yubikey_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
)

// fakeVal is a Yubico validation server (protocol 2.0) on 127.0.0.1 for
// tests. It checks requests as yubikey-val does (parameters, client id,
// request signature, nonce, OTP format, replays) and signs its answers
// with its own HMAC code, independent of the package under test. OTPs it
// should accept are registered with allow; hooks make it misbehave.
type fakeVal struct {
	t      testing.TB
	srv    *httptest.Server
	apiID  string
	key    []byte // nil: answers unsigned
	verify string // the verify URL

	mu      sync.Mutex
	valid   map[string][2]int // otp -> sessioncounter, sessionuse
	seen    map[string]bool   // otps answered OK
	pairs   map[string]bool   // otp+nonce seen
	reqs    []url.Values
	force   string                       // answer this status to every well-formed request
	mutate  func(resp map[string]string) // change the answer before it is signed
	after   func(resp map[string]string) // change the answer after it is signed
	raw     func(q url.Values) string    // answer this body instead
	code    int                          // answer this HTTP status instead
	noReply bool                         // forget seen OTPs (a service without replay protection)
}

func newFakeVal(t testing.TB, apiID string, key []byte) *fakeVal {
	f := &fakeVal{t: t, apiID: apiID, key: key, valid: map[string][2]int{}, seen: map[string]bool{}, pairs: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	f.verify = f.srv.URL + "/wsapi/2.0/verify"
	return f
}

// allow makes otp valid (once) with the key's counters.
func (f *fakeVal) allow(otp string, counter, use int) {
	f.mu.Lock()
	if f.valid == nil {
		f.valid = map[string][2]int{}
	}
	f.valid[otp] = [2]int{counter, use}
	f.mu.Unlock()
}

// requests returns the queries received so far.
func (f *fakeVal) requests() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.reqs...)
}

// set changes the fake's behaviour between requests; fn may call allow.
func (f *fakeVal) set(fn func(f *fakeVal)) {
	var hold fakeVal
	fn(&hold) // collect the hooks without the lock, then install them
	f.mu.Lock()
	for otp, c := range hold.valid {
		f.valid[otp] = c
	}
	f.force, f.mutate, f.after, f.raw, f.code, f.noReply = hold.force, hold.mutate, hold.after, hold.raw, hold.code, hold.noReply
	f.mu.Unlock()
}

func (f *fakeVal) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	f.reqs = append(f.reqs, q)
	if r.Method != http.MethodGet || r.URL.Path != "/wsapi/2.0/verify" {
		http.NotFound(w, r)
		return
	}
	if f.code != 0 {
		w.WriteHeader(f.code)
		return
	}
	if f.raw != nil {
		fmt.Fprint(w, f.raw(q))
		return
	}
	resp := map[string]string{"t": "2026-01-05T12:00:00Z0123"}
	status := f.judge(q)
	resp["status"] = status
	if status != "MISSING_PARAMETER" && status != "NO_SUCH_CLIENT" {
		resp["otp"], resp["nonce"] = q.Get("otp"), q.Get("nonce")
	}
	if status == "OK" {
		resp["sl"] = "100"
		if q.Get("timestamp") == "1" {
			c := f.valid[q.Get("otp")]
			resp["timestamp"] = "1234"
			resp["sessioncounter"] = fmt.Sprint(c[0])
			resp["sessionuse"] = fmt.Sprint(c[1])
		}
	}
	if f.mutate != nil {
		f.mutate(resp)
	}
	if f.key != nil && status != "NO_SUCH_CLIENT" {
		resp["h"] = fakeSign(resp, f.key)
	}
	if f.after != nil {
		f.after(resp)
	}
	for k, v := range resp {
		fmt.Fprintf(w, "%s=%s\r\n", k, v)
	}
	fmt.Fprint(w, "\r\n")
}

// judge decides the status as yubikey-val would.
func (f *fakeVal) judge(q url.Values) string {
	for _, p := range []string{"id", "otp", "nonce"} {
		if q.Get(p) == "" {
			return "MISSING_PARAMETER"
		}
	}
	if q.Get("id") != f.apiID {
		return "NO_SUCH_CLIENT"
	}
	if h := q.Get("h"); f.key != nil && h != "" {
		pairs := map[string]string{}
		for k := range q {
			pairs[k] = q.Get(k)
		}
		if h != fakeSign(pairs, f.key) {
			return "BAD_SIGNATURE"
		}
	}
	nonce := q.Get("nonce")
	if len(nonce) < 16 || len(nonce) > 40 || strings.IndexFunc(nonce, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) >= 0 {
		return "MISSING_PARAMETER"
	}
	if f.force != "" {
		return f.force
	}
	otp := q.Get("otp")
	if len(otp) < 32 || len(otp) > 48 || strings.Trim(otp, "cbdefghijklnrtuv") != "" {
		return "BAD_OTP"
	}
	if f.pairs[otp+"/"+nonce] {
		return "REPLAYED_REQUEST"
	}
	f.pairs[otp+"/"+nonce] = true
	if f.seen[otp] && !f.noReply {
		return "REPLAYED_OTP"
	}
	if _, ok := f.valid[otp]; !ok {
		return "BAD_OTP"
	}
	f.seen[otp] = true
	return "OK"
}

// fakeSign is the protocol's signature, written again for the fake.
func fakeSign(pairs map[string]string, key []byte) string {
	var keys []string
	for k := range pairs {
		if k != "h" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+pairs[k])
	}
	m := hmac.New(sha1.New, key)
	m.Write([]byte(strings.Join(parts, "&")))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
