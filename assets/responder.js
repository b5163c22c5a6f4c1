/*
 * Response queue helpers: ticking countdowns, and a short alarm beep (WebAudio,
 * no sound file) for each new unacknowledged critical alert, which can be muted.
 * The server renders the deadlines (data-deadline); nothing here decides anything.
 * Component ids come from the page contract (#crisis-contract).
 */
(function () {
  "use strict";
  var MUTE_KEY = "crisis.queue.muted";
  var beeped = new Set(), audio = null, contract = null;

  function ids() {
    if (!contract) {
      var el = document.getElementById("crisis-contract");
      contract = el ? JSON.parse(el.getAttribute("data-contract")) : {ids: {}};
    }
    return contract.ids;
  }

  function muted() { return window.localStorage.getItem(MUTE_KEY) === "1"; }

  function showMute() {
    var button = document.getElementById(ids().mute);
    if (button) {
      button.textContent = muted() ? "Sound off" : "Sound on";
      button.setAttribute("aria-pressed", muted() ? "true" : "false");
    }
  }

  function beep() {
    if (muted()) { return; }
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.3].forEach(function (offset) {
        var osc = audio.createOscillator(), gain = audio.createGain();
        osc.type = "square"; osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.15, audio.currentTime + offset);
        gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + offset + 0.2);
        osc.connect(gain); gain.connect(audio.destination);
        osc.start(audio.currentTime + offset); osc.stop(audio.currentTime + offset + 0.22);
      });
      document.body.dataset.beeps = String(Number(document.body.dataset.beeps || 0) + 1);
    } catch (e) { /* no audio device, or not allowed before a click: the banner still shows */ }
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function format(ms) {
    var s = Math.floor(Math.abs(ms) / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s % 60);
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      var left = Date.parse(el.getAttribute("data-deadline")) - now;
      var what = el.getAttribute("data-what") || "";
      el.textContent = left >= 0 ? format(left) + " " + what : "overdue " + format(left);
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 60000);
    });
    var critical = document.querySelector("#" + ids().criticalBanner + " .critical-ids");
    if (critical) {
      var fresh = false;
      (critical.getAttribute("data-ids") || "").split(" ").forEach(function (id) {
        if (id && !beeped.has(id)) { beeped.add(id); fresh = true; }
      });
      if (fresh) { beep(); }
    }
    showMute();
  }

  document.addEventListener("click", function (event) {
    if (event.target && event.target.id === ids().mute) {
      window.localStorage.setItem(MUTE_KEY, muted() ? "0" : "1");
      showMute();
    }
  });
  window.setInterval(tick, 1000);
})();
