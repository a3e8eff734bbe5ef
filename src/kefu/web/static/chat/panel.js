/* Kefu chat panel: the UI the loader (widget.js) mounts in its shadow root on the first
 * click. Visitor → problem type → chat; messages over conn.js's socket. Every text that
 * came from the server or the visitor is set with textContent, never parsed as HTML.
 */
(function () {
  "use strict";
  var ns = window.__kefuChat;
  var t = ns.t;
  var ACCEPT = ["image/png", "image/jpeg", "application/pdf"];
  var MAX_TEXT = 4000;
  var TYPING_SHOWN_MS = 5000;
  var ERROR_SHOWN_MS = 12000;
  var API = "/chat/api/v1";

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  /* A label that follows the language switch: data-t names its string. */
  function tr(tag, cls, key) {
    var node = el(tag, cls);
    node.setAttribute("data-t", key);
    return node;
  }

  function button(cls, key) {
    var node = tr("button", cls, key);
    node.type = "button";
    return node;
  }

  function Panel(cfg) {
    this.cfg = cfg;
    this.lang = cfg.lang();
    this.token = cfg.store.get("visitor");
    this.site = null;
    this.chat = null;
    this.conn = null;
    this.started = false;
    this.typingTimer = null;
    this.errorTimer = null;
    this.build();
    ns.current = this; // a handle for the browser tests and for debugging
  }

  var P = Panel.prototype;

  P.t = function (key, values) { return t(this.lang, key, values); };

  P.build = function () {
    var self = this;
    var panel = this.panel = el("section", "kefu-panel");
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-labelledby", "kefu-title");
    panel.setAttribute("lang", this.lang);

    var head = el("header", "kefu-head");
    var titles = el("div", "kefu-titles");
    var title = tr("h2", "kefu-title", "title");
    title.id = "kefu-title";
    this.siteName = el("div", "kefu-site");
    titles.appendChild(title);
    titles.appendChild(this.siteName);
    this.langButton = button("kefu-lang", "switchLang");
    this.langButton.setAttribute("data-t-label", "switchLangLabel");
    this.langButton.addEventListener("click", function () { self.switchLang(); });
    var close = el("button", "kefu-x", "×");
    close.type = "button";
    close.setAttribute("data-t-label", "close");
    close.addEventListener("click", function () { self.cfg.onClose(); });
    head.appendChild(titles);
    head.appendChild(this.langButton);
    head.appendChild(close);
    panel.appendChild(head);

    this.connLine = el("div", "kefu-conn");
    this.connLine.hidden = true;
    this.statusLine = el("div", "kefu-status");
    this.statusLine.setAttribute("aria-live", "polite");
    this.notice = el("div", "kefu-notice");
    this.notice.hidden = true;
    this.errorBox = el("div", "kefu-error");
    this.errorBox.setAttribute("role", "alert");
    this.errorBox.hidden = true;
    [this.connLine, this.statusLine, this.notice, this.errorBox].forEach(function (n) {
      panel.appendChild(n);
    });

    var body = this.body = el("div", "kefu-body");
    this.chooser = this.buildChooser();
    this.list = el("ol", "kefu-messages");
    this.list.setAttribute("aria-live", "polite");
    this.typingLine = el("div", "kefu-typing");
    this.typingLine.hidden = true;
    this.after = el("div", "kefu-after"); // leave-a-message, rating, transcript forms
    [this.chooser, this.list, this.typingLine, this.after].forEach(function (n) {
      body.appendChild(n);
    });
    panel.appendChild(body);
    panel.appendChild(this.buildActions());
    panel.appendChild(this.buildComposer());
    panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { self.cfg.onClose(); }
    });
    this.cfg.root.appendChild(panel);
    this.i18n();
    this.mode("start");
  };

  P.buildChooser = function () {
    var self = this;
    var box = el("div", "kefu-chooser");
    box.appendChild(tr("p", "kefu-choose-title", "chooseType"));
    var grid = el("div", "kefu-types");
    ns.PROBLEM_TYPES.forEach(function (type) {
      var b = button("kefu-type", "type_" + type);
      b.setAttribute("data-type", type);
      b.addEventListener("click", function () { self.pick(type); });
      grid.appendChild(b);
    });
    box.appendChild(grid);
    return box;
  };

  P.buildActions = function () {
    var self = this;
    var row = this.actions = el("div", "kefu-actions");
    this.humanButton = button("kefu-human", "human");
    this.humanButton.addEventListener("click", function () { self.handoff(); });
    this.transcriptButton = button("kefu-transcript-open", "transcript");
    this.transcriptButton.addEventListener("click", function () { self.transcriptForm(); });
    this.endButton = button("kefu-end", "end");
    this.endButton.addEventListener("click", function () { self.endClicked(); });
    this.newButton = button("kefu-new", "newChat");
    this.newButton.addEventListener("click", function () { self.newChat(); });
    [this.humanButton, this.transcriptButton, this.endButton, this.newButton].forEach(
      function (b) { row.appendChild(b); });
    return row;
  };

  P.buildComposer = function () {
    var self = this;
    var form = this.composer = el("form", "kefu-composer");
    var attach = el("label", "kefu-attach");
    attach.setAttribute("data-t-label", "attach");
    attach.appendChild(clipIcon());
    var file = this.fileInput = el("input");
    file.type = "file";
    file.accept = ACCEPT.join(",") + ",.png,.jpg,.jpeg,.pdf";
    file.addEventListener("change", function () {
      if (file.files && file.files[0]) { self.upload(file.files[0]); }
      file.value = "";
    });
    attach.appendChild(file);
    var input = this.input = el("textarea", "kefu-input");
    input.rows = 1;
    input.maxLength = MAX_TEXT;
    input.setAttribute("data-t-placeholder", "placeholder");
    input.setAttribute("data-t-label", "placeholder");
    input.addEventListener("input", function () { if (self.conn) { self.conn.typing(); } });
    input.addEventListener("keydown", function (e) {
      // Enter sends, Shift+Enter breaks the line; never while an IME is composing (pinyin).
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        self.submit();
      }
    });
    var send = this.sendButton = tr("button", "kefu-send", "send");
    send.type = "submit";
    form.addEventListener("submit", function (e) { e.preventDefault(); self.submit(); });
    form.appendChild(attach);
    form.appendChild(input);
    form.appendChild(send);
    return form;
  };

  /* The panel's screens: "start" (identifying), "choose" (problem types), "chat". */
  P.mode = function (name) {
    this.chooser.hidden = name !== "choose";
    this.list.hidden = name !== "chat";
    this.actions.hidden = name !== "chat";
    this.composer.hidden = name !== "chat";
    if (name !== "chat") { this.after.textContent = ""; this.typingLine.hidden = true; }
  };

  P.i18n = function () {
    var self = this;
    this.panel.setAttribute("lang", this.lang);
    Array.prototype.forEach.call(this.panel.querySelectorAll("[data-t]"), function (n) {
      n.textContent = self.t(n.getAttribute("data-t"));
    });
    Array.prototype.forEach.call(this.panel.querySelectorAll("[data-t-label]"), function (n) {
      n.setAttribute("aria-label", self.t(n.getAttribute("data-t-label")));
      n.title = self.t(n.getAttribute("data-t-label"));
    });
    Array.prototype.forEach.call(this.panel.querySelectorAll("[data-t-placeholder]"), function (n) {
      n.placeholder = self.t(n.getAttribute("data-t-placeholder"));
    });
    this.renderStatus();
    this.renderNotice();
  };

  P.switchLang = function () {
    this.lang = this.lang === "zh-CN" ? "en" : "zh-CN";
    this.cfg.store.set("lang", this.lang);
    this.i18n();
    this.cfg.onLang();
  };

  P.api = function (method, path, body) {
    return ns.api(this.cfg.base, this.token, method, API + path, body);
  };

  P.show = function () {
    this.panel.hidden = false;
    if (!this.started) { this.start(); }
    var target = this.composer.hidden ? this.panel.querySelector(".kefu-type") : this.input;
    if (target && !target.disabled) { target.focus(); }
  };

  P.hide = function () { this.panel.hidden = true; };

  P.visible = function () { return !this.panel.hidden; };

  /* ---- identity and the chat's start ---- */

  P.start = function () {
    var self = this;
    this.started = true;
    this.statusLine.textContent = this.t("connecting");
    this.identify(true).then(function (data) {
      self.token = data.visitor;
      self.cfg.store.set("visitor", data.visitor);
      self.site = data.site || null;
      self.uid = data.verified ? data.uid : null;
      self.siteName.textContent = self.site && self.site.name ? self.site.name : "";
      if (self.uid) { self.siteName.textContent += " · " + self.t("verified", { uid: self.uid }); }
      self.renderNotice();
      if (data.chat && data.chat.open) { self.resume(data.chat); return; }
      var last = self.cfg.store.get("chat");
      if (last) { self.revisit(last); } else { self.choose(); }
    }, function (err) {
      self.started = false; // the next click tries again
      self.statusLine.textContent = "";
      self.fail(err, function () { self.start(); });
    });
  };

  P.identify = function (retry) {
    var self = this;
    var body = { site: this.cfg.site, lang: this.lang };
    if (this.token) { body.visitor = this.token; }
    if (this.cfg.uid) {
      body.uid = this.cfg.uid;
      body.expires = Number(this.cfg.expires);
      body.signature = this.cfg.signature;
    }
    return ns.api(this.cfg.base, null, "POST", API + "/visitors", body).catch(function (err) {
      // A token the server no longer knows: start over as a new visitor, once.
      if (retry && err.status === 401 && self.token) {
        self.token = null;
        self.cfg.store.set("visitor", null);
        return self.identify(false);
      }
      throw err;
    });
  };

  P.choose = function () {
    this.chat = null;
    this.mode("choose");
    this.renderStatus();
    this.renderNotice();
    Array.prototype.forEach.call(this.chooser.querySelectorAll("button"), function (b) {
      b.disabled = false;
    });
    var first = this.chooser.querySelector("button");
    if (first && this.visible()) { first.focus(); }
  };

  P.pick = function (type) {
    var self = this;
    var buttons = this.chooser.querySelectorAll("button");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    this.api("POST", "/chats", { site: this.cfg.site, problem_type: type, lang: this.lang }).then(
      function (chat) { self.resume(chat); },
      function (err) {
        Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
        self.fail(err);
      });
  };

  /* An open chat: the socket replays its history from seq 0, then goes live. */
  P.resume = function (chat) {
    var self = this;
    if (this.conn) { this.conn.stop(); }
    this.cfg.store.set("chat", String(chat.id));
    this.list.textContent = "";
    this.mode("chat");
    this.applyChat(chat);
    this.conn = new ns.Conn({
      base: this.cfg.base, token: this.token, chatId: chat.id, store: this.cfg.store,
      lang: function () { return self.lang; },
      on: {
        message: function (m) { self.showMessage(m); },
        chat: function (c) { self.applyChat(c); },
        typing: function (f) { self.showTyping(f); },
        error: function (f) {
          var restart = f.code === "refused" ? function () { self.restart(); } : null;
          self.showError(f.message || self.t("error"), restart);
        },
        status: function (s) { self.connLine.hidden = s === "open"; self.renderStatus(); }
      }
    });
    this.conn.pending.forEach(function (item) { self.showPending(item); });
    this.conn.connect();
    if (this.visible()) { this.input.focus(); }
  };

  /* The last chat, ended while the page was away: its history, and the rating if due. */
  P.revisit = function (chatId) {
    var self = this;
    this.api("GET", "/chats/" + encodeURIComponent(chatId) + "/messages?after=0").then(
      function (data) {
        if (data.chat.open) { self.resume(data.chat); return; }
        // An ended chat is shown again only to ask for its rating.
        if (data.chat.rated || data.chat.outcome === "left_message") {
          self.forget();
          self.choose();
          return;
        }
        self.list.textContent = "";
        self.mode("chat");
        self.chat = data.chat;
        data.messages.forEach(function (m) { self.showMessage(m); });
        self.applyChat(data.chat);
      },
      function () { self.forget(); self.choose(); });
  };

  P.forget = function () { this.cfg.store.set("chat", null); };

  P.newChat = function () {
    this.forget();
    this.restart();
  };

  /* From the top: who the visitor is, then their open chat or the chooser. */
  P.restart = function () {
    if (this.conn) { this.conn.stop(); this.conn = null; }
    this.list.textContent = "";
    this.chat = null;
    this.mode("start");
    this.start(); // the team's hours may have changed since the last chat began
  };

  /* ---- the chat's state: owner, queue, agent ---- */

  P.applyChat = function (chat) {
    if (this.chat && chat.id !== this.chat.id) { return; }
    this.chat = chat;
    var open = chat.open && chat.owner !== "ended";
    this.humanButton.hidden = !(open && chat.owner === "bot");
    this.endButton.hidden = !open;
    this.newButton.hidden = open;
    this.composer.hidden = !open;
    this.input.disabled = !open;
    if (chat.owner !== "bot") { this.clearFeedback(); }
    if (!open) { this.finished(); }
    this.renderStatus();
    this.renderNotice();
  };

  P.renderStatus = function () {
    var chat = this.chat;
    this.connLine.textContent = this.t("reconnecting");
    if (!chat) { this.statusLine.textContent = ""; return; }
    var text = "";
    if (chat.owner === "queue") {
      if (chat.position) {
        text = chat.wait_seconds
          ? this.t("queueWait", { position: chat.position,
                                  minutes: Math.max(1, Math.round(chat.wait_seconds / 60)) })
          : this.t("queue", { position: chat.position });
      } else { text = this.t("queueWaiting"); }
    } else if (chat.owner === "agent") {
      text = this.t("agent", { name: chat.agent_name || this.t("someone") });
    } else if (chat.owner === "ended" || !chat.open) {
      text = this.t("ended");
    }
    this.statusLine.textContent = text;
    this.statusLine.setAttribute("data-owner", chat.owner);
  };

  /* Nobody can answer now (outside the team's hours, or queued with no agent online):
   * say so, and offer a message instead of a wait. Before a chat exists only the site
   * can tell; after, the chat's `available` does. */
  P.renderNotice = function () {
    var chat = this.chat;
    var chatOpen = !!chat && chat.open && chat.owner !== "ended";
    var closed = chat ? chatOpen && chat.available === false
      : !!this.site && this.site.open === false;
    var hours = (chat && chat.hours) || (this.site && this.site.hours);
    this.notice.textContent = "";
    this.notice.hidden = !closed;
    if (!closed) { return; }
    this.notice.appendChild(el("p", null, hours
      ? this.t("closedHours", { hours: hours }) : this.t("closed")));
    this.notice.appendChild(el("p", null, this.t("botStillHelps")));
    if (chatOpen) { this.notice.appendChild(this.leaveButton()); }
  };

  P.leaveButton = function () {
    var self = this;
    var b = tr("button", "kefu-leave-open", "leaveMessage");
    b.textContent = this.t("leaveMessage");
    b.type = "button";
    b.addEventListener("click", function () {
      if (self.chat && self.chat.open) { self.leaveForm(); }
    });
    return b;
  };

  P.finished = function () {
    var self = this;
    this.typingLine.hidden = true;
    Array.prototype.forEach.call(this.list.querySelectorAll(".kefu-leave-open"), function (n) {
      n.parentNode.removeChild(n);
    });
    if (this.conn) {
      this.conn.stopped = true; // no reconnects for an ended chat
      // What never reached it never will: say so rather than keep it "sending" forever.
      this.conn.pending.forEach(function (item) { self.markFailed(item.client_id, self.t("ended")); });
      this.conn.pending = [];
      this.conn.savePending();
    }
    var chat = this.chat;
    if (chat.outcome !== "left_message" && !this.after.querySelector(".kefu-rating")) {
      if (chat.rated) {
        if (!this.after.querySelector(".kefu-rated")) {
          this.after.appendChild(el("p", "kefu-rated", this.t("rated")));
        }
      } else { this.ratingForm(); }
    }
  };

  /* ---- messages ---- */

  P.authorName = function (m) {
    if (m.author === "customer") { return this.t("you"); }
    if (m.name) { return m.name; }
    return this.t(m.author === "bot" ? "bot" : m.author === "agent" ? "someone" : "system");
  };

  P.showMessage = function (m) {
    if (m.client_id) {
      var mine = this.list.querySelector("[data-client-id='" + cssEscape(m.client_id) + "']");
      if (mine) { mine.parentNode.removeChild(mine); }
    }
    if (this.list.querySelector("[data-seq='" + Number(m.seq) + "']")) { return; }
    var li = this.renderMessage(m);
    var later = null;
    Array.prototype.some.call(this.list.children, function (n) {
      var seq = n.getAttribute("data-seq");
      if (seq === null || Number(seq) > Number(m.seq)) { later = n; return true; }
      return false;
    });
    this.list.insertBefore(li, later);
    if (m.author === "agent") { this.typingLine.hidden = true; }
    if (m.author !== "customer" && !this.visible()) { this.cfg.onUnread(); }
    if (m.author !== "bot" || !m.ask_feedback) {
      if (!later) { this.clearFeedback(); }
    } else if (!later && this.chat && this.chat.owner === "bot" && this.chat.open) {
      this.clearFeedback();
      li.appendChild(this.feedbackBox());
    }
    this.scroll();
  };

  P.renderMessage = function (m) {
    var li = el("li", "kefu-msg kefu-from-" + String(m.author).replace(/[^a-z]/g, ""));
    li.setAttribute("data-seq", String(Number(m.seq)));
    li.appendChild(el("div", "kefu-who", this.authorName(m)));
    // An upload's text is its file name, which the attachment shows already.
    var onlyFileName = m.attachment && m.text === m.attachment.name;
    if (m.text && !onlyFileName) { li.appendChild(el("div", "kefu-text", m.text)); }
    if (m.attachment) { li.appendChild(this.renderAttachment(m.attachment)); }
    if (m.warning) { li.appendChild(el("div", "kefu-warning", m.warning)); }
    if (m.articles && m.articles.length) { li.appendChild(this.renderArticles(m.articles)); }
    if (m.leave_message) { li.appendChild(this.leaveButton()); }
    return li;
  };

  P.safeUrl = function (url) {
    try {
      var parsed = new URL(url, this.cfg.base);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (e) { return null; }
  };

  P.link = function (url, text) {
    var href = this.safeUrl(url);
    if (!href) { return el("span", null, text); }
    var a = el("a", null, text);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  };

  P.renderArticles = function (articles) {
    var self = this;
    var box = el("div", "kefu-articles");
    box.appendChild(el("span", "kefu-articles-title", this.t("articles")));
    var ul = el("ul");
    articles.forEach(function (a) {
      var li = el("li");
      li.appendChild(self.link(a.url, a.title || a.url));
      ul.appendChild(li);
    });
    box.appendChild(ul);
    return box;
  };

  /* Attachments are private to the chat: fetched with the visitor's token (sent only to
   * the desk's own origin), shown as a data: thumbnail and saved through a blob. */
  P.renderAttachment = function (file) {
    var self = this;
    var box = el("div", "kefu-file");
    var href = this.safeUrl(file.url);
    var name = file.name || this.t("attachment");
    if (!href) { box.appendChild(el("span", null, name)); return box; }
    if (/^image\/(png|jpeg)$/.test(file.content_type || "")) {
      var img = el("img");
      img.alt = name;
      img.hidden = true;
      box.appendChild(img);
      this.fetchFile(href).then(function (blob) {
        var reader = new FileReader();
        reader.onload = function () { img.src = String(reader.result); img.hidden = false; };
        reader.readAsDataURL(blob);
      }, function () { /* the link below still offers it */ });
    }
    var a = this.link(file.url, name);
    a.addEventListener("click", function (e) {
      e.preventDefault();
      self.fetchFile(href).then(function (blob) {
        var url = URL.createObjectURL(blob);
        var save = el("a");
        save.href = url;
        save.download = name;
        self.panel.appendChild(save);
        save.click();
        self.panel.removeChild(save);
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
      }, function (err) { self.fail(err); });
    });
    box.appendChild(a);
    return box;
  };

  P.fetchFile = function (href) {
    var own = new URL(href).origin === new URL(this.cfg.base).origin;
    var headers = own && this.token ? { authorization: "Bearer " + this.token } : {};
    return fetch(href, { headers: headers, credentials: "omit" }).then(function (response) {
      if (!response.ok) { throw { status: response.status, detail: "" }; }
      return response.blob();
    }, function () { throw { status: 0, detail: "" }; });
  };

  P.showPending = function (item) {
    var li = el("li", "kefu-msg kefu-from-customer kefu-pending");
    li.setAttribute("data-client-id", item.client_id);
    li.appendChild(el("div", "kefu-who", this.t("you")));
    li.appendChild(el("div", "kefu-text", item.text));
    li.appendChild(el("div", "kefu-state", this.t("sending")));
    this.list.appendChild(li);
    this.scroll();
    return li;
  };

  P.scroll = function () { this.body.scrollTop = this.body.scrollHeight; };

  P.submit = function () {
    var self = this;
    var text = this.input.value.trim();
    if (!text || !this.conn || this.input.disabled) { return; }
    this.input.value = "";
    var item = this.conn.send(text, function (sent, err) {
      self.markFailed(sent.client_id, err.detail || self.t("error"));
      self.fail(err);
    });
    if (!this.list.querySelector("[data-client-id='" + cssEscape(item.client_id) + "']")) {
      this.showPending(item); // unless the answer to a POST was already in
    }
  };

  P.markFailed = function (clientId, why) {
    var li = this.list.querySelector("[data-client-id='" + cssEscape(clientId) + "']");
    if (li) {
      li.classList.add("kefu-failed");
      li.querySelector(".kefu-state").textContent = why;
    }
  };

  P.upload = function (file) {
    var self = this;
    if (ACCEPT.indexOf(file.type) < 0) { this.showError(this.t("attachBadType")); return; }
    var item = { client_id: ns.clientId(), text: file.name };
    var li = this.showPending(item);
    li.querySelector(".kefu-state").textContent = this.t("uploading");
    var form = new FormData();
    form.append("file", file, file.name);
    form.append("client_id", item.client_id);
    this.api("POST", "/chats/" + this.chat.id + "/attachments", form).then(function (m) {
      if (li.parentNode) { li.parentNode.removeChild(li); }
      if (m) { self.conn.receive(m, false); }
    }, function (err) {
      if (li.parentNode) { li.parentNode.removeChild(li); }
      self.fail(err);
    });
  };

  P.showTyping = function (frame) {
    if (frame.author !== "agent" || !this.chat || this.chat.owner === "ended") { return; }
    var self = this;
    var name = this.chat.agent_name || this.t("someone");
    this.typingLine.textContent = this.t("agentTyping", { name: name });
    this.typingLine.hidden = false;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(function () { self.typingLine.hidden = true; }, TYPING_SHOWN_MS);
  };

  /* ---- "did this solve it?", handoff, end ---- */

  P.feedbackBox = function () {
    var self = this;
    var box = el("div", "kefu-feedback");
    box.appendChild(el("span", "kefu-feedback-q", this.t("helpful")));
    [["yes", true], ["no", false]].forEach(function (pair) {
      var b = el("button", "kefu-feedback-" + pair[0], self.t(pair[0]));
      b.type = "button";
      b.addEventListener("click", function () { self.feedback(box, pair[1]); });
      box.appendChild(b);
    });
    return box;
  };

  P.clearFeedback = function () {
    Array.prototype.forEach.call(this.list.querySelectorAll(".kefu-feedback"), function (n) {
      n.parentNode.removeChild(n);
    });
  };

  P.feedback = function (box, helpful) {
    var self = this;
    Array.prototype.forEach.call(box.querySelectorAll("button"), function (b) { b.disabled = true; });
    this.api("POST", "/chats/" + this.chat.id + "/feedback", { helpful: helpful }).then(
      function (chat) {
        box.textContent = self.t("thanksFeedback");
        box.className = "kefu-feedback-done";
        self.applyChat(chat);
      },
      function (err) {
        Array.prototype.forEach.call(box.querySelectorAll("button"), function (b) { b.disabled = false; });
        self.fail(err);
      });
  };

  P.handoff = function () {
    var self = this;
    this.humanButton.disabled = true;
    this.api("POST", "/chats/" + this.chat.id + "/handoff", {}).then(function (chat) {
      self.humanButton.disabled = false;
      self.applyChat(chat);
    }, function (err) { self.humanButton.disabled = false; self.fail(err); });
  };

  // Two steps instead of window.confirm, which blocks the host page.
  P.endClicked = function () {
    var self = this;
    var b = this.endButton;
    if (b.getAttribute("data-t") !== "endConfirm") {
      b.setAttribute("data-t", "endConfirm");
      b.textContent = this.t("endConfirm");
      setTimeout(function () { b.setAttribute("data-t", "end"); b.textContent = self.t("end"); },
        4000);
      return;
    }
    b.setAttribute("data-t", "end");
    b.textContent = this.t("end");
    this.api("POST", "/chats/" + this.chat.id + "/end", {}).then(function (chat) {
      self.applyChat(chat);
    }, function (err) { self.fail(err); });
  };

  /* ---- forms: leave a message, rating, transcript ---- */

  P.form = function (cls, titleKey) {
    var form = el("form", "kefu-card " + cls);
    form.appendChild(el("p", "kefu-card-title", this.t(titleKey)));
    return form;
  };

  P.field = function (form, kind, name, labelKey, required) {
    var label = el("label", "kefu-field");
    label.appendChild(el("span", null, this.t(labelKey)));
    var input = el(kind === "textarea" ? "textarea" : "input");
    if (kind !== "textarea") { input.type = kind; }
    input.name = name;
    input.required = !!required;
    input.maxLength = MAX_TEXT;
    label.appendChild(input);
    form.appendChild(label);
    return input;
  };

  P.formButtons = function (form, submitKey, cancellable) {
    var self = this;
    var row = el("div", "kefu-card-buttons");
    var ok = el("button", "kefu-card-submit", this.t(submitKey));
    ok.type = "submit";
    row.appendChild(ok);
    if (cancellable) {
      var cancel = el("button", "kefu-card-cancel", this.t("cancel"));
      cancel.type = "button";
      cancel.addEventListener("click", function () {
        form.parentNode.removeChild(form);
        if (!self.input.disabled) { self.input.focus(); }
      });
      row.appendChild(cancel);
    }
    form.appendChild(row);
    return ok;
  };

  P.replaceCard = function (cls, form) {
    var old = this.after.querySelector("." + cls);
    if (old) { old.parentNode.removeChild(old); }
    this.after.appendChild(form);
    this.scroll();
    var first = form.querySelector("input, textarea, button");
    if (first) { first.focus(); }
  };

  P.leaveForm = function () {
    var self = this;
    if (!this.chat) { return; }
    var form = this.form("kefu-leave", "leaveTitle");
    var email = this.field(form, "email", "email", "email", true);
    email.value = this.email || "";
    var text = this.field(form, "textarea", "text", "message", true);
    var ok = this.formButtons(form, "submit", true);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      ok.disabled = true;
      self.email = email.value;
      self.api("POST", "/chats/" + self.chat.id + "/leave-message",
        { email: email.value, text: text.value }).then(function (answer) {
        form.textContent = "";
        form.appendChild(el("p", "kefu-left", self.t("leftMessage", { reference: answer.reference })));
      }, function (err) { ok.disabled = false; self.fail(err); });
    });
    this.replaceCard("kefu-leave", form);
  };

  P.ratingForm = function () {
    var self = this;
    var form = this.form("kefu-rating", "rateTitle");
    var stars = el("div", "kefu-stars");
    stars.setAttribute("role", "radiogroup");
    var score = 0;
    var ok;
    for (var n = 1; n <= 5; n++) {
      (function (value) {
        var b = el("button", "kefu-star", "★");
        b.type = "button";
        b.setAttribute("data-score", String(value));
        b.setAttribute("role", "radio");
        b.setAttribute("aria-checked", "false");
        b.setAttribute("aria-label", self.t("rateStar", { n: value }));
        b.addEventListener("click", function () {
          score = value;
          Array.prototype.forEach.call(stars.children, function (s, i) {
            s.classList.toggle("kefu-on", i < value);
            s.setAttribute("aria-checked", i === value - 1 ? "true" : "false");
          });
          ok.disabled = false;
        });
        stars.appendChild(b);
      })(n);
    }
    form.appendChild(stars);
    var comment = this.field(form, "textarea", "comment", "comment", false);
    ok = this.formButtons(form, "rate", false);
    ok.disabled = true;
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!score) { return; }
      ok.disabled = true;
      self.api("POST", "/chats/" + self.chat.id + "/rating",
        { score: score, comment: comment.value }).then(function (chat) {
        form.textContent = "";
        form.appendChild(el("p", "kefu-rated", self.t("rated")));
        self.chat = chat;
      }, function (err) { ok.disabled = false; self.fail(err); });
    });
    this.after.appendChild(form);
    this.scroll();
  };

  P.transcriptForm = function () {
    var self = this;
    if (!this.chat) { return; }
    var form = this.form("kefu-transcript", "transcript");
    var email = this.field(form, "email", "email", "email", true);
    email.value = this.email || "";
    var ok = this.formButtons(form, "submit", true);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      ok.disabled = true;
      self.email = email.value;
      self.api("POST", "/chats/" + self.chat.id + "/transcript", { email: email.value }).then(
        function () {
          form.textContent = "";
          form.appendChild(el("p", "kefu-sent", self.t("transcriptSent", { email: email.value })));
        }, function (err) { ok.disabled = false; self.fail(err); });
    });
    this.replaceCard("kefu-transcript", form);
  };

  /* ---- errors ---- */

  /* An HTTP refusal: its `detail` as the server worded it (in the visitor's language). */
  P.fail = function (err, retry) {
    var text = err && err.detail ? err.detail
      : err && err.status === 0 ? this.t("offline") : this.t("error");
    this.showError(text, retry);
  };

  P.showError = function (text, retry) {
    var box = this.errorBox;
    box.textContent = "";
    box.appendChild(el("span", "kefu-error-text", text));
    if (retry) {
      var again = el("button", "kefu-retry", this.t("retry"));
      again.type = "button";
      again.addEventListener("click", function () { box.hidden = true; retry(); });
      box.appendChild(again);
    }
    var dismiss = el("button", "kefu-error-x", "×");
    dismiss.type = "button";
    dismiss.setAttribute("aria-label", this.t("close"));
    dismiss.addEventListener("click", function () { box.hidden = true; });
    box.appendChild(dismiss);
    box.hidden = false;
    clearTimeout(this.errorTimer);
    this.errorTimer = setTimeout(function () { box.hidden = true; }, ERROR_SHOWN_MS);
  };

  // An SVG, not an emoji: phones without a colour-emoji font would show a box.
  function clipIcon() {
    var svgNs = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(svgNs, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "kefu-attach-icon");
    var path = document.createElementNS(svgNs, "path");
    path.setAttribute("d", "M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 " +
      "0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z");
    svg.appendChild(path);
    return svg;
  }

  function cssEscape(value) {
    return window.CSS && CSS.escape ? CSS.escape(value) : String(value).replace(/[^\w-]/g, "");
  }

  ns.mount = function (cfg) {
    var panel = new Panel(cfg);
    return {
      show: function () { panel.show(); },
      hide: function () { panel.hide(); },
      visible: function () { return panel.visible(); }
    };
  };
})();
