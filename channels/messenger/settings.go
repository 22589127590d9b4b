package messenger

import "switchboard/channels"

// settings describe Config for the admin's form (Messenger and Instagram).
var settings = []channels.Setting{
	{Key: "accountId", Kind: channels.KindText, Required: true,
		Label: channels.T("Page or Instagram account ID", "ID de la página o de la cuenta de Instagram"),
		Help:  channels.T("The Facebook Page ID (Messenger) or the Instagram professional account ID.", "El ID de la página de Facebook (Messenger) o de la cuenta profesional de Instagram.")},
	{Key: "accessToken", Kind: channels.KindSecret, Required: true,
		Label: channels.T("Access token", "Token de acceso"),
		Help:  channels.T("The Page access token (or the Instagram user token with Instagram Login).", "El token de acceso de la página (o el token de usuario de Instagram con Instagram Login).")},
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
