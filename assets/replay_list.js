/*
 * The replay page's alert list, drawn outside React from the data its callback sends
 * (dashboard.pages.replay: "replay-list", one object per alert, every text already in the viewer's
 * language): up to 2,000 items as Dash components kept the browser's main thread busy for over a minute
 * a seek (dash-renderer and React), where drawing the elements directly takes milliseconds.
 *
 * Each item is the markup the page's tests and the marking banner read: li.replay-alert with
 * data-alert-id, data-status and the alert's data-marking (marking.js watches for it), then the
 * marking line, the EXERCISE tag (for an exercise alert), the title, the severity and the status. Content
 * (the marking line, the title) carries data-translate="no". Text goes in as text, never as markup.
 */
(function () {
  "use strict";

  function span(text, className, content) {
    var el = document.createElement("span");
    if (className) { el.className = className; }
    if (content) { el.setAttribute("data-translate", "no"); }
    el.textContent = text;
    return el;
  }

  function item(d) {
    var li = document.createElement("li");
    li.className = "replay-alert severity-" + d.severity + " status-" + d.status;
    li.setAttribute("data-alert-id", d.id);
    li.setAttribute("data-status", d.status);
    Object.keys(d.marking || {}).forEach(function (name) { li.setAttribute(name, d.marking[name]); });
    li.appendChild(span(d.line, "marking-tag", true));
    li.appendChild(document.createTextNode(" "));
    if (d.exercise) { li.appendChild(span(d.exercise, "exercise-tag")); }
    li.appendChild(document.createTextNode(" "));
    var title = document.createElement("strong");
    title.setAttribute("data-translate", "no");
    title.textContent = d.title;
    li.appendChild(title);
    li.appendChild(span(" " + d.severity_label + " · "));
    li.appendChild(span(d.shown, "replay-status"));
    return li;
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.crisisReplay = {
    // draw the list (#replay-alerts, which Dash renders without children) from the callback's data
    list: function (items) {
      var list = document.getElementById("replay-alerts");
      if (!list) { return window.dash_clientside.no_update; }
      var fragment = document.createDocumentFragment();
      (items || []).forEach(function (d) { fragment.appendChild(item(d)); });
      list.replaceChildren(fragment);
      return (items || []).length;
    }
  };
})();
