// Package meta holds what Meta's platforms (WhatsApp Cloud, Messenger,
// Instagram) share: the X-Hub-Signature-256 check, the hub.challenge
// handshake and Graph API errors. It is not a connector.
package meta

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"switchboard/backend"
	"switchboard/channels"
)

// DefaultGraphURL is the Graph API base.
const DefaultGraphURL = "https://graph.facebook.com"

// DefaultVersion is the Graph API version used when a config names none.
const DefaultVersion = "v25.0"

// Sign returns the X-Hub-Signature-256 value for body: "sha256=" + lowercase
// hex HMAC-SHA256 keyed with the app secret.
func Sign(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// ValidSignature reports, in constant time, whether header signs body.
func ValidSignature(appSecret string, body []byte, header string) bool {
	if appSecret == "" || !strings.HasPrefix(header, "sha256=") {
		return false
	}
	return hmac.Equal([]byte(strings.ToLower(header)), []byte(Sign(appSecret, body)))
}

// Verify checks a webhook's X-Hub-Signature-256 on the raw bytes.
func Verify(appSecret string, req *channels.Request) error {
	h := req.Header.Get("X-Hub-Signature-256")
	if h == "" {
		return backend.Errorf(backend.EUnauthorized, "The X-Hub-Signature-256 header is missing.")
	}
	if !ValidSignature(appSecret, req.Body, h) {
		return backend.Errorf(backend.EForbidden, "The X-Hub-Signature-256 signature does not match.")
	}
	return nil
}

// Handshake answers Meta's subscription check: hub.mode=subscribe with the
// right hub.verify_token gets 200 and the hub.challenge back; anything else 403.
func Handshake(verifyToken string, req *channels.Request) (int, string) {
	q := req.Query()
	if verifyToken != "" && q.Get("hub.mode") == "subscribe" &&
		hmac.Equal([]byte(q.Get("hub.verify_token")), []byte(verifyToken)) {
		return http.StatusOK, q.Get("hub.challenge")
	}
	return http.StatusForbidden, "The verify token does not match this channel's."
}

// GraphError is the body of a failed Graph call.
type GraphError struct {
	Error struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		Subcode   int    `json:"error_subcode"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"error"`
}

// rateLimitCodes are Graph error codes that mean "slow down", whatever the
// HTTP status: 4, 80007, 613 (Messenger), 130429, 131056 (WhatsApp).
var rateLimitCodes = map[int]bool{4: true, 613: true, 80007: true, 130429: true, 131056: true}

// windowCodes mean the 24-hour customer service window is closed.
var windowCodes = map[int]bool{131047: true, 2018278: true}

// Classify turns a Graph error body into the SendError's reason and makes
// rate-limit codes retryable and window errors a clear permanent failure.
func Classify(err error, body []byte) error {
	se, ok := err.(*channels.SendError)
	if !ok {
		return err
	}
	var ge GraphError
	if json.Unmarshal(body, &ge) != nil || ge.Error.Code == 0 {
		return se
	}
	se.Reason = fmt.Sprintf("Meta error %d: %s", ge.Error.Code, ge.Error.Message)
	if d := ge.Error.ErrorData.Details; d != "" {
		se.Reason += " (" + d + ")"
	}
	switch {
	case rateLimitCodes[ge.Error.Code]:
		se.Permanent = false
	case windowCodes[ge.Error.Code] || windowCodes[ge.Error.Subcode]:
		se.Permanent = true
		se.Reason = "The 24-hour customer service window is closed; only a template (WhatsApp) or tagged message can be sent. " + se.Reason
	}
	return se
}

// DebugToken checks an access token with the Graph API's token debugger
// (GET /{version}/debug_token), authenticated with the app access token
// "{appID}|{appSecret}" as Meta requires. It returns a description of a
// valid token of this app; a token Meta calls invalid, expired or of
// another app is EInvalid.
func DebugToken(ctx context.Context, client *http.Client, base, version, appID, appSecret, token string) (string, error) {
	if appID == "" {
		return "", backend.Errorf(backend.EInvalid, "Set the App ID (App settings › Basic) so the token can be checked with Meta's token debugger.")
	}
	q := url.Values{"input_token": {token}, "access_token": {appID + "|" + appSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/"+version+"/debug_token?"+q.Encode(), nil)
	if err != nil {
		return "", backend.Errorf(backend.EInvalid, "The Graph API address is not valid.")
	}
	body, _, err := channels.Do(client, req, func(b []byte) string {
		var ge GraphError
		if json.Unmarshal(b, &ge) == nil && ge.Error.Message != "" {
			return fmt.Sprintf("Meta error %d: %s", ge.Error.Code, ge.Error.Message)
		}
		return ""
	})
	if err != nil {
		return "", channels.TestError("Meta", err)
	}
	var res struct {
		Data struct {
			AppID       string   `json:"app_id"`
			Type        string   `json:"type"`
			Application string   `json:"application"`
			IsValid     bool     `json:"is_valid"`
			ExpiresAt   int64    `json:"expires_at"`
			Scopes      []string `json:"scopes"`
			Error       struct {
				Message string `json:"message"`
			} `json:"error"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &res) != nil {
		return "", backend.Errorf(backend.EUnavailable, "Meta's token debugger gave an answer Switchboard cannot read.")
	}
	d := res.Data
	switch {
	case !d.IsValid:
		return "", backend.Errorf(backend.EInvalid, "Meta says the access token is not valid: %s", strings.TrimSuffix(d.Error.Message, "."))
	case d.AppID != appID:
		return "", backend.Errorf(backend.EInvalid, "The access token belongs to app %s, not to app %s.", d.AppID, appID)
	}
	expires := "never expires"
	if d.ExpiresAt > 0 {
		expires = "expires " + time.Unix(d.ExpiresAt, 0).UTC().Format("2006-01-02")
	}
	return fmt.Sprintf("%s token of %s, valid, %s; permissions: %s", d.Type, d.Application, expires, strings.Join(d.Scopes, ", ")), nil
}
