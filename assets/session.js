/* Sign out: a POST carrying the session's CSRF token (the server refuses it otherwise).
 * The button's id comes from the page contract (contract.js). */
document.addEventListener("click", function (event) {
  var id = window.crisisContract.ids().signOut;  // contract.js
  if (!event.target || !id || event.target.id !== id) { return; }
  var match = document.cookie.match(/(?:^|; )_csrf_token=([^;]*)/);
  fetch("/logout", {method: "POST", credentials: "same-origin",
                    headers: {"X-CSRFToken": match ? decodeURIComponent(match[1]) : ""}})
    .finally(function () { window.location.href = "/login"; });
});

/* A language chosen in the top bar (dashboard.components.language) is stored: reload the page in it. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  crisisLanguage: {reload: function (saved) {
    if (saved) { window.location.reload(); }
    return window.dash_clientside.no_update;
  }}
});
