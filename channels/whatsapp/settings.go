package whatsapp

import "switchboard/channels"

// settings describe Config for the admin's form.
var settings = []channels.Setting{
	{Key: "phoneNumberId", Kind: channels.KindText, Required: true, Placeholder: "200000000000001",
		Label: channels.T("Phone number ID", "ID del número de teléfono"),
		Help:  channels.T("From WhatsApp › API Setup in the Meta app dashboard.", "De WhatsApp › Configuración de la API en el panel de la app de Meta.")},
	{Key: "accessToken", Kind: channels.KindSecret, Required: true,
		Label: channels.T("Access token", "Token de acceso"),
		Help:  channels.T("A system user's permanent token with whatsapp_business_messaging.", "El token permanente de un usuario del sistema con whatsapp_business_messaging.")},
	{Key: "appSecret", Kind: channels.KindSecret, Required: true,
		Label: channels.T("App secret", "Secreto de la app"),
		Help:  channels.T("App settings › Basic; verifies the X-Hub-Signature-256 of every webhook.", "Configuración de la app › Básica; verifica la firma X-Hub-Signature-256 de cada webhook.")},
	{Key: "verifyToken", Kind: channels.KindSecret, Required: true,
		Label: channels.T("Verify token", "Token de verificación"),
		Help:  channels.T("Any phrase you choose; type the same in the webhook settings of the Meta app.", "Cualquier frase que elijas; escribe la misma en la configuración del webhook de la app de Meta.")},
	{Key: "appId", Kind: channels.KindText,
		Label: channels.T("App ID", "ID de la app"),
		Help:  channels.T("Lets Test connection check the token with Meta's token debugger.", "Permite que Probar la conexión compruebe el token con el depurador de tokens de Meta.")},
	{Key: "apiVersion", Kind: channels.KindText, Placeholder: "v25.0",
		Label: channels.T("Graph API version", "Versión de la API Graph"),
		Help:  channels.T("Leave empty for the version Switchboard was tested with.", "Déjalo vacío para usar la versión con la que se probó Switchboard.")},
}
