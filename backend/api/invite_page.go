package api

import (
	"html/template"
	"net/http"
	"strings"

	"switchboard/backend"
)

// invitePage is the page an invitation link opens: the invited person
// chooses a password, then signs in from the desktop app. It needs no
// script, so its policy allows none.
var invitePage = template.Must(template.New("invite").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#1f2328;display:flex;justify-content:center;padding:48px 16px;margin:0}
main{background:#fff;border:1px solid #d8dde3;border-radius:12px;padding:28px;max-width:420px;width:100%}
h1{font-size:20px;margin:0 0 8px}label{display:block;margin:14px 0 4px;font-weight:600}
input{width:100%;box-sizing:border-box;padding:9px 10px;border:1px solid #b8c0cc;border-radius:8px;font:inherit}
button{margin-top:18px;padding:10px 16px;border:0;border-radius:8px;background:#2563eb;color:#fff;font:inherit;font-weight:600;cursor:pointer}
.err{background:#fdecec;color:#a3231f;padding:8px 12px;border-radius:8px}.ok{background:#e7f6ec;color:#176b36;padding:8px 12px;border-radius:8px}
@media (prefers-color-scheme: dark){body{background:#15181c;color:#e6e8eb}main{background:#1d2126;border-color:#30363d}input{background:#15181c;color:#e6e8eb;border-color:#3d444d}}
</style></head><body><main>
<h1>{{.T.Title}}</h1>
{{if .Done}}<p class="ok" role="status">{{.T.Done}}</p><p>{{.T.Next}} <strong>{{.Email}}</strong>.</p>
{{else if .Gone}}<p class="err" role="alert">{{.Error}}</p>
{{else}}<p>{{.T.Intro}} <strong>{{.Email}}</strong> ({{.Role}}).</p>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<form method="post"><label for="name">{{.T.Name}}</label><input id="name" name="name" value="{{.Name}}" autocomplete="name" required>
<label for="password">{{.T.Password}}</label><input id="password" name="password" type="password" minlength="8" autocomplete="new-password" required>
<label for="confirm">{{.T.Confirm}}</label><input id="confirm" name="confirm" type="password" minlength="8" autocomplete="new-password" required>
<button type="submit">{{.T.Submit}}</button></form>{{end}}
</main></body></html>`))

type invitePageText struct {
	Title, Intro, Name, Password, Confirm, Submit, Done, Next, Mismatch string
}

var invitePageTexts = map[string]invitePageText{
	"en": {Title: "Join Switchboard", Intro: "You are invited to answer customers with Switchboard as", Name: "Your name",
		Password: "Choose a password (8 characters or more)", Confirm: "Type it again", Submit: "Create my account",
		Done: "Your account is ready.", Next: "Open the Switchboard app, choose Server, enter this server's address and sign in as",
		Mismatch: "The two passwords are not the same."},
	"es": {Title: "Únete a Switchboard", Intro: "Te han invitado a atender clientes con Switchboard como", Name: "Tu nombre",
		Password: "Elige una contraseña (8 caracteres o más)", Confirm: "Escríbela otra vez", Submit: "Crear mi cuenta",
		Done: "Tu cuenta está lista.", Next: "Abre la app Switchboard, elige Servidor, escribe la dirección de este servidor e inicia sesión como",
		Mismatch: "Las dos contraseñas no coinciden."},
}

// handleInvitePage serves GET and POST /invite/{token}.
func (s *Server) handleInvitePage(w http.ResponseWriter, r *http.Request) {
	lang := "en"
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Accept-Language")), "es") {
		lang = "es"
	}
	data := struct {
		Lang, Email, Name, Role, Error string
		Done, Gone                     bool
		T                              invitePageText
	}{Lang: lang, T: invitePageTexts[lang]}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Type", "text/html; charset=utf-8")
	token := r.PathValue("token")
	status := http.StatusOK
	inv, err := s.Store.InviteByToken(r.Context(), token)
	if err != nil {
		data.Gone, data.Error, status = true, backend.ErrorMessage(err), http.StatusNotFound
	} else {
		data.Email, data.Name, data.Role = inv.Email, inv.Name, string(inv.Role)
	}
	if err == nil && r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if perr := r.ParseForm(); perr != nil {
			data.Error, status = "The form could not be read.", http.StatusBadRequest
		} else if data.Name = strings.TrimSpace(r.PostForm.Get("name")); r.PostForm.Get("password") != r.PostForm.Get("confirm") {
			data.Error, status = data.T.Mismatch, http.StatusBadRequest
		} else if _, aerr := s.acceptInvitation(r, token, data.Name, r.PostForm.Get("password")); aerr != nil {
			data.Error, status = backend.ErrorMessage(aerr), statusCodes[backend.ErrorCode(aerr)]
		} else {
			data.Done = true
		}
	}
	w.WriteHeader(status)
	invitePage.Execute(w, data)
}
