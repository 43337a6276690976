// The open document page follows the work without reloading: every second while something
// is under way (every ten when all is done), it asks /documents/{id}/live what changed since
// the token it holds. The progress panel is refreshed; a page that was just read replaces the
// placeholder view; rows whose key changed are swapped in place (review.js), a row being
// edited never. The page never reloads itself, so nothing typed is lost.
(function () {
  "use strict";
  const holder = document.getElementById("page-view");
  const panel = document.getElementById("progress");
  const desk = window.PalimpsestDesk;
  if (!holder || !panel || !desk) return;
  const BUSY_MS = 1000, IDLE_MS = 10000;
  let token = holder.dataset.token || "";
  let timer = null;
  let running = false;
  let again = false;

  function isFinal() { return panel.querySelector("[data-final='true']") !== null; }

  function replacePanel(html) {
    const open = panel.querySelector("details") ? panel.querySelector("details").open : null;
    const focusedId = document.activeElement && panel.contains(document.activeElement) ? document.activeElement.dataset.url : null;
    panel.innerHTML = html; // server-rendered and autoescaped, same origin
    const details = panel.querySelector("details");
    if (details && open !== null && panel.querySelector("[data-final='true']")) details.open = open;
    if (focusedId) {
      const button = panel.querySelector(`[data-url='${CSS.escape(focusedId)}']`);
      if (button) button.focus();
    }
  }

  function replaceView(html) {
    holder.innerHTML = html; // server-rendered and autoescaped, same origin
    desk.initView();
  }

  async function poll() {
    if (running) { again = true; return; }
    window.clearTimeout(timer);
    if (document.hidden) { timer = window.setTimeout(poll, IDLE_MS); return; }
    running = true;
    let final = isFinal();
    try {
      const url = `${holder.dataset.liveUrl}?page=${desk.pageNumber()}&token=${encodeURIComponent(token)}`;
      const response = await fetch(url, { headers: { "Accept": "application/json" } });
      if (response.ok) {
        const data = await response.json();
        replacePanel(data.progress);
        final = data.final;
        if (data.view !== undefined) {
          // A new page view (a page just read): wait while someone edits, never replace it.
          if (!desk.isEditing()) { replaceView(data.view); token = data.token; }
        } else {
          if (data.rows !== undefined) desk.applyRows(data.rows);
          token = data.token;
        }
      }
    } catch (err) {
      // The server may be restarting; keep asking.
    } finally {
      running = false;
    }
    if (again) { again = false; timer = window.setTimeout(poll, 50); return; }
    timer = window.setTimeout(poll, final ? IDLE_MS : BUSY_MS);
  }

  // After an action that starts work (a re-translation, an approval), ask at once.
  desk.refresh = () => { window.clearTimeout(timer); poll(); };
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") desk.refresh();
  });
  timer = window.setTimeout(poll, isFinal() ? IDLE_MS : BUSY_MS);
})();
