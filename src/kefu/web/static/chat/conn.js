/* Kefu chat panel: the transport. HTTP calls, and one chat's WebSocket with the
 * "nothing lost, nothing doubled" rules:
 * - every outgoing message carries a client_id and stays in `pending` (also in
 *   localStorage, so a reload keeps it) until the server's MESSAGE with that client_id
 *   arrives; after a reconnect everything pending is sent again and the server, which
 *   dedupes by client_id, stores it once;
 * - received messages are deduped by seq;
 * - the socket reopens with after=<highest seq received over the socket>, with
 *   exponential backoff. Only the socket moves that mark: it delivers in order, while a
 *   POST's answer (seq N) may arrive before the socket has brought N-1.
 */
(function () {
  "use strict";
  var ns = window.__kefuChat = window.__kefuChat || {};
  var TYPING_EVERY_MS = 3000;
  var PING_EVERY_MS = 25000;
  var BACKOFF_MIN_MS = 500;
  var BACKOFF_MAX_MS = 30000;

  ns.clientId = function () {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) { window.crypto.getRandomValues(bytes); }
    else { for (var i = 0; i < 16; i++) { bytes[i] = Math.floor(Math.random() * 256); } }
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // an RFC 4122 version-4 shape
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" +
      hex.slice(16, 20) + "-" + hex.slice(20);
  };

  /* The reason a refusal gives: FastAPI's `detail` is a string, or a list for a 422. */
  function detailText(detail) {
    if (typeof detail === "string") { return detail; }
    if (Array.isArray(detail)) {
      return detail.map(function (d) { return d && d.msg ? d.msg : String(d); }).join("; ");
    }
    return "";
  }

  /* fetch → the JSON answer, or a rejection {status, detail, retryAfter} (status 0: the
   * network). `body` is JSON unless it is FormData. */
  ns.api = function (base, token, method, path, body) {
    var headers = { accept: "application/json" };
    if (token) { headers.authorization = "Bearer " + token; }
    var payload;
    if (body instanceof FormData) { payload = body; }
    else if (body !== undefined) { headers["content-type"] = "application/json"; payload = JSON.stringify(body); }
    return fetch(base + path, { method: method, headers: headers, body: payload, credentials: "omit" })
      .then(function (response) {
        return response.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          if (response.ok) { return data; }
          throw { status: response.status, detail: detailText(data && data.detail),
                  retryAfter: response.headers.get("retry-after") };
        });
      }, function () { throw { status: 0, detail: "" }; });
  };

  /* One chat's live connection. `on` holds callbacks: message(msg, wasPending),
   * chat(chat), typing(frame), error(frame), status("open"|"down"). */
  ns.Conn = function (opts) {
    this.base = opts.base;
    this.token = opts.token;
    this.chatId = opts.chatId;
    this.store = opts.store;
    this.on = opts.on;
    this.lang = opts.lang; // a function: the panel's language may change
    this.lastSeq = 0;
    this.seen = {};
    this.pending = this.loadPending();
    this.ws = null;
    this.attempts = 0;
    this.stopped = false;
    this.timer = null;
    this.pinger = null;
    this.lastTyping = 0;
    var self = this;
    this.onOnline = function () { if (!self.isOpen()) { self.attempts = 0; self.reconnectSoon(0); } };
    window.addEventListener("online", this.onOnline);
  };

  var Conn = ns.Conn.prototype;

  Conn.pendingKey = function () { return "pending:" + this.chatId; };

  Conn.loadPending = function () {
    try { return JSON.parse(this.store.get(this.pendingKey()) || "[]"); } catch (e) { return []; }
  };

  Conn.savePending = function () {
    this.store.set(this.pendingKey(), this.pending.length ? JSON.stringify(this.pending) : null);
  };

  Conn.isOpen = function () { return !!this.ws && this.ws.readyState === 1; };

  Conn.connect = function () {
    if (this.stopped) { return; }
    var self = this;
    var url = this.base.replace(/^http/, "ws") + "/chat/ws?token=" +
      encodeURIComponent(this.token) + "&chat=" + encodeURIComponent(this.chatId) +
      "&after=" + this.lastSeq + "&lang=" + encodeURIComponent(this.lang());
    var ws;
    try { ws = new WebSocket(url); } catch (e) { this.reconnectSoon(); return; }
    this.ws = ws;
    ws.onopen = function () {
      self.attempts = 0;
      self.on.status("open");
      self.pending.forEach(function (item) { self.frame(item); });
      clearInterval(self.pinger);
      self.pinger = setInterval(function () { self.raw({ type: "ping" }); }, PING_EVERY_MS);
    };
    ws.onmessage = function (event) { self.handle(event.data); };
    ws.onclose = function () {
      if (self.ws !== ws) { return; } // an older socket we already replaced
      clearInterval(self.pinger);
      self.ws = null;
      if (!self.stopped) { self.on.status("down"); self.reconnectSoon(); }
    };
  };

  Conn.reconnectSoon = function (delay) {
    if (this.stopped) { return; }
    var self = this;
    if (delay === undefined) {
      var ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, this.attempts));
      delay = ceiling / 2 + Math.random() * ceiling / 2; // jitter: not every tab at once
      this.attempts += 1;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { if (!self.isOpen()) { self.connect(); } }, delay);
  };

  Conn.handle = function (text) {
    var frame;
    try { frame = JSON.parse(text); } catch (e) { return; }
    if (!frame || typeof frame !== "object") { return; }
    if (frame.type === "message" && frame.message) { this.receive(frame.message, true); }
    else if (frame.type === "chat" && frame.chat) { this.on.chat(frame.chat); }
    else if (frame.type === "typing") { this.on.typing(frame); }
    else if (frame.type === "error") {
      // "refused": this token or chat will not be let in again; reconnecting cannot help.
      if (frame.code === "refused") { this.stopped = true; }
      this.on.error(frame);
    }
  };

  /* A MESSAGE from the socket (`fromSocket`) or from a POST's answer. */
  Conn.receive = function (message, fromSocket) {
    var seq = Number(message.seq);
    if (fromSocket && seq > this.lastSeq) { this.lastSeq = seq; }
    if (this.seen[seq]) { return; }
    this.seen[seq] = true;
    var wasPending = false;
    if (message.client_id) {
      var before = this.pending.length;
      this.pending = this.pending.filter(function (p) { return p.client_id !== message.client_id; });
      wasPending = this.pending.length !== before;
      if (wasPending) { this.savePending(); }
    }
    this.on.message(message, wasPending);
  };

  Conn.raw = function (frame) {
    if (!this.isOpen()) { return false; }
    try { this.ws.send(JSON.stringify(frame)); return true; } catch (e) { return false; }
  };

  Conn.frame = function (item) {
    return this.raw({ type: "message", client_id: item.client_id, text: item.text });
  };

  /* Queue `text`; it goes out now if it can, else on the next (re)connect. A refusal
   * over HTTP (4xx) calls `failed(item, err)`: that message will never be stored. */
  Conn.send = function (text, failed) {
    var item = { client_id: ns.clientId(), text: text };
    this.pending.push(item);
    this.savePending();
    if (!this.frame(item)) { this.post(item, failed); }
    return item;
  };

  // While the socket is down the message still has a way in; the server dedupes the copy
  // that the reconnect sends again.
  Conn.post = function (item, failed) {
    var self = this;
    ns.api(this.base, this.token, "POST", "/chat/api/v1/chats/" + this.chatId + "/messages",
      { client_id: item.client_id, text: item.text })
      .then(function (message) { if (message) { self.receive(message, false); } },
        function (err) {
          if (err.status === 429) { // kept: the reconnect sends it again
            self.on.error({ message: err.detail });
          } else if (err.status >= 400 && err.status < 500) {
            self.drop(item.client_id);
            failed(item, err);
          }
        });
  };

  Conn.drop = function (clientId) {
    this.pending = this.pending.filter(function (p) { return p.client_id !== clientId; });
    this.savePending();
  };

  Conn.typing = function () {
    var now = Date.now();
    if (now - this.lastTyping < TYPING_EVERY_MS) { return; }
    if (this.raw({ type: "typing" })) { this.lastTyping = now; }
  };

  Conn.stop = function () {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    window.removeEventListener("online", this.onOnline);
    if (this.ws) { var ws = this.ws; this.ws = null; try { ws.close(); } catch (e) { /* gone */ } }
  };
})();
