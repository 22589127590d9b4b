// Every string the UI shows. English is the source; other languages may leave keys out
// and fall back to English.

const en = {
  'app.name': 'Switchboard',
  'app.loading': 'Starting Switchboard…',
  'app.version': 'Version {version}',

  'signin.title': 'Switchboard',
  'signin.subtitle': 'Sign in to start answering conversations.',
  'signin.where': 'Connect to',
  'signin.thisComputer': 'This computer',
  'signin.thisComputerHint': 'Run the contact center on this machine.',
  'signin.server': 'Server',
  'signin.serverHint': 'Sign in to your team’s Switchboard server.',
  'signin.serverUrl': 'Server address',
  'signin.serverPlaceholder': 'http://switchboard.example.com:8080',
  'signin.email': 'Email',
  'signin.password': 'Password',
  'signin.submit': 'Sign in',
  'signin.submitting': 'Signing in…',
  'signin.demoTitle': 'Demo accounts',
  'signin.demoHint': 'This is a demo. Pick an account to fill in the form:',
  'signin.needServer': 'Enter the address of your Switchboard server.',
  'signin.needCredentials': 'Enter your email and password.',

  'inbox.signOut': 'Sign out',
  'inbox.search': 'Search conversations',
  'inbox.filterStatus': 'Status',
  'inbox.filterChannel': 'Channel',
  'inbox.allStatuses': 'All statuses',
  'inbox.allChannels': 'All channels',
  'inbox.empty': 'No conversations yet. New messages from customers will show up here.',
  'inbox.noMatch': 'No conversations match your search or filters.',
  'inbox.pick': 'Select a conversation to read it and reply.',
  'inbox.loading': 'Loading…',
  'inbox.unread': '{count} unread',
  'inbox.conversations': 'Conversations',

  'conn.online': 'Online',
  'conn.reconnecting': 'Reconnecting…',
  'conn.offline': 'Offline',

  'role.agent': 'Agent',
  'role.supervisor': 'Supervisor',
  'role.admin': 'Admin',

  'status.open': 'Open',
  'status.pending': 'Pending',
  'status.snoozed': 'Snoozed',
  'status.resolved': 'Resolved',

  'channel.sms': 'SMS',
  'channel.whatsapp': 'WhatsApp',
  'channel.messenger': 'Messenger',
  'channel.instagram': 'Instagram',
  'channel.line': 'LINE',
  'channel.telegram': 'Telegram',
  'channel.discord': 'Discord',
  'channel.email': 'Email',
  'channel.webchat': 'Web chat',
  'channel.voice': 'Voice',

  'conv.noMessages': 'No messages in this conversation yet.',
  'conv.reply': 'Write a reply…',
  'conv.replyHint': 'Enter to send, Shift+Enter for a new line',
  'conv.send': 'Send',
  'conv.sending': 'Sending…',
  'conv.attachment': 'Attachment',
  'conv.identities': 'Reachable on',

  'msg.received': 'Received',
  'msg.queued': 'Queued',
  'msg.sent': 'Sent',
  'msg.delivered': 'Delivered',
  'msg.read': 'Read',
  'msg.failed': 'Not delivered',

  'time.now': 'now',
  'time.minutes': '{n}m',
  'time.hours': '{n}h',
  'time.yesterday': 'yesterday',
  'time.days': '{n}d',

  'error.unavailable': 'Switchboard is not reachable right now. Try again in a moment.',
  'error.generic': 'Something went wrong. Try again.',
} as const;

export type MessageKey = keyof typeof en;

