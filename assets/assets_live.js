/*
 * Live asset positions for the map page.
 *
 * Opens /live/assets (server-sent events, event "asset") from the asset cursor
 * the server built the map at, and moves each asset in place: a Dash Patch
 * assigns the new lat/lon, colour and label at the asset's index in the two
 * asset traces (ring and dot; their indices and the map's id come from the
 * page contract, #crisis-contract). An asset not yet on the map is appended.
 * EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed.
 */
(function () {
  "use strict";
  var PREFIX = "asset:", contract = null;
  var source = null, index = {}, count = 0, pending = {}, timer = null, lastId = null, spec = null, retry = null;
  var INTERVAL = 250;

  function pageContract() {
    if (!contract) { contract = JSON.parse(document.getElementById("crisis-contract").getAttribute("data-contract")); }
    return contract;
  }

  function draw() {
    timer = null;
    var RING = pageContract().traces.assets_ring, DOT = pageContract().traces.assets_dot;
    var ids = Object.keys(pending);
    if (!ids.length) { return; }
    var dc = window.dash_clientside, fig = new dc.Patch();
    ids.forEach(function (id) {
      var a = pending[id], i = index[id];
      if (i === undefined) {
        index[id] = i = count++;
        [RING, DOT].forEach(function (t) {
          fig.append(["data", t, "lat"], a.lat);
          fig.append(["data", t, "lon"], a.lon);
        });
        fig.append(["data", RING, "marker", "color"], a.ring);
        fig.append(["data", RING, "marker", "size"], a.size);
        fig.append(["data", RING, "marker", "opacity"], a.opacity);
        fig.append(["data", DOT, "marker", "color"], a.dot);
        fig.append(["data", DOT, "customdata"], PREFIX + a.id);
        fig.append(["data", DOT, "hovertext"], a.text);
      } else {
        [RING, DOT].forEach(function (t) {
          fig.assign(["data", t, "lat", i], a.lat);
          fig.assign(["data", t, "lon", i], a.lon);
        });
        fig.assign(["data", RING, "marker", "opacity", i], a.opacity);
        fig.assign(["data", DOT, "marker", "color", i], a.dot);
        fig.assign(["data", DOT, "hovertext", i], a.text);
      }
    });
    pending = {};
    dc.set_props(pageContract().ids.map, {figure: fig.build()});
    document.body.dataset.assetUpdates = String(Number(document.body.dataset.assetUpdates || 0) + ids.length);
  }

  function onAsset(event) {
    if (event.lastEventId) { lastId = event.lastEventId; }
    var a = JSON.parse(event.data);
    pending[a.id] = a;  // only the newest position of each asset is drawn
    if (!timer) { timer = setTimeout(draw, INTERVAL); }
  }

  var superseded = false;

  function open(after) {
    if (superseded) { return; }
    if (source) { source.close(); }
    source = new EventSource("/live/assets?after=" + encodeURIComponent(after));
    source.addEventListener("open", function () { document.body.dataset.assetsLive = "open"; });
    source.addEventListener("asset", onAsset);
    // degraded mode (see degraded.js): the banner follows the server's data store
    source.addEventListener("status", function (e) {
      document.dispatchEvent(new CustomEvent("crisis:live-status", {detail: JSON.parse(e.data)}));
    });
    source.addEventListener("reload", function () { window.location.reload(); });
    // signed out, token or account revoked, rights changed: the page reloads under the new rights
    source.addEventListener("revoked", function () { source.close(); window.location.reload(); });
    // a newer stream of the same user took this one's place: stay closed (see live.js)
    source.addEventListener("superseded", function () {
      superseded = true; source.close(); clearTimeout(retry); document.body.dataset.assetsLive = "superseded";
    });
    source.addEventListener("error", function () {
      if (superseded) { return; }
      document.body.dataset.assetsLive = "error";
      if (source.readyState === 2) {
        clearTimeout(retry);
        retry = setTimeout(function () { open(lastId || spec.assets_after); }, 2000);
      }
    });
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.crisisAssets = {
    connect: function (newSpec) {
      if (!newSpec || !newSpec.assets_after) { return window.dash_clientside.no_update; }
      spec = newSpec; lastId = null; clearTimeout(retry); clearTimeout(timer); timer = null; pending = {};
      index = {}; count = 0;
      (spec.asset_ids || []).forEach(function (id, i) { index[id] = i; count = i + 1; });
      open(spec.assets_after);
      return spec.assets_after;
    }
  };
})();
