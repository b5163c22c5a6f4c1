/*
 * Degraded mode on an open page: a banner "Live data unavailable since HH:MM UTC, retrying" (in the
 * page's language, contract.js) while the server cannot reach its data store, gone by itself when it
 * can again.
 *
 * The banner (#degraded-banner, created here at the top of the page) is shown when
 *   - a live stream sends "status" {"state": "disconnected", "since_label": "HH:MM UTC"}
 *     (live.js and assets_live.js hand it on as the DOM event "crisis:live-status"), or
 *   - an answer the page asked for (a Dash callback) is a 503 carrying the header
 *     X-Crisis-Degraded (dashboard.degraded);
 * and hidden on "status" {"state": "live"} or the next successful callback answer.
 * document.body.dataset.degraded is "on" / "off" (what tests and the bench wait for).
 */
(function () {
  "use strict";
  // the page's language (contract.js, which loads after this script: looked up when the banner is written)
  function t(message) { return window.crisisContract.t(message); }
  function fmt(text, values) { return window.crisisContract.fmt(text, values); }

  function banner() {
    var el = document.getElementById("degraded-banner");
    if (!el && document.body) {
      el = document.createElement("div");
      el.id = "degraded-banner";
      el.className = "degraded-banner";
      el.setAttribute("role", "alert");
      el.hidden = true;
      document.body.insertBefore(el, document.body.firstChild);
    }
    return el;
  }

  function nowLabel() { return new Date().toISOString().slice(11, 16) + " UTC"; }

  function show(sinceLabel) {
    var el = banner();
    if (!el) { return; }
    if (el.hidden || !el.dataset.since) {
      el.dataset.since = sinceLabel || nowLabel();
    }
    el.textContent = fmt(t("Live data unavailable since %(since)s, retrying"), {since: el.dataset.since});
    el.hidden = false;
    document.body.dataset.degraded = "on";
  }

  function hide() {
    var el = banner();
    if (!el) { return; }
    el.hidden = true;
    el.dataset.since = "";
    document.body.dataset.degraded = "off";
  }

  document.addEventListener("crisis:live-status", function (event) {
    var status = event.detail || {};
    if (status.state === "disconnected") { show(status.since_label); } else { hide(); }
  });

  if (window.fetch) {
    var original = window.fetch;
    window.fetch = function () {
      return original.apply(this, arguments).then(function (response) {
        if (response.status === 503 && response.headers.has("X-Crisis-Degraded")) {
          var since = response.headers.get("X-Crisis-Degraded");
          show(since ? since.slice(11, 16) + " UTC" : null);
        } else if (response.ok && document.body && document.body.dataset.degraded === "on" &&
                   document.body.dataset.live !== "disconnected") {
          hide();
        }
        return response;
      });
    };
  }
})();
