package yubikey_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/auth/yubikey"
)

const (
	loginURL    = "/account/login/"
	setupURL    = "/account/two_factor/setup/"
	completeURL = "/account/two_factor/setup/complete/"
)

// site is a test site with the YubiKey method; its "default" validation
// service is a fake on 127.0.0.1.
type site struct {
	*authtest.App
	fake *fakeVal
	m    *yubikey.Method
}

func newSite(t *testing.T, mode string, adjust func(*yubikey.Config), authConfig ...func(*auth.Config)) *site {
	t.Helper()
	st := &site{fake: newFakeVal(t, "42", apiKey)}
	var ac func(*auth.Config)
	if len(authConfig) > 0 {
		ac = authConfig[0]
	}
	st.App = authtest.New(t, authtest.Options{Config: ac, Setup: func(s *auth.Service) error {
		cfg := yubikey.Defaults()
		cfg.Mode = mode
		cfg.Service = yubikey.ServiceDefaults{APIID: "42", APIKey: apiKey, URL: st.fake.verify}
		if adjust != nil {
			adjust(&cfg)
		}
		var err error
		st.m, err = yubikey.New(s, cfg)
		return err
	}})
	return st
}

// key is a YubiKey: each otp() is the next touch.
type key struct {
	pub  string
	aes  []byte
	priv [6]byte
	ctr  uint16
	use  uint8
}

func newKey(pub string, seed byte) *key {
	k := &key{pub: pub, aes: make([]byte, 16), ctr: 1}
	for i := range k.aes {
		k.aes[i] = seed + byte(i)
	}
	for i := range k.priv {
		k.priv[i] = seed ^ byte(0x40+i)
	}
	return k
}

func (k *key) otp(t testing.TB) string {
	o := makeOTP(t, k.pub, k.aes, k.priv, k.ctr, k.use)
	k.use++
	return o
}

// replug starts a new session of the key (its usage counter moves on).
func (k *key) replug() { k.ctr++; k.use = 0 }

// remote returns the next OTP, registered as valid with the fake.
func (st *site) remote(t testing.TB, k *key) string {
	use := k.use
	o := k.otp(t)
	st.fake.allow(o, int(k.ctr), int(use))
	return o
}

func (k *key) local() yubikey.LocalKey {
	return yubikey.LocalKey{PublicID: k.pub, PrivateID: hex.EncodeToString(k.priv[:]), AESKey: hex.EncodeToString(k.aes)}
}

// enrol runs forced enrolment posting otp at the yubikey step.
func enrol(t *testing.T, c *authtest.Client, name, otp string) *authtest.Response {
	t.Helper()
	if r := c.Password(name, authtest.Password); r.Location() != setupURL {
		t.Fatalf("password step: want forced enrolment, got %d %q", r.Status, r.Location())
	}
	c.Post(setupURL, "setup_view-current_step", "welcome")
	r := c.Post(setupURL, "setup_view-current_step", "method", "method-method", "yubikey")
	if !strings.Contains(r.Body, `name="yubikey-token"`) {
		t.Fatalf("method yubikey: want the yubikey step, got %d %s", r.Status, r.Body)
	}
	return c.Post(setupURL, "setup_view-current_step", "yubikey", "yubikey-token", otp)
}

func tokenStep(t *testing.T, st *site, name string) (*authtest.Client, *authtest.Response) {
	t.Helper()
	c := st.Client()
	r := c.Password(name, authtest.Password)
	if !strings.Contains(r.Body, `name="token-otp_token"`) {
		t.Fatalf("password step: want the token step, got %d %s", r.Status, r.Body)
	}
	return c, r
}

func post(c *authtest.Client, otp string) *authtest.Response {
	return c.Post(loginURL, "login_view-current_step", "token", "token-otp_token", otp)
}

