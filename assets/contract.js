/*
 * The page contract: the one reader of #crisis-contract (written by dashboard.components.ids), which every
 * script in assets/ uses for component ids, trace indices and the like, never literals of its own.
 * window.crisisContract.get() is the contract (null until the frame is drawn, e.g. on the sign-in page);
 * .ids() its component ids ({} until then).
 */
(function () {
  "use strict";
  var cached = null;

  function get() {
    if (!cached) {
      var el = document.getElementById("crisis-contract");
      cached = el ? JSON.parse(el.getAttribute("data-contract")) : null;
    }
    return cached;
  }

  window.crisisContract = {get: get, ids: function () { var c = get(); return c ? c.ids : {}; }};
})();
