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
 * on as if the first draw had worked. body[data-map-retries] counts the
 * attempts. Any other error is passed on unchanged.
 */
(function () {
  "use strict";
  var MAP_ERROR = "Map error.", MAX_DELAY = 30000;

  function isMapError(error) { return !!error && error.message === MAP_ERROR; }

  function redraw(Plotly, gd, figure, failures) {
    return new Promise(function (resolve) {
      setTimeout(resolve, Math.min(MAX_DELAY, 1000 * Math.pow(2, failures)));
    }).then(function () {
      document.body.dataset.mapRetries = String(Number(document.body.dataset.mapRetries || 0) + 1);
      return Plotly.newPlot(gd, figure);
    }).catch(function (error) {
      if (!isMapError(error)) { throw error; }
      return redraw(Plotly, gd, figure, failures + 1);
    });
  }

  function wrap(Plotly) {
    if (!Plotly || Plotly.crisisRecovers || typeof Plotly.react !== "function") { return Plotly; }
    var react = Plotly.react;
    Plotly.react = function (gd, figure) {
      var args = arguments;
      return react.apply(Plotly, args).catch(function (error) {
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
