// Progress polling: swap a panel (document progress, dashboard table) with its fresh HTML
// until nothing is in progress. A document page then reloads once so that its segments
// appear. No framework, nothing from other origins.
(function () {
  "use strict";
  document.querySelectorAll("[data-poll-url]").forEach((panel) => {
    const url = panel.getAttribute("data-poll-url");
    const isFinal = () => panel.querySelector("[data-final='true']") !== null;
    const reload = panel.id === "progress";
    if (isFinal()) return;
    async function poll() {
      try {
        const response = await fetch(url, { headers: { "Accept": "text/html" } });
        if (response.ok) {
          panel.innerHTML = await response.text();
          if (isFinal()) { if (reload) window.location.reload(); return; }
        }
      } catch (err) {
        // The server may be restarting; keep polling.
      }
      window.setTimeout(poll, 2000);
    }
    window.setTimeout(poll, 2000);
  });
})();

// Forms that destroy something ask first.
document.addEventListener("submit", (event) => {
  "use strict";
  const message = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
});
