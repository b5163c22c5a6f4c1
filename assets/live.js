/*
 * Live push client for the map page.
 *
 * The server builds the map and sends, with it, the latest alerts as plain
 * data and the events-stream cursor it reflects (the "live-source" store).
 * This script renders the latest-alerts list from that data, then opens the
 * page's one server-sent-events stream (/live/map: alerts and assets in one
 * connection, so several map tabs do not use up the browser's six connections
 * per host) with the page's filters from the alert and asset cursors, and
 * applies each event as a partial update (Dash Patch):
 *   - "alert": a new alert; its point is appended to the live traces and it
 *     is put at the top of the list;
 *   - "update": a change to an alert (acknowledged, escalated, resolved,
 *     cancelled...); its point is restyled where it is (built or live trace)
 *     and its list item re-rendered (an escalated one says "ESCALATED L1");
 *     when the build drew only part of the incidents as points (spec.partial:
 *     the others counted in grid cells or out of view, layers/cells.py), a
 *     change to one not drawn is not drawn as a new point: the map is built
 *     again a few seconds later (recountSoon), so its cell follows;
 *   - "asset": handed to assets_live.js (window.crisisAssets);
 *   - "withdraw": the alert is no longer released to this viewer (its
 *     releasability narrowed): its point and list item are removed (one
 *     counted in a grid cell: the map is built again shortly, recountSoon);
 *   - "alarm": the critical alarm (no id, the state now), handed on as the
 *     DOM event "crisis:alarm" (alarm.js), as page_live.js does on other pages.
 * Every point's colours, opacities and hover text come computed from the
 * server (payload "point"), so built and live points look alike. EventSource
 * reconnects by itself and sends Last-Event-ID, so the server replays what
 * was missed; an event already applied is recognised by its stream id.
 * Markings: each list item carries its alert's marking ("data-marking", and
 * its line shown small); the map carries the marking of everything it shows
 * ("data-marking" on the graph: the build's "marking", raised by every alert
 * that arrives or changes), so the banners (marking.js) rise live.
 * Stale feed: the server pings a quiet stream ("ping" every spec.ping_ms); when
 * neither an event nor a ping arrived for STALE_PINGS intervals the feed is
 * marked stale (data-live="stale") and reopened from the last event applied,
 * so a dead connection never looks live. "rebuild" (the replay would be too
 * long, or the cursor is older than the server keeps) re-runs the map's build,
 * which gives fresh cursors, instead of replaying.
 * Pause on hover: while the pointer is over the list (or the focus is in it)
 * new alerts do not move it; they are held, and the "N new" pill says how
 * many; clicked (or once the pointer and focus have left), it shows them.
 * Changes to alerts already listed are shown in place meanwhile.
 * Selection: a click (or Enter / Space on a focused item) selects an alert;
 * window.crisisLive.select is the one way in, for the list and the map
 * (map_select.js) alike. The selected item is highlighted (aria-current),
 * scrolled into view inside the list (never the page), and its details are
 * shown in the detail sheet (the map page's show_details).
 * Times the browser writes itself use crisisTime.label (crisis_time.js).
 * Words are in the page's language (crisisContract.t / tn / fmt, contract.js): severities, statuses and types
 * are worded here from their codes (the same messages as alerts.i18n.terms), so a live item reads like a
 * built one whatever language the stream's payload was made in; headlines, place names and markings are
 * content (data-translate="no").
 * Component ids and trace indices come from the page contract
 * (#crisis-contract, written by dashboard.components.ids), never from literals.
 */
