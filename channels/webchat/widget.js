/* Switchboard web chat widget: <script src="https://ENGINE/widget/INSTANCE/widget.js" async></script>
   Optional, before it: window.switchboardSettings = {identifier, identifierHash, name, email}. */
(function () {
  'use strict';
  var me = document.currentScript;
  if (!me || window.__switchboardWidget) return;
  window.__switchboardWidget = true;
  var LOOK = "/*LOOK*/";
  var src = new URL(me.src, location.href);
  var mm = src.pathname.match(/^(.*\/widget\/[^/]+)\/widget\.js$/);
  if (!mm) return;
  // Only the sites the widget is set up for get it, and the engine's own pages (the admin's
  // preview); the server refuses the others anyway.
  var own = src.origin.toLowerCase() === location.origin.toLowerCase();
  if (!own && LOOK.allowedOrigins.indexOf('*') < 0 && LOOK.allowedOrigins.map(function (o) { return o.toLowerCase(); }).indexOf(location.origin.toLowerCase()) < 0) {
    if (window.console) console.warn('Switchboard chat: this site (' + location.origin + ') is not one the chat widget is set up for, so it stays hidden.');
    return;
  }
  var base = src.origin + mm[1];
  var store = 'switchboard:' + base;
  var opts = window.switchboardSettings || {};
  var CSS = "/*CSS*/";
  var TEXT = {
    offline: 'You are offline. Your messages will be sent when you are back online.',
    retrying: 'Reconnecting to the chat…',
    slow: 'You are sending messages very quickly. Please wait a few seconds.',
    unreachable: 'The chat cannot be reached right now. Please try again in a moment.',
    failed: 'Something went wrong. Please try again.'
  };
  var S = { token: get('token'), sess: null, ws: null, open: get('open') === '1', pending: {}, seen: {}, retry: 0, typingAt: 0, typingT: 0, stick: true, timer: 0 };

  function get(k) { try { return localStorage.getItem(store + ':' + k); } catch (e) { return null; } }
  function set(k, v) { try { v == null ? localStorage.removeItem(store + ':' + k) : localStorage.setItem(store + ':' + k, v); } catch (e) {} }
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
  function nonce() { var a = new Uint8Array(12); crypto.getRandomValues(a); return Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join(''); }

  var host = el('div'); host.id = 'switchboard-widget';
  host.style.setProperty('--c', LOOK.color);
  var root = host.attachShadow({ mode: 'open' });
  root.innerHTML = '<style>' + CSS + '</style><div class="sb-root">' +
    '<button class="sb-bubble" type="button" aria-label="Open chat"><svg viewBox="0 0 24 24"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg></button>' +
    '<div class="sb-panel" role="dialog" hidden><div class="sb-head"><span class="sb-title"></span><button class="sb-call" type="button" aria-label="Call us" title="Call us" hidden><svg viewBox="0 0 24 24" width="18" height="18"><path fill="currentColor" d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z"/></svg></button><button class="sb-close" type="button" aria-label="Close chat">&times;</button></div>' +
    '<div class="sb-callbar" hidden><span class="sb-callstate"></span><button class="sb-btn sb-hangup" type="button">Hang up</button><audio class="sb-remote" autoplay></audio></div>' +
    '<form class="sb-prechat" hidden><p>Tell us who you are (optional).</p><input name="name" placeholder="Name" autocomplete="name"><input name="email" type="email" placeholder="Email" autocomplete="email"><button class="sb-btn" type="submit">Start chat</button></form>' +
    '<div class="sb-log" aria-live="polite"></div><div class="sb-typing" hidden>Agent is typing…</div><div class="sb-state" role="status" hidden></div><div class="sb-err" role="alert" hidden></div>' +
    '<form class="sb-compose"><label class="sb-attach" title="Attach a file"><svg viewBox="0 0 24 24" width="18" height="18"><path fill="currentColor" d="M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z"/></svg><input type="file" class="sb-file" aria-label="Attach a file"></label><textarea class="sb-input" placeholder="Type a message…" aria-label="Message"></textarea><button class="sb-btn sb-send" type="submit">Send</button></form></div></div>';
  function q(s) { return root.querySelector(s); }
  var wrap = q('.sb-root'), panel = q('.sb-panel'), log = q('.sb-log'), input = q('.sb-input'), pre = q('.sb-prechat'), compose = q('.sb-compose'),
    typing = q('.sb-typing'), err = q('.sb-err'), state = q('.sb-state');
  q('.sb-title').textContent = LOOK.title;

  var C = null; // the call: {id, pc, stream}
  var callBtn = q('.sb-call'), callBar = q('.sb-callbar'), callState = q('.sb-callstate'), remote = q('.sb-remote');
  var STATES = { queued: 'Waiting for an agent…', offered: 'Ringing an agent…', connected: 'On the call', held: 'On hold…', consulting: 'On hold…', ivr: 'Connecting…' };
  // The call button shows only while a call can start: the engine offers calls and the chat's socket,
  // which carries the call's signalling, is open (a click before it opens would do nothing).
  function showCall(t) {
    callBar.hidden = !t; callState.textContent = t || '';
    callBtn.hidden = !!t || !(S.sess && S.sess.calls) || !(S.ws && S.ws.readyState === 1);
  }
  function endCall(msg) {
    if (C) { if (C.pc) C.pc.close(); C.stream.getTracks().forEach(function (t) { t.stop(); }); }
    C = null; remote.srcObject = null; showCall(''); if (msg) showError(msg);
  }
  function startCall() {
    if (C || !S.ws || S.ws.readyState !== 1) return;
    if (!navigator.mediaDevices || !window.RTCPeerConnection) { showError('This browser cannot make calls.'); return; }
    C = { stream: null };
    showCall('Calling…');
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      C.stream = stream;
      S.ws.send('{"type":"call.start"}');
    }).catch(function (e) { C = null; showCall(''); showError('The microphone is not available.'); });
  }
  function onOffer(f) {
    if (!C || !C.stream) return;
    var pc = new RTCPeerConnection();
    C.pc = pc; C.id = f.callId;
    pc.ontrack = function (e) { remote.srcObject = e.streams[0] || new MediaStream([e.track]); };
    pc.setRemoteDescription({ type: 'offer', sdp: f.sdp }).then(function () {
      C.stream.getTracks().forEach(function (t) { pc.addTrack(t, C.stream); });
      return pc.createAnswer();
    }).then(function (a) { return pc.setLocalDescription(a); }).then(function () {
      return new Promise(function (ok) {
        if (pc.iceGatheringState === 'complete') return ok();
        pc.onicegatheringstatechange = function () { if (pc.iceGatheringState === 'complete') ok(); };
      });
    }).then(function () {
      S.ws.send(JSON.stringify({ type: 'call.answer', callId: f.callId, sdp: pc.localDescription.sdp }));
    }).catch(function () { endCall('The call could not connect.'); });
  }
  function onCallFrame(f) {
    if (f.type === 'call.offer') onOffer(f);
    else if (f.type === 'call.state' && C) showCall(f.state === 'connected' && f.agent ? 'On the call with ' + f.agent : (STATES[f.state] || 'Connecting…'));
    else if (f.type === 'call.ended') endCall('');
    else if (f.type === 'call.error') endCall(f.error);
  }

  function showError(t) { err.textContent = t || ''; err.hidden = !t; }
  // showState says, in plain words, why messages may not go out right now ("" when all is well).
  function showState(k) { state.textContent = k ? TEXT[k] : ''; state.hidden = !k; state.setAttribute('data-state', k || ''); }

  // gone hides the widget for good: the site is not allowed, or the widget no longer exists.
  function gone(why) { if (window.console) console.warn('Switchboard chat: ' + why); host.remove(); clearTimeout(S.timer); if (S.ws) { var ws = S.ws; S.ws = null; ws.close(); } }

  function api(path, body, isForm) {
    var h = isForm ? { Authorization: 'Bearer ' + S.token } : { 'Content-Type': 'application/json' };
    return fetch(base + path, { method: 'POST', headers: h, body: isForm ? body : JSON.stringify(body), mode: 'cors', credentials: 'omit' })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (r.ok) return j;
          var e = new Error(j.message || TEXT.failed); e.status = r.status; throw e;
        });
      }, function () { var e = new Error(TEXT.unreachable); e.status = 0; throw e; });
  }

  // failed shows what went wrong; a refused site or a removed widget hides it all. When the
  // chat cannot be reached it says so and keeps trying.
  function failed(e) {
    if (e.status === 403 && !S.sess) return gone('the server refused this site (' + location.origin + ').');
    if (e.status === 404) return gone('this chat widget no longer exists.');
    if (e.status !== 0) return showError(e.message);
    if (!S.token) return showError(TEXT.unreachable);
    showError(''); showState(navigator.onLine === false ? 'offline' : 'retrying');
    clearTimeout(S.timer); S.timer = setTimeout(reconnect, Math.min(30000, 1000 * Math.pow(2, S.retry++)));
  }

  function session(extra) {
    var b = { token: S.token || undefined, identifier: opts.identifier, identifierHash: opts.identifierHash, name: opts.name, email: opts.email };
    for (var k in extra || {}) b[k] = extra[k];
    return api('/session', b).then(function (s) {
      S.sess = s; S.token = s.token; set('token', s.token);
      if (!C) showCall('');
      look(s);
      if (!log.firstChild && s.greeting) log.appendChild(el('div', 'sb-greet', s.greeting));
      s.messages.forEach(add);
      showError(''); showState('');
      connect();
      return s;
    });
  }

  function look(s) { host.style.setProperty('--c', s.color); q('.sb-title').textContent = s.title; }

  function toBottom() { if (!panel.hidden) log.scrollTop = log.scrollHeight; }
  log.addEventListener('scroll', function () { S.stick = log.scrollHeight - log.scrollTop - log.clientHeight < 48; });

  function fileLink(a) {
    if (typeof a.url !== 'string' || a.url.indexOf('/widget/') !== 0) return null;
    var href = src.origin + a.url;
    var link = el('a', null, a.name || 'file'); link.href = href; link.target = '_blank'; link.rel = 'noopener';
    if (/^image\/(png|jpeg|gif|webp)$/.test(a.type)) {
      var img = el('img'); img.alt = a.name || '';
      // A picture that loads later grows the log: keep the newest message in view.
      img.addEventListener('load', function () { if (S.stick) toBottom(); });
      img.src = href; link.textContent = ''; link.appendChild(img);
    }
    return link;
  }

  function render(m, node) {
    node = node || el('div');
    node.className = 'sb-msg ' + (m.direction === 'in' ? 'sb-in' : 'sb-out') + (m.id ? '' : ' sb-pending');
    node.textContent = '';
    if (m.direction === 'out' && m.authorName) node.appendChild(el('span', 'sb-who', m.authorName));
    if (m.text) node.appendChild(document.createTextNode(m.text));
    (m.attachments || []).forEach(function (a) { var l = fileLink(a); if (l) node.appendChild(l); });
    if (m.id) node.setAttribute('data-id', m.id);
    return node;
  }

  function add(m) {
    if (m.id && S.seen[m.id]) return;
    var p = m.nonce && S.pending[m.nonce];
    if (p) { delete S.pending[m.nonce]; render(m, p.node); }
    else log.appendChild(render(m));
    if (m.id) S.seen[m.id] = true;
    if (m.direction === 'out') typing.hidden = true;
    if (S.stick || m.direction === 'in') toBottom();
  }

  function connect() {
    if (S.ws && S.ws.readyState < 2) return;
    var ws = new WebSocket(base.replace(/^http/, 'ws') + '/ws?token=' + encodeURIComponent(S.token));
    S.ws = ws;
    ws.onopen = function () { S.retry = 0; showState(''); if (!C) showCall(''); resend(ws); };
    ws.onmessage = function (ev) {
      var f; try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f.type === 'message' || f.type === 'ack') add(f.message);
      else if (f.type === 'typing') { typing.hidden = false; if (S.stick) toBottom(); clearTimeout(S.typingT); S.typingT = setTimeout(function () { typing.hidden = true; }, 5000); }
      else if (f.type === 'error') showError(f.error);
      else if (f.type.indexOf('call.') === 0) onCallFrame(f);
    };
    ws.onclose = function (ev) {
      if (S.ws !== ws) return;
      S.ws = null;
      if (C) endCall('The call was cut off.'); else showCall('');
      var slow = ev.code === 1008;
      showState(slow ? 'slow' : navigator.onLine === false ? 'offline' : 'retrying');
      var wait = slow ? 5000 : Math.min(30000, 1000 * Math.pow(2, S.retry++));
      S.timer = setTimeout(reconnect, wait);
    };
  }

  // resend sends what waited while the socket was down. After ten at once it paces them at four a
  // second, under the engine's limit (five a second, twenty at once), so a long queue after a cut
  // or a "slow down" goes out instead of closing the socket again.
  function resend(ws) {
    var queue = Object.keys(S.pending), sent = 0;
    (function next() {
      while (queue.length && S.ws === ws && ws.readyState === 1) {
        var p = S.pending[queue.shift()];
        if (!p) continue;
        ws.send(p.frame);
        if (++sent >= 10) { setTimeout(next, 250); return; }
      }
    })();
  }

  // reconnect renews the session (history included) and reopens the socket; it keeps trying.
  function reconnect() {
    clearTimeout(S.timer);
    if (!host.isConnected || S.ws && S.ws.readyState < 2) return;
    session().catch(failed);
  }
  window.addEventListener('offline', function () { if (S.sess) showState('offline'); });
  window.addEventListener('online', function () {
    if (!S.sess) return;
    S.retry = 0;
    if (S.ws && S.ws.readyState === 1) showState(''); else reconnect();
  });

  function sendFrame(text, attachments, shown) {
    var n = nonce();
    var frame = JSON.stringify({ type: 'message', nonce: n, text: text, attachments: attachments && attachments.length ? attachments : undefined });
    var node = render({ direction: 'in', text: text, attachments: shown });
    log.appendChild(node); S.stick = true; toBottom();
    S.pending[n] = { frame: frame, node: node };
    if (S.ws && S.ws.readyState === 1) S.ws.send(frame);
  }

  // show opens or closes the panel, with the newest message in view.
  function show(v) {
    S.open = v; set('open', v ? '1' : null);
    panel.hidden = !v;
    wrap.classList.toggle('sb-open', v);
    if (v) { S.stick = true; toBottom(); }
  }

  function openPanel(v) {
    show(v);
    if (!v) return;
    var needForm = !S.token && !opts.identifier;
    if (needForm && !S.sess) {
      api('/session', {}).then(function (s) { // look only; the token comes with the form
        look(s);
        if (s.preChat) { pre.hidden = false; compose.hidden = true; log.hidden = true; } else session().catch(failed);
      }).catch(failed);
    } else if (!S.sess) session().then(toBottom).catch(failed);
    setTimeout(function () { input.focus(); }, 0);
  }

  q('.sb-bubble').onclick = function () { openPanel(panel.hidden); };
  q('.sb-close').onclick = function () { openPanel(false); };
  callBtn.onclick = startCall;
  q('.sb-hangup').onclick = function () {
    if (C && C.id && S.ws && S.ws.readyState === 1) S.ws.send(JSON.stringify({ type: 'call.hangup', callId: C.id }));
    endCall('');
  };
  pre.onsubmit = function (e) {
    e.preventDefault();
    session({ name: pre.elements.name.value, email: pre.elements.email.value }).then(function () {
      pre.hidden = true; compose.hidden = false; log.hidden = false; toBottom(); input.focus();
    }).catch(failed);
  };
  // A message written before the session is ready waits, shown as pending, and goes out
  // when the socket opens.
  compose.onsubmit = function (e) {
    e.preventDefault();
    var t = input.value.trim();
    if (!t) return;
    input.value = '';
    sendFrame(t);
  };
  input.onkeydown = function (e) { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); compose.requestSubmit(); } };
  input.oninput = function () {
    var now = Date.now();
    if (S.ws && S.ws.readyState === 1 && now - S.typingAt > 3000) { S.typingAt = now; S.ws.send('{"type":"typing"}'); }
  };
  q('.sb-file').onchange = function (e) {
    var f = e.target.files[0]; e.target.value = '';
    if (!f || !S.sess) return;
    var fd = new FormData(); fd.append('file', f);
    api('/upload', fd, true).then(function (u) {
      var t = input.value.trim(); input.value = '';
      sendFrame(t, [u.id], [u]);
    }).catch(failed);
  };

  function boot() {
    document.body.appendChild(host);
    if (S.token || opts.identifier) {
      session().then(function () { if (S.open) show(true); }).catch(function (e) {
        if (e.status === 401) { S.token = null; set('token', null); if (S.open) openPanel(true); return; }
        if (S.open && e.status === 0) show(true);
        failed(e);
      });
    } else if (S.open) openPanel(true);
  }
  if (document.body) boot(); else document.addEventListener('DOMContentLoaded', boot);
})();
