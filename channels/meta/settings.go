package meta

import "switchboard/channels"

// AppSettings describe the configuration fields every Meta connector
// shares: the app's secret and id, the webhook's verify token and the
// Graph API version. Connectors add their own account fields before them.
var AppSettings = []channels.Setting{
	{Key: "appSecret", Kind: channels.KindSecret, Required: true,
		Label: channels.T("App secret", "Secreto de la app"),
		Help:  channels.T("App settings › Basic; verifies the X-Hub-Signature-256 of every webhook.", "Configuración de la app › Básica; verifica la firma X-Hub-Signature-256 de cada webhook.")},
	{Key: "verifyToken", Kind: channels.KindSecret, Required: true,
		Label: channels.T("Verify token", "Token de verificación"),
		Help:  channels.T("Any phrase you choose; type the same in the webhook settings of the Meta app.", "Cualquier frase que elijas; escribe la misma en la configuración del webhook de la app de Meta.")},
	{Key: "appId", Kind: channels.KindText,
		Label: channels.T("App ID", "ID de la app"),
		Help:  channels.T("Lets Test connection check the token with Meta's token debugger.", "Permite que Probar la conexión compruebe el token con el depurador de tokens de Meta.")},
	{Key: "apiVersion", Kind: channels.KindText, Placeholder: DefaultVersion,
		Label: channels.T("Graph API version", "Versión de la API Graph"),
		Help:  channels.T("Leave empty for the version Switchboard was tested with.", "Déjalo vacío para usar la versión con la que se probó Switchboard.")},
}
