package webchat

import "switchboard/channels"

// settings describe Config for the admin's form.
var settings = []channels.Setting{
	{Key: "allowedOrigins", Kind: channels.KindList, Required: true, Placeholder: "https://www.example.com",
		Label: channels.T("Sites allowed to embed the widget", "Sitios que pueden insertar el widget"),
		Help:  channels.T("One origin per line (scheme://host[:port]); * allows any site.", "Un origen por línea (esquema://host[:puerto]); * permite cualquier sitio.")},
	{Key: "title", Kind: channels.KindText, Placeholder: "Chat with us",
		Label: channels.T("Title", "Título"),
		Help:  channels.T("Shown at the top of the chat window.", "Se muestra en la parte superior de la ventana del chat.")},
	{Key: "greeting", Kind: channels.KindText, Placeholder: "Hi! How can we help?",
		Label: channels.T("Greeting", "Saludo"),
		Help:  channels.T("The first line visitors read.", "La primera línea que leen los visitantes.")},
	{Key: "color", Kind: channels.KindText, Placeholder: "#2563eb",
		Label: channels.T("Color", "Color"),
		Help:  channels.T("The widget's accent color as #rrggbb.", "El color de acento del widget como #rrggbb.")},
	{Key: "preChat", Kind: channels.KindBool,
		Label: channels.T("Ask for name and email first", "Pedir nombre y correo primero"),
		Help:  channels.T("Shows an optional name and email form before the first message (on unless turned off).", "Muestra un formulario opcional de nombre y correo antes del primer mensaje (activado salvo que se desactive).")},
	{Key: "identitySecret", Kind: channels.KindSecret,
		Label: channels.T("Identity secret", "Secreto de identidad"),
		Help:  channels.T("Optional HMAC-SHA256 key your backend signs signed-in users' ids with, to link visitors to known contacts.", "Clave HMAC-SHA256 opcional con la que tu backend firma los ids de usuarios conectados, para enlazar visitantes con contactos conocidos.")},
}
