// Search-as-you-type for the help centre box and suggestions under the ticket form's
// subject (#subject on /portal/tickets/new). No inline script: the CSP forbids it.
(function () {
  "use strict";
  var DELAY = 250;

  function lang() {
    return document.documentElement.getAttribute("lang") || "en";
  }

  function attach(input, source) {
    var holder = input.closest("form, label") || input.parentNode;
    holder.style.position = holder.style.position || "relative";
    var list = document.createElement("ul");
    list.className = "help-suggest";
    list.hidden = true;
    list.setAttribute("role", "listbox");
    input.setAttribute("aria-autocomplete", "list");
    input.insertAdjacentElement("afterend", list);
    var timer = null;
    var latest = 0;

    function show(data) {
      list.textContent = "";
      if (!data.results.length) { list.hidden = true; return; }
      if (source === "ticket-form") {
        var title = document.createElement("li");
        title.className = "help-suggest-title";
        title.textContent = input.getAttribute("data-suggest-title") ||
          (lang() === "zh-CN" ? "这些文章也许能解决您的问题：" : "These articles may answer your question:");
        list.appendChild(title);
      }
      data.results.forEach(function (item) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = item.url;
        a.textContent = item.title;
        if (source === "ticket-form") { a.target = "_blank"; a.rel = "noopener"; }
        li.appendChild(a);
        if (item.snippet) {
          // The server sanitises snippets to text plus <mark> only.
          var s = document.createElement("span");
          s.className = "snippet";
          s.innerHTML = item.snippet;
          li.appendChild(s);
        }
        list.appendChild(li);
      });
      list.hidden = false;
    }

    function query() {
      var q = input.value.trim();
      if (q.length < 2) { list.hidden = true; return; }
      var mine = ++latest;
      var url = "/api/v1/help/suggest?q=" + encodeURIComponent(q.slice(0, 200)) +
        "&lang=" + encodeURIComponent(lang()) + "&source=" + encodeURIComponent(source);
      fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) { if (mine === latest) { show(data); } })
        .catch(function () { list.hidden = true; });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(query, DELAY);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { list.hidden = true; }
    });
    document.addEventListener("click", function (e) {
      if (!holder.contains(e.target)) { list.hidden = true; }
    });
  }

  function ensureStyles() {
    // The ticket form page only loads this script; bring the suggestion styles along.
    if (document.querySelector('link[href="/static/help.css"]')) { return; }
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/static/help.css";
    document.head.appendChild(link);
  }

  document.addEventListener("DOMContentLoaded", function () {
    ensureStyles();
    document.querySelectorAll("input[data-help-suggest]").forEach(function (el) {
      attach(el, "help");
    });
    var subject = document.getElementById("subject");
    if (subject && window.location.pathname === "/portal/tickets/new") {
      attach(subject, "ticket-form");
    }
  });
})();
