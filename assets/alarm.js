/*
 * The critical alarm of every page: a new critical alert nobody acknowledged is unmissable.
 *
 * The page's live stream sends "alarm" (dashboard.live.payloads.alarm_data: the count of such alerts the
 * viewer may see, a headline, and the newest few, never all of them); the stream's owner (page_live.js, or
 * live.js on the map) hands it on as the DOM event "crisis:alarm". This script then
 *   - fills the alarm strip (#criticalBanner of the contract), which has a height of its own reserved in the
 *     frame from the start, so ringing never moves the page: red when it rings, striped gold and saying
 *     EXERCISE when every alerting alert is exercise play, quiet grey otherwise; each title shown carries its
 *     alert's marking (data-marking), so the classification banners rise to it (marking.js), and is content
 *     (data-translate="no"); everything else is in the page's language (contract.js), the headline too:
 *     made here from the counts (the stream's "headline" is English, alerts.core.alarm);
 *   - prefixes the tab's title with the count ("(2) "), kept there when the page changes the title, and
 *     badges the tab's icon: a red disc with the count (gold when all are exercise play) drawn on a canvas
 *     over the page's own icon (a data: URL, which the CSP's img-src allows); the plain icon when quiet;
 *   - announces each new one in the aria-live="assertive" region (#alarmAnnounce);
 *   - plays a short tone (Web Audio, generated here: no sound file) for each new one. Browsers allow sound
 *     only after the user clicked or pressed a key on the page (autoplay rule): until then the sound button
 *     says so, and an alarm that rang meanwhile sounds at that first click or key. The button mutes it
 *     (remembered in this browser).
 * It clears when the alerts are acknowledged (by anyone: the stream sends the new state).
 * document.body.dataset: alarm (the count), favicon ("badge" or "plain"), alarmExercise ("1" when all are exercise), alarmAnnounced and
 * beeps (how many so far), soundAllowed ("1" after the first interaction).
 */
