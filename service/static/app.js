// Progress polling: swap a panel (the dashboard's table) with its fresh HTML until nothing
// is in progress. (The document page follows its work with desk-live.js.) No framework,
// nothing from other origins.
(function () {
  "use strict";
  document.querySelectorAll("[data-poll-url]").forEach((panel) => {
    const url = panel.getAttribute("data-poll-url");
    const isFinal = () => panel.querySelector("[data-final='true']") !== null;
    if (isFinal()) return;
    async function poll() {
      try {
        const response = await fetch(url, { headers: { "Accept": "text/html" } });
        if (response.ok) {
          panel.innerHTML = await response.text();
          if (isFinal()) return;
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
