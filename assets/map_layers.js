/*
 * The map's layers keep their place instead of being made again on every draw.
 *
 * plotly.js (4.x) inserts the MapLibre layers of each trace and of each entry of layout.map.layers "below"
 * a layer named by `below`. When two of them name the same one, it forgets where each of them was
 * (Map.fillBelowLookup sets their `below` to null) and so removes and adds them again on every
 * Plotly.react: MapLibre then parses their sources again and paints several frames for one patch of a
 * few live points. Ours all named the same: every trace "" and every outline and label layer "traces".
 * Measured in headless Chromium with software WebGL, each of those frames held the page's main thread for
 * 120-290 ms, and a live point patch cost 4-6 of them (bench/README.md, section 2).
 *
 * So before each Plotly.react of a map already drawn, crisisMapLayers.chained gives each its own `below`
 * that keeps the same order: an outline or label layer goes below the layout layer after it (the last
 * below "traces"), and a trace goes below the first layer of the trace after it (the last: "", the top).
 * Trace layer ids come from the traces' uids (layers.basemap.map_figure sets them from the trace names);
 * a figure whose traces are not all scattermap traces with a uid keeps its traces' `below` as given.
 * The first draw (no map yet) is left as it is: the layers are made then anyway. assets/map_recover.js,
 * which wraps Plotly.react, calls it.
 */
(function () {
  "use strict";
  var LAYOUT_LAYER = "plotly-layout-layer-", TRACE_LAYER = "plotly-trace-layer-";

  function subplotOf(gd) {
    var layout = gd && gd._fullLayout, map = layout && layout.map;
    return map && map._subplot && map._subplot.map ? map._subplot : null;
  }

  function withBelow(item, below) {
    return item.below === below ? item : Object.assign({}, item, {below: below});
  }

  // The figure given, or a copy with its map layers' and traces' `below` chained (see above).
  function chained(gd, figure) {
    var sub = subplotOf(gd), layout = figure && figure.layout, map = layout && layout.map;
    if (!sub || !map) { return figure; }
    var layers = Array.isArray(map.layers) ? map.layers : [];
    var chainedLayers = layers.map(function (layer, k) {
      return withBelow(layer, k + 1 < layers.length ? LAYOUT_LAYER + sub.uid + "-" + (k + 1) : "traces");
    });
    var data = Array.isArray(figure.data) ? figure.data : [];
    var named = data.length > 0 && data.every(function (t) {
      return t && t.type === "scattermap" && typeof t.uid === "string" && t.uid !== "";
    });
    var chainedData = !named ? data : data.map(function (trace, i) {
      return withBelow(trace, i + 1 < data.length ? TRACE_LAYER + data[i + 1].uid + "-fill" : "");
    });
    return Object.assign({}, figure, {
      data: chainedData,
      layout: Object.assign({}, layout, {map: Object.assign({}, map, {layers: chainedLayers})})
    });
  }

  window.crisisMapLayers = {chained: chained};
})();
