// Macros in the reply box: typing "/" and a few words lists matching macros; Enter, Tab or
// a click inserts the chosen one (its text already in the customer's language, variables
// filled in by the server) and remembers it, so sending the reply applies its changes.
(function () {
  "use strict";
  var list = document.getElementById("macro-suggestions");
  if (!list) return;
  var form = list.closest("form");
  var box = form.querySelector("textarea[name=body]");
  var hidden = document.getElementById("macro-id");
  var chosen = document.getElementById("macro-chosen");
  var items = [];
  var active = 0;
  var timer = null;
  var asked = 0;

  function trigger() {
    var before = box.value.slice(0, box.selectionStart);
    var match = /(^|\s)\/([^\s/]*(?: [^\s/]+){0,3})$/.exec(before);
    return match ? { start: before.length - match[2].length - 1, query: match[2] } : null;
  }

  function close() {
    list.hidden = true;
    list.textContent = "";
    items = [];
  }

  function show(results) {
    list.textContent = "";
    items = results;
    active = 0;
    if (!results.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = list.dataset.none;
      list.appendChild(none);
    }
    results.forEach(function (macro, index) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.dataset.index = String(index);
      var title = document.createElement("strong");
      title.textContent = macro.title;
      var text = document.createElement("span");
      text.className = "muted small";
      text.textContent = " " + macro.text.slice(0, 80);
      li.appendChild(title);
      li.appendChild(text);
      li.addEventListener("mousedown", function (event) {
        event.preventDefault();
        pick(index);
      });
      list.appendChild(li);
    });
    highlight();
    list.hidden = false;
  }

  function highlight() {
    Array.prototype.forEach.call(list.children, function (li, index) {
      li.setAttribute("aria-selected", index === active ? "true" : "false");
    });
  }

  function pick(index) {
    var macro = items[index];
    var at = trigger();
    if (!macro || !at) return close();
    var after = box.value.slice(box.selectionStart);
    box.value = box.value.slice(0, at.start) + macro.text + after;
    var caret = at.start + macro.text.length;
    box.setSelectionRange(caret, caret);
    hidden.value = String(macro.id);
    var sets = [macro.sets.status, macro.sets.priority].filter(Boolean);
    if (macro.sets.team) sets.push("team");
    chosen.textContent = chosen.dataset.label + " " + macro.title +
      (sets.length ? " (" + chosen.dataset.sets + ": " + sets.join(", ") + ")" : "");
    chosen.hidden = false;
    close();
    box.focus();
  }

  function lookUp() {
    var at = trigger();
    if (!at) return close();
    var ticket = encodeURIComponent(list.dataset.ticket);
    var url = list.dataset.suggest + "?ticket=" + ticket + "&q=" + encodeURIComponent(at.query);
    var mine = ++asked;
    fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) { if (mine === asked && trigger()) show(data.results); })
      .catch(close);
  }

  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookUp, 120);
  });
  box.addEventListener("keydown", function (event) {
    if (list.hidden || !items.length) {
      if (event.key === "Escape") close();
      return;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      active = (active + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      highlight();
      event.preventDefault();
    } else if (event.key === "Enter" || event.key === "Tab") {
      pick(active);
      event.preventDefault();
    } else if (event.key === "Escape") {
      close();
      event.preventDefault();
    }
  });
  box.addEventListener("blur", function () { setTimeout(close, 150); });
})();
