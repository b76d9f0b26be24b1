// deskmail dashboard: keyboard shortcuts (with a "?" help), double-submit protection. Everything works without it.
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
      case "?": toggleHelp(); e.preventDefault(); break;
    }
  });
  // "?" shows the shortcuts in a native <dialog> (Escape or the button closes it).
  var SHORTCUTS = [
    ["/", "Search tickets"], ["j / k", "Next / previous ticket in the list"], ["o or Enter", "Open the selected ticket"],
    ["x", "Select the ticket for a bulk action"], ["r", "Write a reply"], ["n", "Write an internal note"],
    ["u", "Back to the ticket list"], ["Esc", "Leave a text field"], ["?", "Show or hide this help"]
  ];
  var help = null;
  function buildHelp() {
    var d = document.createElement("dialog");
    d.id = "shortcuts";
    d.setAttribute("aria-labelledby", "shortcuts-title");
    var h = document.createElement("h2");
    h.id = "shortcuts-title";
    h.textContent = "Keyboard shortcuts";
    var table = document.createElement("table");
    SHORTCUTS.forEach(function (s) {
      var tr = table.insertRow();
      var key = document.createElement("kbd");
      key.textContent = s[0];
      tr.insertCell().appendChild(key);
      tr.insertCell().textContent = s[1];
    });
    var form = document.createElement("form");
    form.method = "dialog";
    var close = document.createElement("button");
    close.textContent = "Close";
    form.appendChild(close);
    d.appendChild(h);
    d.appendChild(table);
    d.appendChild(form);
    document.body.appendChild(d);
    return d;
  }
  function toggleHelp() {
    help = help || buildHelp();
    if (help.open) { help.close(); } else { help.showModal(); }
  }
  // A form that sends mail is submitted once, even on a double click.
  document.addEventListener("submit", function (e) {
    if (e.target.method === "dialog") return;
    var buttons = e.target.querySelectorAll("button[type=submit]");
    setTimeout(function () { buttons.forEach(function (b) { b.disabled = true; }); }, 0);
  });
})();

// "Ana is also replying": report typing in the reply box (every 10 s at most) and ask who else is.
(function () {
  "use strict";
  var box = document.querySelector("[data-presence]");
  var note = document.getElementById("collision");
  if (!box || !note || !window.fetch) return;
  var url = box.getAttribute("data-presence");
  var body = document.getElementById("reply-body");
  var last = 0;
  if (body) {
    body.addEventListener("input", function () {
      var now = Date.now();
      if (now - last < 10000) return;
      last = now;
      fetch(url, { method: "POST", credentials: "same-origin" }).catch(function () {});
    });
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        var names = (j && j.replying) || [];
        note.textContent = names.length ? names.join(", ") + (names.length === 1 ? " is" : " are") + " also replying." : "";
        note.hidden = names.length === 0;
      })
      .catch(function () {});
  }
  setInterval(poll, 10000);
})();
