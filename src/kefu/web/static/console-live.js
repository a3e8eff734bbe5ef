// The live console: follows /console/events (Server-Sent Events) and updates the inbox
// rows and the ticket thread in place, with fragments the server renders from the same
// templates as the pages. EventSource reconnects by itself and sends the last id it
// saw; the server replays what came after (with a small overlap: ids are skipped here
// when already seen).
(function () {
  "use strict";
  var inbox = document.querySelector("[data-live-inbox]");
  var thread = document.querySelector("[data-live-ticket]");
  var root = inbox || thread;
  if (!root || !window.EventSource || !window.fetch) { return; }

  var seen = new Set();
  var order = [];
  function firstTime(id) {
    if (!id) { return true; }
    if (seen.has(id)) { return false; }
    seen.add(id);
    order.push(id);
    if (order.length > 2000) { seen.delete(order.shift()); }
    return true;
  }

  // One fetch at a time, in event order: two quick events never race each other.
  var queue = Promise.resolve();
  function later(work) {
    queue = queue.then(work).catch(function () { /* the next event tries again */ });
  }

  function fragment(url) {
    return fetch(url, { credentials: "same-origin", headers: { "accept": "text/html" } })
      .then(function (response) {
        if (response.status === 204) { return null; }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      });
  }

  function parse(html, wrapper) {
    var holder = document.createElement(wrapper);
    holder.innerHTML = html;
    return holder;
  }

  function updateRow(reference) {
    var view = inbox.getAttribute("data-view") || "all_open";
    var url = "/console/live/rows/" + encodeURIComponent(reference) +
      "?view=" + encodeURIComponent(view);
    return fragment(url).then(function (html) {
      var existing = inbox.querySelector('tr[data-ref="' + CSS.escape(reference) + '"]');
      if (html === null) {
        if (existing) { existing.remove(); }
        return;
      }
      var row = parse("<table><tbody>" + html + "</tbody></table>", "div")
        .querySelector("tr[data-ref]");
      if (!row) { return; }
      row.classList.add("live-new");
      if (existing) {
        // The agent's selection for a bulk change survives the row's update.
        var ticked = existing.querySelector("input[name=ref]:checked");
        var box = row.querySelector("input[name=ref]");
        if (ticked && box) { box.checked = true; }
        existing.replaceWith(row);
      } else if (!inbox.getAttribute("data-q") && inbox.getAttribute("data-page") === "1") {
        // A search or a later page shows a selection the event says nothing about.
        var empty = inbox.querySelector("tr.empty");
        if (empty) { empty.remove(); }
        inbox.insertBefore(row, inbox.firstChild);
      }
    });
  }

  function appendMessages() {
    var reference = thread.getAttribute("data-live-ticket");
    var shown = thread.querySelectorAll("li.message").length;
    var url = "/console/live/tickets/" + encodeURIComponent(reference) +
      "/messages?after=" + shown;
    return fragment(url).then(function (html) {
      if (html === null) { return; }
      var items = parse(html, "ol").querySelectorAll("li.message");
      items.forEach(function (item) { thread.appendChild(item); });
    });
  }

  // The collision notice: who else has this ticket open, and who is typing in it.
  var presence = document.querySelector(".live-presence");
  var others = {};  // agent id -> {name, viewingUntil, typingUntil}
  var VIEWING_MS = 45000, TYPING_MS = 8000, ANNOUNCE_MS = 20000, TYPING_EVERY_MS = 3000;
  var GREETING_MS = 5000, lastGreeting = 0;

  function showPresence() {
    var now = Date.now(), typing = [], viewing = [];
    Object.keys(others).forEach(function (id) {
      var other = others[id];
      if (other.typingUntil > now) { typing.push(other.name); }
      else if (other.viewingUntil > now) { viewing.push(other.name); }
      else { delete others[id]; }
    });
    var names = typing.length ? typing : viewing;
    var template = presence.getAttribute(typing.length ? "data-typing" : "data-viewing");
    presence.textContent = names.length ? template.replace("%(name)s", names.join(", ")) : "";
    presence.hidden = !names.length;
  }

  function onPresence(event) {
    if (String(event.agent_id) === presence.getAttribute("data-agent")) { return; }
    var now = Date.now();
    var known = others[event.agent_id];
    var other = known || { viewingUntil: 0, typingUntil: 0 };
    if (!known && event.state !== "left" && now - lastGreeting > GREETING_MS) {
      lastGreeting = now;
      announce("viewing");  // a newcomer learns of this page now, not at its next beat
    }
    other.name = event.agent_name;
    if (event.state === "left") { other.viewingUntil = other.typingUntil = 0; }
    else { other.viewingUntil = now + VIEWING_MS; }
    if (event.state === "typing") { other.typingUntil = now + TYPING_MS; }
    others[event.agent_id] = other;
    showPresence();
  }

  function announce(state) {
    var body = new URLSearchParams({ state: state });
    var url = "/console/tickets/" + encodeURIComponent(thread.getAttribute("data-live-ticket")) +
      "/presence";
    if (state === "left" && navigator.sendBeacon) { navigator.sendBeacon(url, body); return; }
    fetch(url, { method: "POST", body: body, credentials: "same-origin" }).catch(function () {});
  }

  if (thread && presence) {
    var lastTyping = 0;
    var box = document.querySelector("#reply textarea[name=body]");
    if (box) {
      box.addEventListener("input", function () {
        if (Date.now() - lastTyping < TYPING_EVERY_MS) { return; }
        lastTyping = Date.now();
        announce("typing");
      });
    }
    window.setInterval(function () { announce("viewing"); showPresence(); }, ANNOUNCE_MS);
    window.addEventListener("pagehide", function () { announce("left"); });
  }

  function handle(event) {
    if (event.name === "ticket.presence") {
      if (presence && thread && event.reference === thread.getAttribute("data-live-ticket")) {
        onPresence(event);
      }
      return;
    }
    if (inbox) {
      later(function () { return updateRow(event.reference); });
    } else if (event.reference === thread.getAttribute("data-live-ticket")) {
      if (event.name === "ticket.message") {
        later(appendMessages);
      } else if (event.name === "ticket.updated") {
        var note = document.querySelector(".live-note");
        if (note) { note.hidden = false; }
      }
    }
  }

  var since = root.getAttribute("data-live-since");
  var source = new EventSource("/console/events" + (since ? "?since=" + since : ""));
  source.addEventListener("desk", function (message) {
    var event = JSON.parse(message.data);
    // A presence event has no id of its own (lastEventId still names the last recorded
    // event), so only recorded events are checked against those already seen.
    if (event.name !== "ticket.presence" && !firstTime(message.lastEventId)) { return; }
    handle(event);
  });
  source.addEventListener("reset", function () {
    // Too much was missed to replay: the page itself is the fresh state.
    source.close();
    window.location.reload();
  });
  document.documentElement.setAttribute("data-live", "connecting");
  source.addEventListener("open", function () {
    document.documentElement.setAttribute("data-live", "open");
    // Said on every (re)connect, so the others learn of this page as soon as it listens.
    if (thread && presence) { announce("viewing"); }
  });
})();
