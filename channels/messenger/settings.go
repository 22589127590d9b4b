package messenger

import (
	"slices"

	"switchboard/channels"
	"switchboard/channels/meta"
)

// settings describe Config for the admin's form (Messenger and Instagram).
var settings = slices.Concat([]channels.Setting{
	{Key: "accountId", Kind: channels.KindText, Required: true,
		Label: channels.T("Page or Instagram account ID", "ID de la página o de la cuenta de Instagram"),
		Help:  channels.T("The Facebook Page ID (Messenger) or the Instagram professional account ID.", "El ID de la página de Facebook (Messenger) o de la cuenta profesional de Instagram.")},
	{Key: "accessToken", Kind: channels.KindSecret, Required: true,
		Label: channels.T("Access token", "Token de acceso"),
		Help:  channels.T("The Page access token (or the Instagram user token with Instagram Login).", "El token de acceso de la página (o el token de usuario de Instagram con Instagram Login).")},
}, meta.AppSettings)
