package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/gateway/twilio"
	"github.com/gatehouse/gatehouse/auth/phone"
)

func init() { plugins = append(plugins, configurePhone) }

// configurePhone adds the "sms" and "call" methods when their gateway is
// set: GATEHOUSE_SMS_GATEWAY and GATEHOUSE_CALL_GATEWAY, each fake or
// twilio. It reads GATEHOUSE_PHONENUMBER_DEFAULT_REGION,
// GATEHOUSE_PHONE_ALLOWED_COUNTRIES (comma separated),
// GATEHOUSE_PHONE_THROTTLE_FACTOR, GATEHOUSE_PHONE_CODE_VALIDITY,
// GATEHOUSE_PHONE_SEND_COOLDOWN (seconds), GATEHOUSE_PHONE_LIMIT_USER,
// _NUMBER, _PREFIX and _GLOBAL (COUNT/WINDOW such as 10/1h, or 0), and for
// twilio TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_CALLER_ID,
// TWILIO_MESSAGING_SERVICE_SID and GATEHOUSE_PUBLIC_URL. A wrong value
// names its setting.
func configurePhone(e *env, a *auth.Service) error {
	smsName := strings.ToLower(strings.TrimSpace(e.getenv("GATEHOUSE_SMS_GATEWAY")))
	callName := strings.ToLower(strings.TrimSpace(e.getenv("GATEHOUSE_CALL_GATEWAY")))
	if smsName == "" && callName == "" {
		return nil
	}
	var errs []error
	for _, g := range []struct{ name, v string }{{"GATEHOUSE_SMS_GATEWAY", smsName}, {"GATEHOUSE_CALL_GATEWAY", callName}} {
		if g.v != "" && g.v != "fake" && g.v != "twilio" {
			errs = append(errs, fmt.Errorf("%s: %q must be fake or twilio", g.name, g.v))
		}
	}
	cfg := phone.Defaults()
	cfg.DefaultRegion = strings.TrimSpace(e.getenv("GATEHOUSE_PHONENUMBER_DEFAULT_REGION"))
	if v := strings.TrimSpace(e.getenv("GATEHOUSE_PHONE_ALLOWED_COUNTRIES")); v != "" {
		cfg.AllowedCountries = strings.Split(v, ",")
	}
	seconds := func(name string, dst *time.Duration) {
		if v := strings.TrimSpace(e.getenv(name)); v != "" {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil || n < 0 || math.IsNaN(n) || n > maxSeconds {
				errs = append(errs, fmt.Errorf("%s: %q is not a number of seconds", name, v))
				return
			}
			*dst = time.Duration(n * float64(time.Second))
		}
	}
	seconds("GATEHOUSE_PHONE_THROTTLE_FACTOR", &cfg.ThrottleFactor)
	seconds("GATEHOUSE_PHONE_CODE_VALIDITY", &cfg.CodeValidity)
	seconds("GATEHOUSE_PHONE_SEND_COOLDOWN", &cfg.SendCooldown)
	for _, l := range []struct {
		name string
		dst  *phone.Limit
	}{{"GATEHOUSE_PHONE_LIMIT_USER", &cfg.UserLimit}, {"GATEHOUSE_PHONE_LIMIT_NUMBER", &cfg.NumberLimit},
		{"GATEHOUSE_PHONE_LIMIT_PREFIX", &cfg.PrefixLimit}, {"GATEHOUSE_PHONE_LIMIT_GLOBAL", &cfg.GlobalLimit}} {
		if v := strings.TrimSpace(e.getenv(l.name)); v != "" {
			lim, err := phone.ParseLimit(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", l.name, err))
				continue
			}
			*l.dst = lim
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var tw *twilio.Gateway
	if smsName == "twilio" || callName == "twilio" {
		var err error
		tw, err = twilio.New(twilio.Config{
			AccountSID:          strings.TrimSpace(e.getenv("TWILIO_ACCOUNT_SID")),
			AuthToken:           strings.TrimSpace(e.getenv("TWILIO_AUTH_TOKEN")),
			CallerID:            strings.TrimSpace(e.getenv("TWILIO_CALLER_ID")),
			MessagingServiceSID: strings.TrimSpace(e.getenv("TWILIO_MESSAGING_SERVICE_SID")),
			PublicURL:           strings.TrimSpace(e.getenv("GATEHOUSE_PUBLIC_URL")),
			SMS:                 smsName == "twilio",
			Calls:               callName == "twilio",
		})
		if err != nil {
			return err
		}
	}
	switch smsName {
	case "fake":
		cfg.SMS = phone.Fake{}
	case "twilio":
		cfg.SMS = tw
	}
	switch callName {
	case "fake":
		cfg.Call = phone.Fake{}
	case "twilio":
		cfg.Call = tw
	}
	_, err := phone.New(a, cfg)
	return err
}
