package line

import "switchboard/channels"

// settings describe Config for the admin's form.
var settings = []channels.Setting{
	{Key: "channelSecret", Kind: channels.KindSecret, Required: true,
		Label: channels.T("Channel secret", "Secreto del canal"),
		Help:  channels.T("LINE Developers console › Basic settings; verifies x-line-signature.", "Consola de LINE Developers › Configuración básica; verifica x-line-signature.")},
	{Key: "channelAccessToken", Kind: channels.KindSecret, Required: true,
		Label: channels.T("Channel access token", "Token de acceso del canal"),
		Help:  channels.T("Messaging API tab › a long-lived channel access token.", "Pestaña Messaging API › un token de acceso del canal de larga duración.")},
}
