/* Sign out: a POST carrying the session's CSRF token (the server refuses it otherwise).
 * The button's id comes from the page contract (#crisis-contract). */
document.addEventListener("click", function (event) {
  var contract = document.getElementById("crisis-contract");
  var id = contract && JSON.parse(contract.getAttribute("data-contract")).ids.signOut;
  if (!event.target || !id || event.target.id !== id) { return; }
  var match = document.cookie.match(/(?:^|; )_csrf_token=([^;]*)/);
  fetch("/logout", {method: "POST", credentials: "same-origin",
                    headers: {"X-CSRFToken": match ? decodeURIComponent(match[1]) : ""}})
    .finally(function () { window.location.href = "/login"; });
});
