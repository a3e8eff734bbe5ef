// Ticket page keys: r reply, n internal note, j next ticket, e resolve, ? this list.
// Keys typed into a field are the agent's text, never a command.
(function () {
  "use strict";
  var dialog = document.getElementById("shortcuts");
  if (!dialog) return;
  var reply = document.getElementById("reply");
  var update = document.getElementById("update");
  var next = document.getElementById("take-next");
  var opener = document.getElementById("shortcuts-open");

  function typing(target) {
    return target && (target.isContentEditable ||
      /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function write(internal) {
    if (!reply) return;
    var box = reply.querySelector("textarea[name=body]");
    var note = reply.querySelector("input[name=internal]");
    if (note) note.checked = internal;
    box.focus();
  }

  function resolve() {
    if (!update) return;
    var status = update.querySelector("select[name=status]");
    status.value = "resolved";
    update.requestSubmit();
  }

  var actions = {
    r: function () { write(false); },
    n: function () { write(true); },
    j: function () { if (next) next.requestSubmit(); },
    e: resolve,
    "?": function () { dialog.showModal(); }
  };

  if (opener) opener.addEventListener("click", function () { dialog.showModal(); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && typing(event.target)) {
      event.target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (dialog.open && event.key !== "?") return;
    var action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });
})();
