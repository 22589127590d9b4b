package telegram

import "switchboard/channels"

// settings describe Config for the admin's form.
var settings = []channels.Setting{
	{Key: "botToken", Kind: channels.KindSecret, Required: true, Placeholder: "123456:ABC-DEF…",
		Label: channels.T("Bot token", "Token del bot"),
		Help:  channels.T("The token @BotFather gave you for the bot.", "El token que @BotFather te dio para el bot.")},
	{Key: "mode", Kind: channels.KindSelect, Options: []string{"webhook", "polling"},
		Label: channels.T("How messages arrive", "Cómo llegan los mensajes"),
		Help: channels.T("webhook: Telegram posts to this server's webhook URL (needs a public HTTPS address); polling: Switchboard asks Telegram with getUpdates (works behind a firewall).",
			"webhook: Telegram envía al URL de webhook de este servidor (necesita una dirección HTTPS pública); polling: Switchboard pregunta a Telegram con getUpdates (funciona detrás de un cortafuegos).")},
	{Key: "secretToken", Kind: channels.KindSecret,
		Label: channels.T("Webhook secret token", "Token secreto del webhook"),
		Help: channels.T("The secret_token you pass to setWebhook; Telegram sends it with every update. Required in webhook mode.",
			"El secret_token que pasas a setWebhook; Telegram lo envía con cada actualización. Obligatorio en modo webhook.")},
	{Key: "pollTimeout", Kind: channels.KindNumber, Placeholder: "25",
		Label: channels.T("Long-poll wait (seconds)", "Espera del sondeo largo (segundos)"),
		Help:  channels.T("How long each getUpdates call waits for news in polling mode.", "Cuánto espera cada llamada a getUpdates en modo polling.")},
}
