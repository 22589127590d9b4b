package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard/backend"
)

// SignInRequest is the body of POST /api/auth/signin.
type SignInRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// SignInResponse is the answer to a successful sign-in.
type SignInResponse struct {
	Token string       `json:"token"`
	User  backend.User `json:"user"`
	// LastSeq is the change feed's newest sequence at sign-in.
	LastSeq int64 `json:"lastSeq"`
	// Engine names the feed LastSeq belongs to.
	Engine backend.FeedIdentity `json:"engine"`
	Now    time.Time            `json:"now"`
}

// handleSignIn checks a password. Failures are throttled per account and
// per client address (429 with Retry-After) and logged without the
// password.
func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	var req SignInRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	if req.Email == "" || req.Password == "" {
		Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "Both email and password are required."))
		return
	}
	if len(req.Password) > backend.MaxPasswordBytes {
		Error(w, r, s.Logger, backend.Errorf(backend.EInvalid, "A password can be at most %d bytes long.", backend.MaxPasswordBytes))
		return
	}
	account, ip := strings.ToLower(strings.TrimSpace(req.Email)), s.clientIP(r)
	if !s.allowAttempt(w, r, account, ip) {
		return
	}
	token, u, err := s.Store.Authenticate(r.Context(), req.Email, req.Password)
	if err != nil {
		if code := backend.ErrorCode(err); code == backend.EUnauthorized || code == backend.EForbidden {
			s.throttle.fail(s.Clock.Now(), account, ip)
			s.Logger.Warn("sign-in refused", "email", account, "client", ip, "reason", backend.ErrorMessage(err))
		}
		Error(w, r, s.Logger, err)
		return
	}
	s.throttle.succeed(account)
	seq, id, err := s.feedPosition(r.Context())
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.Logger.Info("signed in", "user", u.ID, "client", ip)
	writeJSON(w, http.StatusOK, SignInResponse{Token: token, User: *u, LastSeq: seq, Engine: id, Now: s.Clock.Now().UTC()})
}

// allowAttempt answers 429 with Retry-After and reports false while the
// account or the client address is locked out.
func (s *Server) allowAttempt(w http.ResponseWriter, r *http.Request, account, ip string) bool {
	wait := s.throttle.wait(s.Clock.Now(), account, ip)
	if wait <= 0 {
		return true
	}
	secs := int((wait + time.Second - 1) / time.Second)
	s.Logger.Warn("sign-in throttled", "email", account, "client", ip, "retryAfter", secs)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	Error(w, r, s.Logger, backend.Errorf(backend.ETooMany, "Too many failed sign-ins; try again in %d seconds.", secs))
	return false
}

func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) {
	if err := s.Store.RevokeToken(r.Context(), bearerToken(r, false)); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, SessionFrom(r.Context()).User)
}

// ChangePasswordRequest is the body of POST /api/me/password.
type ChangePasswordRequest struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// handleChangePassword lets a user replace their own password; every other
// session of theirs ends (and its sockets close), this one goes on.
func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request) {
	var req ChangePasswordRequest
	if err := decodeJSON(w, r, s.MaxBody, &req); err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	sess := SessionFrom(r.Context())
	account, ip := strings.ToLower(sess.User.Email), s.clientIP(r)
	if !s.allowAttempt(w, r, account, ip) {
		return
	}
	err := s.Store.ChangePassword(r.Context(), sess.User.ID, req.Current, req.New, sess.ID)
	if backend.ErrorCode(err) == backend.EForbidden {
		s.throttle.fail(s.Clock.Now(), account, ip)
		s.Logger.Warn("password change refused", "user", sess.User.ID, "client", ip, "reason", backend.ErrorMessage(err))
	}
	if err != nil {
		Error(w, r, s.Logger, err)
		return
	}
	s.Logger.Info("password changed", "user", sess.User.ID)
	w.WriteHeader(http.StatusNoContent)
}
