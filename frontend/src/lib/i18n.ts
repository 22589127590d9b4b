// Every string the UI shows. English is the source; other languages may leave keys out
// and fall back to English.

const en = {
  'app.name': 'Switchboard',
  'app.loading': 'Starting Switchboard…',
  'app.version': 'Version {version}',

  'settings.open': 'Settings',
  'settings.title': 'Settings',
  'settings.general': 'General',
  'settings.server': 'Team server address',
  'settings.serverHint': 'Offered on the sign-in screen. Leave it empty to start on this computer.',
  'settings.theme': 'Theme',
  'settings.language': 'Language',
  'settings.languageSystem': 'Same as the system',
  'settings.startAtLogin': 'Open Switchboard when I log in',
  'settings.alerts': 'Offers',
  'settings.notify': 'Show a desktop notification for each new offer',
  'settings.sound': 'Play a sound for each new offer',
  'settings.audio': 'Audio devices for calls',
  'settings.audioHint': 'Leave a field empty to use the system’s default device.',
  'settings.microphone': 'Microphone',
  'settings.speaker': 'Call audio (headset)',
  'settings.ringer': 'Ringing',
  'settings.systemDefault': 'System default',
  'settings.save': 'Save',
  'settings.saving': 'Saving…',
  'settings.saved': 'Settings saved.',
  'settings.close': 'Close',
  'about.title': 'About Switchboard',
  'about.version': 'Version',
  'about.commit': 'Commit',
  'about.built': 'Built',
  'about.platform': 'Platform',
  'about.copy': 'Copy diagnostics',
  'about.copied': 'Diagnostics copied. Paste them into your message to support.',
  'about.copyHere': 'Copy the text below into your message to support.',
  'about.diagnosticsHint': 'Version, system, settings and the last log lines, without passwords or tokens.',
  'banner.reconnecting': 'Connection lost. Reconnecting…',
  'banner.offline': 'You are offline.',
  'banner.retryIn': 'Trying again in {n} s.',
  'banner.retrying': 'Trying again now…',
  'banner.retry': 'Retry now',
  'banner.pendingOne': '1 reply is waiting to be sent.',
  'banner.pendingMany': '{n} replies are waiting to be sent.',
  'banner.reconnected': 'Reconnected.',
  'banner.sent': 'Reconnected. Your waiting replies were sent.',

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
  'inbox.search': 'Search messages',
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
  'msg.failed': 'Failed',

  'time.now': 'now',
  'time.minutes': '{n}m',
  'time.hours': '{n}h',
  'time.yesterday': 'yesterday',
  'time.days': '{n}d',

  'header.activity': 'Activity',
  'theme.system': 'System',
  'theme.light': 'Light',
  'theme.dark': 'Dark',
  'theme.toggle': 'Theme: {theme}. Click to switch.',
  'offline.action': 'You are offline. This works again once Switchboard reconnects.',

  'scope.label': 'Show',
  'scope.mine': 'Mine',
  'scope.queues': 'My queues',
  'scope.all': 'All',
  'inbox.emptyMine': 'Nothing is assigned to you. Offers you accept show up here.',
  'inbox.emptyQueues': 'No conversations are waiting or assigned in your queues.',
  'inbox.assignee': 'Assigned to {name}',

  'task.pending': 'Waiting',
  'task.reserved': 'Offered',
  'task.assigned': 'Assigned',
  'task.wrapping': 'Wrap-up',
  'task.queue': 'Queue: {queue}',
  'task.disposition': 'Disposition',
  'task.wrapUp': 'Wrap up',
  'task.complete': 'Complete',
  'task.transfer': 'Transfer',
  'taskChannel.chat': 'Chat',
  'taskChannel.voice': 'Call',
  'taskChannel.email': 'Email',

  'offers.label': 'Task offers',
  'offer.aria': 'Offer: {name} on {channel}',
  'offer.unknown': 'Unknown customer',
  'offer.queue': 'Queue: {queue}',
  'offer.seconds': '{n}s',
  'offer.expiresIn': 'Expires in {n} seconds',
  'offer.timeLeft': 'Time left to answer',
  'offer.accept': 'Accept',
  'offer.accepting': 'Accepting…',
  'offer.reject': 'Reject',
  'offer.gone': 'That offer is no longer available: it expired or went to someone else.',
  'offer.offline': 'You are offline, so offers cannot be accepted or rejected until Switchboard reconnects.',

  'search.one': '1 result in {ms} ms',
  'search.many': '{count} results in {ms} ms',
  'search.none': 'No messages match “{query}”.',
  'search.sent': 'Sent',

  'conv.mode': 'Reply or note',
  'conv.replyMode': 'Reply',
  'conv.noteMode': 'Note',
  'conv.noteHint': 'Only agents see notes.',
  'conv.notePlaceholder': 'Write a note for other agents…',
  'conv.addNote': 'Add note',
  'conv.sendVia': 'Send via',
  'conv.thisConversation': 'this conversation',
  'conv.queuedOffline': 'You are offline: replies wait in the outbox and go out once Switchboard reconnects.',
  'conv.snooze': 'Snooze',
  'conv.resolve': 'Resolve',
  'conv.reopen': 'Reopen',

  'contact.title': 'Contact',
  'contact.email': 'Email',
  'contact.phone': 'Phone',
  'contact.attributes': 'Details',
  'contact.conversations': 'Conversations',
  'contact.noConversations': 'No other conversations.',

  'canned.title': 'Canned responses',
  'canned.none': 'No canned response matches “{query}”.',
  'canned.hint': '↑↓ to choose, Enter to insert, Esc to close',

  'limit.length': 'This reply has {length} characters; {channel} allows at most {max}. Remove {over} before sending.',
  'limit.template': 'The customer last wrote {hours} hours ago, so {channel} only allows template messages.',
  'limit.humanAgent': 'The customer last wrote {hours} hours ago. On {channel}, replies after 24 hours go out tagged HUMAN_AGENT, allowed up to 7 days.',
  'limit.closed': 'The customer last wrote {days} days ago. {channel} accepts no replies more than 7 days after the customer’s last message.',
  'limit.noInboundTemplate': 'The customer has not written on {channel} yet, so {channel} only allows template messages.',
  'limit.noInbound': 'The customer has not written on {channel} yet, so {channel} may refuse this reply.',

  'transfer.title': 'Transfer to an agent or a queue',
  'transfer.agents': 'Agents',
  'transfer.queues': 'Queues',
  'transfer.available': 'Available',
  'transfer.unavailable': 'Unavailable',
  'transfer.noAgents': 'No other agents.',
  'transfer.noQueues': 'No queues.',
  'transfer.confirm': 'Transfer',
  'transfer.cancel': 'Cancel',

  'msg.note': 'Note',

  'flows.open': 'Flows',
  'flows.title': 'Flow editor',
  'flows.instance': 'Channel instance',
  'flows.noInstances': 'No channel instances are configured yet.',
  'flows.revision': 'Revision {n}',
  'flows.default': 'Default flow (not saved for this instance yet)',
  'flows.json': 'Flow (JSON)',
  'flows.validate': 'Validate',
  'flows.valid': 'Valid',
  'flows.save': 'Save',
  'flows.saved': 'Saved as revision {n}',
  'flows.problems': 'Problems',
  'flows.badJSON': 'The flow is not valid JSON at line {line}, column {column}: {detail}',
  'flows.notObject': 'The flow must be a JSON object, like {"name": …, "widgets": […]}.',
  'flows.test': 'Test a message',
  'flows.testPlaceholder': 'What a customer might write…',
  'flows.run': 'Run',
  'flows.dryRun': 'Dry run: nothing is sent and no task is created.',
  'flows.runFor': 'Customer writes “{message}”',
  'flows.noSteps': 'The flow did nothing with this message.',
  'flows.noActions': 'no actions',
  'flows.event': '→ {event}',
  'flows.waiting': '⏸ waiting',
  'flows.agent': '☎ handed to a live agent',
  'flows.ended': '■ ended',
  'flows.failed': '✗ error: {error}',
  'flows.close': 'Close',

  'error.unavailable': 'Switchboard is not reachable right now. Try again in a moment.',
  'error.generic': 'Something went wrong. Try again.',
} as const;