(function () {
  "use strict";
  var MUTE_KEY = "crisis.alarm.muted";
  var viaButton = false, last = null, known = new Set(), count = 0, allowed = false, owed = false, audio = null, observer = null;
  var TITLE_PREFIX = /^\(\d+\) /;
  // the page's language (contract.js, which loads after this script: looked up when text is made)
  function t(message) { return window.crisisContract.t(message); }
  function tn(singular, plural, n) { return window.crisisContract.tn(singular, plural, n); }
  function fmt(text, values) { return window.crisisContract.fmt(text, values); }

  function ids() { return window.crisisContract.ids(); }  // contract.js
  function byId(key) { var id = ids()[key]; return id ? document.getElementById(id) : null; }
  function muted() { return window.localStorage.getItem(MUTE_KEY) === "1"; }
  function bump(key) { document.body.dataset[key] = String(Number(document.body.dataset[key] || 0) + 1); }

  function showSound() {
    var button = byId("mute");
    if (!button) { return; }
    button.textContent = !allowed ? button.getAttribute("data-blocked") : (muted() ? t("Sound off") : t("Sound on"));
    button.setAttribute("aria-pressed", allowed && muted() ? "true" : "false");
  }

  function tone() {
    if (muted()) { return; }
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") { audio.resume(); }
      [0, 0.3].forEach(function (offset) {
        var osc = audio.createOscillator(), gain = audio.createGain(), at = audio.currentTime + offset;
        osc.type = "square"; osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.15, at);
        gain.gain.exponentialRampToValueAtTime(0.001, at + 0.2);
        osc.connect(gain); gain.connect(audio.destination);
        osc.start(at); osc.stop(at + 0.22);
      });
      bump("beeps");
    } catch (e) { /* no audio device: the strip, the title and the announcement still say it */ }
  }

  function title() {
    var base = document.title.replace(TITLE_PREFIX, "");
    var wanted = count > 0 ? "(" + count + ") " + base : base;
    if (document.title !== wanted) { document.title = wanted; }
  }

  var plainIcon = null, badgeDrawn = "", badgeCanvas = null, iconImage = null;

  function iconLink() {
    var link = document.querySelector("link[rel~='icon']");
    if (!link) {
      link = document.createElement("link");
      link.rel = "icon";
      link.href = "/assets/favicon.ico";
      document.head.appendChild(link);
    }
    if (plainIcon === null) { plainIcon = link.href; }
    return link;
  }

  // The page's icon, loaded once: {image} (null when it cannot be drawn) once it has loaded, then "ready".
  function withIcon(ready) {
    if (iconImage && iconImage.done) { ready(iconImage.image); return; }
    if (!iconImage) {
      iconImage = {done: false, image: null, waiting: []};
      var image = new Image(), settle = function (ok) {
        iconImage.done = true; iconImage.image = ok ? image : null;
        iconImage.waiting.splice(0).forEach(function (f) { f(iconImage.image); });
      };
      image.onload = function () { settle(true); };
      image.onerror = function () { settle(false); };
      image.src = plainIcon;
    }
    iconImage.waiting.push(ready);
  }

  function favicon(exerciseOnly) {  // the tab's icon carries the count while the alarm rings
    var link = iconLink(), wanted = count > 0 ? count + (exerciseOnly ? "x" : "") : "";
    if (wanted === badgeDrawn) { return; }
    badgeDrawn = wanted;
    document.body.dataset.favicon = count > 0 ? "badge" : "plain";
    if (!count) { link.href = plainIcon; return; }
    var size = 32;
    if (!badgeCanvas) {
      badgeCanvas = document.createElement("canvas");
      badgeCanvas.width = badgeCanvas.height = size;
    }
    // read back at every badge (toDataURL): a canvas kept in memory, not on the GPU, where that read waits
    // for the GPU (hundreds of ms on a busy machine, for every critical alert that changes the count)
    var canvas = badgeCanvas, g = canvas.getContext("2d", {willReadFrequently: true});
    if (!g) { return; }
    var shown = count;
    withIcon(function (image) {
      if (badgeDrawn !== wanted) { return; }  // a later count was asked for meanwhile: that one is drawn
      g.clearRect(0, 0, size, size);
      if (image) { try { g.drawImage(image, 0, 0, size, size); } catch (e) { /* not drawable: badge only */ } }
      g.beginPath();
      g.arc(size * 0.62, size * 0.62, size * 0.38, 0, 2 * Math.PI);
      g.fillStyle = exerciseOnly ? "#b8860b" : "#c62828";
      g.fill();
      g.fillStyle = "#ffffff";
      g.font = "bold " + (shown > 9 ? 14 : 18) + "px sans-serif";
      g.textAlign = "center";
      g.textBaseline = "middle";
      g.fillText(shown > 99 ? "99+" : String(shown), size * 0.62, size * 0.64);
      link.href = canvas.toDataURL("image/png");
    });
  }

  function watchTitle() {  // the pages set the title as they change: keep the count in front
    var el = document.querySelector("title");
    if (observer || !el || !window.MutationObserver) { return; }
    observer = new window.MutationObserver(title);
    observer.observe(el, {childList: true, characterData: true, subtree: true});
  }

  function tag(text, cls) { var s = document.createElement("span"); s.className = cls; s.textContent = text; return s; }

  // The strip's first words in the page's language, from the counts (alerts.core.alarm.Alarm.headline says
  // the same in English; the server's own text is kept only for a payload without the counts).
  function headline(alarm) {
    var n = alarm.count, drills = alarm.exercise;
    if (typeof n !== "number" || typeof drills !== "number") { return alarm.headline; }
    if (!n) { return t("No critical alert awaiting acknowledgment"); }
    if (alarm.exercise_only) {
      return fmt(tn("%(n)s critical EXERCISE alert awaiting acknowledgment",
                    "%(n)s critical EXERCISE alerts awaiting acknowledgment", n), {n: n});
    }
    if (drills > 0 && drills < n) {
      return fmt(tn("%(n)s critical alert (%(exercise)s EXERCISE) awaiting acknowledgment",
                    "%(n)s critical alerts (%(exercise)s EXERCISE) awaiting acknowledgment", n),
                 {n: n, exercise: drills});
    }
    return fmt(tn("%(n)s critical alert awaiting acknowledgment", "%(n)s critical alerts awaiting acknowledgment", n),
               {n: n});
  }

  function strip(alarm) {
    var el = byId("criticalBanner"), text = byId("alarmText");
    if (!el || !text) { return; }
    var ringing = alarm.count > 0;
    el.className = "alarm-strip " + (!ringing ? "quiet" : (alarm.exercise_only ? "ringing exercise" : "ringing"));
    el.setAttribute("data-alarm", String(alarm.count));
    text.textContent = "";
    if (ringing && alarm.exercise_only) { text.appendChild(tag(t("EXERCISE"), "exercise-tag")); text.append(" "); }
    text.appendChild(tag(headline(alarm) + (ringing ? ": " : ""), "alarm-headline"));
    (ringing ? alarm.newest : []).forEach(function (a, i) {
      if (i) { text.append("; "); }
      if (a.exercise && !alarm.exercise_only) { text.appendChild(tag(t("EXERCISE"), "exercise-tag")); text.append(" "); }
      var title = tag(a.title, "alarm-title");  // marked: the classification banners rise to it (marking.js)
      title.setAttribute("data-marking", JSON.stringify(a.marking));
      title.setAttribute("data-translate", "no");  // the alert's headline: content, never translated
      text.appendChild(title);
    });
    if (alarm.count > alarm.newest.length) { text.append(" …"); }
  }

  function announce(fresh, alarm) {
    var el = byId("alarmAnnounce");
    if (!el) { return; }
    var words = fresh.map(function (a) {
      return fmt(a.exercise ? t("EXERCISE. Critical alert awaiting acknowledgment: %(title)s.")
                            : t("Critical alert awaiting acknowledgment: %(title)s."), {title: a.title});
    });
    if (alarm.count > 1) { words.push(headline(alarm) + "."); }
    el.textContent = "";
    window.setTimeout(function () { el.textContent = words.join(" "); bump("alarmAnnounced"); }, 50);
  }

  function apply(alarm) {
    var sig = JSON.stringify(alarm);
    if (sig === last) { return; }
    last = sig;
    count = alarm.count;
    var fresh = alarm.newest.filter(function (a) { return !known.has(a.id); });
    alarm.newest.forEach(function (a) { known.add(a.id); });
    strip(alarm);
    title(); watchTitle(); favicon(!!alarm.exercise_only);
    document.body.dataset.alarm = String(alarm.count);
    document.body.dataset.alarmExercise = alarm.exercise_only ? "1" : "0";
    if (fresh.length && alarm.count > 0) {
      announce(fresh, alarm);
      if (allowed) { tone(); } else { owed = true; }
    }
    showSound();
  }

  function allow(event) {  // the first click or key press on the page: sound is allowed from now on
    if (allowed) { return; }
    allowed = true;
    viaButton = !!(event && event.target && event.target === byId("mute"));  // that click only allows
    document.body.dataset.soundAllowed = "1";
    if (owed && count > 0) { tone(); }
    owed = false;
    showSound();
  }

  document.addEventListener("crisis:alarm", function (event) { if (event.detail) { apply(event.detail); } });
  document.addEventListener("pointerdown", allow, true);
  document.addEventListener("keydown", allow, true);
  document.addEventListener("click", function (event) {
    var button = byId("mute");
    if (button && event.target === button) {
      if (viaButton) { viaButton = false; return; }
      window.localStorage.setItem(MUTE_KEY, muted() ? "0" : "1");
      showSound();
    }
  });
})();
