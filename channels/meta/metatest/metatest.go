// Package metatest holds what the fakes of Meta's platforms (WhatsApp Cloud,
// Messenger, Instagram) share: the Graph API's token debugger. Standard
// library only.
package metatest

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// AppID is the fake Meta app's id; its app access token is
// AppID + "|" + the app secret.
const AppID = "1000000000000001"

// AppName is the fake app's name as debug_token reports it.
const AppName = "Switchboard Test App"

// DebugToken answers GET /{version}/debug_token the way Meta documents it:
// the caller authenticates with an app access token ("{app-id}|{app-secret}")
// or gets OAuthException 190; an input token the app issued comes back with
// is_valid true, its type and scopes, any other with is_valid false and an
// error object. It reports whether the request was a debug_token call.
func DebugToken(w http.ResponseWriter, r *http.Request, appSecret, accessToken, tokenType string, scopes []string) bool {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method != http.MethodGet || len(parts) != 2 || parts[1] != "debug_token" {
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	q := r.URL.Query()
	if q.Get("access_token") != AppID+"|"+appSecret {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
			"message": "Invalid OAuth access token signature.", "type": "OAuthException", "code": 190, "fbtrace_id": "AbCdEf0123",
		}})
		return true
	}
	if q.Get("input_token") != accessToken {
		json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{
			"error":    map[string]any{"code": 190, "message": "Invalid OAuth access token."},
			"is_valid": false, "scopes": []string{},
		}})
		return true
	}
	now := time.Now().Unix()
	json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{
		"app_id": AppID, "type": tokenType, "application": AppName, "data_access_expires_at": now + 90*24*3600,
		"expires_at": 0, "is_valid": true, "issued_at": now - 3600, "scopes": scopes, "user_id": "1700000000000001",
	}})
	return true
}
