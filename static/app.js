// deskmail dashboard: keyboard shortcuts and double-submit protection. Everything works without it.
(function () {
  "use strict";
  function typing(e) {
    var t = e.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.tickets tbody tr"));
  var current = -1;
  function select(i) {
    if (!rows.length) return;
    if (current >= 0) rows[current].classList.remove("selected");
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows[current].classList.add("selected");
    rows[current].scrollIntoView({ block: "nearest" });
  }
  function focus(id) {
    var el = document.getElementById(id);
    if (el) { el.focus(); return true; }
    return false;
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e)) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    switch (e.key) {
      case "/": if (focus("global-search")) e.preventDefault(); break;
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "o": case "Enter":
        if (current >= 0) { var a = rows[current].querySelector("td.subject a"); if (a) a.click(); }
        break;
      case "x":
        if (current >= 0) { var c = rows[current].querySelector("input[type=checkbox]"); if (c) c.checked = !c.checked; }
        break;
      case "r": if (focus("reply-body")) e.preventDefault(); break;
      case "n": if (focus("note-body")) e.preventDefault(); break;
      case "u": if (document.querySelector(".ticket")) { window.location.href = "/tickets"; } break;
    }
  });
  // A form that sends mail is submitted once, even on a double click.
  document.addEventListener("submit", function (e) {
    var buttons = e.target.querySelectorAll("button[type=submit]");
    setTimeout(function () { buttons.forEach(function (b) { b.disabled = true; }); }, 0);
  });
})();