func TestRemoteEnrolAndLogin(t *testing.T) {
	st := newSite(t, yubikey.ModeRemote, nil)
	st.User("ana", true, false)
	k := newKey(testPublicID, 0x10)
	first := st.remote(t, k)
	if r := enrol(t, st.Client(), "ana", first); r.Location() != completeURL {
		t.Fatalf("enrolment: %d %q %s", r.Status, r.Location(), r.Body)
	}
	reqs := st.fake.requests()
	if len(reqs) != 1 || reqs[0].Get("h") == "" || reqs[0].Get("id") != "42" {
		t.Fatalf("enrolment asked the service %d times: %v", len(reqs), reqs)
	}

	// The seeded "default" service: the fake's URL, the key sealed.
	v, err := st.m.Service(context.Background(), yubikey.DefaultService)
	if err != nil || v.URL != st.fake.verify || v.APIID != "42" || len(v.SealedAPIKey) == 0 || strings.Contains(string(v.SealedAPIKey), string(apiKey)) || !v.VerifySignature {
		t.Fatalf("default service: %+v %v", v, err)
	}

	c, r := tokenStep(t, st, "ana")
	for _, want := range []string{`autocomplete="off"`, "YubiKey one-time password", "Enter the token from your YubiKey."} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("token step lacks %q", want)
		}
	}
	if strings.Contains(r.Body, `inputmode="numeric"`) {
		t.Error("the YubiKey field is numeric; an OTP is letters")
	}
	if r := post(c, first); r.Status != http.StatusOK {
		t.Fatalf("the enrolment OTP was accepted at login: want 200 with the token form, got %d", r.Status)
	}
	st.Clock.Advance(2 * time.Second)
	second := st.remote(t, k)
	if r := post(c, "  "+strings.ToUpper(second)+"\r\n"); r.Status != http.StatusSeeOther {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	c2, _ := tokenStep(t, st, "ana")
	st.Clock.Advance(2 * time.Second)
	if r := post(c2, second); r.Status != http.StatusOK || !strings.Contains(r.Body, "Invalid token") {
		t.Fatalf("a replayed OTP was accepted: %d", r.Status)
	}
}

