// Progress polling: swap a panel (the dashboard's table) with its fresh HTML until nothing
// is in progress. (The document page follows its work with desk-live.js.) No framework,
// nothing from other origins.
(function () {
  "use strict";
  document.querySelectorAll("[data-poll-url]").forEach((panel) => {
    const url = panel.getAttribute("data-poll-url");
    const isFinal = () => panel.querySelector("[data-final='true']") !== null;
    // A page without anything to type in (the corrections' list) shows what finished.
    const reload = panel.hasAttribute("data-reload-when-done");
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

// Cancelling a translation run (progress panel, comparison page): the page then shows it
// stopped — in place where the page follows its work, else by loading it again.
document.addEventListener("click", async (event) => {
  "use strict";
  const button = event.target.closest && event.target.closest("button[data-action='cancel-run']");
  if (!button) return;
  if (!window.confirm(button.dataset.confirm || "Stop this run?")) return;
  button.disabled = true;
  let ok = false;
  let message = "Could not cancel the run.";
  try {
    const response = await fetch(button.dataset.url, { method: "POST", headers: { "Accept": "application/json" } });
    ok = response.ok;
    if (!ok) {
      const data = await response.json().catch(() => null);
      if (data && data.message) message = data.message;
    }
  } catch (err) {
    message = "The server does not answer; try again.";
  }
  if (!ok) {
    button.disabled = false;
    const desk = window.PalimpsestDesk;
    if (desk && desk.flash) desk.flash(message, "error"); else window.alert(message);
    return;
  }
  if (document.getElementById("page-view")) document.dispatchEvent(new CustomEvent("palimpsest:changed"));
  else window.location.reload();
});

// Notices that can be dismissed stay dismissed (per browser).
(function () {
  "use strict";
  const key = (el) => `palimpsest:dismissed:${el.getAttribute("data-dismiss")}`;
  document.querySelectorAll("[data-dismiss]").forEach((el) => {
    try { if (window.localStorage.getItem(key(el))) el.hidden = true; } catch (err) { /* private mode */ }
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("[data-action='dismiss']");
    const notice = button && button.closest("[data-dismiss]");
    if (!notice) return;
    notice.hidden = true;
    try { window.localStorage.setItem(key(notice), "1"); } catch (err) { /* private mode */ }
  });
})();
