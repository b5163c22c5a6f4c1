/*
 * The page contract: the one reader of #crisis-contract (written by dashboard.components.ids), which every
 * script in assets/ uses for component ids, trace indices and the like, never literals of its own.
 * window.crisisContract.get() is the contract (null until the frame is drawn, e.g. on the sign-in page);
 * .ids() its component ids ({} until then).
 *
 * The page's language (alerts.i18n): window.crisisContract.t("English text") is the text in the page's
 * language; .tn("one", "many", n) the form for the count n (CLDR plural categories by Intl.PluralRules, the
 * rule gettext uses on the server); .fmt(text, {name: value}) fills %(name)s placeholders. Scripts bind
 * them as `var t = crisisContract.t` so that `python -m alerts.i18n.extract` finds their messages.
 */
(function () {
  "use strict";
  var cached = null;

  function get() {
    if (!cached) {
      var el = document.getElementById("crisis-contract");
      cached = el ? JSON.parse(el.getAttribute("data-contract")) : null;
    }
    return cached;
  }

  function language() { var c = get(); return (c && c.i18n) || {tag: "en", cldr: "en", plural: ["one", "other"], messages: {}}; }

  function t(message) {
    var found = language().messages[message];
    return typeof found === "string" && found ? found : message;
  }

  function tn(singular, plural, n) {
    var lang = language(), found = lang.messages[singular];
    if (found && typeof found === "object") {
      var category = "other";
      try { category = new Intl.PluralRules(lang.cldr).select(n); } catch (e) { /* unknown locale: other */ }
      if (found[category]) { return found[category]; }
      if (found.other) { return found.other; }
    }
    return n === 1 ? singular : plural;
  }

  function fmt(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }

  // capitals as the page's language writes them (alerts.i18n.upper: Greek drops the tonos)
  function upper(text) {
    var capitals = String(text).toUpperCase();
    return language().tag === "el" ? capitals.normalize("NFD").replace(/\u0301/g, "").normalize("NFC") : capitals;
  }

  window.crisisContract = {get: get, upper: upper, ids: function () { var c = get(); return c ? c.ids : {}; },
                           t: t, tn: tn, fmt: fmt, language: function () { return language().tag; },
                           locale: function () { return language().cldr; }};
})();
