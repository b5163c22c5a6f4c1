/*
 * The map's layers keep their place: outlines and names below every trace, traces in the figure's order.
 *
 * 1. Layers are not made again on every draw. plotly.js (4.x) inserts the MapLibre layers of each trace and
 *    of each entry of layout.map.layers "below" a layer named by `below`; when two of them name the same one,
 *    it forgets where each was (Map.fillBelowLookup sets their `below` to null) and removes and adds them
 *    again on every Plotly.react, on top of the others for a trace: MapLibre parses their sources again and
 *    paints several more frames for one patch of a few live points (each frame held the page's main thread
 *    120-290 ms where WebGL is drawn in software: bench/README.md, section 2), and live points landed above
 *    every built incident's core. Ours all named the same: every trace "", every outline "traces". So before
 *    each Plotly.react of a map already drawn, crisisMapLayers.chained gives each its own `below` that keeps
 *    the order: an outline or name layer, the layout layer after it (the last: "traces"); a trace, the first
 *    layer of the next trace that has layers on the map now (none: "", the top). A trace without points has
 *    no layers, so it is never named.
 * 2. Traces are drawn in the figure's order (layers.traces.MAP_TRACES: an incident is never under an asset,
 *    a ring never over a core). Where plotly.js still adds a trace's layers elsewhere (a relayout, which
 *    draws with the `below` of the last react), after each draw (plotly_afterplot) crisisMapLayers.keepOrder
 *    moves any layer out of place back (MapLibre's moveLayer: no source is read again);
 *    body[data-map-reordered] counts the draws that needed it.
 * assets/map_recover.js, which wraps Plotly.react, calls chained and keepOrder.
 */
(function () {
  "use strict";
  var LAYOUT_LAYER = "plotly-layout-layer-", TRACE_LAYER = "plotly-trace-layer-";
  var TRACE_KINDS = ["fill", "line", "circle", "symbol"];  // plotly's order of a scattermap trace's layers

  function subplotOf(gd) {
    var layout = gd && gd._fullLayout, map = layout && layout.map;
    return map && map._subplot && map._subplot.map ? map._subplot : null;
  }

  function withBelow(item, below) {
    return item.below === below ? item : Object.assign({}, item, {below: below});
  }

  // The traces of `data` with `below` chained to the next trace that has layers on the map now (see 1
  // above), or `data` itself unless every trace is a scattermap trace with a uid.
  function chainedTraces(sub, data) {
    var named = data.length > 0 && data.every(function (t) {
      return t && t.type === "scattermap" && typeof t.uid === "string" && t.uid !== "";
    });
    if (!named) { return data; }
    var drawn = data.map(function (t) { return !!sub.map.getLayer(TRACE_LAYER + t.uid + "-" + TRACE_KINDS[0]); });
    return data.map(function (trace, i) {
      var next = i + 1;
      while (next < data.length && !drawn[next]) { next++; }
      return withBelow(trace, next < data.length ? TRACE_LAYER + data[next].uid + "-" + TRACE_KINDS[0] : "");
    });
  }

  // The figure given, or a copy with its layout layers' and traces' `below` chained (see 1 above).
  function chained(gd, figure) {
    var sub = subplotOf(gd), layout = figure && figure.layout, map = layout && layout.map;
    if (!sub || !map) { return figure; }
    var layers = (Array.isArray(map.layers) ? map.layers : []).map(function (layer, k, all) {
      return withBelow(layer, k + 1 < all.length ? LAYOUT_LAYER + sub.uid + "-" + (k + 1) : "traces");
    });
    return Object.assign({}, figure, {
      data: chainedTraces(sub, Array.isArray(figure.data) ? figure.data : []),
      layout: Object.assign({}, layout, {map: Object.assign({}, map, {layers: layers})})
    });
  }

  // The ids of the map's layers drawn by plotly, in the order they should be (see 2 above), and as they are.
  function orders(gd, sub) {
    var present = sub.map.getLayersOrder();
    var held = new Set(present), want = [];
    var outlines = present.filter(function (id) { return id.indexOf(LAYOUT_LAYER + sub.uid + "-") === 0; });
    outlines.sort(function (a, b) { return Number(a.split("-").pop()) - Number(b.split("-").pop()); });
    want = want.concat(outlines);
    (gd._fullData || []).forEach(function (trace) {
      TRACE_KINDS.forEach(function (kind) {
        var id = TRACE_LAYER + trace.uid + "-" + kind;
        if (held.has(id)) { want.push(id); }
      });
    });
    var wanted = new Set(want);
    return {want: want, now: present.filter(function (id) { return wanted.has(id); })};
  }

  function keepOrder(gd) {
    var sub = subplotOf(gd);
    if (!sub || !sub.map.style || typeof sub.map.getLayersOrder !== "function") { return false; }
    var o = orders(gd, sub);
    if (o.want.join("\n") === o.now.join("\n")) { return false; }
    for (var i = o.want.length - 2; i >= 0; i--) { sub.map.moveLayer(o.want[i], o.want[i + 1]); }
    document.body.dataset.mapReordered = String(Number(document.body.dataset.mapReordered || 0) + 1);
    return true;
  }

  // After every draw of gd (react, relayout, restyle), its layers are put back in order.
  function watchOrder(gd) {
    if (!gd || gd.crisisOrderWatched || typeof gd.on !== "function") { return; }
    gd.crisisOrderWatched = true;
    gd.on("plotly_afterplot", function () { keepOrder(gd); });
    keepOrder(gd);
  }

  window.crisisMapLayers = {chained: chained, keepOrder: keepOrder, watchOrder: watchOrder};
})();
