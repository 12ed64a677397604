package email_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/auth"
	"github.com/gatehouse/gatehouse/auth/authtest"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

// Two sessions passed the password step of a user without devices (the
// user and an attacker who knows the password) and confirm different
// methods at the same moment, on two instances: exactly one enrols, the
// other is refused and confirms nothing. Several rounds, as a race.
func TestForcedEnrolmentRaceEnrolsOnce(t *testing.T) {
	for _, d := range testenv.DBs(t) {
		t.Run(d.Name, func(t *testing.T) { raceEnrolment(t, newSiteOn(t, d, nil)) })
	}
}

func raceEnrolment(t *testing.T, st *site) {
	twin := st.Twin()
	for round := range 6 {
		name := "racer" + string(rune('a'+round))
		u := st.User(name, true, false)

		totp := st.Client()
		if r := totp.Password(name, authtest.Password); r.Location() != setupURL {
			t.Fatalf("password step: want forced enrolment, got %d %q", r.Status, r.Location())
		}
		totp.Post(setupURL, "setup_view-current_step", "welcome")
		r := totp.Post(setupURL, "setup_view-current_step", "method", "method-method", "generator")
		secret := authtest.Secret(r.Body)

		mail := st.Client().Via(twin)
		if r := mail.Password(name, authtest.Password); r.Location() != setupURL {
			t.Fatalf("password step: want forced enrolment, got %d %q", r.Status, r.Location())
		}
		mail.Post(setupURL, "setup_view-current_step", "welcome")
		mail.Post(setupURL, "setup_view-current_step", "method", "method-method", "email")
		addr := name + "@example.com"
		if r := mail.Post(setupURL, "setup_view-current_step", "email", "email-email", addr); !strings.Contains(r.Body, `name="validation-token"`) {
			t.Fatalf("address step: want the validation step, got %d", r.Status)
		}
		code := st.sink.Code(addr)

		var won, refused atomic.Int32
		authtest.Race(2, func(i int) {
			var r *authtest.Response
			if i == 0 {
				r = totp.Post(setupURL, "setup_view-current_step", "generator", "generator-token", st.Code(secret, 0))
			} else {
				r = mail.Post(setupURL, "setup_view-current_step", "validation", "validation-token", code)
			}
			switch {
			case r.Status == http.StatusSeeOther && r.Location() == completeURL:
				won.Add(1)
			case r.Status == http.StatusSeeOther && r.Location() == "/account/login/?next=%2Faccount%2Ftwo_factor%2Fsetup%2F":
				refused.Add(1)
			default:
				t.Errorf("round %d racer %d: unexpected %d %q", round, i, r.Status, r.Location())
			}
		})
		if won.Load() != 1 || refused.Load() != 1 {
			t.Fatalf("round %d: want 1 enrolment and 1 refusal, got %d and %d", round, won.Load(), refused.Load())
		}
		ds, err := st.Service.Devices(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 {
			t.Fatalf("round %d: want exactly 1 confirmed device, got %d", round, len(ds))
		}
		var logged int64
		st.DB.Model(&auth.Event{}).Where("user_id = ? AND kind = ?", u.ID, auth.EventLoginRefused).Count(&logged)
		if logged != 1 {
			t.Fatalf("round %d: the refusal must be logged once, got %d", round, logged)
		}
	}
}
