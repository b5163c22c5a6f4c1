/*
 * Picking on the live map: what a click selects, the picker for overlapping
 * features, the opening view, the filters folded at phone width.
 *
 * The rule (layers/traces.py, read from the page contract's "hits"): a click
 * picks every feature whose outermost circle (the incident's type ring, the
 * asset's ring) is under the pointer, give or take TOLERANCE px; incidents
 * come first (live, then built), then assets, nearer first within a kind.
 * The first is selected at once (window.crisisLive.select, as a click in the
 * list does); when there are several, a small labelled picker at the pointer
 * lists them all in that order, so an asset under an incident, or two
 * incidents at one place, can still be chosen, by pointer or keyboard (Tab,
 * Enter; Escape closes it). Plotly's own clickData is not used: it picks by
 * distance minus radius, which favours the smaller marker whatever is on top.
 * A drag (pan) is not a click. Grid cells (layers/cells.py: incidents counted
 * when there are too many to draw) come last: a click where only a cell is
 * zooms the map in to it (CELL_ZOOM levels), as the user's own view change,
 * so the page rebuilds the map for the new view (mapView).
 * mapView (a Dash clientside callback of the map page): the view the map
 * shows once a move has ended, {zoom, center: {lon, lat}, bounds: [west,
 * south, east, north]}, read from the map itself (or from the relayout when
 * the map is not drawn yet), for the build (layers/cells.py); it asks for a
 * rebuild only when the build follows the view.
 * Opening view: once per map drawn, the map is fitted to the region
 * (contract "regionBounds") at whatever size it has, phone or desktop; it is
 * passed to plotly as a view change of the user's, so later rebuilds keep it.
 */
