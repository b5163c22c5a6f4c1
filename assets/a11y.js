/*
 * Repairs of Dash 4 component markup that fails WCAG 2.2 (found by axe-core; tests/browser/test_accessibility.py).
 *
 * Dash 4.4's dcc.Checklist and dcc.RadioItems draw a `role="listbox"` of `<label role="option">`s, each
 * holding a native checkbox or radio: the listbox has no accessible name (axe: aria-input-field-name) and
 * its options hold interactive inputs (nested-interactive). The native inputs inside their labels are
 * accessible by themselves, so the list becomes a named `group` (`radiogroup` for radios) and the labels
 * plain labels. dcc.Dropdown keeps a hidden `<input aria-hidden="true" tabindex="0">` that only forwards
 * the focus to its trigger button (aria-hidden-focus), and draws the trigger button itself with
 * `tabindex="-1"`: the hidden input is taken out of the tab order and the trigger button put in it, so Tab
 * reaches every dropdown (its own key handling then opens it: Enter, Space, ArrowDown; arrows and Enter
 * choose; Escape closes and gives the focus back to the trigger). dcc.Slider's thumb (`role="slider"`) gets the name of the control's label, dcc.Upload's hidden
 * file input the text of its drop zone.
 *
 * A control's name is the text of `label[for=<the component's id>]`, else of the `<label>` around it,
 * else of the `<label>` just before it. dcc components take no aria-* properties, hence this script; it
 * watches the page, so controls drawn later (other pages, callbacks) are repaired too.
 *
 * Content never translated (an alert's headline, a name, a marking: `data-translate="no"`,
 * dashboard.components.language.UNTRANSLATED, which Dash cannot spell as HTML's own attribute) also gets
 * HTML's `translate="no"`, so a browser's page translator leaves it alone, whenever it is drawn.
 *
 * The libraries' own English labels (Dash 4's number input steppers; MapLibre's map canvas and attribution
 * button, which plotly creates without MapLibre's `locale` option) are said in the page's language
 * (contract.js): `LIBRARY_LABELS`, each English text written as a t() literal so that
 * `python -m alerts.i18n.extract` collects it.
 */
(function () {
  "use strict";
  function t(message) { return window.crisisContract ? window.crisisContract.t(message) : message; }

  // [selector, attribute, English text, the text in the page's language (made when repaired)]
  var LIBRARY_LABELS = [
    ["button", "aria-label", "Increase value", function () { return t("Increase value"); }],
    ["button", "aria-label", "Decrease value", function () { return t("Decrease value"); }],
    ["canvas.maplibregl-canvas", "aria-label", "Map", function () { return t("Map"); }],
    [".maplibregl-ctrl-attrib-button", "title", "Toggle attribution", function () { return t("Toggle attribution"); }],
    [".maplibregl-ctrl-attrib-button", "aria-label", "Toggle attribution",
     function () { return t("Toggle attribution"); }],
  ];

  function text(label) {
    var first = label && Array.prototype.find.call(label.childNodes, function (n) {
      return n.nodeType === 3 && n.textContent.trim();
    });
    return first ? first.textContent.trim() : (label ? label.textContent.trim() : "");
  }

  function nameOf(control) {
    var owner = control.id ? control : control.closest("[id]");
    if (owner && owner.id) {
      var byFor = document.querySelector('label[for="' + CSS.escape(owner.id) + '"]');
      if (byFor) { return text(byFor); }
    }
    var around = control.closest("label");
    if (around) { return text(around); }
    var before = (owner || control).previousElementSibling;
    return before && before.tagName === "LABEL" ? text(before) : "";
  }

  function within(root, selector) {  // the elements under root matching selector, root itself included
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) { found.unshift(root); }
    return found;
  }

  function repair(root) {
    if (!root.querySelectorAll) { return; }
    within(root, '[role="listbox"]').forEach(function (list) {
      var input = list.querySelector("label input");
      // a dropdown's menu is a real listbox (the same options list, class dash-dropdown-options): left alone
      if (!input || list.classList.contains("dash-dropdown-options")) { return; }
      list.setAttribute("role", input.type === "radio" ? "radiogroup" : "group");
      var name = nameOf(list);
      if (name && !list.getAttribute("aria-label")) { list.setAttribute("aria-label", name); }
    });
    within(root, '[role="group"] label[role="option"], [role="radiogroup"] label[role="option"], ' +
                 '[role="group"] label[aria-selected], [role="radiogroup"] label[aria-selected]')
      .forEach(function (option) { option.removeAttribute("role"); option.removeAttribute("aria-selected"); });
    within(root, '.dash-dropdown-focus-target[aria-hidden="true"]').forEach(function (target) {
      if (target.tabIndex !== -1) { target.tabIndex = -1; }
    });
    within(root, "button.dash-dropdown").forEach(function (trigger) {
      if (trigger.tabIndex !== 0) { trigger.tabIndex = 0; }
    });
    // dcc.Upload's file input is hidden behind its drop zone: it takes the drop zone's text as its name
    within(root, 'input[type="file"]:not([aria-label])').forEach(function (input) {
      var zone = input.parentElement && input.parentElement.closest("[id]");
      var name = zone ? zone.textContent.trim() : "";
      if (name) { input.setAttribute("aria-label", name); }
    });
    within(root, '[role="slider"]:not([aria-label]):not([aria-labelledby])').forEach(function (thumb) {
      var name = nameOf(thumb);
      if (name) { thumb.setAttribute("aria-label", name); }
    });
    LIBRARY_LABELS.forEach(function (entry) {
      within(root, entry[0] + "[" + entry[1] + '="' + entry[2] + '"]').forEach(function (el) {
        var said = entry[3]();
        if (said !== entry[2]) { el.setAttribute(entry[1], said); }
      });
    });
    within(root, '[data-translate="no"]:not([translate="no"])').forEach(function (content) {
      content.setAttribute("translate", "no");
    });
  }

  // Repaired in the observer's callback (a microtask after the change, before the next paint), only under
  // what changed: a screen reader or a check never meets the markup before the repair.
  function start() {
    repair(document);
    new MutationObserver(function (records) {
      var roots = new Set();
      records.forEach(function (r) {
        var root = r.type === "childList" ? r.target : r.target.parentElement;
        if (root && root.querySelectorAll) { roots.add(root.closest ? (root.closest("[id]") || root) : root); }
      });
      roots.forEach(repair);
    }).observe(document.body, {childList: true, subtree: true, attributes: true,
                               attributeFilter: ["role", "aria-selected", "tabindex", "data-translate", "aria-label", "title"]});
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
