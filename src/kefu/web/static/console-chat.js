// The agents' chat console: lists, the open chat, live events over /console/chats/ws.
// Message text is always set with textContent: never interpreted as HTML.
(function () {
  "use strict";
  var root = document.getElementById("chat-console");
  if (!root) { return; }
  var current = null;       // the open chat's id
  var seen = {};            // message keys shown in the open chat
  var lastOffered = {};     // offers already announced (sound + notification)
  var $ = function (id) { return document.getElementById(id); };

  function api(method, path, body) {
    return fetch(path, {
      method: method, credentials: "same-origin",
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { throw new Error(typeof data.detail === "string" ? data.detail : "Request failed (" + r.status + ")"); }
        return data;
      });
    });
  }

  function showError(err) {
    var box = $("chat-error");
    box.textContent = err ? err.message : "";
    box.hidden = !err;
  }

  function beep() {
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var osc = ctx.createOscillator();
      osc.frequency.value = 880; osc.connect(ctx.destination); osc.start();
      setTimeout(function () { osc.stop(); ctx.close(); }, 200);
    } catch (e) { /* no audio: the list still shows it */ }
  }

  function announce(row) {
    if (lastOffered[row.id]) { return; }
    lastOffered[row.id] = true;
    beep();
    if (window.Notification && Notification.permission === "granted") {
      new Notification("Kefu: " + row.reference, { body: row.last_text || row.problem_type });
    }
  }

  function renderList(name, rows) {
    var list = $("list-" + name);
    list.textContent = "";
    $("count-" + name).textContent = String(rows.length);
    rows.forEach(function (row) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#chat-" + row.id;
      link.dataset.chat = row.id;
      link.textContent = (row.urgent ? "⚠ " : "") + row.reference + " · " + row.problem_type +
        " · " + Math.round(row.waiting_seconds / 60) + " min";
      var text = document.createElement("div");
      text.className = "muted";
      text.textContent = row.last_text;
      item.appendChild(link); item.appendChild(text);
      if (row.urgent) { item.className = "urgent"; }
      link.addEventListener("click", function (e) { e.preventDefault(); openChat(row.id); });
      list.appendChild(item);
      if (name === "offered") { announce(row); }
    });
  }

  function refresh() {
    return api("GET", "/console/chats/inbox").then(function (data) {
      $("presence").value = data.presence;
      $("capacity").value = data.capacity;
      langBoxes().forEach(function (box) { box.checked = data.languages.indexOf(box.value) >= 0; });
      $("load").textContent = data.active + " / " + data.capacity;
      renderList("offered", data.offered);
      renderList("mine", data.mine);
      renderList("queued", data.queued);
    }).catch(showError);
  }

  var pending = null;  // a burst of events refreshes the lists once
  function refreshSoon() {
    if (pending === null) { pending = setTimeout(function () { pending = null; refresh(); }, 250); }
  }

  function addMessage(m) {
    var key = m.seq !== null ? "s" + m.seq : "n" + m.at + m.text;
    if (seen[key]) { return; }
    seen[key] = true;
    var item = document.createElement("li");
    item.className = "msg " + m.author + (m.internal ? " internal" : "");
    var who = document.createElement("strong");
    who.textContent = (m.internal ? "[note] " : "") + (m.name || m.author) + ": ";
    var text = document.createElement("span");
    text.textContent = m.text;
    item.appendChild(who); item.appendChild(text);
    (m.articles || []).forEach(function (a) {
      var link = document.createElement("a");
      link.href = a.url; link.target = "_blank"; link.rel = "noopener";
      link.textContent = " ↗ " + a.title;
      item.appendChild(link);
    });
    if (m.attachment) {
      var file = document.createElement("a");
      // The widget's link needs the visitor's token; agents download by their session.
      file.href = m.attachment.url.replace("/chat/api/v1/attachments/", "/attachments/");
      file.textContent = " 📎 " + m.attachment.name;
      item.appendChild(file);
    }
    $("transcript").appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  function openChat(id) {
    current = id; seen = {};
    $("transcript").textContent = "";
    $("chat-pane").hidden = false;
    showError(null);
    return api("GET", "/console/chats/" + id + "/messages").then(function (data) {
      var c = data.chat;
      $("chat-title").textContent = c.reference;
      $("macro-suggestions").dataset.ticket = c.reference;  // macros fill in this chat's customer
      $("chat-meta").textContent = c.problem_type + " · " + c.lang + " · " + c.owner +
        (c.verified_uid ? " · UID " + c.verified_uid + " ✓" : "");
      $("accept").hidden = c.owner !== "queue";
      data.messages.forEach(addMessage);
    }).catch(showError);
  }

  function act(path, body) {
    if (current === null) { return; }
    showError(null);
    return api("POST", "/console/chats/" + current + path, body || {}).then(function (data) {
      refresh();
      if (data && data.reference && path === "/convert") {
        addMessage({ seq: null, author: "system", name: "Kefu", text: "→ " + data.reference, at: "" });
      }
      return openChat(current);
    }).catch(showError);
  }

  $("accept").addEventListener("click", function () { act("/accept"); });
  $("resolve").addEventListener("click", function () { act("/resolve"); });
  $("convert").addEventListener("click", function () { act("/convert"); });
  $("transfer").addEventListener("click", function () {
    var team = $("transfer-team").value;
    if (team) { act("/transfer", { team: team }); }
  });
  $("composer").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = $("reply").value.trim();
    if (!text || current === null) { return; }
    var id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
    api("POST", "/console/chats/" + current + "/messages",
        { text: text, client_id: id, internal: $("internal").checked })
      .then(function (m) { $("reply").value = ""; $("macro-chosen").hidden = true; addMessage(m); })
      .catch(showError);
  });
  $("reply").addEventListener("keydown", function (e) {
    var picking = !$("macro-suggestions").hidden;  // Enter then picks a macro (macros.js)
    if (e.key === "Enter" && !e.shiftKey && !picking) { e.preventDefault(); $("composer").requestSubmit(); }
    else if (socket && socket.readyState === 1 && current !== null) {
      socket.send(JSON.stringify({ type: "typing", chat: current }));
    }
  });
  function langBoxes() { return Array.prototype.slice.call(document.querySelectorAll(".chat-lang")); }
  function setPresence() {
    var languages = langBoxes().filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    api("POST", "/console/chats/presence",
        { presence: $("presence").value, capacity: parseInt($("capacity").value, 10) || 3,
          languages: languages })
      .then(refresh).catch(showError);
  }
  $("presence").addEventListener("change", setPresence);
  $("capacity").addEventListener("change", setPresence);
  langBoxes().forEach(function (box) { box.addEventListener("change", setPresence); });
  $("notify").addEventListener("click", function () {
    if (window.Notification) { Notification.requestPermission(); }
  });

  var socket = null;
  var backoff = 1000;
  var typingTimer = null;
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/console/chats/ws");
    socket.onopen = function () { backoff = 1000; refresh(); if (current !== null) { openChat(current); } };
    socket.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.type === "chat.message" && data.chat === current) { addMessage(data.message); }
      if (data.type === "chat.typing" && data.chat === current) {
        $("typing").hidden = false;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { $("typing").hidden = true; }, 3000);
      }
      if (data.type === "chat.state" || data.type === "chat.queue" || data.type === "reload" ||
          data.type === "chat.message") { refreshSoon(); }
    };
    socket.onclose = function () {
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 30000);
    };
  }
  refresh();
  connect();
  if (location.hash.indexOf("#chat-") === 0) { openChat(parseInt(location.hash.slice(6), 10)); }
})();
