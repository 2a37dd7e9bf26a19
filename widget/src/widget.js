/**
 * CertBot chat widget: a dependency-free chat panel living in a Shadow DOM.
 *
 * Talks to the bot's widget channel (POST {base}webhook) and loads its stylesheet from
 * {base}widget.css. The bot issues the conversation id: the first message goes without a
 * sender, the reply's X-Conversation-Id header names the conversation, and the widget keeps
 * it (in localStorage) for every later message.
 *
 * Every node is built with DOM APIs (nothing is ever parsed as HTML), link schemes are
 * allow-listed, and no inline <style>, style="" or on* attribute is emitted, so the widget
 * runs under a strict Content-Security-Policy.
 */

const STRINGS = {
  title: 'Certification assistant',
  open: 'Open chat',
  unreadOne: '1 unread message',
  unreadMany: '{n} unread messages',
  newChat: 'New conversation',
  close: 'Close',
  log: 'Conversation',
  you: 'You:',
  bot: 'Assistant:',
  inputLabel: 'Your question',
  placeholder: 'Type your question…',
  send: 'Send',
  typing: 'The assistant is typing',
  offline: 'Connection lost. Reconnecting…',
  sending: 'Sending…',
  sent: 'Sent',
  waiting: 'Waiting to send',
  failed: 'Not sent: {error}',
  rejected: 'the server refused this message',
  retry: 'Retry now',
  feedback: 'Was this answer helpful?',
  helpful: 'Helpful',
  notHelpful: 'Not helpful',
};

// 24×24 icon paths; header icons are stroked, the others filled (see widget.css).
const ICONS = {
  chat: 'M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2h-9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z',
  close: 'M6 6l12 12M18 6 6 18',
  restart: 'M20 12a8 8 0 1 1-2.3-5.7M20 3v4h-4',
  send: 'M3 21l19-9L3 3v7l13 2-13 2z',
  thumb: 'M7 10v11H3V10zm2 11h8.3a2 2 0 0 0 2-1.6l1.4-7A2 2 0 0 0 18.7 10H14l.7-4.4A2 2 0 0 0 12.7 3H12L9 10z',
};

const SVG_NS = 'http://www.w3.org/2000/svg';
const KEPT_MESSAGES = 100; // transcript length kept in localStorage
const REQUEST_TIMEOUT = 30000;
const MAX_BACKOFF = 30000;

// The <script> element that loaded us: document.currentScript is only set while it runs.
const SCRIPT = document.currentScript;

/* ---------- DOM and utility helpers ---------- */

/** Element with attributes (true = present, false/null = absent) and child nodes/strings. */
function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value != null && value !== false) el.setAttribute(name, value === true ? '' : value);
  }
  el.append(...kids.filter(Boolean)); // strings become text nodes, never markup
  return el;
}

function icon(d) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  const path = document.createElementNS(SVG_NS, 'path');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}

function iconButton(label, d, cls, type = 'button') {
  return h('button', { type, class: cls, 'aria-label': label }, icon(d));
}