(function () {
  "use strict";
  var source = null, spec = null, lastId = null, retryTimer = null;
  var items = [], shown = 0, applied = new Set();
  var listDirty = false, scheduled = false;
  var mapNew = [], mapChanged = {}, mapGone = [], mapTimer = null, mapTimerAt = 0, mapUrgent = false;
  // The map's redraw budget (see drawOnMap): at most MAP_SHARE of the main thread, redrawn MAP_INTERVAL to
  // MAP_WAIT_MAX after the last redraw ended, MAP_WAIT_CRITICAL at most when a new critical alert waits.
  var MAP_INTERVAL = 1000, MAP_WAIT_MAX = 5000, MAP_WAIT_CRITICAL = 2000, MAP_SHARE = 0.2;
  var mapCost = 0, mapDrawEnd = 0, mapDrawing = false, longTasks = null;
  var itemNodes = new Map(), listEl = null, pillSig = null;
  var RECOUNT_MS = 3000, recountTimer = null;
  var liveIndex = new Map(), liveCount = 0, builtIndex = null, unlocated = new Set(), withdrawn = new Set();
  var superseded = false;  // this tab's stream was taken over by a newer one of the same user
  var mapMarking = null;
  var STALE_PINGS = 3, lastHeard = 0, staleTimer = null;
  var held = [], hovering = false, focused = false, selectedId = null, observed = null, listSig = null;
  var restoring = false;

  function pageContract() { return window.crisisContract.get(); }  // contract.js
  var t = window.crisisContract.t, tn = window.crisisContract.tn, fmt = window.crisisContract.fmt;

  // The words for coded values (the messages of alerts.i18n.terms); a code not known here as itself.
  function asWords(code) { return String(code || "").replace(/_/g, " "); }
  function severityWord(code) {
    switch (code) {
      case "critical": return t("critical");
      case "high": return t("high");
      case "medium": return t("medium");
      case "low": return t("low");
      default: return asWords(code);
    }
  }
  function statusWord(code) {
    switch (code) {
      case "new": return t("new");
      case "acknowledged": return t("acknowledged");
      case "in_progress": return t("in progress");
      case "resolved": return t("resolved");
      case "cancelled": return t("cancelled");
      case "expired": return t("expired");
      default: return asWords(code);
    }
  }
  function typeWord(code) {
    switch (code) {
      case "terrorism": return t("terrorism");
      case "organized_crime": return t("organized crime");
      case "border_incident": return t("border incident");
      case "natural_disaster": return t("natural disaster");
      case "cyber": return t("cyber");
      case "civil_unrest": return t("civil unrest");
      case "military_activity": return t("military activity");
      case "hazmat": return t("hazardous materials");
      case "mass_casualty": return t("mass casualty");
      case "other": return t("other");
      default: return asWords(code);
    }
  }
  var CONTENT = {"data-translate": "no"};  // props of an element whose text is content, never translated

  function ids() { return pageContract().ids; }
  function traces() { return pageContract().traces; }

  // The status chip; "at" (a Date) is the instant its text names, whose local time shows on hover.
  function status(text, cls, at) {
    var el = document.getElementById(ids().status);
    if (!el) { return; }
    el.textContent = text; el.className = "live-status " + (cls || "");
    if (at) { el.setAttribute("data-utc", at.toISOString()); el.title = window.crisisTime.local(at); }
    else { el.removeAttribute("data-utc"); el.removeAttribute("title"); }
  }

  function utcTime(at) {
    return window.crisisTime ? window.crisisTime.label(at || new Date(), false) : "";
  }

  // --- the list: rendered here from plain data, for built and live items alike ---
  function el(type, className, children, extra) {
    var props = {className: className, children: children};
    Object.keys(extra || {}).forEach(function (k) { props[k] = extra[k]; });
    return {type: type, namespace: "dash_html_components", props: props};
  }

  function listItem(a) {
    var named = [a.region, a.country].filter(Boolean).join(", ");
    var place = named ? el("Span", "place", named, CONTENT) : (a.point.lon === null ? t("unlocated") : "—");
    var children = [el("Span", "sev sev-" + a.severity, window.crisisContract.upper(severityWord(a.severity)))];
    if (a.exercise) { children.push(el("Span", "exercise-tag", t("EXERCISE"))); }
    if (a.escalation) {
      children.push(el("Span", "escalation-tag", fmt(t("ESCALATED L%(level)s"), {level: a.escalation})));
    }
    children.push(el("Span", "title", a.title, CONTENT));
    children.push(el("Div", "meta", [typeWord(a.type), " · ", place, " · ",
                                     el("Time", "utc-time", a.reported_label,
                                        {dateTime: a.reported_at, "data-utc": a.reported_at}),
                                     " · ", statusWord(a.status)]));
    if (a.marking && window.crisisMarking) {
      children.push(el("Div", "marking-tag", window.crisisMarking.line(a.marking), CONTENT));
    }
    var chosen = a.id === selectedId;
    var cls = "alert-item severity-" + a.severity + (a.exercise ? " exercise" : "") + (a.open ? "" : " closed") +
      (chosen ? " selected" : "");
    return el("Li", cls, children, {key: a.id, "data-alert-id": a.id, "data-status": a.status, tabIndex: 0,
                                    "aria-current": chosen ? "true" : "false",
                                    "data-escalation": String(a.escalation || 0),
                                    "data-marking": JSON.stringify(a.marking || null)});
  }

  // An element from the description listItem gives (el: the shape of a Dash component, kept so an item reads
  // the same as before); its "key" is not an attribute.
  var TAGS = {Span: "span", Div: "div", Li: "li", Time: "time"};
  function toNode(spec) {
    if (spec === null || spec === undefined) { return null; }
    if (typeof spec !== "object") { return document.createTextNode(String(spec)); }
    var node = document.createElement(TAGS[spec.type] || "span"), props = spec.props;
    Object.keys(props).forEach(function (k) {
      var v = props[k];
      if (k === "children" || k === "key" || v === undefined || v === null) { return; }
      if (k === "className") { node.className = v; }
      else if (k === "tabIndex") { node.tabIndex = v; }
      else if (k === "dateTime") { node.setAttribute("datetime", v); }
      else { node.setAttribute(k, v); }
    });
    [].concat(props.children === undefined || props.children === null ? [] : props.children).forEach(function (c) {
      var child = toNode(c);
      if (child) { node.appendChild(child); }
    });
    return node;
  }

  // The items are put in the list's element by this script, not through Dash (set_props and a React render of
  // the page for every alert cost more than the item itself, and waited behind the map's redraws): an item
  // unchanged keeps its element (and so its focus), a changed one is drawn anew in its place, the rest are
  // moved into order. The list's element has no children of Dash's own, so React never touches them.
  function drawItems(list) {
    if (list !== listEl) { listEl = list; itemNodes = new Map(); }
    var keep = new Map();
    items.forEach(function (a, i) {
      var sig = JSON.stringify([a, a.id === selectedId]), had = itemNodes.get(a.id), node;
      if (had && had.sig === sig) { node = had.node; } else {
        node = toNode(listItem(a));
        if (had && had.node.parentNode === list) { list.replaceChild(node, had.node); }
      }
      keep.set(a.id, {sig: sig, node: node});
      var there = list.children[i];
      if (there !== node) { list.insertBefore(node, there || null); }
    });
    while (list.children.length > items.length) { list.removeChild(list.lastElementChild); }
    itemNodes = keep;
  }

  function renderList() {
    listDirty = false;
    var dc = window.dash_clientside;
    if (held.length && !paused()) { release(); }
    var sig = JSON.stringify([selectedId, items]), list = document.getElementById(ids().list);
    if (list && (sig !== listSig || list !== listEl)) {  // drawn only when it changed; a focus lost is put back
      listSig = sig;
      var had = document.activeElement && listItemOf(document.activeElement);
      drawItems(list);
      if (had) { refocus(had.getAttribute("data-alert-id"), 20); }
    }
    var count = document.getElementById(ids().count);
    if (count && count.textContent !== String(shown)) { count.textContent = String(shown); }
    var n = held.length;
    if (pillSig !== n) {  // the pill changes only while the list holds still: through Dash, which owns it
      pillSig = n;
      dc.set_props(ids().newPill, {children: fmt(tn("%(n)s new", "%(n)s new", n), {n: n}), hidden: n === 0,
                                   "aria-label": fmt(tn("%(n)s new alerts: show them", "%(n)s new alerts: show them",
                                                        n), {n: n})});
    }
    document.body.dataset.heldAlerts = String(held.length);
    var box = document.getElementById(ids().feedList);
    if (box && box !== observed && window.ResizeObserver) {  // the detail sheet opening shrinks the list
      observed = box;
      new window.ResizeObserver(function () { if (selectedId !== null) { scrollToSelected(0); } }).observe(box);
    }
  }

  function refocus(id, tries) {
    var list = document.getElementById(ids().list), item = null;
    Array.prototype.forEach.call(list ? list.querySelectorAll("[data-alert-id]") : [], function (li) {
      if (li.getAttribute("data-alert-id") === id) { item = li; }
    });
    var now = document.activeElement;  // put back only a focus the redraw lost (to the body), never one moved on
    if (item && now !== item && (!now || now === document.body)) {
      restoring = true;
      item.focus({preventScroll: true});
      restoring = false;
    }
    if (tries > 0) { window.requestAnimationFrame(function () { refocus(id, tries - 1); }); }
  }

  // --- pause on hover: the list holds still under the pointer or the focus ---
  function paused() { return hovering || focused; }

  function release() {
    items = held.concat(items);
    items.length = Math.min(items.length, pageContract().listLimit);
    held = [];
  }

  function showHeld() {
    release();
    renderList();
    var box = document.getElementById(ids().feedList);
    if (box) { box.scrollTop = 0; }
  }

  function inFeed(node) {
    var box = document.getElementById(ids().feedList);
    return !!(box && node && box.contains(node));
  }

  // --- selection: one way in for the list and the map ---
  function scrollToSelected(tries) {
    var box = document.getElementById(ids().feedList);
    var item = box && selectedId !== null && box.querySelector('.alert-item.selected');
    if (!item || item.getAttribute("data-alert-id") !== selectedId) {
      if (tries > 0 && selectedId !== null && items.some(function (x) { return x.id === selectedId; })) {
        window.requestAnimationFrame(function () { scrollToSelected(tries - 1); });
      }
      return;
    }
    var r = item.getBoundingClientRect(), c = box.getBoundingClientRect();  // the list scrolls, never the page
    if (r.top < c.top) { box.scrollTop -= c.top - r.top + 4; }
    else if (r.bottom > c.bottom) { box.scrollTop += r.bottom - c.bottom + 4; }
  }

  function select(selection) {
    selectedId = selection.kind === "asset" ? null : selection.id;
    window.dash_clientside.set_props(ids().selected, {data: {id: selection.id, kind: selection.kind || "alert",
                                                            at: Date.now()}});
    renderList();
    scrollToSelected(60);
  }

  // Closing the sheet is a selection of nothing, through the same store: a details answer still on its
  // way is then outdated (Dash drops it) and cannot open the sheet again.
  function unselect() {
    selectedId = null;
    window.dash_clientside.set_props(ids().sheet, {hidden: true});
    window.dash_clientside.set_props(ids().selected, {data: {id: null, kind: "none", at: Date.now()}});
    renderList();
  }

  function scheduleList() {
    listDirty = true;
    if (!scheduled) {
      scheduled = true;
      window.requestAnimationFrame(function () { scheduled = false; if (listDirty) { renderList(); } });
    }
  }

  // --- the map: new points appended to the live traces, changed points restyled in place ---
  function graph() {
    var holder = document.getElementById(ids().map);
    return holder && holder.querySelector(".js-plotly-plot");
  }

  // Where an alert is in the built traces; the index is cached once the graph shows the
  // figure this spec came with (its built trace holds exactly spec.drawn points).
  function builtPosition(id) {
    if (builtIndex !== null) { return builtIndex.get(id); }
    var gd = graph(), core = gd && gd.data && gd.data[traces().incidents_core];
    var built = Array.from((core && core.customdata) || []);
    var index = new Map();
    built.forEach(function (x, i) { index.set(x, i); });
    if (built.length === (spec.drawn || 0)) { builtIndex = index; }
    return index.get(id);
  }

  // The map's redraw budget. A redraw (Plotly.react of the whole map: MapLibre repaints every layer, several
  // frames) can take the page's main thread for hundreds of ms where WebGL is drawn in software, and every
  // list item that arrives meanwhile waits behind it. So each redraw's cost is measured (the long tasks from
  // its start until the map is idle; the time it took where long tasks are not reported), and the next one
  // waits cost * (1 - MAP_SHARE) / MAP_SHARE after it ended, between MAP_INTERVAL and MAP_WAIT_MAX (at most
  // MAP_WAIT_CRITICAL while a new critical alert waits to be drawn). A redraw starts after the list was
  // painted (drawnAfterPaint), never before the items of the same events.
  try {
    longTasks = [];
    new window.PerformanceObserver(function (list) {
      list.getEntries().forEach(function (e) { longTasks.push([e.startTime, e.duration]); });
      if (longTasks.length > 200) { longTasks = longTasks.slice(-100); }
    }).observe({type: "longtask"});
  } catch (err) { longTasks = null; }

  function mapWait() {
    var wait = Math.min(MAP_WAIT_MAX, Math.max(MAP_INTERVAL, mapCost * (1 - MAP_SHARE) / MAP_SHARE));
    return mapUrgent ? Math.min(wait, MAP_WAIT_CRITICAL) : wait;
  }

  function scheduleMap(urgent) {
    if (urgent) { mapUrgent = true; }
    if (mapDrawing) { return; }  // scheduled again when the redraw under way is done
    var at = Math.max(Date.now(), mapDrawEnd + mapWait());
    if (mapTimer && at >= mapTimerAt) { return; }
    clearTimeout(mapTimer);
    mapTimerAt = at;
    mapTimer = setTimeout(drawnAfterPaint, at - Date.now());
  }

  // The list's frame first (its requestAnimationFrame was asked for before this one), then the redraw in a
  // task of its own after that frame is painted.
  function drawnAfterPaint() {
    mapTimer = null;
    window.requestAnimationFrame(function () { setTimeout(drawOnMap, 0); });
  }

  function mapObject() {
    var gd = graph(), layout = gd && gd._fullLayout, sub = layout && layout.map && layout.map._subplot;
    return sub && sub.map;
  }

  // The redraw is over once the map is idle after plotly drew the patch (or after MAP_WAIT_MAX whatever
  // happened); its cost is what it took of the main thread meanwhile.
  function measureRedraw(started) {
    var gd = graph(), done = false, fallback = null;
    mapDrawing = true;
    function finish() {
      if (done) { return; }
      done = true; clearTimeout(fallback);
      var now = window.performance.now();
      mapCost = longTasks === null ? now - started : longTasks.reduce(function (sum, t) {
        return t[0] + t[1] >= started && t[0] <= now ? sum + t[1] : sum;
      }, 0);
      mapDrawing = false; mapDrawEnd = Date.now();
      document.body.dataset.mapCost = String(Math.round(mapCost));
      if (mapNew.length || Object.keys(mapChanged).length || mapGone.length) { scheduleMap(false); }
    }
    fallback = setTimeout(finish, MAP_WAIT_MAX);
    if (gd && gd.once) {
      gd.once("plotly_afterplot", function () {
        var map = mapObject();
        if (map) { map.once("idle", finish); } else { finish(); }
      });
    }
  }

  function drawOnMap() {
    if (mapDrawing) { return; }
    mapUrgent = false;
    var tr = traces(), fresh = mapNew, changed = mapChanged, gone = mapGone;
    mapNew = []; mapChanged = {}; mapGone = [];
    var fig = new window.dash_clientside.Patch(), any = false;
    if (fresh.length) {
      var col = function (key) { return fresh.map(function (a) { return a.point[key]; }); };
      [tr.live_halo, tr.live_ring, tr.live_core].forEach(function (n) {
        fig.extend(["data", n, "lat"], col("lat"));
        fig.extend(["data", n, "lon"], col("lon"));
      });
      fig.extend(["data", tr.live_halo, "marker", "color"], col("halo"));
      fig.extend(["data", tr.live_halo, "marker", "opacity"], col("halo_opacity"));
      fig.extend(["data", tr.live_ring, "marker", "color"], col("ring"));
      fig.extend(["data", tr.live_ring, "marker", "opacity"], col("ring_opacity"));
      fig.extend(["data", tr.live_core, "marker", "color"], col("core"));
      fig.extend(["data", tr.live_core, "marker", "opacity"], col("opacity"));
      fig.extend(["data", tr.live_core, "customdata"], fresh.map(function (a) { return a.id; }));
      fig.extend(["data", tr.live_core, "hovertext"], col("text"));
      any = true;
    }
    Object.keys(changed).forEach(function (id) {
      var a = changed[id], at = liveIndex.get(id), core = tr.live_core;
      if (at === undefined) { at = builtPosition(id); core = tr.incidents_core; }
      if (at === undefined) { return; }
      fig.assign(["data", core, "marker", "color", at], a.point.core);
      fig.assign(["data", core, "hovertext", at], a.point.text);
      any = true;
    });
    gone.forEach(function (g) {  // keep the index (later points stay where they are); draw and name nothing
      [g.core, g.ring, g.halo].forEach(function (n) {
        fig.assign(["data", n, "lat", g.at], null);
        fig.assign(["data", n, "lon", g.at], null);
      });
      fig.assign(["data", g.core, "customdata", g.at], null);
      fig.assign(["data", g.core, "hovertext", g.at], "");
      any = true;
    });
    if (any) {
      measureRedraw(window.performance.now());
      window.dash_clientside.set_props(ids().map, {figure: fig.build()});
      document.body.dataset.mapUpdates = String(Number(document.body.dataset.mapUpdates || 0) + 1);
    }
  }

  // The map shows content of at least this marking: the build's, raised by every alert applied since.
  function markMap(m) {
    if (!m) { return; }
    mapMarking = mapMarking === null || !window.crisisMarking ? m : window.crisisMarking.combine([mapMarking, m]);
    var holder = document.getElementById(ids().map);
    if (holder) { holder.setAttribute("data-marking", JSON.stringify(mapMarking)); }
  }

  // --- events ---
  function place(a, isNew) {
    var at = items.findIndex(function (x) { return x.id === a.id; });
    var waiting = held.findIndex(function (x) { return x.id === a.id; });
    if (at >= 0) { items[at] = a; } else if (waiting >= 0) { held[waiting] = a; } else if (isNew && paused()) {
      held.unshift(a);  // the list holds still: the pill counts it
    } else if (isNew) {
      items.unshift(a);
      items.length = Math.min(items.length, pageContract().listLimit);
    }
  }

  function onEvent(event, kind) {
    if (event.lastEventId) {
      if (applied.has(event.lastEventId)) { return; }
      applied.add(event.lastEventId); lastId = event.lastEventId;
    }
    var a = JSON.parse(event.data), urgent = false;
    markMap(a.marking);
    var located = a.point.lon !== null && a.point.lat !== null;  // an unlocated alert is listed, never drawn
    var back = withdrawn.delete(a.id);  // released to this viewer again: drawn anew
    var known = !back && (liveIndex.has(a.id) || unlocated.has(a.id) || builtPosition(a.id) !== undefined ||
                          items.concat(held).some(function (x) { return x.id === a.id; }));
    if (!known && !back && kind === "update" && spec.partial) {
      // a change to an incident the build counted but did not draw (in a grid cell, or out of view): it is
      // in the picture already; a build shortly shows it changed
      recountSoon();
    } else if (known) {
      if (located) { mapChanged[a.id] = a; }
      place(a, false);
    } else {
      if (located) { liveIndex.set(a.id, liveCount); liveCount += 1; mapNew.push(a); } else { unlocated.add(a.id); }
      place(a, true);
      shown += 1;
      urgent = located && a.severity === "critical";
    }
    scheduleList();
    scheduleMap(urgent);
    var now = new Date();
    status(fmt(kind === "alert" ? t("live · last alert %(time)s") : t("live · last change %(time)s"),
               {time: utcTime(now)}), "ok", now);
    document.body.dataset.liveApplied = String(Number(document.body.dataset.liveApplied || 0) + 1);
  }

  function onWithdraw(event) {
    if (event.lastEventId) {
      if (applied.has(event.lastEventId)) { return; }
      applied.add(event.lastEventId); lastId = event.lastEventId;
    }
    var id = JSON.parse(event.data).id;
    var known = liveIndex.has(id) || unlocated.has(id) || builtPosition(id) !== undefined ||
                items.concat(held).some(function (x) { return x.id === id; });
    var card = document.getElementById("details-card");  // its details may be open: they go too
    if (card && card.getAttribute("data-alert-id") === id && window.dash_clientside) {
      window.dash_clientside.set_props(ids().details, {children: t("This alert is no longer released to you.")});
    }
    if (!known && spec.partial) { recountSoon(); }  // it may be counted in a cell: built again shortly
    if (!known || withdrawn.has(id)) { return; }
    withdrawn.add(id);
    items = items.filter(function (x) { return x.id !== id; });
    held = held.filter(function (x) { return x.id !== id; });
    shown = Math.max(0, shown - 1);
    unlocated.delete(id);
    delete mapChanged[id];
    var tr = traces(), at = liveIndex.get(id);  // a point not drawn yet is drawn, then hidden, in one patch
    if (at !== undefined) { mapGone.push({at: at, core: tr.live_core, ring: tr.live_ring, halo: tr.live_halo}); }
    else if ((at = builtPosition(id)) !== undefined) {
      mapGone.push({at: at, core: tr.incidents_core, ring: tr.incidents_ring, halo: tr.incidents_halo});
    }
    liveIndex.delete(id);
    scheduleList();
    scheduleMap(false);
    document.body.dataset.liveApplied = String(Number(document.body.dataset.liveApplied || 0) + 1);
  }

  function heard() { lastHeard = Date.now(); }

  // The map is built again RECOUNT_MS after a change to, or a withdrawal of, an incident the build counted
  // in a grid cell without drawing it (spec.partial), so its cell's count and colour follow within seconds,
  // not at the 60 s watchdog; one build for all the changes of those seconds.
  function recountSoon() {
    if (recountTimer) { return; }
    recountTimer = setTimeout(function () {
      recountTimer = null;
      document.body.dataset.recounts = String(Number(document.body.dataset.recounts || 0) + 1);
      window.dash_clientside.set_props(ids().watchdog, {n_intervals: Date.now()});
    }, RECOUNT_MS);
  }

  // No event and no ping for STALE_PINGS intervals: the connection is dead even if it looks open.
  function watchStale() {
    clearInterval(staleTimer);
    var every = spec.ping_ms || 15000;
    staleTimer = setInterval(function () {
      if (superseded || !source || Date.now() - lastHeard < STALE_PINGS * every) { return; }
      document.body.dataset.live = "stale";
      document.body.dataset.staleCount = String(Number(document.body.dataset.staleCount || 0) + 1);
      status(fmt(t("stale · no word from the server since %(time)s · reconnecting"),
                 {time: utcTime(new Date(lastHeard))}), "warn", new Date(lastHeard));
      document.dispatchEvent(new CustomEvent("crisis:live-status", {detail: {state: "disconnected"}}));
      open(lastId || startCursor());
    }, Math.max(100, every / 2));
  }

  function startCursor() { return spec.after + "," + spec.assets_after; }

  function rebuild() {
    if (source) { source.close(); }
    heard();  // the stale watchdog waits for the build's new stream
    status(t("catching up · rebuilding the map"), "warn");
    document.body.dataset.rebuilds = String(Number(document.body.dataset.rebuilds || 0) + 1);
    window.dash_clientside.set_props(ids().watchdog, {n_intervals: Date.now()});
  }

  function open(after) {
    if (source) { source.close(); }
    heard();
    var url = "/live/map?" + (spec.query ? spec.query + "&" : "") + "alarm=true&after=" + encodeURIComponent(after);
    source = new EventSource(url);
    source.addEventListener("open", function () {
      heard();
      status(t("live"), "ok"); document.body.dataset.live = "open";
      document.dispatchEvent(new CustomEvent("crisis:live-status", {detail: {state: "live"}}));
    });
    source.addEventListener("message", heard);
    ["alert", "update", "withdraw", "asset", "asset_withdraw", "status", "ping", "alarm", "band"].forEach(function (name) {
      source.addEventListener(name, heard);
    });
    source.addEventListener("band", function () {  // the EXERCISE band may have changed: read it again
      if (ids().bandLive) { window.dash_clientside.set_props(ids().bandLive, {data: Date.now()}); }
    });
    source.addEventListener("alarm", function (e) {  // the critical alarm (no id): alarm.js shows it
      document.dispatchEvent(new CustomEvent("crisis:alarm", {detail: JSON.parse(e.data)}));
    });
    source.addEventListener("ping", function () {
      if (document.body.dataset.live === "stale") { status(t("live"), "ok"); document.body.dataset.live = "open"; }
    });
    source.addEventListener("asset", function (e) {
      if (e.lastEventId) { lastId = e.lastEventId; }
      if (window.crisisAssets) { window.crisisAssets.onAsset(e); }
    });
    source.addEventListener("asset_withdraw", function (e) {
      if (e.lastEventId) { lastId = e.lastEventId; }
      if (window.crisisAssets) { window.crisisAssets.onWithdraw(e); }
    });
    source.addEventListener("rebuild", rebuild);
    source.addEventListener("alert", function (e) { onEvent(e, "alert"); });
    source.addEventListener("update", function (e) { onEvent(e, "update"); });
    source.addEventListener("withdraw", onWithdraw);
    // degraded mode: the server lost (or found again) its data store; the stream stays open
    source.addEventListener("status", function (e) {
      var st = JSON.parse(e.data);
      if (st.state === "disconnected") {
        status(fmt(t("disconnected · live data unavailable since %(time)s, retrying"), {time: st.since_label}), "warn");
      } else { status(t("live"), "ok"); }
      document.body.dataset.live = st.state === "disconnected" ? "disconnected" : "open";
      document.dispatchEvent(new CustomEvent("crisis:live-status", {detail: st}));
    });
    source.addEventListener("reload", function () { window.location.reload(); });
    // signed out, token or account revoked, rights changed: the page reloads under the new rights
    source.addEventListener("revoked", function () { source.close(); window.location.reload(); });
    // a newer stream of the same user took this one's place (CRISIS_MAX_STREAMS_PER_USER): stay closed, say
    // so, and do not take the place back by ourselves (the watchdog would push the other tab out in turn)
    source.addEventListener("superseded", function () {
      superseded = true; source.close(); clearTimeout(retryTimer); clearInterval(staleTimer);
      document.body.dataset.live = "superseded";
      status(t("paused · live updates are in your newer tab · reload to bring them here"), "warn");
    });
    source.addEventListener("error", function () {
      if (superseded) { return; }
      document.body.dataset.live = "error";
      if (source.readyState === 2) {
        // The browser gave up (e.g. the server answered an error while restarting):
        // reopen from the last event applied, so the replay covers the gap.
        status(t("disconnected · retrying"), "warn");
        document.dispatchEvent(new CustomEvent("crisis:live-status", {detail: {state: "disconnected"}}));
        clearTimeout(retryTimer);
        retryTimer = setTimeout(function () { open(lastId || startCursor()); }, 2000);
      } else {
        status(t("reconnecting…"), "warn");
      }
    });
  }

  function connect(newSpec) {
    if (superseded) { return; }  // see the "superseded" listener
    spec = newSpec; lastId = null; clearTimeout(retryTimer); clearTimeout(recountTimer); recountTimer = null;
    document.body.dataset.builds = String(Number(document.body.dataset.builds || 0) + 1);
    document.body.dataset.mapBuilds = String(Number(document.body.dataset.mapBuilds || 0) + 1);
    clearTimeout(mapTimer); mapTimer = null; mapNew = []; mapChanged = {}; mapGone = []; mapUrgent = false;
    pillSig = null;
    liveIndex = new Map(); liveCount = 0; builtIndex = null; applied = new Set(); unlocated = new Set();
    withdrawn = new Set();
    mapMarking = null; markMap(spec.marking);
    var fresh = (spec.items || []).slice(), listed = new Set(items.map(function (x) { return x.id; }));
    if (paused() && items.length) {  // a rebuild under the pointer: what was listed stays, the rest is held
      held = fresh.filter(function (x) { return !listed.has(x.id); });
      items = fresh.filter(function (x) { return listed.has(x.id); });
    } else { items = fresh; held = []; }
    shown = spec.shown || 0; listSig = null;
    if (window.crisisAssets) { window.crisisAssets.reset(spec); }
    renderList();
    open(startCursor());
    watchStale();
  }

  // A click on an item of the latest-alerts list selects that alert (one
  // listener for the whole list, however many items arrive); so do Enter and
  // Space on a focused item. The "N new" pill shows what the list held.
  function listItemOf(target) {  // (hoisted: renderList uses it too)
    return target && target.closest && target.closest("#" + ids().list + " [data-alert-id]");
  }

  document.addEventListener("click", function (event) {
    if (!pageContract() || !document.getElementById(ids().list)) { return; }
    var item = listItemOf(event.target);
    if (item) { select({id: item.getAttribute("data-alert-id"), kind: "alert"}); }
    if (event.target && event.target.closest && event.target.closest("#" + ids().newPill)) { showHeld(); }
    if (event.target && event.target.closest && event.target.closest("#" + ids().sheetClose)) {
      unselect();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (!pageContract() || !document.getElementById(ids().list)) { return; }
    var item = listItemOf(event.target);
    if (item && event.target === item && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      select({id: item.getAttribute("data-alert-id"), kind: "alert"});
    }
    var sheet = document.getElementById(ids().sheet);
    if (event.key === "Escape" && sheet && !sheet.hidden && sheet.contains(event.target)) {
      unselect();
    }
  });

  // The list holds still while the pointer is over it or the focus is in it.
  function settle() {
    if (!paused() && held.length) { scheduleList(); }
  }
  document.addEventListener("mouseover", function (event) {
    if (!pageContract()) { return; }
    var over = inFeed(event.target);
    if (over !== hovering) { hovering = over; settle(); }
  });
  document.addEventListener("mouseout", function (event) {
    if (pageContract() && !event.relatedTarget && hovering) { hovering = false; settle(); }  // left the window
  });
  // The keyboard focus holds it from a focus reached by keyboard in the list until the focus goes elsewhere
  // or the pointer is pressed outside it (a list item drawn anew does not count: its focus is put back).
  document.addEventListener("focusin", function (event) {
    if (!pageContract() || restoring) { return; }
    var within = inFeed(event.target) && event.target.matches(":focus-visible");  // keyboard focus, not a click
    if (within !== focused) { focused = within; settle(); }
  });
  document.addEventListener("mousedown", function (event) {
    if (pageContract() && focused && !inFeed(event.target)) { focused = false; settle(); }
  });

  // The map left for another page (Dash changes pages without a reload): its stream closes, so a tab holds
  // one stream (the next page opens its own, page_live.js); the map's next build connects again.
  document.addEventListener("crisis:page", function (event) {
    if (event.detail.live === "map" || !source) { return; }
    source.close(); source = null;
    clearTimeout(retryTimer); clearInterval(staleTimer); clearTimeout(mapTimer); mapTimer = null;
    document.body.dataset.live = "closed";
  });

  window.crisisLive = {select: select, unselect: unselect};

  // A closed stream (the server refused it) is reopened by the watchdog rebuild;
  // EventSource itself retries every dropped connection.
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.crisis = Object.assign(window.dash_clientside.crisis || {}, {
    connectLive: function (newSpec) {
      if (!newSpec) { return window.dash_clientside.no_update; }
      connect(newSpec);
      return newSpec.after;
    }
  });
})();
