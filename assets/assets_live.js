/*
 * Live asset positions for the map page.
 *
 * The page's one live stream (/live/map, opened by live.js) carries the
 * "asset" events too; live.js hands each to window.crisisAssets.onAsset, and
 * calls window.crisisAssets.reset(spec) whenever the map is rebuilt. Each
 * asset is moved in place: a Dash Patch assigns the new lat/lon, colour and
 * label at the asset's index in the two asset traces (ring and dot). An asset
 * not yet on the map is appended. The trace indices, the map's id and the
 * prefix of an asset's id on the map come from the page contract
 * (#crisis-contract), never from literals. An "asset_withdraw" event (the
 * asset was taken from this viewer's nation) takes its point off the map: its
 * place in the traces is kept, with no position, so a later "asset" event
 * (released again) draws it there anew.
 */
(function () {
  "use strict";
  var index = {}, count = 0, pending = {}, timer = null;
  var INTERVAL = 250;

  function pageContract() { return window.crisisContract.get(); }  // contract.js

  function draw() {
    timer = null;
    var RING = pageContract().traces.assets_ring, DOT = pageContract().traces.assets_dot;
    var prefix = pageContract().assetPrefix;
    var ids = Object.keys(pending);
    if (!ids.length) { return; }
    var dc = window.dash_clientside, fig = new dc.Patch();
    ids.forEach(function (id) {
      var a = pending[id], i = index[id];
      if (a === null) {  // withdrawn: no position, no label (nothing to do if it was never drawn)
        if (i === undefined) { return; }
        [RING, DOT].forEach(function (t) {
          fig.assign(["data", t, "lat", i], null);
          fig.assign(["data", t, "lon", i], null);
        });
        fig.assign(["data", DOT, "hovertext", i], "");
        return;
      }
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
        fig.append(["data", DOT, "customdata"], prefix + a.id);
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

  window.crisisAssets = {
    // an "asset" event of the page's live stream
    onAsset: function (event) {
      var a = JSON.parse(event.data);
      pending[a.id] = a;  // only the newest position of each asset is drawn
      if (!timer) { timer = setTimeout(draw, INTERVAL); }
    },
    // an "asset_withdraw" event: {"id"} of an asset no longer released to this viewer
    onWithdraw: function (event) {
      pending[JSON.parse(event.data).id] = null;
      if (!timer) { timer = setTimeout(draw, INTERVAL); }
    },
    // the map was (re)built: its asset traces hold spec.asset_ids, in that order
    reset: function (spec) {
      clearTimeout(timer); timer = null; pending = {}; index = {}; count = 0;
      (spec.asset_ids || []).forEach(function (id, i) { index[id] = i; count = i + 1; });
    }
  };
})();
