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
 * lives in a shadow root so the clinic's own styles neither break it nor are broken.
 * Its interface strings come from the bot's gettext catalogs (strings.json).
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
  var state = null;        // {sender, lang, open, messages: [...]}: what is kept across reloads
  var busy = false;        // one message in flight at a time
  var ui = {};

  window.clinicChatWidget = { version: 1, server: SERVER };

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
    thumb: 'M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z'
  };

  function t(key, lang) {
    var table = strings[lang || state.lang] || strings.en;
    return table.strings[key] || strings.en.strings[key] || key;
  }

  function dirOf(lang) { return (strings[lang] || strings.en).dir; }

  function languageOf(locale) {
    var code = String(locale || '').toLowerCase().split(/[-_]/)[0];
    return LANGS.indexOf(code) >= 0 ? code : 'en';
  }

  function newSender() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return 'web-' + Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  function load() {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || 'null');
      if (saved && /^[A-Za-z0-9_.:@-]{1,128}$/.test(saved.sender) && Array.isArray(saved.messages)) {
        saved.lang = LANGS.indexOf(saved.lang) >= 0 ? saved.lang : languageOf(LOCALE);
        saved.key = typeof saved.key === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(saved.key) ? saved.key : null;
        return saved;
      }
    } catch (e) { /* storage disabled or damaged: start afresh */ }
    return { sender: newSender(), key: null, lang: languageOf(LOCALE), open: false, messages: [] };
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
    // text/plain keeps this a "simple" request: the browser sends no CORS preflight
    // (Rasa answers every OPTIONS itself); the channel parses the body as JSON anyway.
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

  var URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/g;

  // Text with its web addresses as links; anything else, markup included, stays text.
  function appendText(parent, text, lang) {
    var last = 0;
    var match;
    URL_PATTERN.lastIndex = 0;
    while ((match = URL_PATTERN.exec(text)) !== null) {
      var raw = match[0].replace(/[.,;:!?\u060C\u061B\u061F\u06D4)\]]+$/, '');
      var url = null;
      try { url = new URL(raw); } catch (e) { url = null; }
      if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) { continue; }
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      parent.appendChild(el('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer nofollow', dir: 'ltr' }, [
        document.createTextNode(raw), el('span', { 'class': 'sr', text: ' ' + t('new_tab', lang) })]));
      last = match.index + raw.length;
      URL_PATTERN.lastIndex = last;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function renderUser(message) {
    return el('div', { 'class': 'msg user' }, [
      el('span', { 'class': 'sr', text: t('you') + ': ' }),
      // dir="auto": the person's own text runs in the direction of its first strong letter
      el('div', { 'class': 'bubble', dir: 'auto', text: message.text })
    ]);
  }

  function renderBot(message) {
    var lang = LANGS.indexOf(message.lang) >= 0 ? message.lang : state.lang;
    var dir = message.dir === 'rtl' || message.dir === 'ltr' ? message.dir : dirOf(lang);
    var bubble = el('div', { 'class': 'bubble' });
    appendText(bubble, message.text || '', lang);
    var node = el('div', {
      'class': 'msg bot kind-' + (message.kind || 'answer'), lang: lang, dir: dir,
      'data-answer-id': message.answer_id || null
    }, [el('span', { 'class': 'sr', text: t('assistant', lang) + ': ' }), bubble]);
    if (message.buttons && message.buttons.length) {
      var row = el('div', { 'class': 'buttons' });
      message.buttons.forEach(function (button) {
        var b = el('button', { type: 'button', 'class': 'topic', text: button.title });
        b.addEventListener('click', function () { sendPayload(button.payload, button.title); });
        row.appendChild(b);
      });
      node.appendChild(row);
    }
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

  function appendToLog(node) {
    ui.log.appendChild(node);
    ui.log.scrollTop = ui.log.scrollHeight;
    return node;
  }

  function renderAll() {
    ui.log.textContent = '';
    state.messages.forEach(function (message) {
      ui.log.appendChild(message.from === 'user' ? renderUser(message) : renderBot(message));
    });
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  // The panel's own words follow the conversation's language.
  function applyChrome() {
    var lang = state.lang;
    ui.root.setAttribute('lang', lang);
    ui.root.setAttribute('dir', dirOf(lang));
    ui.launcher.setAttribute('aria-label', t(state.open ? 'close' : 'open'));
    ui.launcher.setAttribute('title', t(state.open ? 'close' : 'open'));
    ui.title.textContent = t('title');
    ui.subtitle.textContent = t('subtitle');
    ui.close.setAttribute('aria-label', t('close'));
    ui.close.setAttribute('title', t('close'));
    ui.languages.setAttribute('aria-label', t('language'));
    LANGS.forEach(function (code) { ui.langButtons[code].setAttribute('aria-pressed', String(code === lang)); });
    ui.restartLabel.textContent = t('new_conversation');
    ui.restart.setAttribute('title', t('new_conversation'));
    ui.log.setAttribute('aria-label', t('conversation'));
    ui.typingText.textContent = t('typing');
    ui.inputLabel.textContent = t('placeholder');
    ui.input.setAttribute('placeholder', t('placeholder'));
    ui.send.textContent = t('send');
    if (ui.error) { ui.error.refresh(); }
  }

  function setTyping(on) {
    ui.typing.hidden = !on;
    ui.root.setAttribute('aria-busy', String(on));
    if (on) { ui.log.scrollTop = ui.log.scrollHeight; }
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
  }

  // ---- talking to the bot ---------------------------------------------------------------

  // message: what the bot receives; shown: the person's bubble (null for the greeting);
  // typed: the text they typed, given back to the text box if it cannot be delivered.
  function send(message, shown, typed, onFailure, rekeyed) {
    if (busy) { return false; }
    busy = true;
    clearError();
    var userMessage = shown ? { from: 'user', text: shown } : null;
    var again = false; // sent again once, in a new conversation, if this one's key is refused
    var pending = userMessage ? appendToLog(renderUser(userMessage)) : null;
    setTyping(true);
    var metadata = {};
    if (LOCALE) { metadata.locale = LOCALE; }
    if (REGION) { metadata.region = REGION; }
    function fail(key, retryable) {
      if (pending) { pending.remove(); }
      if (typed && !ui.input.value) { ui.input.value = typed; resizeInput(); }
      showError(key, retryable ? (onFailure || function () { send(message, shown, typed); }) : null);
    }
    post('webhook', { sender: state.sender, conversation_key: state.key || undefined, message: message,
      metadata: metadata }).then(function (res) {
      if (res.key) { state.key = res.key; save(); }
      if (res.status === 200 && Array.isArray(res.data)) {
        if (userMessage) { state.messages.push(userMessage); }
        res.data.forEach(function (reply) {
          if (typeof reply !== 'object' || reply === null) { return; }
          var botMessage = {
            from: 'bot', text: String(reply.text || ''), lang: reply.lang, dir: reply.dir, kind: reply.kind,
            answer_id: reply.answer_id, version: reply.version,
            buttons: Array.isArray(reply.buttons) ? reply.buttons.filter(function (b) {
              return b && typeof b.title === 'string' && typeof b.payload === 'string';
            }) : []
          };
          state.messages.push(botMessage);
          if (LANGS.indexOf(reply.lang) >= 0) { state.lang = reply.lang; }
          appendToLog(renderBot(botMessage));
        });
        save();
        applyChrome();
      } else if (res.status === 400 && res.data && res.data.code === 'message_too_long') {
        fail('too_long', false);
      } else if (res.status === 400 && res.data && res.data.code === 'empty_message') {
        fail('empty', false);
      } else if (res.status === 429) {
        fail('slow_down', true); // rate limited: nothing was stored; the person may send it again
      } else if (res.status === 403 && res.data && res.data.code === 'invalid_conversation_key' && !rekeyed) {
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
      if (again) { send(message, shown, typed, onFailure, true); }
    });
    return true;
  }

  function sendTyped() {
    var text = ui.input.value.trim();
    if (!text || busy) { return; }
    ui.input.value = '';
    resizeInput();
    send(text, text, text, function () {
      // retry what is in the text box now: the text came back there, perhaps edited
      var again = ui.input.value.trim() || text;
      ui.input.value = '';
      resizeInput();
      send(again, again, again);
    });
  }

  function sendPayload(payload, title) {
    send(payload, title, null);
  }

  function greet() {
    send('/greet', null, null);
  }

  function switchLanguage(code) {
    if (busy) { return; }
    state.lang = code;
    save();
    applyChrome();
    // the bot's switch_language intent reads the `language` entity of this payload
    send('/switch_language{"language":"' + code + '"}', strings[code].name, null);
  }

  function startOver() {
    if (busy) { return; }
    clearError();
    state = { sender: newSender(), key: null, lang: state.lang, open: true, messages: [] };
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
    save();
    applyChrome();
    if (open) {
      ui.log.scrollTop = ui.log.scrollHeight;
      if (focus) { ui.input.focus(); }
      if (!state.messages.length && !busy && !ui.error) { greet(); }
    } else if (focus) {
      ui.launcher.focus();
    }
  }

  function resizeInput() {
    ui.input.style.height = 'auto';
    ui.input.style.height = Math.min(ui.input.scrollHeight, 120) + 'px';
  }

  // ---- building the widget --------------------------------------------------------------

  function build() {
    var host = el('div', { 'class': 'clinic-chat-widget', 'data-server': SERVER });
    var shadow = host.attachShadow({ mode: 'open' });
    var stylesheet = el('link', { rel: 'stylesheet', href: ASSETS + 'widget.css' });
    var root = el('div', { 'class': 'widget', hidden: true });
    // shown once styled, so the page never flashes an unstyled panel
    stylesheet.addEventListener('load', function () { root.hidden = false; });
    stylesheet.addEventListener('error', function () { root.hidden = false; });
    shadow.appendChild(stylesheet);
    shadow.appendChild(root);

    ui.root = root;
    ui.launcher = el('button', { type: 'button', 'class': 'launcher', 'aria-controls': 'panel', 'aria-expanded': 'false' },
      [icon(ICONS.chat)]);
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
    ui.restart = el('button', { type: 'button', 'class': 'restart' }, [icon(ICONS.restart), ui.restartLabel]);
    ui.log = el('div', { 'class': 'log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', tabindex: '0' });
    ui.typingText = el('span', { 'class': 'sr' });
    ui.typing = el('div', { 'class': 'typing', role: 'status', hidden: true }, [ui.typingText,
      el('span', { 'class': 'dots', 'aria-hidden': 'true' }, [el('span'), el('span'), el('span')])]);
    ui.inputLabel = el('label', { 'for': 'input', 'class': 'sr' });
    ui.input = el('textarea', { id: 'input', 'class': 'input', rows: '1', dir: 'auto', maxlength: '2000',
      autocomplete: 'off' });
    ui.send = el('button', { type: 'submit', 'class': 'send' });
    ui.form = el('form', { 'class': 'composer' }, [ui.inputLabel, ui.input, ui.send]);
    ui.panel = el('section', { id: 'panel', 'class': 'panel', role: 'dialog', 'aria-labelledby': 'title', hidden: true }, [
      el('header', { 'class': 'header' }, [el('div', { 'class': 'titles' }, [ui.title, ui.subtitle]), ui.close]),
      el('div', { 'class': 'toolbar' }, [ui.languages, ui.restart]),
      ui.log, ui.typing, ui.form
    ]);
    root.appendChild(ui.panel);
    root.appendChild(ui.launcher);

    ui.launcher.addEventListener('click', function () { setOpen(!state.open, true); });
    ui.close.addEventListener('click', function () { setOpen(false, true); });
    ui.restart.addEventListener('click', startOver);
    ui.form.addEventListener('submit', function (event) { event.preventDefault(); sendTyped(); });
    ui.input.addEventListener('input', resizeInput);
    ui.input.addEventListener('keydown', function (event) {
      // Enter sends; Shift+Enter is a new line; Enter that ends an input-method composition is not a send
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        sendTyped();
      }
    });
    root.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && state.open) { event.stopPropagation(); setOpen(false, true); }
    });

    document.body.appendChild(host);
    renderAll();
    applyChrome();
    if (state.open) { setOpen(true, false); }
  }

  function start(attempt) {
    fetch(ASSETS + 'strings.json', { mode: 'cors', credentials: 'omit' }).then(function (resp) {
      if (!resp.ok) { throw new Error('HTTP ' + resp.status); }
      return resp.json();
    }).then(function (data) {
      strings = data.languages;
      state = load();
      build();
    }).catch(function (err) {
      if (attempt < 3) {
        setTimeout(function () { start(attempt + 1); }, 2000 * (attempt + 1));
      } else if (window.console) {
        window.console.warn('clinic chat widget: could not load ' + ASSETS + 'strings.json (' + err +
          '); the bot is down, or this page\'s origin is not in the channel\'s cors_origins');
      }
    });
  }

  if (document.body) { start(0); } else { document.addEventListener('DOMContentLoaded', function () { start(0); }); }
})();
