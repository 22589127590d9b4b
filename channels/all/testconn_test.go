package all_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/backend"
	"switchboard/channels"
	"switchboard/channels/discord/discordtest"
	"switchboard/channels/email/emailtest"
	"switchboard/channels/line/linetest"
	"switchboard/channels/messenger/messengertest"
	"switchboard/channels/meta/metatest"
	"switchboard/channels/telegram/telegramtest"
	"switchboard/channels/twilio/twiliotest"
	"switchboard/channels/whatsapp/whatsapptest"
)

// testConn builds connector id from config, pointed at base, and runs its
// connection test.
func testConn(t *testing.T, id, base string, config map[string]any) (string, error) {
	t.Helper()
	info, ok := channels.Lookup(id)
	if !ok {
		t.Fatalf("no connector %s", id)
	}
	raw, _ := json.Marshal(config)
	c, err := info.New(channels.Params{Connector: id, Instance: "main", Config: raw, BaseURL: base,
		Client: &http.Client{Timeout: 10 * time.Second}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now})
	if err != nil {
		t.Fatalf("build %s: %v", id, err)
	}
	tester, ok := c.(channels.Tester)
	if !ok || !info.Testable {
		t.Fatalf("%s: Testable %v but implements Tester %v", id, info.Testable, ok)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return tester.TestConnection(ctx)
}

// TestConnectionTests runs every connector's connection test against its
// platform's fake, with good credentials (the platform's description of the
// account comes back) and bad ones (EInvalid with the platform's words).
func TestConnectionTests(t *testing.T) {
	tg := telegramtest.NewServer("111:good")
	defer tg.Close()
	tw := twiliotest.NewServer("AC00000000000000000000000000000001", "good-token")
	defer tw.Close()
	wa := whatsapptest.NewServer("app-secret", "good-token", "200000000000001")
	defer wa.Close()
	fb := messengertest.NewServer("page", "app-secret", "good-token", "300000000000001")
	defer fb.Close()
	dc := discordtest.NewServer("good-token")
	defer dc.Close()
	ln := linetest.NewServer("channel-secret", "good-token")
	defer ln.Close()
	mail := emailtest.NewServer("support@example.com", "good-pass")
	defer mail.Close()
	emailCfg := func(pass string) map[string]any {
		return map[string]any{"address": "support@example.com", "imapAddr": mail.IMAPAddr, "imapSecurity": "starttls", "imapUsername": "support@example.com",
			"imapPassword": pass, "smtpAddr": mail.SMTPAddr, "smtpSecurity": "starttls", "smtpUsername": "support@example.com", "smtpPassword": pass,
			"insecureSkipVerify": true}
	}
	meta := func(token, appID string) map[string]any {
		return map[string]any{"appSecret": "app-secret", "verifyToken": "v", "accessToken": token, "appId": appID}
	}
	with := func(m map[string]any, k string, v any) map[string]any { m[k] = v; return m }

	for _, tc := range []struct {
		name, id, base string
		good, bad      map[string]any
		want, badWant  string
	}{
		{"telegram getMe", "telegram", tg.URL, map[string]any{"botToken": "111:good", "mode": "polling"},
			map[string]any{"botToken": "111:bad", "mode": "polling"}, "@" + telegramtest.BotUsername, "Unauthorized"},
		{"twilio account fetch", "sms.twilio", tw.URL, map[string]any{"accountSid": tw.AccountSID, "authToken": "good-token", "from": "+15550001"},
			map[string]any{"accountSid": tw.AccountSID, "authToken": "bad-token", "from": "+15550001"}, twiliotest.FriendlyName, "Authenticate"},
		{"whatsapp token debug", "whatsapp.cloud", wa.URL, with(meta("good-token", metatest.AppID), "phoneNumberId", "200000000000001"),
			with(meta("bad-token", metatest.AppID), "phoneNumberId", "200000000000001"), "whatsapp_business_messaging", "not valid"},
		{"messenger token debug", "messenger", fb.URL, with(meta("good-token", metatest.AppID), "accountId", "300000000000001"),
			with(meta("good-token", "999"), "accountId", "300000000000001"), "pages_messaging", "Invalid OAuth access token signature"},
		{"discord users/@me and gateway", "discord", dc.URL, map[string]any{"botToken": "good-token"}, map[string]any{"botToken": "bad-token"},
			discordtest.BotUsername, "Unauthorized"},
		{"line bot info", "line", ln.URL, map[string]any{"channelSecret": "channel-secret", "channelAccessToken": "good-token"},
			map[string]any{"channelSecret": "channel-secret", "channelAccessToken": "bad-token"}, linetest.BotName, "invalid token"},
		{"imap and smtp login", "email", "", emailCfg("good-pass"), emailCfg("bad-pass"), "IMAP login to", "refused the login"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			detail, err := testConn(t, tc.id, tc.base, tc.good)
			if err != nil || !strings.Contains(detail, tc.want) {
				t.Fatalf("good credentials: %q, %v (want %q)", detail, err, tc.want)
			}
			_, err = testConn(t, tc.id, tc.base, tc.bad)
			if backend.ErrorCode(err) != backend.EInvalid || !strings.Contains(backend.ErrorMessage(err), tc.badWant) {
				t.Fatalf("bad credentials: %v, want invalid with %q", err, tc.badWant)
			}
		})
	}
	t.Run("meta without an app id", func(t *testing.T) {
		_, err := testConn(t, "whatsapp.cloud", wa.URL, with(meta("good-token", ""), "phoneNumberId", "200000000000001"))
		if backend.ErrorCode(err) != backend.EInvalid || !strings.Contains(backend.ErrorMessage(err), "App ID") {
			t.Fatalf("got %v", err)
		}
	})
}
