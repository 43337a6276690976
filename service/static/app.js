// Progress polling: swap the progress panel until the document is finished, then reload once
// so that the segments and translations appear. No framework, nothing from other origins.
(function () {
  "use strict";
  const panel = document.querySelector("[data-poll-url]");
  if (!panel) return;
  const url = panel.getAttribute("data-poll-url");
  const isFinal = () => panel.querySelector("[data-final='true']") !== null;
  if (isFinal()) return;
  async function poll() {
    try {
      const response = await fetch(url, { headers: { "Accept": "text/html" } });
      if (response.ok) {
        panel.innerHTML = await response.text();
        if (isFinal()) { window.location.reload(); return; }
      }
    } catch (err) {
      // The server may be restarting; keep polling.
    }
    window.setTimeout(poll, 2000);
  }
  window.setTimeout(poll, 2000);
})();
