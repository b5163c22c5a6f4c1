/*
 * One time format for what the browser writes itself: 24-hour UTC with the
 * zone shown ("14:05 UTC", "2026-11-30 14:05 UTC"), as the server writes its
 * own text (alerts/core/time_labels.py). Every element carrying an instant in
 * data-utc (ISO 8601) gets the viewer's local time as its title when the
 * pointer or the focus reaches it, in the page's language: "local time
 * 2026-11-30 15:05 (UTC+01:00)" in English (ISO 8601, as the dashboard writes
 * dates), the page's CLDR locale's own date and 24-hour time otherwise
 * (Intl.DateTimeFormat of crisisContract.locale(): "30. 11. 2026. 15:05"),
 * always with the zone as its offset from UTC.
 */
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function asDate(value) { return value instanceof Date ? value : new Date(value); }

  // The one formatter: utc("2026-11-30T14:05:09Z", true) -> "2026-11-30 14:05 UTC".
  function label(value, withDate, withSeconds) {
    var d = asDate(value);
    if (isNaN(d.getTime())) { return ""; }
    var time = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + (withSeconds ? ":" + pad(d.getUTCSeconds()) : "");
    var date = d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " ";
    return (withDate ? date : "") + time + " UTC";
  }

  // The page's language (contract.js, which loads after this script: looked up when a title is written).
  function t(message) { return window.crisisContract.t(message); }
  function fmt(text, values) { return window.crisisContract.fmt(text, values); }

  var formats = {};  // Intl.DateTimeFormat by CLDR locale

  // The local date and 24-hour time of d: ISO 8601 in English, else the locale's own way.
  function localWhen(d) {
    var contract = window.crisisContract, locale = contract && contract.language() !== "en" ? contract.locale() : null;
    if (locale) {
      try {
        formats[locale] = formats[locale] || new Intl.DateTimeFormat(locale, {
          year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23"});
        return formats[locale].format(d);
      } catch (e) { /* a locale this browser does not know: ISO 8601 */ }
    }
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function local(value) {
    var d = asDate(value);
    if (isNaN(d.getTime())) { return ""; }
    var offset = -d.getTimezoneOffset(), sign = offset < 0 ? "-" : "+";
    offset = Math.abs(offset);
    return fmt(t("local time %(time)s (%(zone)s)"), {
      time: localWhen(d), zone: "UTC" + sign + pad(Math.floor(offset / 60)) + ":" + pad(offset % 60)});
  }

  function titled(event) {
    var el = event.target && event.target.closest && event.target.closest("[data-utc]");
    if (el) { el.title = local(el.getAttribute("data-utc")); }
  }

  document.addEventListener("mouseover", titled);
  document.addEventListener("focusin", titled);
  window.crisisTime = {label: label, local: local};
})();
