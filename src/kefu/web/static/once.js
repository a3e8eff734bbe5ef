// The "thank you" and secret-warning notices are for the redirect that follows a submit.
// Drop their query parameters from the address bar so a reload or a bookmark does not
// show them again (the page itself stays as it is).
(function () {
  var url = new URL(window.location.href);
  var once = ["created", "masked"];
  var changed = once.some(function (name) { return url.searchParams.has(name); });
  if (!changed) { return; }
  once.forEach(function (name) { url.searchParams.delete(name); });
  window.history.replaceState(null, "", url.pathname + url.search + url.hash);
})();