// TestRemoteRefusals: whatever goes wrong, the login fails closed with a
// message the user can act on; OTPs that are not this key's never leave.
func TestRemoteRefusals(t *testing.T) {
	st := newSite(t, yubikey.ModeRemote, func(c *yubikey.Config) { c.ThrottleFactor = 0 })
	st.User("ana", true, false)
	k := newKey(testPublicID, 0x10)
	if r := enrol(t, st.Client(), "ana", st.remote(t, k)); r.Location() != completeURL {
		t.Fatalf("enrolment: %s", r.Body)
	}
	const (
		invalid     = "Invalid token"
		unavailable = "cannot be reached right now"
		config      = "because of a configuration problem"
	)
	other := newKey("vvccccjddvhb", 0x20)
	cases := []struct {
		name  string
		otp   func() string
		setup func(f *fakeVal)
		want  string
		sent  bool // a request reached the service
	}{
		{"another key's OTP", func() string { return st.remote(t, other) }, nil, invalid, false},
		{"digits", func() string { return "123456" }, nil, invalid, false},
		{"not modhex", func() string { return testPublicID + strings.Repeat("a", 32) }, nil, invalid, false},
		{"too long", func() string { return testPublicID + strings.Repeat("c", 60) }, nil, invalid, false},
		{"unknown OTP (BAD_OTP)", func() string { return k.otp(t) }, nil, invalid, true},
		{"REPLAYED_OTP", func() string { return st.remote(t, k) }, func(f *fakeVal) { f.force = "REPLAYED_OTP" }, invalid, true},
		{"BACKEND_ERROR", func() string { return st.remote(t, k) }, func(f *fakeVal) { f.force = "BACKEND_ERROR" }, unavailable, true},
		{"NOT_ENOUGH_ANSWERS", func() string { return st.remote(t, k) }, func(f *fakeVal) { f.force = "NOT_ENOUGH_ANSWERS" }, unavailable, true},
		{"BAD_SIGNATURE", func() string { return st.remote(t, k) }, func(f *fakeVal) { f.force = "BAD_SIGNATURE" }, config, true},
		{"MISSING_PARAMETER", func() string { return st.remote(t, k) }, func(f *fakeVal) { f.force = "MISSING_PARAMETER" }, config, true},
		{"NO_SUCH_CLIENT", func() string { return st.remote(t, k) }, func(f *fakeVal) { f.force = "NO_SUCH_CLIENT" }, config, true},
		{"OPERATION_NOT_ALLOWED", func() string { return st.remote(t, k) }, func(f *fakeVal) { f.force = "OPERATION_NOT_ALLOWED" }, config, true},
		{"REPLAYED_REQUEST", func() string { return st.remote(t, k) }, func(f *fakeVal) { f.force = "REPLAYED_REQUEST" }, config, true},
		{"unknown status", func() string { return st.remote(t, k) }, func(f *fakeVal) { f.force = "MAYBE" }, config, true},
		{"OK, forged signature", func() string { return st.remote(t, k) }, func(f *fakeVal) {
			f.after = func(r map[string]string) { r["h"] = fakeSign(r, otherKey) }
		}, config, true},
		{"OK, unsigned", func() string { return st.remote(t, k) }, func(f *fakeVal) {
			f.after = func(r map[string]string) { delete(r, "h") }
		}, config, true},
		{"OK for another OTP", func() string { return st.remote(t, k) }, func(f *fakeVal) {
			f.mutate = func(r map[string]string) { r["otp"] = testPublicID + strings.Repeat("c", 32) }
		}, config, true},
		{"OK for another nonce", func() string { return st.remote(t, k) }, func(f *fakeVal) {
			f.mutate = func(r map[string]string) { r["nonce"] = strings.Repeat("x", 32) }
		}, config, true},
		{"HTTP 503", func() string { return st.remote(t, k) }, func(f *fakeVal) { f.code = http.StatusServiceUnavailable }, unavailable, true},
		{"garbage", func() string { return st.remote(t, k) }, func(f *fakeVal) { f.raw = func(url.Values) string { return "<h1>proxy error</h1>" } }, unavailable, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st.fake.set(func(f *fakeVal) {}) // reset the hooks
			if tc.setup != nil {
				st.fake.set(tc.setup)
			}
			c, _ := tokenStep(t, st, "ana")
			before := len(st.fake.requests())
			r := post(c, tc.otp())
			if r.Status != http.StatusOK {
				t.Fatalf("want 200 with the form's message, got %d", r.Status)
			}
			if !strings.Contains(r.Body, tc.want) {
				t.Errorf("want a message containing %q: %s", tc.want, r.Body)
			}
			if sent := len(st.fake.requests()) > before; sent != tc.sent {
				t.Errorf("request sent: %v, want %v", sent, tc.sent)
			}
		})
	}
	st.fake.set(func(f *fakeVal) {})
	c, _ := tokenStep(t, st, "ana")
	if r := post(c, st.remote(t, k)); r.Status != http.StatusSeeOther {
		t.Fatalf("after all that, a good OTP must still work: %d %s", r.Status, r.Body)
	}
}

// TestRemoteThrottle: a throttled attempt is refused before anything is
// sent, even with a good OTP.
func TestRemoteThrottle(t *testing.T) {
	st := newSite(t, yubikey.ModeRemote, nil)
	st.User("ana", true, false)
	k := newKey(testPublicID, 0x10)
	enrol(t, st.Client(), "ana", st.remote(t, k))
	c, _ := tokenStep(t, st, "ana")
	post(c, k.otp(t)) // unknown to the service: BAD_OTP
	before := len(st.fake.requests())
	good := st.remote(t, k)
	if r := post(c, good); r.Status != http.StatusOK || !strings.Contains(r.Body, "Verification is paused") {
		t.Fatalf("throttled attempt: %d", r.Status)
	}
	if len(st.fake.requests()) != before {
		t.Fatal("a throttled attempt reached the validation service")
	}
	st.Clock.Advance(time.Second)
	if r := post(c, good); r.Status != http.StatusSeeOther {
		t.Fatalf("after the back-off: %d %s", r.Status, r.Body)
	}
}

