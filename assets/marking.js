/*
 * The classification banners: the most restrictive marking on screen.
 *
 * Whatever shows an alert, or content drawn from alerts (the map, the
 * situation figures), carries its marking as JSON in "data-marking"
 * (classification, caveats, tlp, releasable_to; a null classification is
 * the lowest level). Whenever such an element appears, changes or goes, the
 * banners ([data-marking-banner], written by dashboard.app) are set to the
 * marking covering all of them, combined as alerts.core.markings.most_restrictive
 * does: the highest classification and TLP, every caveat, only the nations
 * every item is released to ("ALL" and unrouted items restrict nothing). The
 * banner text is Marking.line ("CONFIDENTIAL//FOUO//REL TO BA, HR TLP:AMBER";
 * TLP labels are never translated) and its class "marking-level-N" (N the
 * level's rank; "marking-level-unknown" for a level the page does not know,
 * ranked above every known one). The levels, lowest first, and the TLP labels
 * come from the banner (data-levels, data-tlps), never from literals here.
 *
 * window.crisisMarking.combine / .line are shared with live.js.
 */
(function () {
  "use strict";
  var BANNER = "[data-marking-banner]", MARKED = "[data-marking]";
  var UNREADABLE = {classification: "UNREADABLE MARKING", caveats: [], tlp: null, releasable_to: null};
  var scheme = null, parsed = new Map(), shown = null, pending = false;

  function schemeOf() {
    if (!scheme) {
      var banner = document.querySelector(BANNER);
      if (!banner) { return null; }
      scheme = {levels: JSON.parse(banner.getAttribute("data-levels")),
                tlps: JSON.parse(banner.getAttribute("data-tlps"))};
    }
    return scheme;
  }

  function read(text) {
    if (!parsed.has(text)) {
      var value;
      try { value = JSON.parse(text); } catch (e) { value = UNREADABLE; }  // fail safe: above every level
      parsed.set(text, value && typeof value === "object" ? value : UNREADABLE);
    }
    return parsed.get(text);
  }

  function rank(level) {
    var s = schemeOf();
    if (level === null || level === undefined) { return 0; }
    var at = s.levels.indexOf(level);
    return at < 0 ? s.levels.length : at;
  }

  function tlpRank(label) {
    if (!label) { return -1; }
    var at = schemeOf().tlps.indexOf(label);
    return at < 0 ? schemeOf().tlps.length : at;
  }

  function unrestricted(nations) { return !Array.isArray(nations) || nations.indexOf("ALL") >= 0; }

  // The marking covering every one of `markings` (nulls skipped); none: the lowest level.
  function combine(markings) {
    var s = schemeOf(), level = s.levels[0], levelRank = 0, tlp = null, caveats = new Set(), nations = null;
    markings.forEach(function (m) {
      if (!m) { return; }
      var r = rank(m.classification);
      if (r > levelRank) { levelRank = r; level = m.classification; }
      if (tlpRank(m.tlp) > tlpRank(tlp)) { tlp = m.tlp; }
      (m.caveats || []).forEach(function (c) { caveats.add(c); });
      if (!unrestricted(m.releasable_to)) {
        nations = nations === null ? m.releasable_to.slice()
          : nations.filter(function (n) { return m.releasable_to.indexOf(n) >= 0; });
      }
    });
    return {classification: level, caveats: Array.from(caveats).sort(), tlp: tlp,
            releasable_to: nations === null ? ["ALL"] : nations};
  }

  // Marking.line without the TLP label ("CONFIDENTIAL//FOUO//REL TO BA, HR").
  function head(m) {
    var level = m.classification === null || m.classification === undefined ? schemeOf().levels[0]
      : m.classification;
    var parts = [level].concat(m.caveats || []);
    if (!unrestricted(m.releasable_to)) { parts.push("REL TO " + m.releasable_to.join(", ")); }
    return parts.join("//");
  }

  function line(m) { return head(m) + (m.tlp ? " TLP:" + m.tlp : ""); }

  function tlpClass(label) { return "tlp tlp-" + label.toLowerCase().replace("+", "-"); }

  function show(banner, m) {
    var r = rank(m.classification);
    var level = r < schemeOf().levels.length ? String(r) : "unknown";
    var className = "classification " + banner.getAttribute("data-marking-banner") + " marking-level-" + level;
    var dc = window.dash_clientside;
    if (banner.id && dc && dc.set_props) {
      var children = [head(m)];
      if (m.tlp) {
        children.push(" ", {type: "Span", namespace: "dash_html_components",
                            props: {className: tlpClass(m.tlp), children: "TLP:" + m.tlp}});
      }
      dc.set_props(banner.id, {children: children, className: className});
    } else {
      banner.textContent = line(m);
      banner.className = className;
    }
  }

  function render() {
    pending = false;
    if (!schemeOf()) { return; }
    var markings = Array.from(document.querySelectorAll(MARKED)).map(function (el) {
      return read(el.getAttribute("data-marking"));
    });
    var m = combine(markings), key = JSON.stringify(m);
    if (key === shown) { return; }
    shown = key;
    document.querySelectorAll(BANNER).forEach(function (banner) { show(banner, m); });
  }

  // Batched: one recount per turn, before the browser paints what changed.
  function schedule() {
    if (!pending) { pending = true; window.queueMicrotask(render); }
  }

  new MutationObserver(schedule).observe(document.documentElement, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["data-marking"]
  });
  schedule();

  window.crisisMarking = {combine: combine, line: line, refresh: schedule};
})();