const es: Partial<Record<MessageKey, string>> = {
  'app.loading': 'Iniciando Switchboard…',
  'app.version': 'Versión {version}',

  'signin.subtitle': 'Inicia sesión para empezar a atender conversaciones.',
  'signin.where': 'Conectar a',
  'signin.thisComputer': 'Este equipo',
  'signin.thisComputerHint': 'Ejecuta el centro de contacto en esta máquina.',
  'signin.server': 'Servidor',
  'signin.serverHint': 'Inicia sesión en el servidor Switchboard de tu equipo.',
  'signin.serverUrl': 'Dirección del servidor',
  'signin.email': 'Correo electrónico',
  'signin.password': 'Contraseña',
  'signin.submit': 'Iniciar sesión',
  'signin.submitting': 'Iniciando sesión…',
  'signin.demoTitle': 'Cuentas de demostración',
  'signin.demoHint': 'Esto es una demostración. Elige una cuenta para rellenar el formulario:',
  'signin.needServer': 'Escribe la dirección de tu servidor Switchboard.',
  'signin.needCredentials': 'Escribe tu correo electrónico y tu contraseña.',

  'inbox.signOut': 'Cerrar sesión',
  'inbox.search': 'Buscar conversaciones',
  'inbox.filterStatus': 'Estado',
  'inbox.filterChannel': 'Canal',
  'inbox.allStatuses': 'Todos los estados',
  'inbox.allChannels': 'Todos los canales',
  'inbox.empty': 'Aún no hay conversaciones. Los nuevos mensajes de clientes aparecerán aquí.',
  'inbox.noMatch': 'Ninguna conversación coincide con la búsqueda o los filtros.',
  'inbox.pick': 'Elige una conversación para leerla y responder.',
  'inbox.loading': 'Cargando…',
  'inbox.unread': '{count} sin leer',
  'inbox.conversations': 'Conversaciones',

  'conn.online': 'En línea',
  'conn.reconnecting': 'Reconectando…',
  'conn.offline': 'Sin conexión',

  'role.agent': 'Agente',
  'role.supervisor': 'Supervisor',
  'role.admin': 'Administrador',

  'status.open': 'Abierta',
  'status.pending': 'Pendiente',
  'status.snoozed': 'Pospuesta',
  'status.resolved': 'Resuelta',

  'channel.email': 'Correo',
  'channel.webchat': 'Chat web',
  'channel.voice': 'Voz',

  'conv.noMessages': 'Todavía no hay mensajes en esta conversación.',
  'conv.reply': 'Escribe una respuesta…',
  'conv.replyHint': 'Intro para enviar, Mayús+Intro para una línea nueva',
  'conv.send': 'Enviar',
  'conv.sending': 'Enviando…',
  'conv.attachment': 'Adjunto',
  'conv.identities': 'Disponible en',

  'msg.received': 'Recibido',
  'msg.queued': 'En cola',
  'msg.sent': 'Enviado',
  'msg.delivered': 'Entregado',
  'msg.read': 'Leído',
  'msg.failed': 'No entregado',

  'time.now': 'ahora',
  'time.minutes': '{n} min',
  'time.hours': '{n} h',
  'time.yesterday': 'ayer',
  'time.days': '{n} d',

  'error.unavailable': 'Switchboard no está disponible ahora mismo. Inténtalo de nuevo en un momento.',
  'error.generic': 'Algo salió mal. Inténtalo de nuevo.',
};

const tables: Record<string, Partial<Record<MessageKey, string>>> = { en, es };

/** Locales the UI is translated into. */
export const locales = Object.keys(tables);

let current = 'en';

/** pickLocale maps a BCP 47 tag such as "es-MX" to a supported locale, defaulting to English. */
export function pickLocale(tag: string | undefined | null): string {
  const base = (tag ?? '').toLowerCase().split(/[-_]/)[0];
  return base in tables ? base : 'en';
}

/** setLocale chooses the UI language. */
export function setLocale(tag: string): void {
  current = pickLocale(tag);
}

/** locale returns the UI language in use. */
export function locale(): string {
  return current;
}

/**
 * t looks a key up in the current language, then English, then returns the key itself,
 * and fills {name} placeholders from params.
 */
export function t(key: MessageKey | string, params?: Record<string, string | number>): string {
  const table = tables[current] as Record<string, string | undefined>;
  const text = table[key] ?? (en as Record<string, string>)[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** tOr looks up key and returns fallback when neither the language nor English has it. */
export function tOr(key: string, fallback: string): string {
  const s = t(key);
  return s === key ? fallback : s;
}

if (typeof navigator !== 'undefined') setLocale(navigator.language);
