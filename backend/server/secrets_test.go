package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"switchboard/backend/secret"
	"switchboard/backend/secret/secrettest"
	"switchboard/backend/server"
)

// channelSecrets configures one instance of every connector with secrets
// of its own (Discord and email stay disabled: they would dial out).
var channelSecrets = []struct{ path, config string }{
	{"/api/channels/sms.twilio/main", `{"accountSid":"AC1","authToken":"%s-twilio-auth","apiKeySid":"SK1","apiKeySecret":"%s-twilio-apikey","from":"+15550001111"}`},
	{"/api/channels/whatsapp.twilio/main", `{"accountSid":"AC1","authToken":"%s-wa-twilio-auth","from":"+15550001111"}`},
	{"/api/channels/whatsapp.cloud/main", `{"appSecret":"%s-wa-app","accessToken":"%s-wa-access","verifyToken":"%s-wa-verify","phoneNumberId":"1"}`},
	{"/api/channels/messenger/page", `{"appSecret":"%s-fb-app","accessToken":"%s-fb-access","verifyToken":"%s-fb-verify","accountId":"PAGE1"}`},
	{"/api/channels/instagram/ig", `{"appSecret":"%s-ig-app","accessToken":"%s-ig-access","verifyToken":"%s-ig-verify","accountId":"IG1"}`},
	{"/api/channels/line/main", `{"channelSecret":"%s-line-secret","channelAccessToken":"%s-line-access"}`},
	{"/api/channels/telegram/bot", `{"botToken":"1:%s-telegram-bot","secretToken":"%s-telegram-hook"}`},
	{"/api/channels/discord/bot", `{"botToken":"%s-discord-bot"}`},
	{"/api/channels/email/support", `{"address":"support@example.com","imapAddr":"127.0.0.1:1","imapUsername":"u","imapPassword":"%s-imap-password","smtpAddr":"127.0.0.1:1","smtpPassword":"%s-smtp-password"}`},
	{"/api/channels/custom/shop", `{"secret":"%s-custom-channel-secret","url":"https://shop.example.com/replies"}`},
	{"/api/channels/webchat/site", `{"allowedOrigins":["*"],"identitySecret":"%s-webchat-identity"}`},
}

const flowWithHeader = `{"name":"bot","widgets":[
	{"name":"trigger","type":"trigger","transitions":{"incomingMessage":"ask"}},
	{"name":"ask","type":"make-http-request","transitions":{"success":"end","failed":"end","timeout":"end"},
	 "properties":{"method":"POST","url":"https://bot.example.com/v1","headers":{"Authorization":"Bearer %s-flow-header","X-Api-Key":"%s-flow-apikey"}}},
	{"name":"end","type":"end"}]}`

// TestSecrets_NoneInTheDataDirectory configures every kind of secret through
// the API of a real engine, then looks at every byte of its data directory
// (database, WAL and shared-memory files) while it runs and after it stops.
func TestSecrets_NoneInTheDataDirectory(t *testing.T) {
	const tag = "s3cr3t-7d1f"
	dir := t.TempDir()
	key := secret.MustNew()
	e := openEngine(t, server.Config{DataDir: dir, SecretKey: key})
	token := signInAdmin(t, e)
	var secrets []string
	for _, c := range channelSecrets {
		n := strings.Count(c.config, "%s")
		args := make([]any, n)
		for i := range args {
			args[i] = tag
		}
		cfg := fmt.Sprintf(c.config, args...)
		enabled := !strings.Contains(c.path, "discord") && !strings.Contains(c.path, "email")
		if st, body := apiCall(t, e, token, "PUT", c.path, fmt.Sprintf(`{"config":%s,"enabled":%v}`, cfg, enabled)); st != http.StatusOK {
			t.Fatalf("PUT %s: %d %s", c.path, st, body)
		}
		for _, part := range strings.Split(cfg, `"`) {
			if strings.Contains(part, tag) {
				secrets = append(secrets, part)
			}
		}
	}
	if st, body := apiCall(t, e, token, "PUT", "/api/flows/sms.twilio/main", fmt.Sprintf(flowWithHeader, tag, tag)); st != http.StatusOK {
		t.Fatalf("PUT flow: %d %s", st, body)
	}
	secrets = append(secrets, "Bearer "+tag+"-flow-header", tag+"-flow-apikey")
	// A SIP trunk's digest password.
	trunk := fmt.Sprintf(`{"config":{"allow":["127.0.0.1"],"registrar":"127.0.0.1:5999","username":"sb","password":"%s-trunk"},"enabled":false}`, tag)
	if st, body := apiCall(t, e, token, "PUT", "/api/voice/trunks/carrier", trunk); st != http.StatusOK {
		t.Fatalf("PUT trunk: %d %s", st, body)
	}
	secrets = append(secrets, tag+"-trunk")
	// The web chat's signing key is made at the first visitor session.
	req, _ := http.NewRequest("POST", e.URL()+"/widget/site/session", strings.NewReader(`{}`))
	req.Header.Set("Origin", "https://shop.example.com")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("widget session: %d", resp.StatusCode)
	}
	signing, err := e.DB.WebchatKey(context.Background(), "visitor-token")
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, string(signing), key.Text())
	if len(secrets) < 25 {
		t.Fatalf("only %d secrets configured", len(secrets))
	}
	// The admin still reads the flow's header, and the feed never carries it.
	if st, body := apiCall(t, e, token, "GET", "/api/flows/sms.twilio/main", ""); st != http.StatusOK || !strings.Contains(body, tag+"-flow-header") {
		t.Fatalf("GET flow: %d %s", st, body)
	}
	if st, body := apiCall(t, e, token, "GET", "/api/sync?since=0&limit=1000", ""); st != http.StatusOK || strings.Contains(body, tag) {
		t.Fatalf("the change feed carries a secret: %d %s", st, body)
	}

	secrettest.AssertNotOnDisk(t, dir, secrets...)
	secrettest.AssertPrivate(t, dir)
	e.Close()
	secrettest.AssertNotOnDisk(t, dir, secrets...)
	if n := secrettest.AssertPrivate(t, dir); n < 1 {
		t.Fatal("no files checked")
	}
}
