// Polls a run's progress fragment until the run ends (no framework, no inline script).
(function () {
  const box = document.querySelector("[data-poll-url]");
  if (!box) return;
  const url = box.getAttribute("data-poll-url");
  const every = 2000;
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
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
