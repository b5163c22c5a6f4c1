/*
 * Response queue helpers: ticking countdowns, the checklist sheet, the resolve dialog. The server renders
 * the deadlines (data-deadline) and decides everything; nothing here does. Component ids come from the page
 * contract (contract.js). The critical alarm and its sound are every page's (alarm.js).
 *
 * The checklist sheet (#checklistPanel: a side sheet on desktop, a bottom sheet on phone, always in view):
 * opened by an alert's Checklist button, which it remembers; once the chosen alert's checklist is drawn
 * the focus moves to its title. Its close button, or Escape anywhere in the queue page while it is open,
 * unselects the alert (the store #selectedCase: a user's action, not a callback's) and puts the focus back
 * on that alert's Checklist button.
 * Resolve with steps open: the "Resolve…" button opens the modal dialog (#resolveDialog, showModal: focus
 * kept inside, Escape cancels); "Cancel" closes it and the focus returns to "Resolve…"; "Resolve anyway"
 * is the server's resolve button.
 * The countdowns' words are in the page's language (crisisContract.t, contract.js), chosen by data-what.
 */
(function () {
  "use strict";

  function ids() { return window.crisisContract.ids(); }  // contract.js
  function byId(key) { var id = ids()[key]; return id ? document.getElementById(id) : null; }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function format(ms) {
    var s = Math.floor(Math.abs(ms) / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s % 60);
  }

  // A countdown's text in the page's language (contract.js): its data-what is a key the server sets.
  function countdownText(left, what) {
    var t = window.crisisContract.t, fmt = window.crisisContract.fmt, time = format(left);
    if (left < 0) { return fmt(t("overdue %(time)s"), {time: time}); }
    switch (what) {
      case "to acknowledge": return fmt(t("%(time)s to acknowledge"), {time: time});
      case "next step": return fmt(t("%(time)s next step"), {time: time});
      case "due": return fmt(t("%(time)s due"), {time: time});
      default: return time + " " + what;
    }
  }

  function tick() {  // local only: no request
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      var left = Date.parse(el.getAttribute("data-deadline")) - now;
      var what = el.getAttribute("data-what") || "";
      el.textContent = countdownText(left, what);
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 60000);
    });
  }

  // --- the checklist sheet ---
  var opener = null;  // the alert id whose Checklist button opened the sheet

  function openButtonOf(alertId) {
    var found = null;
    document.querySelectorAll("[data-alert-id] .open-button").forEach(function (b) {
      if (b.closest("[data-alert-id]").getAttribute("data-alert-id") === alertId) { found = b; }
    });
    return found;
  }

  function until(find, then, tries) {  // the page draws after a callback answers: wait for it, a frame at a time
    var el = find();
    if (el) { then(el); return; }
    if (tries > 0) { window.requestAnimationFrame(function () { until(find, then, tries - 1); }); }
  }

  function focusSheet(alertId) {
    until(function () {
      var panel = byId("checklistPanel"), card = panel && panel.querySelector(".case");
      return card && card.getAttribute("data-alert-id") === alertId ? card.querySelector("h3") : null;
    }, function (title) { title.focus({preventScroll: true}); }, 300);
  }

  function closeSheet() {
    var back = opener;
    opener = null;
    window.dash_clientside.set_props(ids().selectedCase, {data: null});
    if (back) {  // once the sheet is closed and the queue drawn without the selection
      until(function () {
        var panel = byId("checklistPanel"), button = openButtonOf(back);
        return panel && !panel.classList.contains("open") && button &&
          button.getAttribute("aria-expanded") === "false" ? button : null;
      }, function (button) { button.focus(); }, 600);
    }
  }

  function sheetOpen() { var panel = byId("checklistPanel"); return !!(panel && panel.classList.contains("open")); }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target || !target.closest || !byId("checklistPanel")) { return; }
    var open = target.closest(".open-button");
    if (open) {
      opener = open.closest("[data-alert-id]").getAttribute("data-alert-id");
      focusSheet(opener);
      return;
    }
    if (target.closest("#" + ids().checklistClose)) { closeSheet(); return; }
    if (target.closest(".resolve-ask")) {
      var dialog = byId("resolveDialog");
      if (dialog && !dialog.open) { dialog.showModal(); }
      return;
    }
    if (target.closest(".dialog-cancel")) {
      var d = target.closest("dialog");
      if (d) { d.close(); }
    }
  });

  // A dialog closed (Cancel, Escape): the focus goes back to the button that opened it.
  document.addEventListener("close", function (event) {
    if (event.target && event.target.id === ids().resolveDialog) {
      var ask = document.querySelector("#" + ids().checklistPanel + " .resolve-ask");
      if (ask) { ask.focus(); }
      document.body.dataset.resolveDialogClosed = String(Number(document.body.dataset.resolveDialogClosed || 0) + 1);
    }
  }, true);

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !sheetOpen()) { return; }
    var dialog = byId("resolveDialog");
    if (dialog && dialog.open) { return; }  // Escape closes the dialog first (the browser does)
    event.preventDefault();
    closeSheet();
  });

  window.setInterval(tick, 1000);
})();
