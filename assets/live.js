/*
 * Live push client for the map page.
 *
 * Opens a server-sent-events stream (/live/alerts) with the page's filters and
 * the cursor the server built the map at, and applies each new alert as a
 * partial update (Dash Patch): points appended to the live traces, an item
 * prepended to the latest-alerts list. EventSource reconnects by itself and
 * sends Last-Event-ID, so the server replays whatever was missed.
 * Ids already applied are skipped, so a replay never draws a point twice.
 */
(function () {
  "use strict";
  var LIVE_RING = 2, LIVE_CORE = 3;
  var source = null, seen = new Set(), pending = [], scheduled = false, limit = 50;
  var spec = null, lastId = null, retryTimer = null;
  var shown = 0;

  function status(text, cls) {
    var el = document.getElementById("live-status");
    if (el) { el.textContent = text; el.className = "live-status " + (cls || ""); }
  }

  // The list is updated at the next frame; the map, whose redraw is costly
  // (WebGL), at most every MAP_INTERVAL ms with everything that arrived since.
  var MAP_INTERVAL = 1000, mapPending = [], mapTimer = null, lastMapDraw = 0;

  function flush() {
    scheduled = false;
    var batch = pending; pending = [];
    if (!batch.length) { return; }
    var dc = window.dash_clientside;
    var list = new dc.Patch();
    batch.forEach(function (a) { list.prepend([], a.item); });
    for (var i = 0; i < batch.length; i++) { list.delete([limit]); }
    dc.set_props("alert-list", {children: list.build()});
    shown += batch.length;
    dc.set_props("shown-count", {children: String(shown)});
    status("live · last alert " + new Date().toLocaleTimeString(), "ok");
    document.body.dataset.liveApplied = String(Number(document.body.dataset.liveApplied || 0) + batch.length);
    mapPending = mapPending.concat(batch);
    if (!mapTimer) {
      var wait = Math.max(0, lastMapDraw + MAP_INTERVAL - Date.now());
      mapTimer = setTimeout(drawOnMap, wait);
    }
  }

  function drawOnMap() {
    mapTimer = null; lastMapDraw = Date.now();
    var batch = mapPending; mapPending = [];
    if (!batch.length) { return; }
    var fig = new window.dash_clientside.Patch();
    var col = function (key) { return batch.map(function (a) { return a[key]; }); };
    var lat = col("lat"), lon = col("lon");
    [LIVE_RING, LIVE_CORE].forEach(function (t) {
      fig.extend(["data", t, "lat"], lat);
      fig.extend(["data", t, "lon"], lon);
    });
    fig.extend(["data", LIVE_RING, "marker", "color"], col("ring"));
    fig.extend(["data", LIVE_CORE, "marker", "color"], col("core"));
    fig.extend(["data", LIVE_CORE, "customdata"], col("id"));
    fig.extend(["data", LIVE_CORE, "hovertext"], col("text"));
    window.dash_clientside.set_props("incident-map", {figure: fig.build()});
  }

  function onAlert(event) {
    if (event.lastEventId) { lastId = event.lastEventId; }
    var alert = JSON.parse(event.data);
    if (seen.has(alert.id)) { return; }
    seen.add(alert.id);
    pending.push(alert);
    if (!scheduled) { scheduled = true; window.requestAnimationFrame(flush); }
  }

  function open(after) {
    if (source) { source.close(); }
    var url = "/live/alerts?" + (spec.query ? spec.query + "&" : "") + "after=" + encodeURIComponent(after);
    source = new EventSource(url);
    source.addEventListener("open", function () { status("live", "ok"); document.body.dataset.live = "open"; });
    source.addEventListener("alert", onAlert);
    source.addEventListener("reload", function () { window.location.reload(); });
    source.addEventListener("error", function () {
      document.body.dataset.live = "error";
      if (source.readyState === 2) {
        // The browser gave up (e.g. the server answered an error while restarting):
        // reopen from the last event applied, so the replay covers the gap.
        status("disconnected · retrying", "warn");
        clearTimeout(retryTimer);
        retryTimer = setTimeout(function () { open(lastId || spec.after); }, 2000);
      } else {
        status("reconnecting…", "warn");
      }
    });
  }

  function connect(newSpec) {
    spec = newSpec; lastId = null; clearTimeout(retryTimer);
    clearTimeout(mapTimer); mapTimer = null; mapPending = [];
    seen = new Set(); pending = []; limit = spec.limit || 50;
    shown = spec.shown || 0;
    open(spec.after);
  }

  // A click on an item of the latest-alerts list selects that alert (one
  // listener for the whole list, however many items arrive).
  document.addEventListener("click", function (event) {
    var item = event.target && event.target.closest && event.target.closest("#alert-list [data-alert-id]");
    if (item) {
      window.dash_clientside.set_props("selected-alert",
        {data: {id: item.getAttribute("data-alert-id"), at: Date.now()}});
    }
  });

  // A closed stream (the server refused it) is reopened by the watchdog rebuild;
  // EventSource itself retries every dropped connection.
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.crisis = {
    connectLive: function (spec) {
      if (!spec) { return window.dash_clientside.no_update; }
      connect(spec);
      return spec.after;
    }
  };
})();
