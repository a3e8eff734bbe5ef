/* Kefu chat loader: the one line a site embeds,
 *   <script src="https://desk.example/widget.js" data-site="KEY" async></script>
 * draws the floating button and nothing else. The panel (UI, strings, CSS) is fetched
 * from the same origin only when the button is first clicked, so a page that never
 * chats pays for this file alone. Plain ES5-ish JS: no framework, no build step.
 * Everything lives in an open shadow root so the host page's CSS cannot break it.
 */
(function () {
  "use strict";
  if (window.__kefuWidget) { return; } // embedded twice: one button is enough
  window.__kefuWidget = {};
  var script = document.currentScript ||
    document.querySelector("script[data-site][src*='widget.js']");
  if (!script) { return; }
  var VERSION = "__KEFU_VERSION__"; // the server fills in a hash of the panel files
  var base = new URL(script.src, location.href).origin;
  var data = script.dataset;
  var site = data.site || "";
  var prefix = "kefu:" + site + ":";
  var LABEL = { "zh-CN": "在线客服", en: "Chat with us" };
  var UNREAD = { "zh-CN": "有新消息", en: "new message" };

  var memory = {};
  var store = {
    // localStorage may be blocked (private mode, third-party storage rules): keep going
    // in memory; the chat then lasts as long as the page.
    get: function (key) {
      try { return window.localStorage.getItem(prefix + key); } catch (e) { return memory[key] || null; }
    },
    set: function (key, value) {
      try {
        if (value === null) { window.localStorage.removeItem(prefix + key); }
        else { window.localStorage.setItem(prefix + key, value); }
      } catch (e) { memory[key] = value; }
    }
  };

  function normalise(tag) {
    tag = (tag || "").toLowerCase();
    if (!tag) { return ""; }
    return tag.indexOf("zh") === 0 ? "zh-CN" : "en";
  }

  // The visitor's own choice (the switch in the panel) wins; then the embed's data-lang,
  // the page's <html lang>, the browser.
  function pickLang() {
    return normalise(store.get("lang")) || normalise(data.lang) ||
      normalise(document.documentElement.getAttribute("lang")) ||
      normalise(navigator.language) || "en";
  }

  var host = document.createElement("div");
  host.setAttribute("data-kefu-widget", site);
  var root = host.attachShadow({ mode: "open" });
  var style = document.createElement("style");
  style.textContent =
    ":host{all:initial}" +
    ".kefu-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;" +
    "height:60px;border-radius:50%;border:0;background:#1f6feb;color:#fff;cursor:pointer;" +
    "box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;" +
    "justify-content:center;padding:0}" +
    ".kefu-launcher:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}" +
    ".kefu-launcher svg{width:30px;height:30px;fill:currentColor}" +
    ".kefu-launcher[aria-expanded=true] .kefu-open,.kefu-launcher[aria-expanded=false]" +
    " .kefu-close{display:none}" +
    ".kefu-launcher[data-unread]::after{content:'';position:absolute;top:4px;right:4px;" +
    "width:14px;height:14px;border-radius:50%;background:#e5484d;border:2px solid #fff}" +
    "@media (max-width:480px){.kefu-launcher[aria-expanded=true]{display:none}}";
  root.appendChild(style);

  var button = document.createElement("button");
  button.type = "button";
  button.className = "kefu-launcher";
  button.setAttribute("aria-expanded", "false");
  // Built node by node: a host page enforcing Trusted Types refuses markup strings.
  function icon(cls, path) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", cls);
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    var shape = document.createElementNS(ns, "path");
    shape.setAttribute("d", path);
    svg.appendChild(shape);
    return svg;
  }
  button.appendChild(icon("kefu-open", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2" +
    " 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"));
  button.appendChild(icon("kefu-close", "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6" +
    " 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z"));
  root.appendChild(button);

  function label() {
    var text = LABEL[pickLang()];
    button.setAttribute("aria-label", text);
    button.title = text;
  }
  label();

  var state = "idle"; // idle → loading → ready
  var panel = null;

  function setOpen(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) { button.removeAttribute("data-unread"); label(); }
    store.set("open", open ? "1" : null); // a reload reopens the chat the visitor had open
  }

  function load(then) {
    if (state === "ready") { then(); return; }
    if (state === "loading") { return; }
    state = "loading";
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = base + "/static/chat/panel.css?v=" + VERSION;
    root.appendChild(css);
    var files = ["strings.js", "conn.js", "panel.js"];
    var left = files.length;
    files.forEach(function (name) {
      var tag = document.createElement("script");
      tag.src = base + "/static/chat/" + name + "?v=" + VERSION;
      tag.async = false; // executed in the listed order
      tag.onload = function () {
        left -= 1;
        if (left === 0) { state = "ready"; then(); }
      };
      tag.onerror = function () {
        state = "idle";
        button.title = LABEL[pickLang()] + " — " +
          (pickLang() === "zh-CN" ? "加载失败，请重试" : "could not load, try again");
      };
      document.head.appendChild(tag);
    });
  }

  function open() {
    load(function () {
      if (!panel) {
        panel = window.__kefuChat.mount({
          root: root, base: base, site: site, store: store, lang: pickLang,
          uid: data.uid || null, expires: data.expires || null,
          signature: data.signature || null,
          onClose: function () { setOpen(false); panel.hide(); button.focus(); },
          onLang: label,
          onUnread: function () {
            button.setAttribute("data-unread", "");
            button.setAttribute("aria-label", LABEL[pickLang()] + " (" + UNREAD[pickLang()] + ")");
          }
        });
      }
      panel.show();
      setOpen(true);
    });
  }

  button.addEventListener("click", function () {
    if (panel && panel.visible()) { panel.hide(); setOpen(false); } else { open(); }
  });

  function attach() {
    document.body.appendChild(host);
    window.__kefuWidget.open = open;
    window.__kefuWidget.host = host;
    if (store.get("open") === "1") { open(); }
  }
  if (document.body) { attach(); } else { document.addEventListener("DOMContentLoaded", attach); }
})();
