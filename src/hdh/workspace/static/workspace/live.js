// Live parts of the workspace pages, on htmx's contract: requests carry
// "HX-Request: true" and get an HTML fragment back. No framework, no inline
// script; without JavaScript the forms post normally and the pages reload.
(function () {
  "use strict";
  var headers = { "HX-Request": "true" };

  // A form with data-fragment-target posts in the background and shows the answer there.
  document.querySelectorAll("form[data-fragment-target]").forEach(function (form) {
    var target = document.getElementById(form.getAttribute("data-fragment-target"));
    if (!target) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("[type=submit]");
      if (button) button.disabled = true;
      target.setAttribute("aria-busy", "true");
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: headers,
      })
        .then(function (response) {
          if (response.redirected) {
            window.location.assign(response.url);
            return { ok: false, html: "", away: true };
          }
          return response.text().then(function (html) {
            return { ok: response.ok, html: html };
          });
        })
        .then(function (answer) {
          if (answer.ok) target.innerHTML = answer.html;
          else if (!answer.away) form.submit();
        })
        .catch(function () { form.submit(); })
        .finally(function () {
          if (button) button.disabled = false;
          target.removeAttribute("aria-busy");
        });
    });
  });

  // A box with data-poll-url is refreshed every 2 s until its fragment says it is done.
  var box = document.querySelector("[data-poll-url]");
  if (!box) return;
  var url = box.getAttribute("data-poll-url");
  var every = 2000;
  function tick() {
    fetch(url, { credentials: "same-origin", headers: headers })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        box.innerHTML = html;
        if (!box.querySelector("[data-done]")) setTimeout(tick, every);
        else if (box.querySelector("[data-reload]")) window.location.reload();
      })
      .catch(function () { setTimeout(tick, every * 3); });
  }
  if (!box.querySelector("[data-done]")) setTimeout(tick, every);
})();
