package discord

import "switchboard/channels"

// settings describe Config for the admin's form.
var settings = []channels.Setting{
	{Key: "botToken", Kind: channels.KindSecret, Required: true,
		Label: channels.T("Bot token", "Token del bot"),
		Help:  channels.T("Developer Portal › your application › Bot › Reset Token. Enable the Message Content intent there too.", "Portal de desarrolladores › tu aplicación › Bot › Reset Token. Activa allí también el intent Message Content.")},
	{Key: "guildChannels", Kind: channels.KindList, Placeholder: "123456789012345678",
		Label: channels.T("Server channels to answer", "Canales del servidor que se atienden"),
		Help:  channels.T("Channel IDs, one per line, whose messages become conversations; direct messages always do.", "IDs de canal, uno por línea, cuyos mensajes se convierten en conversaciones; los mensajes directos siempre.")},
}