(function () {
  "use strict";
  var TOLERANCE = 2, DRAG = 5, CELL_ZOOM = 2;
  var down = null, fitted = null, unfolded = null;

  function pageContract() { return window.crisisContract.get(); }  // contract.js

  function ids() { return pageContract().ids; }

  function graph() {
    var holder = document.getElementById(ids().map);
    return holder && holder.querySelector(".js-plotly-plot");
  }

  function mapOf(gd) {
    var layout = gd && gd._fullLayout, sub = layout && layout.map && layout.map._subplot;
    return sub && sub.map;
  }

  function at(values, i) { return values && values.length !== undefined ? values[i] : values; }

  // Words in the page's language (contract.js), produced when the picker is drawn.
  function words() { var c = window.crisisContract; return {t: c.t, tn: c.tn, fmt: c.fmt}; }

  function plainText(html) {
    return new DOMParser().parseFromString(String(html || ""), "text/html").body.textContent || "";
  }

  // The label of a picked feature: the first lines of its hover text, as plain text.
  function labelOf(text, kind) {
    var lines = String(text || "").split("<br>").slice(0, kind === "asset" ? 2 : 3).map(plainText);
    return lines.filter(Boolean).join(" · ");
  }

  // Every feature under the pixel [x, y] of the map, in the order of the rule.
  function hitsAt(gd, map, x, y) {
    var found = [], seen = new Set(), prefix = pageContract().assetPrefix;
    pageContract().hits.forEach(function (layer, rank) {
      var trace = gd._fullData[layer.points], extent = gd._fullData[layer.extent];
      if (!trace || trace.visible !== true || !trace.lat) { return; }
      var sizes = extent && extent.marker ? extent.marker.size : 0;
      var maxR = (Array.isArray(sizes) ? Math.max.apply(null, sizes.concat([0])) : sizes || 0) / 2 + TOLERANCE;
      var a = map.unproject([x - maxR, y - maxR]), b = map.unproject([x + maxR, y + maxR]);
      var west = Math.min(a.lng, b.lng), east = Math.max(a.lng, b.lng);
      var south = Math.min(a.lat, b.lat), north = Math.max(a.lat, b.lat);
      var lat = trace.lat, lon = trace.lon;
      for (var i = 0; i < lat.length; i++) {
        var la = lat[i], lo = lon[i];
        if (la === null || lo === null || !isFinite(la) || !isFinite(lo)) { continue; }
        if (la < south || la > north || lo < west || lo > east) { continue; }
        var p = map.project([lo, la]), d = Math.hypot(p.x - x, p.y - y);
        var r = (at(sizes, i) || 0) / 2 + TOLERANCE;
        var id = at(trace.customdata, i);
        if (d > r || id === null || id === undefined || seen.has(id)) { continue; }
        seen.add(id);
        found.push({kind: layer.kind, rank: rank, distance: d, lon: lo, lat: la,
                    id: layer.kind === "asset" ? String(id).slice(prefix.length) : String(id),
                    label: labelOf(at(trace.hovertext, i), layer.kind)});
      }
    });
    found.sort(function (p, q) { return p.rank - q.rank || p.distance - q.distance; });
    return found;
  }

  function el(type, className, children, extra) {
    var props = {className: className, children: children};
    Object.keys(extra || {}).forEach(function (k) { props[k] = extra[k]; });
    return {type: type, namespace: "dash_html_components", props: props};
  }

  function closePicker() {
    var picker = document.getElementById(ids().picker);
    if (picker && !picker.hidden) {
      window.dash_clientside.set_props(ids().picker, {hidden: true, children: []});
    }
  }

  function openPicker(found, x, y, chosen) {
    var area = document.getElementById(ids().map).getBoundingClientRect();
    var w = words(), t = w.t, tn = w.tn, fmt = w.fmt;
    var buttons = found.map(function (f) {  // the label (a headline, a name) inside a translated sentence
      var text = fmt(f.kind === "asset" ? t("Asset: %(label)s") : t("Incident: %(label)s"), {label: f.label});
      return el("Li", "", [el("Button", "pick" + (f === chosen ? " current" : ""), text, {
        type: "button", "data-pick-kind": f.kind, "data-pick-id": f.id, "aria-pressed": f === chosen ? "true" : "false"
      })]);
    });
    var left = Math.max(4, Math.min(x + 12, area.width - 280)), top = Math.max(4, Math.min(y + 12, area.height - 160));
    window.dash_clientside.set_props(ids().picker, {hidden: false, style: {left: left + "px", top: top + "px"},
      children: [el("P", "picker-title", fmt(tn("%(n)s feature here", "%(n)s features here", found.length),
                                             {n: found.length})),
                 el("Ul", "picker-list", buttons),
                 el("Button", "picker-close", t("Close"), {type: "button", "aria-label": t("Close the list")})]});
    focusPicker(30);
  }

  function focusPicker(tries) {
    var first = document.querySelector("#" + ids().picker + " button.pick");
    if (first) { first.focus(); return; }
    if (tries > 0) { window.requestAnimationFrame(function () { focusPicker(tries - 1); }); }
  }

  function pick(event) {
    var gd = graph(), map = mapOf(gd);
    if (!map) { return; }
    var rect = map.getCanvas().getBoundingClientRect();
    var x = event.clientX - rect.left, y = event.clientY - rect.top;
    var hits = hitsAt(gd, map, x, y);
    var found = hits.filter(function (f) { return f.kind !== "cell"; });
    document.body.dataset.mapPicks = String(Number(document.body.dataset.mapPicks || 0) + 1);
    if (!found.length && hits.length) {  // only a grid cell here: zoom in to it
      closePicker();
      map.jumpTo({center: [hits[0].lon, hits[0].lat], zoom: map.getZoom() + CELL_ZOOM}, {originalEvent: {type: "cell"}});
      document.body.dataset.mapCellZooms = String(Number(document.body.dataset.mapCellZooms || 0) + 1);
      return;
    }
    if (!found.length) { closePicker(); return; }
    window.crisisLive.select({id: found[0].id, kind: found[0].kind});
    if (found.length > 1) { openPicker(found, x, y, found[0]); } else { closePicker(); }
  }

  function onMap(target) {
    var holder = pageContract() && document.getElementById(ids().map);
    return !!(holder && target && holder.contains(target) && !target.closest(".modebar") &&
              !target.closest("#" + ids().picker));
  }

  document.addEventListener("mousedown", function (event) {
    down = onMap(event.target) ? {x: event.clientX, y: event.clientY} : null;
  }, true);

  document.addEventListener("click", function (event) {
    if (!pageContract()) { return; }
    var choice = event.target && event.target.closest && event.target.closest("#" + ids().picker + " button");
    if (choice) {
      if (choice.hasAttribute("data-pick-id")) {
        window.crisisLive.select({id: choice.getAttribute("data-pick-id"), kind: choice.getAttribute("data-pick-kind")});
      }
      closePicker();
      return;
    }
    if (!down || !onMap(event.target)) { return; }
    var moved = Math.hypot(event.clientX - down.x, event.clientY - down.y);
    down = null;
    if (moved <= DRAG) { pick(event); }
  }, true);

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !pageContract()) { return; }
    var picker = document.getElementById(ids().picker);
    if (picker && !picker.hidden) {
      closePicker();
      var map = mapOf(graph());
      if (map && picker.contains(event.target)) { map.getCanvas().focus(); }
    }
  });

  // Once per map: the region in view at the map's size; the filters open where there is room for them.
  function settle() {
    if (!pageContract()) { return; }
    var panel = document.getElementById(ids().filters);
    if (panel && panel !== unfolded) {
      unfolded = panel;
      if (window.matchMedia("(min-width: 901px)").matches) { panel.open = true; }
    }
    var map = mapOf(graph());
    if (map && map !== fitted) {
      fitted = map;
      var b = pageContract().regionBounds;
      map.fitBounds([[b[0], b[1]], [b[2], b[3]]], {padding: 8, animate: false}, {originalEvent: {type: "fit"}});
      document.body.dataset.mapFitted = String(Number(document.body.dataset.mapFitted || 0) + 1);
    }
  }

  window.setInterval(settle, 200);

  // The view for the map page's build, [view, moved]: the view from the map once drawn (else from the
  // relayout), and again as "moved" only when the build follows the view (spec.partial), so a move
  // rebuilds only a picture that depends on it; no update for a relayout that moves nothing (autosize).
  function mapView(relayout, spec) {
    var none = window.dash_clientside.no_update, data = relayout || {}, view = null;
    var moved = Object.keys(data).some(function (k) { return k.indexOf("map.") === 0 || k === "map"; });
    if (!moved) { return [none, none]; }
    var map = mapOf(graph());
    if (map) {
      var b = map.getBounds(), c = map.getCenter();
      view = {zoom: map.getZoom(), center: {lon: c.lng, lat: c.lat},
              bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]};
    } else {
      var centre = data["map.center"] || (data.map || {}).center, zoom = data["map.zoom"] || (data.map || {}).zoom;
      if (!centre || zoom === undefined) { return [none, none]; }
      view = {zoom: zoom, center: {lon: centre.lon, lat: centre.lat}, bounds: null};
    }
    return [view, spec && spec.partial ? view : none];
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.crisis = Object.assign(window.dash_clientside.crisis || {}, {mapView: mapView});
})();
