/* Sign out: a POST carrying the session's CSRF token (the server refuses it otherwise). */
document.addEventListener("click", function (event) {
  if (!event.target || event.target.id !== "sign-out") { return; }
  var match = document.cookie.match(/(?:^|; )_csrf_token=([^;]*)/);
  fetch("/logout", {method: "POST", credentials: "same-origin",
                    headers: {"X-CSRFToken": match ? decodeURIComponent(match[1]) : ""}})
    .finally(function () { window.location.href = "/login"; });
});