// TestRemoteWatermark: a service that answers OK to a replay (no replay
// protection, or a replayed answer) is caught by the counters it reports.
func TestRemoteWatermark(t *testing.T) {
	st := newSite(t, yubikey.ModeRemote, func(c *yubikey.Config) { c.ThrottleFactor = 0 })
	st.User("ana", true, false)
	k := newKey(testPublicID, 0x10)
	enrol(t, st.Client(), "ana", st.remote(t, k))
	st.fake.set(func(f *fakeVal) { f.noReply = true })
	otp := st.remote(t, k)
	c, _ := tokenStep(t, st, "ana")
	if r := post(c, otp); r.Status != http.StatusSeeOther {
		t.Fatalf("first use: %d", r.Status)
	}
	c2, _ := tokenStep(t, st, "ana")
	if r := post(c2, otp); r.Status != http.StatusOK {
		t.Fatalf("an OTP the service accepted twice was accepted twice: want 200 with the token form, got %d", r.Status)
	}

	t.Run("concurrent", func(t *testing.T) {
		for _, noReply := range []bool{false, true} {
			st.fake.set(func(f *fakeVal) { f.noReply = noReply })
			otp := st.remote(t, k)
			const n = 8
			clients := make([]*authtest.Client, n)
			for i := range clients {
				clients[i], _ = tokenStep(t, st, "ana")
			}
			var wins atomic.Int32
			var start, done sync.WaitGroup
			start.Add(1)
			for _, c := range clients {
				done.Add(1)
				go func() {
					defer done.Done()
					start.Wait()
					req, _ := http.NewRequest(http.MethodPost, st.Server.URL+loginURL, strings.NewReader(url.Values{
						"login_view-current_step": {"token"}, "token-otp_token": {otp}}.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					res, err := c.HTTP.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					res.Body.Close()
					switch res.StatusCode {
					case http.StatusSeeOther:
						wins.Add(1)
					case http.StatusOK: // refused, the token form again
					default:
						t.Errorf("a concurrent token step answered %d: want 303 or 200", res.StatusCode)
					}
				}()
			}
			start.Done()
			done.Wait()
			if wins.Load() != 1 {
				t.Fatalf("service replay protection %v: one OTP logged in %d times; want exactly 1", !noReply, wins.Load())
			}
		}
	})
}

// TestInsecureService: without an API key only https protects the
// answers, so an http URL gets nothing sent.
func TestInsecureService(t *testing.T) {
	st := newSite(t, yubikey.ModeRemote, func(c *yubikey.Config) { c.ThrottleFactor = 0 })
	st.User("ana", true, false)
	k := newKey(testPublicID, 0x10)
	enrol(t, st.Client(), "ana", st.remote(t, k))
	if err := st.m.SetServiceKey(context.Background(), yubikey.DefaultService, ""); err != nil {
		t.Fatal(err)
	}
	before := len(st.fake.requests())
	c, _ := tokenStep(t, st, "ana")
	if r := post(c, st.remote(t, k)); r.Status != http.StatusOK || !strings.Contains(r.Body, "configuration problem") {
		t.Fatalf("http without a key: %d", r.Status)
	}
	if len(st.fake.requests()) != before {
		t.Fatal("an unsigned request went over http")
	}
	if err := st.m.SetServiceKey(context.Background(), yubikey.DefaultService, base64.StdEncoding.EncodeToString(apiKey)); err != nil {
		t.Fatal(err)
	}
	if r := post(c, st.remote(t, k)); r.Status != http.StatusSeeOther {
		t.Fatalf("key restored: %d %s", r.Status, r.Body)
	}
	if err := st.m.SetServiceKey(context.Background(), "nope", ""); err == nil {
		t.Error("SetServiceKey of a missing service succeeded")
	}
	if err := st.m.SetServiceKey(context.Background(), yubikey.DefaultService, "not base64!"); err == nil {
		t.Error("SetServiceKey accepted a key that is not base64")
	}
}

// TestLocalDevice: decryption, private id, and counters that must move on.
func TestLocalDevice(t *testing.T) {
	st := newSite(t, yubikey.ModeRemote, func(c *yubikey.Config) { c.ThrottleFactor = 0 })
	u := st.User("ana", true, false)
	k := newKey("cccccccbcjdi", 0x30)
	if _, err := st.m.AddLocal(context.Background(), u.ID, k.local(), true); err != nil {
		t.Fatal(err)
	}
	c, r := tokenStep(t, st, "ana")
	if !strings.Contains(r.Body, "YubiKey one-time password") {
		t.Fatalf("token step: %s", r.Body)
	}
	first := k.otp(t)  // 1/0
	second := k.otp(t) // 1/1
	if r := post(c, second); r.Status != http.StatusSeeOther {
		t.Fatalf("local OTP: %d %s", r.Status, r.Body)
	}
	wrongKey := *k
	wrongKey.aes = make([]byte, 16)
	wrongPriv := *k
	wrongPriv.priv = [6]byte{9, 9, 9, 9, 9, 9}
	capsLock := *k
	capsLock.ctr |= 0x8000 // same usage counter, caps-lock flag
	capsLock.use = 1
	cases := []struct {
		name string
		otp  string
		ok   bool
	}{
		{"replay", second, false},
		{"older touch", first, false},
		{"same counters with the caps-lock flag", capsLock.otp(t), false},
		{"another AES key", wrongKey.otp(t), false},
		{"another private id", wrongPriv.otp(t), false},
		{"another public id", "cccccccbcjdv" + second[12:], false},
		{"next touch", k.otp(t), true},
		{"after replugging", func() string { k.replug(); return k.otp(t) }(), true},
		{"an old session after replugging", makeOTP(t, k.pub, k.aes, k.priv, 1, 200), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := tokenStep(t, st, "ana")
			r := post(c, tc.otp)
			if got := r.Status == http.StatusSeeOther; got != tc.ok {
				t.Fatalf("accepted: %v, want %v (%d)", got, tc.ok, r.Status)
			}
		})
	}
	if n := len(st.fake.requests()); n != 0 {
		t.Fatalf("local devices asked the validation service %d times", n)
	}
	evs, _ := st.Service.Events(context.Background(), u.ID, 100)
	var regressed int
	for _, e := range evs {
		if e.Kind == auth.EventCounterRegressed {
			regressed++
		}
	}
	if regressed < 2 {
		t.Errorf("replayed local OTPs must be recorded as counter_regressed: %d events", regressed)
	}
}

func TestLocalConcurrent(t *testing.T) {
	st := newSite(t, yubikey.ModeRemote, nil)
	u := st.User("ana", true, false)
	k := newKey("cccccccbcjdi", 0x30)
	if _, err := st.m.AddLocal(context.Background(), u.ID, k.local(), true); err != nil {
		t.Fatal(err)
	}
	ds, err := st.m.Devices(context.Background(), u.ID)
	if err != nil || len(ds) != 1 {
		t.Fatalf("devices: %v %d", err, len(ds))
	}
	otp := k.otp(t)
	var wins atomic.Int32
	var start, done sync.WaitGroup
	start.Add(1)
	for range 16 {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			ok, err := ds[0].VerifyToken(context.Background(), otp)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	start.Done()
	done.Wait()
	if wins.Load() != 1 {
		t.Fatalf("one local OTP verified %d times concurrently; want exactly 1", wins.Load())
	}
}

// TestLocalSetup: in local mode the wizard enrols only a key an
// administrator registered for this very user.
func TestLocalSetup(t *testing.T) {
	st := newSite(t, yubikey.ModeLocal, func(c *yubikey.Config) { c.ThrottleFactor = 0 })
	ana := st.User("ana", true, false)
	bob := st.User("bob", true, false)
	anaKey, bobKey, stray := newKey("cccccccbcjdi", 0x30), newKey("cccccccbcjdb", 0x50), newKey("cccccccbcjdd", 0x70)
	regID, err := st.m.AddLocal(context.Background(), ana.ID, anaKey.local(), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.m.AddLocal(context.Background(), bob.ID, bobKey.local(), false); err != nil {
		t.Fatal(err)
	}
	c := st.Client()
	c.Password("ana", authtest.Password)
	c.Post(setupURL, "setup_view-current_step", "welcome")
	r := c.Post(setupURL, "setup_view-current_step", "method", "method-method", "yubikey")
	if !strings.Contains(r.Body, "Use the key your administrator registered for you.") {
		t.Fatalf("local setup step: %s", r.Body)
	}
	for name, otp := range map[string]string{"bob's key": bobKey.otp(t), "a stray key": stray.otp(t)} {
		r = c.Post(setupURL, "setup_view-current_step", "yubikey", "yubikey-token", otp)
		if r.Location() == completeURL || !strings.Contains(r.Body, "This YubiKey is not registered for your account.") {
			t.Fatalf("%s enrolled for ana: %d %s", name, r.Status, r.Body)
		}
	}
	r = c.Post(setupURL, "setup_view-current_step", "yubikey", "yubikey-token", anaKey.otp(t))
	if r.Location() != completeURL {
		t.Fatalf("ana's key: %d %s", r.Status, r.Body)
	}
	var rows []yubikey.Device
	st.DB.Where("user_id = ?", ana.ID).Find(&rows)
	if len(rows) != 1 || !rows[0].Confirmed || rows[0].Kind != yubikey.KindLocal || rows[0].ID == regID {
		t.Fatalf("the registration must become the confirmed device: %+v", rows)
	}
	lc, _ := tokenStep(t, st, "ana")
	if r := post(lc, anaKey.otp(t)); r.Status != http.StatusSeeOther {
		t.Fatalf("login with the enrolled local key: %d %s", r.Status, r.Body)
	}
	if n := len(st.fake.requests()); n != 0 {
		t.Fatalf("local mode asked the validation service %d times", n)
	}
}

func TestSeedKeepsAdminEdits(t *testing.T) {
	st := newSite(t, yubikey.ModeRemote, nil)
	if err := st.DB.Model(&yubikey.ValidationService{}).Where("name = ?", "default").Update("url", "https://val.example.org/wsapi/2.0/verify").Error; err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := st.Service.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	var all []yubikey.ValidationService
	st.DB.Find(&all)
	if len(all) != 1 || all[0].URL != "https://val.example.org/wsapi/2.0/verify" {
		t.Fatalf("migrate must create default once and keep edits: %+v", all)
	}
}

func TestYubiCloudDefault(t *testing.T) {
	app := authtest.New(t, authtest.Options{Setup: func(s *auth.Service) error {
		_, err := yubikey.New(s, yubikey.Defaults())
		return err
	}})
	var v yubikey.ValidationService
	if err := app.DB.Where("name = ?", "default").Take(&v).Error; err != nil {
		t.Fatal(err)
	}
	if v.URL != yubikey.YubiCloudURL || !v.UseHTTPS || !v.VerifySignature || len(v.SealedAPIKey) != 0 {
		t.Fatalf("the seed's default service: %+v", v)
	}
	if err := v.Validate(); err != nil {
		t.Fatalf("default service does not validate: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name   string
		adjust func(*yubikey.Config)
		want   string
	}{
		{"mode", func(c *yubikey.Config) { c.Mode = "cloud" }, "GATEHOUSE_YUBIKEY:"},
		{"factor", func(c *yubikey.Config) { c.ThrottleFactor = -1 }, "GATEHOUSE_YUBIKEY_THROTTLE_FACTOR"},
		{"url", func(c *yubikey.Config) { c.Service.URL = "ftp://x" }, "GATEHOUSE_YUBIKEY_URL"},
		{"http without key", func(c *yubikey.Config) { c.Service.URL = "http://val.example.org/verify" }, "GATEHOUSE_YUBIKEY_URL"},
		{"api id", func(c *yubikey.Config) { c.Service.APIID = strings.Repeat("9", 33) }, "GATEHOUSE_YUBIKEY_API_ID"},
	}
	if err := yubikey.Defaults().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := yubikey.Defaults()
			tc.adjust(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error naming %s, got %v", tc.want, err)
			}
		})
	}
}
