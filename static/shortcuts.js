/* Refundesk: keyboard shortcuts of the staff ticket page and the macro picker. The page works without it. */
(function () {
  "use strict";
  var page = document.querySelector("[data-shortcuts=ticket]");
  if (!page) { return; }
  function typing(el) {
    if (!el || el === document.body) { return false; }
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }
  function go(el) { if (el) { el.scrollIntoView({block: "center"}); el.focus(); } }
  var help = document.getElementById("shortcut-help");
  var keys = {
    j: function () { var a = document.getElementById("next-ticket"); if (a) { window.location.href = a.href; } },
    k: function () { var a = document.querySelector(".ticket-head a[href^='/queue']"); if (a) { window.location.href = a.href; } },
    c: function () { var b = document.querySelector("[data-shortcut=claim]"); if (b) { b.click(); } },
    r: function () { go(document.getElementById("reply-body")); },
    a: function () { go(document.getElementById("approve-amount") || document.querySelector(".event-approve button")); },
    "?": function () { if (help) { help.open = !help.open; } }
  };
  keys.n = keys.j;
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing || typing(ev.target)) { return; }
    if (ev.key === "Escape" && help) { help.open = false; return; }
    var fn = keys[ev.key];
    if (fn) { ev.preventDefault(); fn(); }
  });
  // The macro picker: insert the chosen reply at the cursor of the reply box (no reload).
  var picker = document.getElementById("macro-picker");
  if (picker) {
    picker.addEventListener("submit", function (ev) {
      var select = picker.querySelector("select"), box = document.getElementById("reply-body");
      var opt = select && select.options[select.selectedIndex];
      if (!opt || !box) { return; }
      ev.preventDefault();
      ev.stopImmediatePropagation();
      var text = opt.getAttribute("data-text") || "", at = box.selectionStart || 0;
      box.value = box.value.slice(0, at) + text + box.value.slice(box.selectionEnd || at);
      box.focus();
      box.selectionStart = box.selectionEnd = at + text.length;
      setTimeout(function () { picker.querySelectorAll("button").forEach(function (b) { b.disabled = false; }); }, 0);
    }, true);
  }
})();
