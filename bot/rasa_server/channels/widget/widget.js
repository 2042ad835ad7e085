/*
 * The clinic's website chat widget. A clinic embeds it with one tag:
 *
 *   <script src="https://bot.clinic.example/webhooks/webchat/widget.js"
 *           data-region="SA" data-locale="ar" defer></script>
 *
 * data-server  where the bot runs (default: where this file came from)
 * data-region  ISO 3166 country of the clinic, for the emergency number (optional)
 * data-locale  the page's language, e.g. "ar" or "ur-PK" (default: the browser's)
 * data-timeout milliseconds to wait for an answer (default 20000)
 *
 * Plain JavaScript served by the bot: nothing to build. Every text, the bot's and the
 * person's, is inserted with textContent / createTextNode, never as HTML. The widget
 * lives in a shadow root, its host element reset with an inline `all: initial !important`,
 * so the clinic's own styles neither reach it nor are reached. Its styles are fetched
 * (with its strings, at the same time) and adopted as a constructed stylesheet, which a
 * clinic's Content-Security-Policy does not need to allow; its interface strings come
 * from the bot's gettext catalogs (strings.json).
 */
(function () {
  'use strict';

  if (window.clinicChatWidget) { return; } // one widget per page, even if the tag is pasted twice

  var script = document.currentScript || (function () {
    var tags = document.querySelectorAll('script[src*="widget.js"]');
    return tags[tags.length - 1];
  })();
  if (!script) { return; }

  var LANGS = ['en', 'ar', 'ur'];
  var FEEDBACK_KINDS = ['answer', 'safety', 'fallback', 'handoff'];
  var MAX_STORED_MESSAGES = 200;
  var MAX_LENGTH = 2000; // the channel's max_message_length (credentials.yml)
  var SVG = 'http://www.w3.org/2000/svg';
  var scriptUrl = new URL(script.getAttribute('src'), document.baseURI);
  var ASSETS = scriptUrl.href.replace(/[?#].*$/, '').replace(/[^/]*$/, '');
  var SERVER = (script.getAttribute('data-server') || scriptUrl.origin).replace(/\/+$/, '');
  var API = SERVER + '/webhooks/webchat/';
  var REGION = /^[A-Za-z]{2}$/.test(script.getAttribute('data-region') || '') ?
    script.getAttribute('data-region').toUpperCase() : null;
  var LOCALE = script.getAttribute('data-locale') || navigator.language || '';
  var TIMEOUT = parseInt(script.getAttribute('data-timeout'), 10) || 20000;
  // sessionStorage: the conversation survives a reload and is gone with the tab, which
  // suits health questions asked on a shared or family computer.
  var STORAGE_KEY = 'clinic-chat:' + SERVER;

  var strings = null;      // {en: {name, dir, strings}, ar: ..., ur: ...} from strings.json
  var state = null;        // {sender, key, lang, open, unread, messages: [...]}: kept across reloads
  var busy = false;        // one message in flight at a time
  var queued = null;       // {text, node}: typed while a reply was pending, sent once it arrives
  var ui = {};
  var uid = 0;

  window.clinicChatWidget = { version: 2, server: SERVER };

  // ---- small helpers --------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) { return; }
      if (name === 'text') { node.textContent = value; } else { node.setAttribute(name, value === true ? '' : value); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function icon(path, extraClass) {
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    svg.setAttribute('class', 'icon' + (extraClass ? ' ' + extraClass : ''));
    var p = document.createElementNS(SVG, 'path');
    p.setAttribute('d', path);
    svg.appendChild(p);
    return svg;
  }

  var ICONS = {
    chat: 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z',
    restart: 'M17.65 6.35A7.96 7.96 0 0 0 12 4a8 8 0 1 0 7.75 10h-2.08A6 6 0 1 1 12 6c1.66 0 3.14.69 4.22 1.78L13 11h7V4l-2.35 2.35z',
    close: 'M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z',
    thumb: 'M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z',
    warning: 'M1 21h22L12 2 1 21zm12-3h-2v-2h2v2zm0-4h-2v-4h2v4z',
    phone: 'M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2c.3-.3.7-.4 1-.2 1.1.4 2.3.6 3.6.6.6 0 1 .4 1 1V20c0 .6-.4 1-1 1A17 17 0 0 1 3 4c0-.6.4-1 1-1h3.5c.6 0 1 .4 1 1 0 1.3.2 2.5.6 3.6.1.3 0 .7-.2 1l-2.3 2.2z',
    calendar: 'M19 4h-1V2h-2v2H8V2H6v2H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2zm0 16H5V9h14v11zM7 11h5v5H7z'
  };

  function t(key, lang) {
    var table = strings[lang || state.lang] || strings.en;
    return table.strings[key] || strings.en.strings[key] || key;
  }

  function format(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, name) { return name in values ? values[name] : all; });
  }

  function number(value, lang) {
    try { return new Intl.NumberFormat(lang).format(value); } catch (e) { return String(value); }
  }

  function dirOf(lang) { return (strings[lang] || strings.en).dir; }

  function languageOf(locale) {
    var code = String(locale || '').toLowerCase().split(/[-_]/)[0];
    return LANGS.indexOf(code) >= 0 ? code : 'en';
  }

  // The language of what the person wrote, for their bubble's `lang` (fonts, screen readers):
  // its script, and for Latin letters the bot's reading of it (a reply in Urdu to Latin
  // letters means Roman Urdu: `ur-Latn`, set in a Latin face, not Nastaliq).
  var ARABIC_SCRIPT = /[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]/;
  var URDU_LETTERS = /[\u0679\u0688\u0691\u06BA\u06BE\u06C1-\u06C3\u06CC\u06D2\u06D3]/;
  function writtenIn(text, replyLang) {
    if (ARABIC_SCRIPT.test(text)) {
      return URDU_LETTERS.test(text) || replyLang === 'ur' ? 'ur' : 'ar';
    }
    if (/[A-Za-z]/.test(text)) { return replyLang === 'ur' ? 'ur-Latn' : 'en'; }
    return null;
  }

  function randomHex(n) {
    var bytes = new Uint8Array(n);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  function newSender() { return 'web-' + randomHex(12); }

  function fresh(lang) {
    return { sender: newSender(), key: null, lang: lang, open: false, unread: 0, unreadUrgent: false, messages: [] };
  }

  function load() {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || 'null');
      if (saved && /^[A-Za-z0-9_.:@-]{1,128}$/.test(saved.sender) && Array.isArray(saved.messages)) {
        saved.lang = LANGS.indexOf(saved.lang) >= 0 ? saved.lang : languageOf(LOCALE);
        saved.key = typeof saved.key === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(saved.key) ? saved.key : null;
        saved.unread = Math.max(0, parseInt(saved.unread, 10) || 0);
        saved.unreadUrgent = saved.unreadUrgent === true;
        return saved;
      }
    } catch (e) { /* storage disabled or damaged: start afresh */ }
    return fresh(languageOf(LOCALE));
  }

  function save() {
    try {
      state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
      window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch (e) { /* storage full or disabled: the conversation still works, it just won't survive a reload */ }
  }

  function post(path, body) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, TIMEOUT);
    // text/plain keeps this a "simple" request: the browser sends no CORS preflight;
    // the channel parses the body as JSON anyway.
    return fetch(API + path, {
      method: 'POST', mode: 'cors', credentials: 'omit', cache: 'no-store',
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify(body), signal: controller.signal
    }).then(function (resp) {
      return resp.json().catch(function () { return null; }).then(function (data) {
        // the conversation's key (first reply): sent back with every later message and feedback
        return { status: resp.status, data: data, key: resp.headers.get('X-Conversation-Key') };
      });
    }, function () {
      throw { reason: controller.signal.aborted ? 'timeout' : 'unreachable' };
    }).finally(function () { clearTimeout(timer); });
  }

  // ---- rendering ------------------------------------------------------------------------

  // Web addresses end at spaces, quotes and the invisible marks that keep them left-to-right
  // inside Arabic and Urdu text (U+2066-2069).
  var URL_PATTERN = /\bhttps?:\/\/[^\s<>"'\u2066-\u2069]+/g;
  // An emergency number in an urgent reply: 3 or 4 digits standing alone (999, 1122, ٩٩٧).
  var EMERGENCY_NUMBER = /(^|[^0-9\u0660-\u0669\u06F0-\u06F9+])([0-9\u0660-\u0669\u06F0-\u06F9]{3,4})(?![0-9\u0660-\u0669\u06F0-\u06F9])/g;

  function asciiDigits(text) {
    return text.replace(/[\u0660-\u0669]/g, function (d) { return String(d.charCodeAt(0) - 0x0660); })
      .replace(/[\u06F0-\u06F9]/g, function (d) { return String(d.charCodeAt(0) - 0x06F0); });
  }

  // Plain text, with emergency numbers as tap-to-call links when `call` is set.
  function appendPlain(parent, text, call) {
    if (!call) { parent.appendChild(document.createTextNode(text)); return; }
    var last = 0;
    var match;
    EMERGENCY_NUMBER.lastIndex = 0;
    while ((match = EMERGENCY_NUMBER.exec(text)) !== null) {
      var start = match.index + match[1].length;
      parent.appendChild(document.createTextNode(text.slice(last, start)));
      parent.appendChild(el('a', { href: 'tel:' + asciiDigits(match[2]), 'class': 'call', dir: 'ltr' },
        [document.createTextNode(match[2])]));
      last = start + match[2].length;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // Text with its web addresses as links; anything else, markup included, stays text.
  function appendText(parent, text, lang, call) {
    var last = 0;
    var match;
    URL_PATTERN.lastIndex = 0;
    while ((match = URL_PATTERN.exec(text)) !== null) {
      var raw = match[0].replace(/[.,;:!?\u060C\u061B\u061F\u06D4)\]]+$/, '');
      var url = null;
      try { url = new URL(raw); } catch (e) { url = null; }
      if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) { continue; }
      appendPlain(parent, text.slice(last, match.index), call);
      parent.appendChild(el('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer nofollow', dir: 'ltr' }, [
        document.createTextNode(raw), el('span', { 'class': 'sr', text: ' ' + t('new_tab', lang) })]));
      last = match.index + raw.length;
      URL_PATTERN.lastIndex = last;
    }
    appendPlain(parent, text.slice(last), call);
  }

  function renderUser(message) {
    var lang = message.lang || writtenIn(message.text, state.lang);
    var node = el('div', { 'class': 'msg user' + (message.unanswered ? ' unanswered' : ''), lang: lang }, [
      el('span', { 'class': 'sr', text: t('you') + ': ' }),
      // dir="auto": the person's own text runs in the direction of its first strong letter
      el('div', { 'class': 'bubble', dir: 'auto', text: message.text })
    ]);
    // the bubble, for later updates; not enumerable, so it is never written to sessionStorage
    Object.defineProperty(message, 'node', { value: node, writable: true, configurable: true, enumerable: false });
    return node;
  }

  // A button the bot sent: a topic to ask about (payload), or a link to open (url): the
  // clinic's phone (tel:), WhatsApp (wa.me) or booking page.
  function usableButton(b) {
    if (!b || typeof b.title !== 'string') { return false; }
    if (typeof b.url === 'string') { return /^(tel:|https?:\/\/)/i.test(b.url); }
    return typeof b.payload === 'string';
  }

  function renderLink(button, lang) {
    var phone = /^tel:/i.test(button.url);
    var kind = phone ? 'phone' : (/^https:\/\/wa\.me\//i.test(button.url) ? 'chat' : 'calendar');
    var attrs = { href: button.url, 'class': 'link', dir: 'auto' };
    if (!phone) { attrs.target = '_blank'; attrs.rel = 'noopener noreferrer'; }
    return el('a', attrs, [icon(ICONS[kind]), el('span', { text: button.title }),
      phone ? null : el('span', { 'class': 'sr', text: ' ' + t('new_tab', lang) })]);
  }

  function renderBot(message) {
    var lang = LANGS.indexOf(message.lang) >= 0 ? message.lang : state.lang;
    var dir = message.dir === 'rtl' || message.dir === 'ltr' ? message.dir : dirOf(lang);
    var urgent = message.kind === 'urgent';
    var bubble = el('div', { 'class': 'bubble' });
    appendText(bubble, message.text || '', lang, urgent);
    var node = el('div', {
      'class': 'msg bot kind-' + (message.kind || 'answer'), lang: lang, dir: dir,
      'data-answer-id': message.answer_id || null
    }, [el('span', { 'class': 'sr', text: t('assistant', lang) + ': ' })]);
    if (urgent) {
      // seen at a glance and heard first: a heading with a warning sign above the advice
      node.appendChild(el('h3', { 'class': 'urgent-heading' }, [icon(ICONS.warning),
        el('span', { text: t('urgent_heading', lang) })]));
    }
    node.appendChild(bubble);
    var buttons = (message.buttons || []).filter(usableButton);
    if (buttons.length) {
      var row = el('div', { 'class': 'buttons' });
      buttons.forEach(function (button) {
        if (typeof button.url === 'string') { row.appendChild(renderLink(button, lang)); return; }
        var b = el('button', { type: 'button', 'class': 'topic', text: button.title });
        b.addEventListener('click', function () { sendPayload(button.payload, button.title, lang); });
        row.appendChild(b);
      });
      node.appendChild(row);
    }
    if (message.contact_form) { node.appendChild(renderHandoff(message, lang)); }
    if (message.answer_id && FEEDBACK_KINDS.indexOf(message.kind) >= 0) {
      node.appendChild(renderFeedback(message, lang));
    }
    return node;
  }

  function renderFeedback(message, lang) {
    var status = el('span', { 'class': 'feedback-status', 'aria-live': 'polite' });
    var yes = el('button', { type: 'button', 'class': 'thumb yes', 'aria-label': t('helpful_yes', lang),
      title: t('helpful_yes', lang) }, [icon(ICONS.thumb)]);
    var no = el('button', { type: 'button', 'class': 'thumb no', 'aria-label': t('helpful_no', lang),
      title: t('helpful_no', lang) }, [icon(ICONS.thumb, 'down')]);
    function show(value) {
      yes.setAttribute('aria-pressed', String(value === true));
      no.setAttribute('aria-pressed', String(value === false));
      yes.disabled = no.disabled = value === true || value === false;
      status.textContent = value === true || value === false ? t('feedback_thanks', lang) : '';
    }
    function give(helpful) {
      yes.disabled = no.disabled = true;
      post('feedback', { sender: state.sender, conversation_key: state.key || undefined,
        answer_id: message.answer_id, helpful: helpful,
        version: message.version, lang: message.lang }).then(function (res) {
        if (res.status !== 200) { throw res; }
        message.feedback = helpful;
        save();
        show(helpful);
      }).catch(function () {
        show(null);
        status.textContent = t('feedback_failed', lang);
      });
    }
    yes.addEventListener('click', function () { give(true); });
    no.addEventListener('click', function () { give(false); });
    show(message.feedback);
    return el('div', { 'class': 'feedback' }, [el('span', { 'class': 'feedback-question', text: t('helpful', lang) }),
      yes, no, status]);
  }

  // ---- asking the clinic to get in touch -----------------------------------------------
  // Offered only under a handoff reply marked `contact_form` (the bot can deliver it to
  // staff). The details go to the bot once; only the outcome is kept in this tab.

  var HANDOFF_ERRORS = { invalid_name: 'handoff_need_name', contact_needed: 'handoff_need_contact',
    invalid_phone: 'handoff_bad_phone', invalid_email: 'handoff_bad_email', consent_needed: 'handoff_need_consent' };

  function renderHandoff(message, lang) {
    var box = el('div', { 'class': 'handoff' });
    if (message.handoff) {
      box.appendChild(el('p', { 'class': 'handoff-done', role: 'status',
        text: t(message.handoff === 'delivered' ? 'handoff_delivered' : 'handoff_queued', lang) }));
      return box;
    }
    var id = 'handoff-' + (++uid);
    var open = el('button', { type: 'button', 'class': 'handoff-open', 'aria-expanded': 'false',
      'aria-controls': id, text: t('handoff_open', lang) });
    function field(name, type, auto, extra) {
      var input = el('input', Object.assign({ id: id + '-' + name, name: name, type: type, autocomplete: auto,
        'class': 'field' }, extra || {}));
      return { input: input, row: el('div', { 'class': 'row' }, [
        el('label', { 'for': id + '-' + name, text: t(name, lang) }), input]) };
    }
    var name = field('name', 'text', 'name', { maxlength: '100', required: true, dir: 'auto' });
    var phone = field('phone', 'tel', 'tel', { maxlength: '32', inputmode: 'tel', dir: 'ltr',
      'aria-describedby': id + '-hint' });
    var email = field('email', 'email', 'email', { maxlength: '254', dir: 'ltr', 'aria-describedby': id + '-hint' });
    var consent = el('input', { type: 'checkbox', id: id + '-consent', name: 'consent' });
    var status = el('p', { 'class': 'handoff-status', role: 'status', 'aria-live': 'polite' });
    var submit = el('button', { type: 'submit', 'class': 'handoff-send', text: t('handoff_send', lang) });
    var form = el('form', { id: id, 'class': 'handoff-form', novalidate: true, hidden: true }, [
      el('p', { 'class': 'handoff-intro', text: t('handoff_intro', lang) }),
      name.row, phone.row, email.row,
      el('p', { id: id + '-hint', 'class': 'hint', text: t('handoff_contact_hint', lang) }),
      el('div', { 'class': 'consent' }, [consent, el('label', { 'for': id + '-consent', text: t('handoff_consent', lang) })]),
      status, submit]);
    open.addEventListener('click', function () {
      var show = form.hidden;
      form.hidden = !show;
      open.setAttribute('aria-expanded', String(show));
      if (show) { name.input.focus(); }
    });
    function problem(key, input) {
      [name.input, phone.input, email.input, consent].forEach(function (i) { i.removeAttribute('aria-invalid'); });
      status.className = 'handoff-status error';
      status.textContent = t(key, lang);
      if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
    }
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var values = { name: name.input.value.trim(), phone: phone.input.value.trim(), email: email.input.value.trim() };
      var digits = asciiDigits(values.phone).replace(/\D/g, '');
      if (!values.name) { return problem('handoff_need_name', name.input); }
      if (!values.phone && !values.email) { return problem('handoff_need_contact', phone.input); }
      if (values.phone && (digits.length < 6 || digits.length > 15)) { return problem('handoff_bad_phone', phone.input); }
      if (values.email && !/^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$/.test(values.email)) {
        return problem('handoff_bad_email', email.input);
      }
      if (!consent.checked) { return problem('handoff_need_consent', consent); }
      submit.disabled = true;
      status.className = 'handoff-status';
      status.textContent = '';
      post('handoff', { sender: state.sender, conversation_key: state.key || undefined, name: values.name,
        phone: values.phone || undefined, email: values.email || undefined, consent: true, lang: lang
      }).then(function (res) {
        if ((res.status === 200 || res.status === 202) && res.data && res.data.status) {
          message.handoff = res.data.status === 'delivered' ? 'delivered' : 'queued';
          save();
          var done = renderHandoff(message, lang);
          box.replaceWith(done);
          done.setAttribute('tabindex', '-1');
          done.focus();
          return;
        }
        var code = res.data && res.data.code;
        submit.disabled = false;
        problem(HANDOFF_ERRORS[code] || 'handoff_failed', {
          invalid_name: name.input, invalid_phone: phone.input, invalid_email: email.input,
          contact_needed: phone.input, consent_needed: consent }[code] || null);
      }, function () {
        submit.disabled = false;
        problem('handoff_failed', null);
      });
    });
    box.appendChild(open);
    box.appendChild(form);
    return box;
  }

  // ---- the log --------------------------------------------------------------------------

  function appendToLog(node) {
    ui.log.appendChild(node);
    return node;
  }

  function scrollToEnd() { ui.log.scrollTop = ui.log.scrollHeight; }

  // A new exchange is read from its start: the person's question at the top of the view,
  // the answer under it, however long the answer is.
  function scrollToStartOf(node) {
    if (!node || !node.isConnected) { scrollToEnd(); return; }
    var top = node.getBoundingClientRect().top - ui.log.getBoundingClientRect().top + ui.log.scrollTop;
    ui.log.scrollTop = Math.max(0, top - 8);
  }

  // After a reload, or on the clinic's next page: back to the last exchange, not the greeting.
  function scrollToLastExchange() {
    var nodes = ui.log.querySelectorAll('.msg.user');
    scrollToStartOf(nodes.length ? nodes[nodes.length - 1] : ui.log.lastElementChild);
  }

  function renderAll() {
    ui.log.textContent = '';
    state.messages.forEach(function (message) {
      ui.log.appendChild(message.from === 'user' ? renderUser(message) : renderBot(message));
    });
    var last = state.messages[state.messages.length - 1];
    if (last && last.from === 'user' && last.unanswered) { showError('not_answered', function () { answerAgain(last); }); }
  }

  // The panel's own words follow the conversation's language.
  function applyChrome() {
    var lang = state.lang;
    ui.root.setAttribute('lang', lang);
    ui.root.setAttribute('dir', dirOf(lang));
    updateLauncher();
    ui.title.textContent = t('title');
    ui.subtitle.textContent = t('subtitle');
    ui.close.setAttribute('aria-label', t('close'));
    ui.close.setAttribute('title', t('close'));
    ui.languages.setAttribute('aria-label', t('language'));
    LANGS.forEach(function (code) { ui.langButtons[code].setAttribute('aria-pressed', String(code === lang)); });
    ui.restartLabel.textContent = t('new_conversation');
    ui.confirmText.textContent = t('new_conversation_confirm');
    ui.confirmYes.textContent = t('confirm_new');
    ui.confirmNo.textContent = t('cancel');
    ui.log.setAttribute('aria-label', t('conversation'));
    ui.typingText.textContent = t('typing');
    ui.inputLabel.textContent = t('placeholder');
    ui.input.setAttribute('placeholder', t('placeholder'));
    ui.send.textContent = t('send');
    checkLength();
    if (ui.queuedLabel) { ui.queuedLabel.textContent = t('queued'); }
    if (ui.error) { ui.error.refresh(); }
  }

  // The launcher says when a reply came in while the panel was closed, urgent ones apart.
  function updateLauncher() {
    var unread = !state.open && state.unread > 0;
    var label = state.open ? t('close') : (unread ? t(state.unreadUrgent ? 'open_urgent' : 'open_unread') : t('open'));
    ui.launcher.setAttribute('aria-label', label);
    ui.launcher.setAttribute('title', label);
    ui.badge.hidden = !unread;
    ui.badge.textContent = unread ? number(Math.min(state.unread, 9), state.lang) + (state.unread > 9 ? '+' : '') : '';
    ui.badge.classList.toggle('urgent', unread && state.unreadUrgent);
  }

  function announceUrgent(message) {
    // a separate assertive region: heard at once, even with the panel closed
    var lang = LANGS.indexOf(message.lang) >= 0 ? message.lang : state.lang;
    ui.alert.setAttribute('lang', lang);
    ui.alert.textContent = '';
    setTimeout(function () { ui.alert.textContent = t('urgent_heading', lang) + '. ' + message.text; }, 50);
  }

  function setTyping(on) {
    ui.typing.hidden = !on;
    ui.root.setAttribute('aria-busy', String(on));
    if (on) { scrollToEnd(); }
  }

  function clearError() {
    if (ui.error) { ui.error.node.remove(); ui.error = null; }
  }

  // A failure stays visible, in the conversation's language, with a retry when retrying can help.
  function showError(key, retry) {
    clearError();
    var text = el('span', { 'class': 'error-text' });
    var node = el('div', { 'class': 'msg error', 'data-error': key }, [text]);
    var button = null;
    if (retry) {
      button = el('button', { type: 'button', 'class': 'retry' });
      button.addEventListener('click', function () { clearError(); retry(); });
      node.appendChild(button);
    }
    ui.error = {
      node: node,
      refresh: function () {
        node.setAttribute('lang', state.lang);
        node.setAttribute('dir', dirOf(state.lang));
        text.textContent = t(key);
        if (button) { button.textContent = t('retry'); }
      }
    };
    ui.error.refresh();
    appendToLog(node);
    scrollToEnd();
  }

  // ---- talking to the bot ---------------------------------------------------------------

  // request: {message, id, retry}: what the bot receives (`id` stays the same when the same
  // message is sent again, so the bot never stores it twice); shown: the person's bubble
  // (null for the greeting); typed: the text they typed, given back to the text box if it
  // cannot be delivered; lang: the language of a pressed button's title.
  function send(request, shown, typed, options) {
    options = options || {};
    if (busy) { return false; }
    busy = true;
    clearError();
    var userMessage = options.existing || (shown ? { from: 'user', text: shown, lang: options.lang || null } : null);
    var again = false; // sent again once, in a new conversation, if this one's key is refused
    var pending = userMessage && !options.existing ? appendToLog(renderUser(userMessage)) : null;
    var greeting = !shown && !options.existing;
    setTyping(true);
    var metadata = {};
    if (LOCALE) { metadata.locale = LOCALE; }
    if (REGION) { metadata.region = REGION; }
    function retryThis() {
      send({ message: request.message, id: request.id, retry: true }, shown, typed, options);
    }
    function fail(key, retryable) {
      if (pending) { pending.remove(); }
      if (typed && !ui.input.value) { ui.input.value = typed; resizeInput(); }
      giveBackQueued();
      if (greeting && key === 'unreachable') { key = 'unreachable_start'; } // nothing was sent: nothing to reassure
      if (greeting && key === 'timeout') { key = 'timeout_start'; }
      showError(key, retryable ? (options.onFailure ? function () { options.onFailure(request); } : retryThis) : null);
    }
    post('webhook', { sender: state.sender, conversation_key: state.key || undefined, message: request.message,
      message_id: request.id, retry: request.retry || undefined, metadata: metadata }).then(function (res) {
      if (res.key) { state.key = res.key; save(); }
      if (res.status === 200 && Array.isArray(res.data)) {
        if (userMessage && !options.existing) { state.messages.push(userMessage); }
        if (userMessage) { delete userMessage.unanswered; if (userMessage.node) { userMessage.node.classList.remove('unanswered'); } }
        var first = null;
        res.data.forEach(function (reply) {
          if (typeof reply !== 'object' || reply === null) { return; }
          var botMessage = {
            from: 'bot', text: String(reply.text || ''), lang: reply.lang, dir: reply.dir, kind: reply.kind,
            answer_id: reply.answer_id, version: reply.version, contact_form: reply.contact_form === true,
            buttons: Array.isArray(reply.buttons) ? reply.buttons.filter(usableButton) : []
          };
          state.messages.push(botMessage);
          if (LANGS.indexOf(reply.lang) >= 0) { state.lang = reply.lang; }
          var node = appendToLog(renderBot(botMessage));
          first = first || node;
          if (botMessage.kind === 'urgent') { announceUrgent(botMessage); }
          if (!state.open) {
            state.unread += 1;
            state.unreadUrgent = state.unreadUrgent || botMessage.kind === 'urgent';
          }
        });
        if (userMessage && pending) {
          // now the bot has read it: the bubble takes the language it was read in
          userMessage.lang = options.lang || writtenIn(userMessage.text, state.lang);
          if (userMessage.lang) { pending.setAttribute('lang', userMessage.lang); }
        }
        save();
        applyChrome();
        scrollToStartOf(userMessage && userMessage.node ? userMessage.node : first);
        sendQueued();
      } else if (res.status === 503 && res.data && res.data.stored === true && userMessage) {
        // the bot has the message; only its answer failed. It stays in the conversation,
        // and "Try again" asks for the answer to it, never a second copy.
        if (!options.existing) { state.messages.push(userMessage); }
        userMessage.unanswered = true;
        userMessage.id = request.id;
        userMessage.message = request.message;
        if (userMessage.node) { userMessage.node.classList.add('unanswered'); }
        save();
        giveBackQueued();
        showError('not_answered', function () { answerAgain(userMessage); });
      } else if (res.status === 400 && res.data && res.data.code === 'message_too_long') {
        fail('too_long', false);
      } else if (res.status === 400 && res.data && res.data.code === 'empty_message') {
        fail('empty', false);
      } else if (res.status === 429) {
        fail('slow_down', true); // rate limited: nothing was stored; the person may send it again
      } else if (res.status === 403 && res.data && res.data.code === 'invalid_conversation_key' && !options.rekeyed) {
        // the bot no longer recognises this conversation (its key changed): go on in a new one
        state.sender = newSender();
        state.key = null;
        save();
        if (pending) { pending.remove(); }
        again = true;
      } else {
        fail('unreachable', true); // 503 (the assistant could not answer), 403, 5xx...
      }
    }, function (err) {
      fail(err && err.reason === 'timeout' ? 'timeout' : 'unreachable', true);
    }).finally(function () {
      busy = false;
      setTyping(false);
      if (again) {
        send({ message: request.message, id: randomHex(16) }, shown, typed, Object.assign({}, options, { rekeyed: true }));
      }
    });
    return true;
  }

  // "Try again" for a message the bot has but could not answer: the same id, no new bubble.
  function answerAgain(message) {
    send({ message: message.message || message.text, id: message.id, retry: true }, message.text, null,
      { existing: message });
  }

  function sendTyped() {
    var text = ui.input.value.trim();
    if (!text) { return; }
    if (text.length > MAX_LENGTH) { checkLength(); ui.input.focus(); return; }
    if (busy) { queue(text); return; }
    ui.input.value = '';
    resizeInput();
    sendText(text, randomHex(16), false);
  }

  function sendText(text, id, retry) {
    send({ message: text, id: id, retry: retry }, text, text, {
      onFailure: function (failed) {
        // retry what is in the text box now: the text came back there, perhaps edited; the same
        // text keeps its id, so a message the bot did get is not stored twice
        var now = ui.input.value.trim() || text;
        ui.input.value = '';
        resizeInput();
        if (now === text) { sendText(text, failed.id, true); } else { sendText(now, randomHex(16), false); }
      }
    });
  }

  // A message typed while the previous one waits for its answer: shown at once, sent after.
  function queue(text) {
    if (queued) { setNote('wait_for_answer'); return; }
    ui.input.value = '';
    resizeInput();
    var node = renderUser({ text: text });
    node.classList.add('queued');
    ui.queuedLabel = el('span', { 'class': 'queued-label', text: t('queued') });
    node.appendChild(ui.queuedLabel);
    queued = { text: text, node: appendToLog(node) };
    scrollToEnd();
  }

  function sendQueued() {
    if (!queued) { return; }
    var next = queued;
    queued = null;
    ui.queuedLabel = null;
    setNote(null);
    next.node.remove();
    setTimeout(function () { sendText(next.text, randomHex(16), false); }, 0);
  }

  // The previous message failed: the queued one is not sent behind its back; its text goes
  // back to the text box with the failed one's.
  function giveBackQueued() {
    if (!queued) { return; }
    var text = queued.text;
    queued.node.remove();
    queued = null;
    ui.queuedLabel = null;
    setNote(null);
    ui.input.value = ui.input.value ? ui.input.value + '\n' + text : text;
    resizeInput();
  }

  function setNote(key) {
    ui.note.textContent = key ? t(key) : '';
    ui.note.hidden = !key;
  }

  function sendPayload(payload, title, lang) {
    if (busy) { return; }
    send({ message: payload, id: randomHex(16) }, title, null, { lang: lang });
  }

  // The greeting is asked for as one of the bot's own topic buttons: an exact payload skips
  // understanding (bot/core/payloads.py), where "/greet" would now be read as the word "greet".
  function greet() {
    send({ message: '/ask_topic{"topic":"chitchat.greet"}', id: randomHex(16) }, null, null);
  }

  function switchLanguage(code) {
    if (busy) { return; }
    state.lang = code;
    save();
    applyChrome();
    // the bot's switch_language intent reads the `language` entity of this payload
    send({ message: '/switch_language{"language":"' + code + '"}', id: randomHex(16) }, strings[code].name, null,
      { lang: code });
  }

  // "New conversation" erases what is shown: asked first, in the panel itself.
  function askStartOver() {
    if (busy) { return; }
    ui.confirm.hidden = false;
    ui.restart.setAttribute('aria-expanded', 'true');
    ui.confirmNo.focus();
  }

  function closeConfirm(focusRestart) {
    ui.confirm.hidden = true;
    ui.restart.setAttribute('aria-expanded', 'false');
    if (focusRestart) { ui.restart.focus(); }
  }

  function startOver() {
    closeConfirm(false);
    if (busy) { return; }
    clearError();
    if (queued) { queued.node.remove(); queued = null; }
    state = fresh(state.lang);
    state.open = true;
    save();
    renderAll();
    applyChrome();
    greet();
    ui.input.focus();
  }

  function setOpen(open, focus) {
    state.open = open;
    ui.panel.hidden = !open;
    ui.root.classList.toggle('open', open);
    ui.launcher.setAttribute('aria-expanded', String(open));
    if (open) { state.unread = 0; state.unreadUrgent = false; }
    save();
    applyChrome();
    if (open) {
      scrollToLastExchange();
      if (focus) { ui.input.focus(); }
      if (!state.messages.length && !busy && !ui.error) { greet(); }
    } else if (focus) {
      ui.launcher.focus();
    }
  }

  function resizeInput() {
    ui.input.style.height = 'auto';
    ui.input.style.height = Math.min(ui.input.scrollHeight, 120) + 'px';
    checkLength();
  }

  // Over the limit, nothing is cut: the text stays whole and the person is told by how much.
  function checkLength() {
    if (!ui.limit) { return; }
    var length = ui.input.value.trim().length;
    var over = length > MAX_LENGTH;
    ui.limit.hidden = !over;
    ui.limit.textContent = over ? format(t('too_long_count'), { count: number(length, state.lang),
      limit: number(MAX_LENGTH, state.lang) }) : '';
    if (over) { ui.input.setAttribute('aria-invalid', 'true'); } else { ui.input.removeAttribute('aria-invalid'); }
    ui.send.setAttribute('aria-disabled', String(over));
    if (!over && ui.note && !ui.note.hidden && !queued) { setNote(null); }
  }

  // ---- building the widget --------------------------------------------------------------

  function build(css) {
    var host = el('div', { 'class': 'clinic-chat-widget', 'data-server': SERVER });
    // The clinic's CSS (`div { text-transform: uppercase }`, a transform on every div...) must
    // not reach the widget: an inline !important reset beats any page rule on the host, and
    // nothing is inherited from the page through it.
    host.style.setProperty('all', 'initial', 'important');
    var shadow = host.attachShadow({ mode: 'open' });
    var root = el('div', { 'class': 'widget' });
    if (css !== null && 'adoptedStyleSheets' in shadow && typeof CSSStyleSheet.prototype.replaceSync === 'function') {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      shadow.adoptedStyleSheets = [sheet];
    } else {
      // older browsers: a stylesheet link (needs the page's style-src to allow the bot)
      var stylesheet = el('link', { rel: 'stylesheet', href: ASSETS + 'widget.css' });
      root.hidden = true; // shown once styled, so the page never flashes an unstyled panel
      stylesheet.addEventListener('load', function () { root.hidden = false; });
      stylesheet.addEventListener('error', function () { root.hidden = false; });
      shadow.appendChild(stylesheet);
    }
    shadow.appendChild(root);

    ui.root = root;
    ui.badge = el('span', { 'class': 'badge', 'aria-hidden': 'true', hidden: true });
    ui.launcher = el('button', { type: 'button', 'class': 'launcher', 'aria-controls': 'panel', 'aria-expanded': 'false' },
      [icon(ICONS.chat), ui.badge]);
    ui.title = el('h2', { id: 'title', 'class': 'title' });
    ui.subtitle = el('p', { 'class': 'subtitle' });
    ui.close = el('button', { type: 'button', 'class': 'close' }, [icon(ICONS.close)]);
    ui.languages = el('div', { role: 'group', 'class': 'languages' });
    ui.langButtons = {};
    LANGS.forEach(function (code) {
      var b = el('button', { type: 'button', 'class': 'lang', lang: code, dir: strings[code].dir,
        'data-lang': code, text: strings[code].name });
      b.addEventListener('click', function () { if (code !== state.lang) { switchLanguage(code); } });
      ui.langButtons[code] = b;
      ui.languages.appendChild(b);
    });
    ui.restartLabel = el('span', { 'class': 'label' });
    ui.restart = el('button', { type: 'button', 'class': 'restart', 'aria-controls': 'confirm', 'aria-expanded': 'false' },
      [icon(ICONS.restart), ui.restartLabel]);
    ui.confirmText = el('p', { id: 'confirm-text', 'class': 'confirm-text' });
    ui.confirmYes = el('button', { type: 'button', 'class': 'confirm-yes' });
    ui.confirmNo = el('button', { type: 'button', 'class': 'confirm-no' });
    ui.confirm = el('div', { id: 'confirm', 'class': 'confirm', role: 'group', 'aria-labelledby': 'confirm-text', hidden: true },
      [ui.confirmText, el('div', { 'class': 'confirm-buttons' }, [ui.confirmYes, ui.confirmNo])]);
    ui.log = el('div', { 'class': 'log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', tabindex: '0' });
    ui.typingText = el('span', { 'class': 'sr' });
    ui.typing = el('div', { 'class': 'typing', role: 'status', hidden: true }, [ui.typingText,
      el('span', { 'class': 'dots', 'aria-hidden': 'true' }, [el('span'), el('span'), el('span')])]);
    ui.inputLabel = el('label', { 'for': 'input', 'class': 'sr' });
    ui.input = el('textarea', { id: 'input', 'class': 'input', rows: '1', dir: 'auto', autocomplete: 'off',
      'aria-describedby': 'limit note' });
    ui.send = el('button', { type: 'submit', 'class': 'send' });
    ui.limit = el('p', { id: 'limit', 'class': 'limit', role: 'status', hidden: true });
    ui.note = el('p', { id: 'note', 'class': 'note', role: 'status', hidden: true });
    ui.form = el('form', { 'class': 'composer' }, [ui.limit, ui.note,
      el('div', { 'class': 'composer-row' }, [ui.inputLabel, ui.input, ui.send])]);
    ui.panel = el('section', { id: 'panel', 'class': 'panel', role: 'dialog', 'aria-labelledby': 'title', hidden: true }, [
      el('header', { 'class': 'header' }, [el('div', { 'class': 'titles' }, [ui.title, ui.subtitle]), ui.close]),
      el('div', { 'class': 'toolbar' }, [ui.languages, ui.restart]),
      ui.confirm, ui.log, ui.typing, ui.form
    ]);
    ui.alert = el('div', { 'class': 'sr announcer', role: 'alert', 'aria-live': 'assertive' });
    root.appendChild(ui.panel);
    root.appendChild(ui.launcher);
    root.appendChild(ui.alert);

    ui.launcher.addEventListener('click', function () { setOpen(!state.open, true); });
    ui.close.addEventListener('click', function () { setOpen(false, true); });
    ui.restart.addEventListener('click', function () { if (ui.confirm.hidden) { askStartOver(); } else { closeConfirm(true); } });
    ui.confirmYes.addEventListener('click', startOver);
    ui.confirmNo.addEventListener('click', function () { closeConfirm(true); });
    ui.form.addEventListener('submit', function (event) { event.preventDefault(); sendTyped(); });
    ui.input.addEventListener('input', function () { resizeInput(); });
    ui.input.addEventListener('keydown', function (event) {
      // Enter sends; Shift+Enter is a new line; Enter that ends an input-method composition is not a send
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        sendTyped();
      }
    });
    root.addEventListener('keydown', function (event) {
      if (event.key !== 'Escape') { return; }
      if (!ui.confirm.hidden) { event.stopPropagation(); closeConfirm(true); return; }
      if (state.open) { event.stopPropagation(); setOpen(false, true); }
    });

    document.body.appendChild(host);
    renderAll();
    applyChrome();
    if (state.open) { setOpen(true, false); }
  }

  // The strings and the styles are fetched at the same time, as soon as this file runs.
  function fetchText(name) {
    return fetch(ASSETS + name, { mode: 'cors', credentials: 'omit' }).then(function (resp) {
      if (!resp.ok) { throw new Error(name + ': HTTP ' + resp.status); }
      return resp.text();
    });
  }

  function start(attempt) {
    var css = fetchText('widget.css').catch(function () { return null; });
    Promise.all([fetchText('strings.json'), css]).then(function (loaded) {
      strings = JSON.parse(loaded[0]).languages;
      state = load();
      var begin = function () { build(loaded[1]); };
      if (document.body) { begin(); } else { document.addEventListener('DOMContentLoaded', begin); }
    }).catch(function (err) {
      if (attempt < 3) {
        setTimeout(function () { start(attempt + 1); }, 2000 * (attempt + 1));
      } else if (window.console) {
        window.console.warn('clinic chat widget: could not load ' + ASSETS + 'strings.json (' + err +
          '); the bot is down, or this page\'s origin is not in the channel\'s cors_origins');
      }
    });
  }

  start(0);
})();
