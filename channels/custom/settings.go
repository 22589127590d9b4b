package custom

import "switchboard/channels"

// settings describe Config for the admin's form.
var settings = []channels.Setting{
	{Key: "url", Kind: channels.KindURL, Required: true, Placeholder: "https://bridge.example.com/switchboard",
		Label: channels.T("Outbound URL", "URL de salida"),
		Help:  channels.T("Your service's endpoint that receives agents' replies as signed JSON.", "El endpoint de tu servicio que recibe las respuestas de los agentes como JSON firmado.")},
	{Key: "secret", Kind: channels.KindSecret, Required: true,
		Label: channels.T("Signing secret", "Secreto de firma"),
		Help:  channels.T("Shared with your service; signs requests in both directions (HMAC-SHA256).", "Compartido con tu servicio; firma las peticiones en ambos sentidos (HMAC-SHA256).")},
}
