package whatsapp

import (
	"slices"

	"switchboard/channels"
	"switchboard/channels/meta"
)

// settings describe Config for the admin's form.
var settings = slices.Concat([]channels.Setting{
	{Key: "phoneNumberId", Kind: channels.KindText, Required: true, Placeholder: "200000000000001",
		Label: channels.T("Phone number ID", "ID del número de teléfono"),
		Help:  channels.T("From WhatsApp › API Setup in the Meta app dashboard.", "De WhatsApp › Configuración de la API en el panel de la app de Meta.")},
	{Key: "accessToken", Kind: channels.KindSecret, Required: true,
		Label: channels.T("Access token", "Token de acceso"),
		Help:  channels.T("A system user's permanent token with whatsapp_business_messaging.", "El token permanente de un usuario del sistema con whatsapp_business_messaging.")},
}, meta.AppSettings)
