package twilio

import "switchboard/channels"

// settings describe Config for the admin's form (SMS and WhatsApp alike).
var settings = []channels.Setting{
	{Key: "accountSid", Kind: channels.KindText, Required: true, Placeholder: "AC…",
		Label: channels.T("Account SID", "SID de la cuenta"),
		Help:  channels.T("From the Twilio Console's dashboard; it starts with AC.", "Del panel de la consola de Twilio; empieza por AC.")},
	{Key: "authToken", Kind: channels.KindSecret, Required: true,
		Label: channels.T("Auth token", "Token de autenticación"),
		Help:  channels.T("Verifies Twilio's webhook signatures (and sends, unless an API key is set).", "Verifica las firmas de los webhooks de Twilio (y envía, salvo que haya una clave de API).")},
	{Key: "from", Kind: channels.KindText, Placeholder: "+15551234567",
		Label: channels.T("Sending number", "Número de envío"),
		Help:  channels.T("Your Twilio number in E.164 form (for WhatsApp, without whatsapp:). Or use a Messaging Service.", "Tu número de Twilio en formato E.164 (para WhatsApp, sin whatsapp:). O usa un servicio de mensajería.")},
	{Key: "messagingServiceSid", Kind: channels.KindText, Placeholder: "MG…",
		Label: channels.T("Messaging Service SID", "SID del servicio de mensajería"),
		Help:  channels.T("Sends through a Messaging Service instead of one number.", "Envía a través de un servicio de mensajería en lugar de un número.")},
	{Key: "apiKeySid", Kind: channels.KindText, Placeholder: "SK…",
		Label: channels.T("API key SID", "SID de la clave de API"),
		Help:  channels.T("Optional: an API key to send with instead of the auth token.", "Opcional: una clave de API para enviar en lugar del token de autenticación.")},
	{Key: "apiKeySecret", Kind: channels.KindSecret,
		Label: channels.T("API key secret", "Secreto de la clave de API"),
		Help:  channels.T("The secret shown once when the API key was created.", "El secreto que se mostró una vez al crear la clave de API.")},
	{Key: "webhookUrl", Kind: channels.KindURL,
		Label: channels.T("Webhook URL as configured in Twilio", "URL del webhook tal como está en Twilio"),
		Help: channels.T("Only when a proxy changes the address Twilio calls: signatures are checked against this exact URL.",
			"Solo si un proxy cambia la dirección a la que llama Twilio: las firmas se comprueban contra esta URL exacta.")},
}
