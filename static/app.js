/* Refundesk: tiny progressive enhancements. Every page works without this file. */
(function () {
  "use strict";
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var ask = form.getAttribute("data-confirm");
    if (ask && !window.confirm(ask)) { ev.preventDefault(); return; }
    // One click, one request: disable the buttons of a form once it is on its way.
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
  document.addEventListener("focusin", function (ev) {
    if (ev.target.classList && ev.target.classList.contains("copy")) { ev.target.select(); }
  });
})();

/* Evidence slots on the new-ticket form: only the chosen kind's slots are shown (and sent); without this
   script every kind's slots are shown, grouped. */
(function () {
  "use strict";
  function showSlots(form) {
    var box = form.querySelector("[data-evidence-slots]");
    if (!box) { return; }
    var checked = form.querySelector("input[name=kind]:checked");
    var kind = checked ? checked.value : null;
    box.querySelectorAll(".slot-group").forEach(function (g) {
      var on = g.getAttribute("data-kind") === kind;
      g.hidden = !on;
      g.querySelectorAll("input[type=file]").forEach(function (i) { i.disabled = !on; });
    });
    var pick = box.querySelector("[data-slots-pick-kind]");
    if (pick) { pick.hidden = !!kind; }
  }
  function init() { document.querySelectorAll("form.ticket-form").forEach(showSlots); }
  document.addEventListener("change", function (ev) {
    if (ev.target.name === "kind" && ev.target.form) { showSlots(ev.target.form); }
  });
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
  window.refundeskShowSlots = init;
})();

/* Uploads with a progress bar (phones, screen recordings): forms marked data-upload-progress are sent with
   XMLHttpRequest when a file is chosen. The server answers JSON to the X-Upload-Progress header: a redirect
   to follow, or an error shown next to the form (role=alert). The new-ticket form's 422 page replaces the
   form in place, keeping the chosen files. Without this script the forms post as usual. */
(function () {
  "use strict";
  if (!window.XMLHttpRequest || !window.FormData) { return; }
  var T = {
    zh: { up: "正在上传…", pct: "已上传 %s%", fail: "上传中断，请检查网络后重试。", big: "文件太大（最大 %s MB）。", done: "已上传，正在打开…" },
    en: { up: "Uploading…", pct: "Uploaded %s%", fail: "The upload was interrupted. Check your connection and try again.", big: "The file is too large (maximum %s MB).", done: "Uploaded, opening…" }
  };
  function t(key, arg) {
    var lang = (document.documentElement.lang || "zh").slice(0, 2) === "en" ? "en" : "zh";
    return T[lang][key].replace("%s", arg);
  }
  function files(form) {
    var out = [];
    form.querySelectorAll("input[type=file]").forEach(function (i) {
      if (!i.disabled && i.files) { for (var k = 0; k < i.files.length; k++) { out.push({ input: i, file: i.files[k] }); } }
    });
    return out;
  }
  function status(form) {
    var s = form.querySelector(".upload-status");
    if (!s) {
      s = document.createElement("div");
      s.className = "upload-status";
      s.setAttribute("aria-live", "polite");
      (form.querySelector("button[type=submit]") || form.lastChild).insertAdjacentElement("afterend", s);
    }
    return s;
  }
  function errorBox(form) {
    var e = form.querySelector(".upload-error");
    if (!e) {
      e = document.createElement("p");
      e.className = "error upload-error";
      e.setAttribute("role", "alert");
      status(form).insertAdjacentElement("afterend", e);
    }
    return e;
  }
  function enable(form) {  // after the generic "one click, one request" handler disabled them
    window.setTimeout(function () { enableNow(form); }, 0);
  }
  function enableNow(form) {
    form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) { b.disabled = false; });
  }
  function fail(form, message) {
    var s = status(form);
    s.textContent = "";
    var e = errorBox(form);
    e.textContent = message;
    e.hidden = false;
    form.classList.add("has-error");
    enable(form);
    e.scrollIntoView({ block: "center" });
  }
  function swapForm(form, html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.querySelector("form.ticket-form");
    if (!fresh) { fail(form, t("fail")); return; }
    form.querySelectorAll("input[type=file]").forEach(function (old) {  // keep the files that were fine
      var twin = fresh.querySelector("input[type=file][name='" + old.name + "']");
      if (twin && old.files && old.files.length && twin.getAttribute("aria-invalid") !== "true") {
        try { twin.files = old.files; } catch (err) { /* older browsers: choose again */ }
      }
    });
    form.replaceWith(fresh);
    if (window.refundeskShowSlots) { window.refundeskShowSlots(); }
    var first = fresh.querySelector("[role=alert]");
    if (first) { first.scrollIntoView({ block: "center" }); }
  }
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (ev.defaultPrevented || !form.hasAttribute || !form.hasAttribute("data-upload-progress")) { return; }
    var chosen = files(form);
    if (!chosen.length) { return; }  // nothing to upload: the ordinary post
    for (var k = 0; k < chosen.length; k++) {
      var max = parseInt(chosen[k].input.getAttribute("data-max-bytes") || "0", 10);
      if (max && chosen[k].file.size > max) {
        ev.preventDefault();
        fail(form, t("big", Math.floor(max / 1048576)));
        return;
      }
    }
    ev.preventDefault();
    var e = form.querySelector(".upload-error");
    if (e) { e.hidden = true; e.textContent = ""; }
    var s = status(form);
    s.textContent = "";
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    var label = document.createElement("span");
    label.className = "upload-pct";
    label.textContent = t("up");
    s.appendChild(bar);
    s.appendChild(label);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action") || window.location.href);
    xhr.setRequestHeader("X-Upload-Progress", "1");
    xhr.setRequestHeader("Accept", "application/json, text/html;q=0.5");
    var last = -10;
    xhr.upload.addEventListener("progress", function (p) {
      if (!p.lengthComputable) { bar.removeAttribute("value"); return; }
      var pct = Math.floor((p.loaded / p.total) * 100);
      bar.value = pct;
      if (pct - last >= 10 || pct === 100) { label.textContent = t("pct", pct); last = pct; }  // not every tick
    });
    xhr.addEventListener("load", function () {
      var type = xhr.getResponseHeader("Content-Type") || "";
      if (type.indexOf("application/json") === 0) {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
        if (body.redirect) {
          label.textContent = t("done");
          var target = new URL(body.redirect, window.location.href);
          window.location.assign(target.href);
          if (target.pathname === window.location.pathname && target.search === window.location.search) {
            window.location.reload();  // only the #fragment changed: assign() alone would not reload
          }
          return;
        }
        fail(form, (body.error && body.error.message) || t("fail"));
      } else if (form.classList.contains("ticket-form") && xhr.status >= 400 && xhr.status < 500) {
        swapForm(form, xhr.responseText);
      } else {
        fail(form, t("fail"));
      }
    });
    xhr.addEventListener("error", function () { fail(form, t("fail")); });
    xhr.addEventListener("abort", function () { fail(form, t("fail")); });
    xhr.send(new FormData(form));
  });
})();
