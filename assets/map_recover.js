/*
 * The live map recovers from a failed load instead of staying broken.
 *
 * The map's outlines are GeoJSON files served from our assets. When one fetch
 * fails (the server restarting while the page loads, a dropped connection),
 * MapLibre reports an error and plotly.js rejects its plot with "Map error.":
 * the map never finishes loading, and dcc.Graph, which chains every later
 * draw on that rejected promise, never draws again (live points included) nor
 * answers clicks. So this script wraps Plotly.react: a "Map error." is not
 * passed on; the figure is drawn anew (Plotly.newPlot: a new MapLibre map that
 * fetches the outlines again) after 1 s, then 2, 4 ... at most 30 s while it
 * keeps failing, and the draw resolves once that succeeds, so the graph goes
 * on as if the first draw had worked. A fetch that fails after the map was
 * drawn (MapLibre's "error" event, naming its source) is retried the same way
 * for that source alone (setData with its URL). body[data-map-retries] counts
 * the attempts of both kinds. Any other error is passed on unchanged.
 *
 * The same wrapper keeps the map's layers in their places (assets/map_layers.js):
 * before each draw it gives the outlines a place of their own (so a live patch
 * does not make them again), and after a draw it puts any layer out of place back.
 */
(function () {
  "use strict";
  var MAP_ERROR = "Map error.", MAX_DELAY = 30000;

  function isMapError(error) { return !!error && error.message === MAP_ERROR; }

  function delay(failures) { return Math.min(MAX_DELAY, 1000 * Math.pow(2, failures)); }

  function counted() {
    document.body.dataset.mapRetries = String(Number(document.body.dataset.mapRetries || 0) + 1);
  }

  // After a draw: a source of the map whose fetch fails later is fetched again, with back-off.
  function watch(gd) {
    var layout = gd && gd._fullLayout, sub = layout && layout.map && layout.map._subplot;
    var map = sub && sub.map;
    if (!map || map.crisisWatched) { return; }
    map.crisisWatched = true;
    var failures = {};
    map.on("error", function (event) {
      var id = event && event.sourceId, source = id && map.getSource(id);
      var url = source && source.serialize && source.serialize().data;
      if (typeof url !== "string") { return; }
      failures[id] = (failures[id] || 0) + 1;
      setTimeout(function () { counted(); source.setData(url); }, delay(failures[id] - 1));
    });
  }

  function redraw(Plotly, gd, figure, failures) {
    return new Promise(function (resolve) {
      setTimeout(resolve, delay(failures));
    }).then(function () {
      counted();
      return Plotly.newPlot(gd, figure);
    }).then(function (result) { watch(gd); return result; }).catch(function (error) {
      if (!isMapError(error)) { throw error; }
      return redraw(Plotly, gd, figure, failures + 1);
    });
  }

  function wrap(Plotly) {
    if (!Plotly || Plotly.crisisRecovers || typeof Plotly.react !== "function") { return Plotly; }
    var react = Plotly.react;
    Plotly.react = function (gd, figure) {
      var args = Array.prototype.slice.call(arguments);
      if (window.crisisMapLayers && figure && figure.layout) {
        figure = args[1] = window.crisisMapLayers.chained(gd, figure);
      }
      return react.apply(Plotly, args).then(function (result) {
        watch(gd);
        if (window.crisisMapLayers) { window.crisisMapLayers.watchOrder(gd); }
        return result;
      }, function (error) {
        if (!isMapError(error) || !figure || !figure.data) { throw error; }
        return redraw(Plotly, gd, figure, 0);
      });
    };
    Plotly.crisisRecovers = true;
    return Plotly;
  }

  if (window.Plotly) {
    wrap(window.Plotly);
  } else {  // plotly.js loads after this script: wrap it as it arrives
    var held;
    Object.defineProperty(window, "Plotly", {
      configurable: true, enumerable: true,
      get: function () { return held; },
      set: function (value) { held = wrap(value); }
    });
  }
})();