/** Normalised absolute URL if its scheme is allowed, else null (relative URLs are refused). */
function safeUrl(value, schemes) {
  try {
    const url = new URL(value);
    return schemes.includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/** Random UUID v4; crypto.randomUUID only exists in secure contexts. */
function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  const hex = Array.from(b, (x) => (x + 256).toString(16).slice(1)).join('');
  return hex.replace(/(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
}

function emit(name, detail) {
  window.dispatchEvent(new CustomEvent('certbot:' + name, { detail }));
}

/** Seconds or HTTP date from a Retry-After header, as milliseconds (5 s if unreadable). */
function retryAfterMs(value) {
  const ms = /^\d+$/.test(value) ? value * 1000 : Date.parse(value) - Date.now();
  return ms >= 0 ? Math.min(ms, 600000) : 5000;
}

/** Exponential backoff: 1 s doubling to 30 s, minus up to 25 % jitter. */
function backoffMs(attempt) {
  return Math.min(MAX_BACKOFF, 1000 * 2 ** attempt) * (1 - Math.random() / 4);
}

/* ---------- Storage (localStorage may be full, disabled or hold garbage) ---------- */

function readState(key) {
  let s;
  try {
    s = JSON.parse(localStorage.getItem(key));
  } catch {
    return null;
  }
  const id = s && (s.id === null || typeof s.id === 'string'); // null: not issued yet
  if (!id || !Array.isArray(s.msgs) || !Array.isArray(s.queue)) return null;
  s.msgs = s.msgs.filter((m) => m && typeof m.text === 'string' && /^(bot|visitor)$/.test(m.from));
  s.queue = s.queue.filter((q) => q && typeof q.message === 'string');
  return s;
}

function writeState(key, state) {
  try {
    if (state) localStorage.setItem(key, JSON.stringify({ ...state, msgs: state.msgs.slice(-KEPT_MESSAGES) }));
    else localStorage.removeItem(key);
  } catch {
    // Storage unavailable or full: the conversation simply lives in memory only.
  }
}

/* ---------- Safe Markdown subset (bold, italic, links, lists, paragraphs) ---------- */

// One inline token: [text](url) | **bold** | *italic* | _italic_ (not inside snake_case words).
// A URL may hold one level of balanced parentheses, as Wikipedia's do.
const INLINE = /\[([^\]\n]+)\]\(((?:[^\s()]|\([^\s()]*\))+)\)|\*\*(\S(?:.*?\S)?)\*\*|\*([^\s*](?:[^*\n]*[^\s*])?)\*|\b_([^_\n]+)_\b/;
const LIST_ITEM = /^\s*(?:([-*])|(\d+)\.)\s+(.*)$/;

function inline(text) {
  const out = [];
  let m;
  while ((m = INLINE.exec(text))) {
    out.push(text.slice(0, m.index));
    if (m[1]) out.push(link(m[1], m[2]));
    else if (m[3]) out.push(h('strong', {}, ...inline(m[3])));
    else out.push(h('em', {}, ...inline(m[4] || m[5])));
    text = text.slice(m.index + m[0].length);
  }
  out.push(text);
  return out.filter(Boolean);
}

/** A link for http(s)/mailto URLs; any other target shows its label as plain text. */
function link(label, target) {
  const href = safeUrl(target, ['http:', 'https:', 'mailto:']);
  if (!href) return label;
  return h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, ...inline(label));
}

/** Block elements for a Markdown text: paragraphs (single newlines become <br>) and lists. */
function markdown(src) {
  const blocks = [];
  let list = null;
  let para = null;
  for (const line of src.split(/\r?\n/)) {
    const item = LIST_ITEM.exec(line);
    if (item) {
      const tag = item[1] ? 'ul' : 'ol';
      if (!list || list.localName !== tag) {
        blocks.push((list = h(tag)));
        if (item[2] > 1) list.start = item[2];
      }
      list.append(h('li', {}, ...inline(item[3])));
      para = null;
    } else if (line.trim()) {
      if (para) para.append(h('br'));
      else blocks.push((para = h('p')));
      para.append(...inline(line.trim()));
      list = null;
    } else {
      list = para = null;
    }
  }
  return blocks;
}

/* ---------- The widget ---------- */

function createWidget(o) {
  const base = o.server
    ? String(o.server).replace(/\/+$/, '') + '/webhooks/widget/'
    : new URL('.', (SCRIPT && SCRIPT.src) || location.href).href;
  const key = 'certbot:' + base;
  const t = { ...STRINGS, ...o.strings };
  if (o.title) t.title = o.title;

  // Every listener is registered with this signal, so destroy() removes them all at once.
  const life = new AbortController();
  const on = (target, type, fn) => target.addEventListener(type, fn, { signal: life.signal });

  let state = readState(key); // stays null (nothing stored) until the chat is first opened
  let isOpen = false;
  let unread = 0;
  let busy = false; // a request is in flight
  let offline = false;
  let attempt = 0; // consecutive failures, for the backoff
  let timer = 0; // pending retry
  let request = null; // AbortController of the request in flight
  let quick = null; // quick-reply buttons of the latest message
  const statuses = new Map(); // visitor message id -> {m, el}

  /* Build the UI. */
  const host = h('div', { id: 'certbot-widget' });
  // Hidden until the stylesheet loads (no unstyled flash); !important beats `* { all: unset }`.
  host.style.setProperty('display', 'none', 'important');
  if (o.position === 'left') host.setAttribute('data-position', 'left');
  for (const [opt, prop] of [['accentColor', '--certbot-accent'], ['textColor', '--certbot-accent-text']]) {
    if (o[opt] && CSS.supports('color', o[opt])) host.style.setProperty(prop, o[opt]);
  }
  const root = host.attachShadow({ mode: 'open' });
  const css = h('link', { rel: 'stylesheet', href: base + 'widget.css' });

  const launcher = iconButton(t.open, ICONS.chat, 'launcher');
  launcher.setAttribute('aria-expanded', 'false');
  launcher.setAttribute('aria-controls', 'cb-panel');
  const badge = h('span', { class: 'badge', 'aria-hidden': 'true', hidden: true });
  launcher.append(badge);

  const newChat = iconButton(t.newChat, ICONS.restart, 'hbtn');
  const closeBtn = iconButton(t.close, ICONS.close, 'hbtn');
  const banner = h('div', { class: 'banner', role: 'status' });
  const log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': t.log, tabindex: '0' });
  const typing = h(
    'div',
    { class: 'typing' },
    h('span', { class: 'dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')),
    h('span', { class: 'sr' }, t.typing),
  );
  const input = h('textarea', { id: 'cb-input', rows: '1', maxlength: '2000', placeholder: t.placeholder });
  const form = h(
    'form',
    { class: 'compose' },
    h('label', { for: 'cb-input', class: 'sr' }, t.inputLabel),
    input,
    iconButton(t.send, ICONS.send, 'send', 'submit'),
  );
  const panel = h(
    'section',
    { id: 'cb-panel', class: 'panel', role: 'dialog', 'aria-labelledby': 'cb-title', hidden: true },
    h(
      'div',
      { class: 'head' },
      h('div', { class: 'heading' }, h('h2', { id: 'cb-title' }, t.title), o.subtitle && h('p', {}, o.subtitle)),
      newChat,
      closeBtn,
    ),
    banner,
    log,
    form,
  );
  const frame = h('div', { class: 'cb' }, panel, launcher);
  root.append(css, frame);

  /* Wire it up. */
  on(css, 'load', () => {
    host.style.removeProperty('display');
    emit('ready');
  });
  on(launcher, 'click', () => (isOpen ? close() : open()));
  on(closeBtn, 'click', () => close());
  on(newChat, 'click', restart);
  on(frame, 'keydown', (e) => e.key === 'Escape' && !e.isComposing && close());
  on(form, 'submit', (e) => {
    e.preventDefault();
    submit();
  });
  on(input, 'keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });
  on(input, 'input', autosize);
  on(window, 'online', retryNow);
  if (window.visualViewport) {
    on(visualViewport, 'resize', fitViewport);
    on(visualViewport, 'scroll', fitViewport);
  }
  document.body.append(host);

  if (state) {
    state.msgs.forEach(render);
    paintStatuses();
    pump(); // messages queued before a reload go out now
  }
  // Opening at load never steals focus from the page.
  if ((state && state.open) || String(o.open) === 'true') open(false);

  /* Opening and closing. */

  function open(focus = true) {
    if (isOpen) return;
    isOpen = true;
    ensureState();
    state.open = true;
    writeState(key, state);
    panel.hidden = false;
    launcher.setAttribute('aria-expanded', 'true');
    unread = 0;
    paintBadge();
    fitViewport();
    scrollDown();
    if (focus) input.focus();
    emit('open');
  }

  function close() {
    if (!isOpen) return;
    const hadFocus = root.activeElement !== null;
    isOpen = false;
    state.open = false;
    writeState(key, state);
    panel.hidden = true;
    launcher.setAttribute('aria-expanded', 'false');
    if (hadFocus) launcher.focus();
    emit('close');
  }

  /** Start a conversation on first use: a greeting request, whose reply brings the id. */
  function ensureState() {
    if (state) return;
    state = { id: null, open: isOpen, msgs: [], queue: [] };
    send('/session_start');
  }

  function restart() {
    reset();
    input.focus();
  }

  /** The bot refused the conversation's id (e.g. one an older widget made up): start a
   * new conversation and resend the visitor's messages still queued. */
  function startAfresh() {
    const shown = new Map(state.msgs.map((m) => [m.id, m.text]));
    const pending = state.queue.filter((q) => shown.has(q.id)); // not ratings of old answers
    reset();
    for (const q of pending) send(q.message, shown.get(q.id));
  }

  function reset() {
    if (request) request.abort();
    clearTimeout(timer);
    timer = 0;
    busy = false;
    attempt = 0;
    setOffline(false);
    writeState(key, null);
    state = null;
    quick = null;
    statuses.clear();
    log.replaceChildren();
    ensureState();
  }

  function destroy() {
    if (request) request.abort();
    clearTimeout(timer);
    life.abort();
    state = null; // lets an in-flight pump() see it is stale
    host.remove();
  }

  /* Transcript. */

  function submit() {
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    autosize();
    send(text, text);
  }

  /** Queue a message for the bot; `shown` (if any) is displayed as the visitor's bubble. */
  function send(message, shown, metadata) {
    const item = { id: newId(), message, metadata };
    if (shown) {
      addMessage({ id: item.id, from: 'visitor', text: shown });
      emit('message', { from: 'visitor', text: shown });
    }
    state.queue.push(item);
    writeState(key, state);
    paintStatuses();
    pump();
  }

  function receive(raw) {
    if (!raw || typeof raw !== 'object') return;
    const m = { id: newId(), from: 'bot', text: typeof raw.text === 'string' ? raw.text : '' };
    const buttons = (Array.isArray(raw.buttons) ? raw.buttons : [])
      .filter((b) => b && b.title != null)
      .map((b) => ({ title: String(b.title), payload: String(b.payload ?? b.title) }));
    if (buttons.length) m.buttons = buttons;
    if (safeUrl(raw.image, ['https:'])) m.image = raw.image;
    if (raw.rateable === true) m.rate = true; // a curated answer: thumbs under it
    if (!m.text && !m.buttons && !m.image) return; // nothing displayable (e.g. a custom payload)
    addMessage(m);
    if (!isOpen) {
      unread++;
      paintBadge();
    }
    emit('message', { from: 'bot', text: m.text });
  }

  function addMessage(m) {
    state.msgs.push(m);
    render(m);
    writeState(key, state);
  }

  function render(m) {
    if (quick) quick.remove(); // only the newest message keeps its quick replies
    quick = null;
    log.insertBefore(m.from === 'bot' ? botRow(m) : visitorRow(m), typing.isConnected ? typing : null);
    scrollDown();
  }

  function visitorRow(m) {
    const el = h('p', { class: 'status' });
    statuses.set(m.id, { m, el });
    return h('div', { class: 'row me' }, h('p', { class: 'bubble' }, h('span', { class: 'sr' }, t.you + ' '), m.text), el);
  }

  function botRow(m) {
    const row = h('div', { class: 'row bot' });
    const image = safeUrl(m.image, ['https:']);
    if (m.text) row.append(h('div', { class: 'bubble' }, h('span', { class: 'sr' }, t.bot), ...markdown(m.text)));
    if (image) row.append(h('img', { class: 'img', src: image, alt: '', loading: 'lazy' }));
    if (m.text && m.rate) row.append(feedbackBar(m));
    if (m.buttons) row.append((quick = quickReplies(m.buttons)));
    return row;
  }

  function quickReplies(buttons) {
    return h(
      'div',
      { class: 'quick' },
      ...buttons.map((b) => {
        const el = h('button', { type: 'button' }, b.title);
        on(el, 'click', () => send(b.payload, b.title));
        return el;
      }),
    );
  }

  /** Helpful / Not helpful toggles; each click on the other choice sends a new rating. */
  function feedbackBar(m) {
    const bar = h('div', { class: 'fbar', role: 'group', 'aria-label': t.feedback });
    for (const [rating, label] of [['up', t.helpful], ['down', t.notHelpful]]) {
      const b = iconButton(label, ICONS.thumb, 'fb ' + rating);
      b.setAttribute('aria-pressed', String(m.fb === rating));
      on(b, 'click', () => {
        if (m.fb === rating) return;
        m.fb = rating;
        for (const other of bar.children) other.setAttribute('aria-pressed', String(other === b));
        send(`/feedback{"rating": "${rating}"}`, '', { feedback_for: m.text.slice(0, 300) });
      });
      bar.append(b);
    }
    return bar;
  }

  function showTyping(visible) {
    if (visible) log.append(typing);
    else typing.remove();
    scrollDown();
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  /* Sending: one request at a time, strictly in queue order. */

  async function pump() {
    if (busy || timer || !state || !state.queue.length) return;
    const s = state;
    const item = s.queue[0];
    busy = true;
    paintStatuses();
    showTyping(!item.message.startsWith('/feedback'));
    const res = await post(s.id, item);
    if (s !== state) return; // the conversation was reset or the widget destroyed meanwhile
    if (res.id) s.id = res.id;
    busy = false;
    showTyping(false);
    settle(item, res);
    writeState(key, state);
    paintStatuses();
    pump();
  }

  async function post(sender, item) {
    const ctl = (request = new AbortController());
    const timeout = setTimeout(() => ctl.abort(), REQUEST_TIMEOUT);
    try {
      // A string body goes out as text/plain: a CORS "simple request", so embedding the
      // widget on another site needs no preflight. The server parses it as JSON.
      const res = await fetch(base + 'webhook', {
        method: 'POST',
        // No sender yet: the bot starts a conversation and names it in X-Conversation-Id.
        body: JSON.stringify({ ...(sender && { sender }), message: item.message, metadata: item.metadata || {} }),
        credentials: 'omit',
        signal: ctl.signal,
      });
      const body = await res.json().catch(() => null);
      const id = res.headers.get('X-Conversation-Id');
      return { status: res.status, body, retryAfter: res.headers.get('Retry-After'), id };
    } catch {
      return { status: 0 }; // network error, timeout or abort
    } finally {
      clearTimeout(timeout);
    }
  }

  /** Apply a response to the queue head: done, retry later, or failed for good. */
  function settle(item, { status, body, retryAfter }) {
    if (status && status < 500) setOffline(false);
    if (status >= 200 && status < 300) {
      state.queue.shift();
      attempt = 0;
      if (Array.isArray(body)) body.forEach(receive);
    } else if (status === 429) {
      retryIn(retryAfterMs(retryAfter));
    } else if (status === 403 && body && body.code === 'conversation_not_issued') {
      startAfresh();
    } else if (status >= 400 && status < 500) {
      state.queue.shift();
      const m = state.msgs.find((x) => x.id === item.id);
      const error = body && typeof body.error === 'string' && body.error;
      if (m) m.err = (error || t.rejected).slice(0, 300);
    } else {
      setOffline(true);
      retryIn(backoffMs(attempt++));
    }
  }

  function retryIn(ms) {
    timer = setTimeout(() => {
      timer = 0;
      pump();
    }, ms);
  }

  function retryNow() {
    if (!timer) return;
    clearTimeout(timer);
    timer = 0;
    pump();
  }

  function setOffline(value) {
    if (offline === value) return;
    offline = value;
    banner.textContent = value ? t.offline : '';
    emit(value ? 'offline' : 'online');
  }

  /** Status line of every visitor message, derived from the queue. */
  function paintStatuses() {
    const queued = new Set(state.queue.map((q) => q.id));
    for (const { m, el } of statuses.values()) {
      const kind = m.err ? 'failed' : !queued.has(m.id) ? 'sent' : offline || timer ? 'waiting' : 'sending';
      if (el.dataset.kind === kind) continue; // unchanged: don't make the live log repeat it
      el.dataset.kind = kind;
      el.replaceChildren(kind === 'failed' ? t.failed.replace('{error}', m.err) : t[kind]);
      if (kind === 'waiting') {
        const retry = h('button', { type: 'button', class: 'retry' }, t.retry);
        on(retry, 'click', retryNow);
        el.append(' ', retry);
      }
    }
  }

  function paintBadge() {
    const label = (unread === 1 ? t.unreadOne : t.unreadMany).replace('{n}', unread);
    badge.hidden = !unread;
    badge.textContent = unread > 9 ? '9+' : unread;
    launcher.setAttribute('aria-label', unread ? `${t.open}, ${label}` : t.open);
  }

  function autosize() {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight, 120) + 'px';
  }

  /** Keep the full-screen (phone) panel within the visual viewport, above the keyboard. */
  function fitViewport() {
    const vv = window.visualViewport;
    if (!vv || !isOpen) return;
    host.style.setProperty('--certbot-vh', vv.height + 'px');
    host.style.setProperty('--certbot-vt', vv.offsetTop + 'px');
  }

  return { open, close, destroy };
}

/* ---------- Public API ---------- */

if (!window.CertBot) {
  let widget = null;
  const api = {
    /** Options: server, title, subtitle, accentColor, textColor, position, open, strings. */
    init(options = {}) {
      if (!widget) widget = createWidget({ ...(SCRIPT ? SCRIPT.dataset : {}), ...options });
    },
    open: () => widget && widget.open(),
    close: () => widget && widget.close(),
    destroy() {
      if (widget) widget.destroy();
      widget = null;
    },
  };
  window.CertBot = api;
  // Without a <script src> (e.g. bundled into a page's own code) the page calls init({server}).
  if (SCRIPT && SCRIPT.dataset.manual !== 'true') {
    if (document.body) api.init();
    else document.addEventListener('DOMContentLoaded', () => api.init(), { once: true });
  }
}
