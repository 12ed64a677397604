package phone

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// MaxCodeValidity is the longest a code may stay valid (NIST SP 800-63B
// for out-of-band codes).
const MaxCodeValidity = 10 * time.Minute

// Limit is a send budget: at most Max codes per Window, counted in the
// shared store so every instance sees the same count. Max 0 means no limit.
type Limit struct {
	Max    int
	Window time.Duration
}

// String is the setting's syntax, "10/1h0m0s"; "0" for no limit.
func (l Limit) String() string {
	if l.Max == 0 {
		return "0"
	}
	return fmt.Sprintf("%d/%s", l.Max, l.Window)
}

// ParseLimit reads "N/window" (e.g. "10/1h", "200/24h"); "0" is no limit.
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return Limit{}, nil
	}
	n, w, ok := strings.Cut(s, "/")
	if !ok {
		return Limit{}, fmt.Errorf("%q is not COUNT/WINDOW such as 10/1h, or 0 for no limit", s)
	}
	max, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || max < 0 {
		return Limit{}, fmt.Errorf("%q: the count must be a whole number of at least 0", s)
	}
	win, err := time.ParseDuration(strings.TrimSpace(w))
	if err != nil || win <= 0 {
		return Limit{}, fmt.Errorf("%q: the window must be a positive duration such as 1h or 24h", s)
	}
	return Limit{Max: max, Window: win}, nil
}

// Config holds the phone settings of the seed (TWO_FACTOR_SMS_GATEWAY,
// TWO_FACTOR_CALL_GATEWAY, PHONENUMBER_DEFAULT_REGION,
// TWO_FACTOR_PHONE_THROTTLE_FACTOR) and Gatehouse's defences against SMS
// pumping. Start from Defaults; Validate names the setting that is wrong by
// its environment variable.
type Config struct {
	// SMS sends text messages; nil leaves the "sms" method out.
	// (GATEHOUSE_SMS_GATEWAY: fake or twilio)
	SMS SMSGateway
	// Call makes voice calls; nil leaves the "call" method out.
	// (GATEHOUSE_CALL_GATEWAY: fake or twilio)
	Call CallGateway
	// DefaultRegion is the ISO 3166 region ("NL") for numbers typed
	// without a country code; "" requires the +country code.
	// (GATEHOUSE_PHONENUMBER_DEFAULT_REGION)
	DefaultRegion string
	// AllowedCountries, when not empty, lists the only regions ("NL",
	// "DE") whose numbers may be registered or sent to.
	// (GATEHOUSE_PHONE_ALLOWED_COUNTRIES, comma separated)
	AllowedCountries []string
	// ThrottleFactor: after n consecutive wrong codes a phone waits
	// factor*2^(n-1); 0 disables. (GATEHOUSE_PHONE_THROTTLE_FACTOR, default 1 s)
	ThrottleFactor time.Duration
	// CodeValidity is how long a sent code is accepted, at most 10
	// minutes. (GATEHOUSE_PHONE_CODE_VALIDITY, default 300 s)
	CodeValidity time.Duration
	// SendCooldown is the least time between two sends to one number; 0
	// disables. (GATEHOUSE_PHONE_SEND_COOLDOWN, default 60 s)
	SendCooldown time.Duration
	// UserLimit, NumberLimit, PrefixLimit and GlobalLimit are send budgets
	// per user, per number, per country calling code (+31) and for the
	// whole site. (GATEHOUSE_PHONE_LIMIT_USER, _NUMBER, _PREFIX, _GLOBAL;
	// defaults 10/1h, 5/1h, 200/1h, 1000/1h)
	UserLimit   Limit
	NumberLimit Limit
	PrefixLimit Limit
	GlobalLimit Limit
}

// Defaults returns the defaults; the gateways are still to be set.
func Defaults() Config {
	return Config{
		ThrottleFactor: time.Second,
		CodeValidity:   5 * time.Minute,
		SendCooldown:   time.Minute,
		UserLimit:      Limit{Max: 10, Window: time.Hour},
		NumberLimit:    Limit{Max: 5, Window: time.Hour},
		PrefixLimit:    Limit{Max: 200, Window: time.Hour},
		GlobalLimit:    Limit{Max: 1000, Window: time.Hour},
	}
}

func (c Config) withDefaults() Config {
	if c.CodeValidity == 0 {
		c.CodeValidity = Defaults().CodeValidity
	}
	c.DefaultRegion = strings.ToUpper(strings.TrimSpace(c.DefaultRegion))
	allowed := make([]string, 0, len(c.AllowedCountries))
	for _, r := range c.AllowedCountries {
		if r = strings.ToUpper(strings.TrimSpace(r)); r != "" {
			allowed = append(allowed, r)
		}
	}
	c.AllowedCountries = allowed
	return c
}

// Validate reports every wrong setting, each named by its variable.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.SMS == nil && c.Call == nil {
		errs = append(errs, errors.New("GATEHOUSE_SMS_GATEWAY, GATEHOUSE_CALL_GATEWAY: set at least one gateway (fake or twilio)"))
	}
	regions := phonenumbers.GetSupportedRegions()
	if c.DefaultRegion != "" && !regions[c.DefaultRegion] {
		errs = append(errs, fmt.Errorf("GATEHOUSE_PHONENUMBER_DEFAULT_REGION: %q is not a region code such as NL or US", c.DefaultRegion))
	}
	for _, r := range c.AllowedCountries {
		if !regions[r] {
			errs = append(errs, fmt.Errorf("GATEHOUSE_PHONE_ALLOWED_COUNTRIES: %q is not a region code such as NL or US", r))
		}
	}
	if c.DefaultRegion != "" && len(c.AllowedCountries) > 0 && !slices.Contains(c.AllowedCountries, c.DefaultRegion) {
		errs = append(errs, fmt.Errorf("GATEHOUSE_PHONENUMBER_DEFAULT_REGION: %s is not in GATEHOUSE_PHONE_ALLOWED_COUNTRIES", c.DefaultRegion))
	}
	if c.ThrottleFactor < 0 {
		errs = append(errs, errors.New("GATEHOUSE_PHONE_THROTTLE_FACTOR: must not be negative"))
	}
	if c.CodeValidity < 30*time.Second || c.CodeValidity > MaxCodeValidity {
		errs = append(errs, fmt.Errorf("GATEHOUSE_PHONE_CODE_VALIDITY: must be between 30 and 600 seconds, not %s", c.CodeValidity))
	}
	if c.SendCooldown < 0 || c.SendCooldown > time.Hour {
		errs = append(errs, fmt.Errorf("GATEHOUSE_PHONE_SEND_COOLDOWN: must be between 0 and 3600 seconds, not %s", c.SendCooldown))
	}
	for _, l := range []struct {
		name string
		l    Limit
	}{{"GATEHOUSE_PHONE_LIMIT_USER", c.UserLimit}, {"GATEHOUSE_PHONE_LIMIT_NUMBER", c.NumberLimit},
		{"GATEHOUSE_PHONE_LIMIT_PREFIX", c.PrefixLimit}, {"GATEHOUSE_PHONE_LIMIT_GLOBAL", c.GlobalLimit}} {
		if l.l.Max < 0 || (l.l.Max > 0 && l.l.Window <= 0) {
			errs = append(errs, fmt.Errorf("%s: %d per %s is not a limit", l.name, l.l.Max, l.l.Window))
		}
	}
	return errors.Join(errs...)
}
