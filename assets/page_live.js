/*
 * The live stream of every page but the map: one server-sent-events connection per tab, no polling.
 *
 * Which stream a page opens comes from the page contract ("live", dashboard.components.ids):
 *   - the map ("map"): none here; live.js opens /live/map with the alarm and hands the alarm on;
 *   - the response queue ("alerts": /live/alerts with the alarm) and the situation page ("all": /live/map
 *     with the alarm, for its assets tile too): each "alert", "update", "withdraw" (an acknowledgment, a
 *     step done, an escalation, a resolution, a new alert, by anyone, anywhere) or "asset" sets the page's
 *     refresh store (contract "refresh": at most once per its "ms"), so
 *     the page's callbacks read it again; so does the stream opening (nothing between the page's build and
 *     the stream is missed) and every reconnection;
 *   - every other page ("alarm"): /live/alarm, the alarm alone.
 * Every "band" makes the page read its EXERCISE band again (no page polls for it).
 * Every "alarm" is handed on as the DOM event "crisis:alarm" (alarm.js shows it), every "status" as
 * "crisis:live-status" (degraded.js). The pages change without a reload (Dash pages): the stream follows,
 * kept when the next page wants the same one. "rebuild" reopens it from now and reads the page again;
 * Each page change is announced as the DOM event "crisis:page" ({path, live}), on which live.js closes the
 * map's own stream when the map is left. "revoked" (signed out, rights changed) reloads the page; "superseded" (a newer tab of the same user took
 * its place) leaves it closed until a reload. EventSource reconnects by itself after a dropped connection
 * and sends Last-Event-ID, so the server replays what was missed.
 * Stale stream: the server pings a quiet stream (contract "live.pingMs"); when neither an event nor a ping
 * came for STALE_PINGS intervals the connection is dead even if it looks open (a frozen server, a proxy that
 * holds it): the page says so (degraded.js's banner, "live data unavailable since ..."; the alarm strip
 * cannot be trusted meanwhile), the stream is reopened, and the reopened stream reads the page again, so
 * nothing is missed; the banner goes when the stream speaks again.
 * document.body.dataset.pageLive: "open", "error", "stale", "superseded" or "closed"; pageRefreshes counts
 * refreshes, pageStale the stale streams seen.
 */
