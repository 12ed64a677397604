package auth

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/clock"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

func newTestService(t *testing.T, now time.Time) (*Service, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(now)
	cfg := Defaults()
	cfg.SecretKey = []byte("0123456789abcdef0123456789abcdef")
	cfg.Clock = clk
	s, err := New(testenv.Open(t, testenv.DB{Name: "sqlite"}), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, clk
}

// rfcDevice stores RFC 6238's SHA-1 key as a confirmed 8-digit device.
func rfcDevice(t *testing.T, s *Service, tolerance int) *TOTPDevice {
	t.Helper()
	d := &TOTPDevice{UserID: 1, Confirmed: true, Digits: 8, Step: 30, Tolerance: tolerance, LastT: -1,
		SealedKey: s.keys.seal([]byte("12345678901234567890"), sealContext("totp", 1))}
	if err := s.db.Create(d).Error; err != nil {
		t.Fatal(err)
	}
	d.method = s.methods.byCode["generator"].(*totpMethod)
	return d
}

func TestRFC6238Vectors(t *testing.T) {
	vectors := []struct {
		unix int64
		code string
	}{
		{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"},
		{1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
	}
	for _, v := range vectors {
		s, clk := newTestService(t, time.Unix(v.unix, 0))
		d := rfcDevice(t, s, 0)
		ok, err := d.VerifyToken(context.Background(), v.code)
		if err != nil || !ok {
			t.Errorf("RFC 6238 vector T=%d %s rejected (err %v)", v.unix, v.code, err)
		}
		clk.Advance(0)
	}
}

func TestTOTPReplayAndDrift(t *testing.T) {
	s, clk := newTestService(t, time.Unix(1111111111, 0))
	d := rfcDevice(t, s, 1)
	ctx := context.Background()
	if ok, _ := d.VerifyToken(ctx, "14050471"); !ok {
		t.Fatal("valid code rejected")
	}
	if ok, _ := d.VerifyToken(ctx, "14050471"); ok {
		t.Fatal("the same code was accepted twice")
	}
	// A stale copy of the device (another instance) cannot replay either: the UPDATE is conditional.
	var stale TOTPDevice
	s.db.First(&stale, d.ID)
	stale.method, stale.LastT = d.method, -1
	if ok, _ := stale.VerifyToken(ctx, "14050471"); ok {
		t.Fatal("a stale device row replayed an accepted code")
	}
	// An earlier step than the watermark is refused even within tolerance.
	clk.Advance(30 * time.Second)
	if ok, _ := d.VerifyToken(ctx, "07081804"); ok {
		t.Fatal("a code older than the watermark was accepted")
	}
}

func TestDriftLearning(t *testing.T) {
	s, clk := newTestService(t, time.Unix(1111111111-30, 0))
	d := rfcDevice(t, s, 1)
	// The phone runs one step ahead: its code for T=1111111111 is accepted at offset +1.
	if ok, _ := d.VerifyToken(context.Background(), "14050471"); !ok {
		t.Fatal("code one step ahead rejected within tolerance")
	}
	if d.Drift != 1 {
		t.Fatalf("drift not learned: %d", d.Drift)
	}
	_ = clk
}

func TestCanonicalDigits(t *testing.T) {
	cases := []struct {
		in   string
		want string
		ok   bool
	}{
		{"123456", "123456", true},
		{" 123 456 ", "123456", true},
		{"123-456", "123456", true},
		{"١٢٣٤٥٦", "", false}, // Arabic-Indic digits
		{"１２３４５６", "", false}, // full-width digits
		{"12345", "", false},
		{"1234567", "", false},
		{"12345a", "", false},
		{"+12345", "", false},
		{"123456\u200b", "", false}, // zero-width space
	}
	for _, c := range cases {
		got, ok := CanonicalDigits(c.in, 6)
		if got != c.want || ok != c.ok {
			t.Errorf("CanonicalDigits(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestSecretsAtRest(t *testing.T) {
	s, _ := newTestService(t, time.Unix(59, 0))
	d := rfcDevice(t, s, 0)
	var row TOTPDevice
	s.db.First(&row, d.ID)
	if string(row.SealedKey) == "12345678901234567890" || len(row.SealedKey) < 20+12+16 {
		t.Fatal("TOTP key stored in clear")
	}
	other, err := newKeyring([]byte("another-secret-another-secret-00"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.open(row.SealedKey, sealContext("totp", 1)); err == nil {
		t.Fatal("a different site secret decrypted the device key")
	}
	if _, err := s.keys.open(row.SealedKey, sealContext("totp", 2)); err == nil {
		t.Fatal("a device key moved to another user's row still decrypts")
	}
}

// TestConcurrentSameCode: 20 verifications of one valid code at once, as
// from 20 instances; exactly one wins.
func TestConcurrentSameCode(t *testing.T) {
	s, _ := newTestService(t, time.Unix(1111111111, 0))
	d := rfcDevice(t, s, 1)
	var wins atomic.Int32
	var start, done sync.WaitGroup
	start.Add(1)
	for range 20 {
		done.Add(1)
		go func() {
			defer done.Done()
			var mine TOTPDevice
			s.db.First(&mine, d.ID)
			mine.method = d.method
			start.Wait()
			if ok, err := mine.VerifyToken(context.Background(), "14050471"); ok && err == nil {
				wins.Add(1)
			}
		}()
	}
	start.Done()
	done.Wait()
	if wins.Load() != 1 {
		t.Fatalf("one TOTP code verified %d times concurrently; want exactly 1", wins.Load())
	}
}

func TestThrottlePolicy(t *testing.T) {
	p := Policy{Factor: time.Second}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 10: 512 * time.Second, 100: 24 * time.Hour} {
		if got := p.delay(n); got != want {
			t.Errorf("delay after %d failures = %s, want %s", n, got, want)
		}
	}
	if d := (Policy{Factor: time.Second, Free: 5}).delay(4); d != 0 {
		t.Errorf("failures below Free must not wait, got %s", d)
	}
	if d := (Policy{Factor: time.Second, Free: 5}).delay(5); d != time.Second {
		t.Errorf("the Free-th failure must start the back-off, got %s", d)
	}
	if d := (Policy{}).delay(50); d != 0 {
		t.Errorf("factor 0 disables waiting, got %s", d)
	}
}

func TestPasswordHasher(t *testing.T) {
	h := NewHasher(Argon2Params{Memory: 1024, Time: 1, Threads: 1}, 2)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "pässwörd long enough")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Check(ctx, "pässwörd long enough", enc); err != nil {
		t.Fatalf("right password rejected: %v", err)
	}
	for _, bad := range []string{"", "pässwörd long enougH", "pässwörd long enough "} {
		if h.Check(ctx, bad, enc) == nil {
			t.Errorf("wrong password %q accepted", bad)
		}
	}
	for _, broken := range []string{"", unusable, "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", "$bcrypt$x", enc[:len(enc)-4]} {
		if h.Check(ctx, "pässwörd long enough", broken) == nil {
			t.Errorf("malformed hash %q accepted a password", broken)
		}
	}
}