export type MessageKey = keyof typeof en;

const es: Partial<Record<MessageKey, string>> = {
  'app.loading': 'Iniciando Switchboard…',
  'app.version': 'Versión {version}',

  'settings.open': 'Ajustes',
  'settings.title': 'Ajustes',
  'settings.general': 'General',
  'settings.server': 'Dirección del servidor del equipo',
  'settings.serverHint': 'Se ofrece en la pantalla de inicio de sesión. Déjala vacía para empezar en este equipo.',
  'settings.theme': 'Tema',
  'settings.language': 'Idioma',
  'settings.languageSystem': 'El del sistema',
  'settings.startAtLogin': 'Abrir Switchboard al iniciar sesión en el equipo',
  'settings.alerts': 'Ofertas',
  'settings.notify': 'Mostrar una notificación de escritorio por cada oferta nueva',
  'settings.sound': 'Reproducir un sonido por cada oferta nueva',
  'settings.audio': 'Dispositivos de audio para llamadas',
  'settings.audioHint': 'Deja un campo vacío para usar el dispositivo predeterminado del sistema.',
  'settings.microphone': 'Micrófono',
  'settings.speaker': 'Audio de la llamada (auriculares)',
  'settings.ringer': 'Timbre',
  'settings.systemDefault': 'Predeterminado del sistema',
  'settings.save': 'Guardar',
  'settings.saving': 'Guardando…',
  'settings.saved': 'Ajustes guardados.',
  'settings.close': 'Cerrar',
  'about.title': 'Acerca de Switchboard',
  'about.version': 'Versión',
  'about.commit': 'Commit',
  'about.built': 'Compilado',
  'about.platform': 'Plataforma',
  'about.copy': 'Copiar diagnóstico',
  'about.copied': 'Diagnóstico copiado. Pégalo en tu mensaje al soporte.',
  'about.copyHere': 'Copia el texto de abajo en tu mensaje al soporte.',
  'about.diagnosticsHint': 'Versión, sistema, ajustes y las últimas líneas del registro, sin contraseñas ni tokens.',
  'banner.reconnecting': 'Se perdió la conexión. Reconectando…',
  'banner.offline': 'Estás sin conexión.',
  'banner.retryIn': 'Se volverá a intentar en {n} s.',
  'banner.retrying': 'Intentándolo ahora…',
  'banner.retry': 'Reintentar ahora',
  'banner.pendingOne': '1 respuesta espera para enviarse.',
  'banner.pendingMany': '{n} respuestas esperan para enviarse.',
  'banner.reconnected': 'Conexión restablecida.',
  'banner.sent': 'Conexión restablecida. Se enviaron tus respuestas pendientes.',

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
  'inbox.search': 'Buscar mensajes',
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
  'msg.failed': 'Fallido',

  'time.now': 'ahora',
  'time.minutes': '{n} min',
  'time.hours': '{n} h',
  'time.yesterday': 'ayer',
  'time.days': '{n} d',

  'header.activity': 'Actividad',
  'theme.system': 'Sistema',
  'theme.light': 'Claro',
  'theme.dark': 'Oscuro',
  'theme.toggle': 'Tema: {theme}. Haz clic para cambiarlo.',
  'offline.action': 'Estás sin conexión. Volverá a funcionar cuando Switchboard se reconecte.',

  'scope.label': 'Mostrar',
  'scope.mine': 'Mías',
  'scope.queues': 'Mis colas',
  'scope.all': 'Todas',
  'inbox.emptyMine': 'No tienes nada asignado. Las ofertas que aceptes aparecerán aquí.',
  'inbox.emptyQueues': 'No hay conversaciones en espera ni asignadas en tus colas.',
  'inbox.assignee': 'Asignada a {name}',

  'task.pending': 'En espera',
  'task.reserved': 'Ofrecida',
  'task.assigned': 'Asignada',
  'task.wrapping': 'Cierre',
  'task.queue': 'Cola: {queue}',
  'task.disposition': 'Tipificación',
  'task.wrapUp': 'Cerrar atención',
  'task.complete': 'Completar',
  'task.transfer': 'Transferir',
  'taskChannel.chat': 'Chat',
  'taskChannel.voice': 'Llamada',
  'taskChannel.email': 'Correo',

  'offers.label': 'Ofertas de tareas',
  'offer.aria': 'Oferta: {name} en {channel}',
  'offer.unknown': 'Cliente desconocido',
  'offer.queue': 'Cola: {queue}',
  'offer.seconds': '{n} s',
  'offer.expiresIn': 'Caduca en {n} segundos',
  'offer.timeLeft': 'Tiempo para responder',
  'offer.accept': 'Aceptar',
  'offer.accepting': 'Aceptando…',
  'offer.reject': 'Rechazar',
  'offer.gone': 'Esa oferta ya no está disponible: caducó o fue para otra persona.',
  'offer.offline': 'Estás sin conexión: no puedes aceptar ni rechazar ofertas hasta que Switchboard se reconecte.',

  'search.one': '1 resultado en {ms} ms',
  'search.many': '{count} resultados en {ms} ms',
  'search.none': 'Ningún mensaje coincide con «{query}».',
  'search.sent': 'Enviado',

  'conv.mode': 'Respuesta o nota',
  'conv.replyMode': 'Responder',
  'conv.noteMode': 'Nota',
  'conv.noteHint': 'Solo los agentes ven las notas.',
  'conv.notePlaceholder': 'Escribe una nota para otros agentes…',
  'conv.addNote': 'Añadir nota',
  'conv.sendVia': 'Enviar por',
  'conv.thisConversation': 'esta conversación',
  'conv.queuedOffline': 'Estás sin conexión: las respuestas esperan en la bandeja de salida y se envían cuando Switchboard se reconecte.',
  'conv.snooze': 'Posponer',
  'conv.resolve': 'Resolver',
  'conv.reopen': 'Reabrir',

  'contact.title': 'Contacto',
  'contact.email': 'Correo',
  'contact.phone': 'Teléfono',
  'contact.attributes': 'Datos',
  'contact.conversations': 'Conversaciones',
  'contact.noConversations': 'No hay otras conversaciones.',

  'canned.title': 'Respuestas predefinidas',
  'canned.none': 'Ninguna respuesta predefinida coincide con «{query}».',
  'canned.hint': '↑↓ para elegir, Intro para insertar, Esc para cerrar',

  'limit.length': 'Esta respuesta tiene {length} caracteres; {channel} admite como máximo {max}. Quita {over} antes de enviarla.',
  'limit.template': 'El cliente escribió por última vez hace {hours} horas, así que {channel} solo admite mensajes de plantilla.',
  'limit.humanAgent': 'El cliente escribió por última vez hace {hours} horas. En {channel}, las respuestas después de 24 horas salen con la etiqueta HUMAN_AGENT, admitida hasta 7 días.',
  'limit.closed': 'El cliente escribió por última vez hace {days} días. {channel} no admite respuestas más de 7 días después del último mensaje del cliente.',
  'limit.noInboundTemplate': 'El cliente aún no ha escrito por {channel}, así que {channel} solo admite mensajes de plantilla.',
  'limit.noInbound': 'El cliente aún no ha escrito por {channel}, así que {channel} podría rechazar esta respuesta.',

  'transfer.title': 'Transferir a un agente o a una cola',
  'transfer.agents': 'Agentes',
  'transfer.queues': 'Colas',
  'transfer.available': 'Disponible',
  'transfer.unavailable': 'No disponible',
  'transfer.noAgents': 'No hay otros agentes.',
  'transfer.noQueues': 'No hay colas.',
  'transfer.confirm': 'Transferir',
  'transfer.cancel': 'Cancelar',

  'msg.note': 'Nota',

  'flows.open': 'Flujos',
  'flows.title': 'Editor de flujos',
  'flows.instance': 'Instancia del canal',
  'flows.noInstances': 'Todavía no hay instancias de canal configuradas.',
  'flows.revision': 'Revisión {n}',
  'flows.default': 'Flujo predeterminado (aún no guardado para esta instancia)',
  'flows.json': 'Flujo (JSON)',
  'flows.validate': 'Validar',
  'flows.valid': 'Válido',
  'flows.save': 'Guardar',
  'flows.saved': 'Guardado como revisión {n}',
  'flows.problems': 'Problemas',
  'flows.badJSON': 'El flujo no es JSON válido en la línea {line}, columna {column}: {detail}',
  'flows.notObject': 'El flujo debe ser un objeto JSON, como {"name": …, "widgets": […]}.',
  'flows.test': 'Probar un mensaje',
  'flows.testPlaceholder': 'Lo que podría escribir un cliente…',
  'flows.run': 'Ejecutar',
  'flows.dryRun': 'Prueba en seco: no se envía nada y no se crea ninguna tarea.',
  'flows.runFor': 'El cliente escribe «{message}»',
  'flows.noSteps': 'El flujo no hizo nada con este mensaje.',
  'flows.noActions': 'sin acciones',
  'flows.event': '→ {event}',
  'flows.waiting': '⏸ en espera',
  'flows.agent': '☎ pasado a un agente',
  'flows.ended': '■ terminado',
  'flows.failed': '✗ error: {error}',
  'flows.close': 'Cerrar',

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

/** messageKeys lists every key of the English table. */
export function messageKeys(): MessageKey[] {
  return Object.keys(en) as MessageKey[];
}

/** translated reports whether a language's table has its own text for key. */
export function translated(lang: string, key: MessageKey): boolean {
  return Boolean(tables[lang]?.[key]);
}

/** tOr looks up key and returns fallback when neither the language nor English has it. */
export function tOr(key: string, fallback: string): string {
  const s = t(key);
  return s === key ? fallback : s;
}

if (typeof navigator !== 'undefined') setLocale(navigator.language);