(function () {
  "use strict";
  var source = null, kind = null, retryTimer = null, superseded = false;
  var STALE_PINGS = 3, lastHeard = 0, staleTimer = null;
  var due = {}, lastRefresh = {};

  function contract() { return window.crisisContract.get(); }  // contract.js

  function wanted() {
    var c = contract();
    return c ? (c.live.pages[window.location.pathname] || "alarm") : null;
  }

  function refresh() {
    var c = contract(), path = window.location.pathname, how = c && c.live.refresh[path];
    if (!how || due[path] || !window.dash_clientside) { return; }  // (a dcc.Store draws no element)
    var wait = Math.max(0, (lastRefresh[path] || 0) + how.ms - Date.now());
    due[path] = window.setTimeout(function () {
      due[path] = null; lastRefresh[path] = Date.now();
      if (window.location.pathname !== path) { return; }
      window.dash_clientside.set_props(how.store, {data: Date.now()});
      document.body.dataset.pageRefreshes = String(Number(document.body.dataset.pageRefreshes || 0) + 1);
    }, wait);
  }

  function heard() {
    lastHeard = Date.now();
    if (document.body.dataset.pageLive === "stale") {
      document.body.dataset.pageLive = "open";
      document.dispatchEvent(new CustomEvent("crisis:live-status", {detail: {state: "live"}}));
    }
  }

  function watch(wantedKind) {  // no event and no ping for STALE_PINGS intervals: reopen
    window.clearInterval(staleTimer);
    var c = contract(), every = (c && c.live.pingMs) || 15000;
    heard();
    staleTimer = window.setInterval(function () {
      if (!source || superseded || Date.now() - lastHeard < STALE_PINGS * every) { return; }
      var since = new Date(lastHeard).toISOString().slice(11, 16) + " UTC";
      document.body.dataset.pageLive = "stale";
      document.body.dataset.pageStale = String(Number(document.body.dataset.pageStale || 0) + 1);
      // said on the page (degraded.js's banner): the alarm strip cannot be trusted while nothing comes
      document.dispatchEvent(new CustomEvent("crisis:live-status", {detail: {state: "disconnected", since_label: since}}));
      open(wantedKind);
      document.body.dataset.pageLive = "stale";  // until the reopened stream says something
    }, Math.max(250, Math.round(every / 2)));
  }

  function close() {
    window.clearTimeout(retryTimer);
    window.clearInterval(staleTimer);
    if (source) { source.close(); source = null; }
    kind = null;
    document.body.dataset.pageLive = "closed";
  }

  // "band": some page's EXERCISE band may read differently now: this page reads its own again
  // (dashboard.components.exercise_band; contract id bandLive). The map's live.js does the same.
  function band() {
    var id = window.crisisContract.ids().bandLive;
    if (id && window.dash_clientside) { window.dash_clientside.set_props(id, {data: Date.now()}); }
  }

  function hand(name) {
    return function (event) { document.dispatchEvent(new CustomEvent(name, {detail: JSON.parse(event.data)})); };
  }

  function open(wantedKind) {
    close();
    kind = wantedKind;
    var es = new EventSource(contract().live.urls[wantedKind]);
    source = es;
    es.addEventListener("open", function () { heard(); document.body.dataset.pageLive = "open"; refresh(); });
    es.addEventListener("ping", heard);
    es.addEventListener("message", heard);
    ["alarm", "band", "status", "alert", "update", "withdraw", "asset", "rebuild"].forEach(function (name) {
      es.addEventListener(name, heard);
    });
    es.addEventListener("alarm", hand("crisis:alarm"));
    es.addEventListener("band", band);
    es.addEventListener("status", hand("crisis:live-status"));
    ["alert", "update", "withdraw", "asset"].forEach(function (name) { es.addEventListener(name, refresh); });
    es.addEventListener("rebuild", function () { open(wantedKind); });
    watch(wantedKind);
    es.addEventListener("reload", function () { window.location.reload(); });
    es.addEventListener("revoked", function () { es.close(); window.location.reload(); });
    es.addEventListener("superseded", function () {
      superseded = true; es.close(); document.body.dataset.pageLive = "superseded";
    });
    es.addEventListener("error", function () {
      if (superseded || source !== es) { return; }
      document.body.dataset.pageLive = "error";
      if (es.readyState === 2) {  // the browser gave up (e.g. a 503 while the server restarts): reopen
        window.clearTimeout(retryTimer);
        retryTimer = window.setTimeout(function () { if (source === es) { open(wantedKind); } }, 2000);
      }
    });
  }

  function follow() {  // the page changed (or the frame appeared): open, keep or close the stream
    var want = wanted();
    if (want === null) { return; }
    // the one place that watches navigation: live.js closes the map's stream when the map is left
    document.dispatchEvent(new CustomEvent("crisis:page", {detail: {path: window.location.pathname, live: want}}));
    if (superseded) { return; }
    if (want === "map") { close(); return; }
    if (want === kind && source) { refresh(); return; }
    open(want);
  }

  function later() { window.setTimeout(follow, 0); }
  ["pushState", "replaceState"].forEach(function (name) {
    var original = window.history[name];
    window.history[name] = function () { var r = original.apply(this, arguments); later(); return r; };
  });
  window.addEventListener("popstate", later);

  // the frame (and its contract) is drawn by Dash after this script runs: wait for it, without asking anything
  function start(tries) {
    if (contract()) { follow(); return; }
    if (tries > 0) { window.requestAnimationFrame(function () { start(tries - 1); }); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { start(1200); });
  } else { start(1200); }
})();
