// The review desk: image viewer, segment selection, inline editing with conflict handling,
// annotations, approval, history and keyboard shortcuts. Plain JavaScript, same origin only.
(function () {
  "use strict";
  const review = document.querySelector(".review");
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  async function api(method, url, body) {
    const options = { method, headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    let data = null;
    try { data = await response.json(); } catch (err) { data = null; }
    return { ok: response.ok, status: response.status, data };
  }

  function flash(message, kind) {
    let box = $("#flash");
    if (!box) {
      box = document.createElement("div");
      box.id = "flash";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    box.textContent = message;
    box.className = kind || "info";
    window.clearTimeout(flash.timer);
    flash.timer = window.setTimeout(() => { box.textContent = ""; box.className = ""; }, 5000);
  }

  // ---- approvals that reload the page (document, page) ------------------------------------
  $$("[data-action='approve-document'], [data-action='approve-page']").forEach((button) => {
    button.addEventListener("click", async () => {
      const result = await api("POST", button.dataset.url);
      if (result.ok) { flash(`Approved ${result.data.approved} segment(s).`); window.location.reload(); }
      else { flash(result.data ? result.data.message : "Approval failed.", "error"); }
    });
  });

  // ---- translate again, compare models (document actions) ----------------------------
  function engineParts(value, override) {
    const [backend, model] = String(value || "").split("|");
    return { backend: backend || null, model: (override && override.trim()) || model || null };
  }
  function pageNumber() {
    const holder = $(".review");
    return holder ? Number(holder.dataset.pageNumber) : null;
  }
  const retranslateForm = $("#retranslate");
  if (retranslateForm) retranslateForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = retranslateForm.dataset.documentId;
    const data = new FormData(retranslateForm);
    const choice = engineParts(data.get("engine"), data.get("model"));
    const scope = data.get("scope");
    let result;
    if (scope === "stale") {
      result = await api("POST", `/api/documents/${id}/retranslate-stale`, choice);
    } else {
      const body = Object.assign({ force: true }, choice);
      if (scope === "page" && pageNumber()) { body.page_from = pageNumber(); body.page_to = pageNumber(); }
      result = await api("POST", `/api/documents/${id}/translation-runs`, body);
    }
    if (result.ok) { flash("Translation started; the page updates when it is done."); window.setTimeout(() => window.location.reload(), 800); }
    else flash(result.data ? result.data.message : "Could not start the translation.", "error");
  });
  const compareForm = $("#compare");
  if (compareForm) compareForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(compareForm);
    const models = data.getAll("engine").map((value) => engineParts(value));
    if (models.length < 2) { flash("Choose two or more models to compare.", "error"); return; }
    const body = { models };
    if (data.get("scope") === "page" && pageNumber()) { body.page_from = pageNumber(); body.page_to = pageNumber(); }
    const result = await api("POST", `/api/documents/${compareForm.dataset.documentId}/comparisons`, body);
    if (result.ok) window.location.href = result.data.url;
    else flash(result.data ? result.data.message : "Could not start the comparison.", "error");
  });

  const help = $("#help");
  $$("[data-action='help']").forEach((b) => b.addEventListener("click", () => help.showModal()));

  if (!review) { bindShortcuts(); return; }

  // ---- image viewer: zoom and pan ---------------------------------------------------------
  const viewport = $(".viewport", review);
  const canvas = $(".canvas", review);
  const view = { scale: 1, x: 0, y: 0 };
  function applyView() {
    if (canvas) canvas.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
  }
  function zoom(factor, cx, cy) {
    const next = Math.min(8, Math.max(1, view.scale * factor));
    const ratio = next / view.scale;
    const px = cx === undefined ? viewport.clientWidth / 2 : cx;
    const py = cy === undefined ? viewport.clientHeight / 2 : cy;
    view.x = px - (px - view.x) * ratio;
    view.y = py - (py - view.y) * ratio;
    view.scale = next;
    if (next === 1) { view.x = 0; view.y = 0; }
    applyView();
  }
  if (viewport && canvas) {
    $$("[data-zoom]", review).forEach((b) => b.addEventListener("click", () => {
      if (b.dataset.zoom === "in") zoom(1.25);
      else if (b.dataset.zoom === "out") zoom(0.8);
      else { view.scale = 1; view.x = 0; view.y = 0; applyView(); }
    }));
    viewport.addEventListener("wheel", (event) => {
      event.preventDefault();
      const rect = viewport.getBoundingClientRect();
      zoom(event.deltaY < 0 ? 1.15 : 1 / 1.15, event.clientX - rect.left, event.clientY - rect.top);
    }, { passive: false });
    let drag = null;
    viewport.addEventListener("pointerdown", (event) => {
      if (event.target.closest(".box")) return;
      drag = { x: event.clientX - view.x, y: event.clientY - view.y };
      viewport.setPointerCapture(event.pointerId);
      viewport.classList.add("dragging");
    });
    viewport.addEventListener("pointermove", (event) => {
      if (!drag) return;
      view.x = event.clientX - drag.x;
      view.y = event.clientY - drag.y;
      applyView();
    });
    const stop = () => { drag = null; viewport.classList.remove("dragging"); };
    viewport.addEventListener("pointerup", stop);
    viewport.addEventListener("pointercancel", stop);
    viewport.addEventListener("keydown", (event) => {
      if (event.key === "+" || event.key === "=") { zoom(1.25); event.preventDefault(); }
      if (event.key === "-") { zoom(0.8); event.preventDefault(); }
    });
  }

  // ---- selection: segment <-> box -----------------------------------------------------------
  const rows = () => $$("article.segment", review).filter((r) => !r.hidden);
  function boxFor(id) { return $(`.box[data-segment-id="${id}"]`, review); }
  function rowFor(id) { return $(`#seg-${id}`, review); }
  function select(id, options) {
    const opts = options || {};
    $$(".box.selected, article.segment.selected", review).forEach((el) => el.classList.remove("selected"));
    const row = rowFor(id);
    const box = boxFor(id);
    if (row) {
      row.classList.add("selected");
      if (opts.scrollRow) row.scrollIntoView({ block: "center", behavior: "smooth" });
      if (opts.focus !== false) row.focus({ preventScroll: !opts.scrollRow });
    }
    if (box) {
      box.classList.add("selected");
      if (opts.scrollBox && viewport) box.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  }
  function selectedRow() { return $("article.segment.selected", review); }
  review.addEventListener("click", (event) => {
    const box = event.target.closest(".box");
    if (box) { select(box.dataset.segmentId, { scrollRow: true }); return; }
    const row = event.target.closest("article.segment");
    if (row && !event.target.closest("button, textarea, input, a")) {
      select(row.dataset.segmentId, { scrollBox: true, focus: !window.getSelection().toString() });
    }
  });
  review.addEventListener("focusin", (event) => {
    const row = event.target.closest("article.segment");
    if (row && !row.classList.contains("selected")) select(row.dataset.segmentId, { focus: false });
  });
  if (window.location.hash.startsWith("#seg-")) {
    select(window.location.hash.slice(5), { scrollRow: true });
  }

  // ---- layer toggle and status filter ------------------------------------------------------
  $$("input[name='layer']", review).forEach((input) => input.addEventListener("change", () => {
    const normalised = input.value === "normalised" && input.checked;
    $$(".text.diplomatic", review).forEach((el) => { el.hidden = normalised; });
    $$(".text.normalised", review).forEach((el) => { el.hidden = !normalised; });
  }));
  function applyFilter() {
    const chosen = ($("input[name='status']:checked", review) || {}).value || "all";
    $$("article.segment", review).forEach((row) => {
      row.hidden = chosen !== "all" && row.dataset.status !== chosen;
    });
  }
  $$("input[name='status']", review).forEach((input) => input.addEventListener("change", applyFilter));
  applyFilter();  // a link may open the page with a filter chosen (?status=needs_check)

  // ---- re-rendering a row from the server ---------------------------------------------------
  async function refreshRow(id) {
    const response = await fetch(`/segments/${id}/row`, { headers: { "Accept": "text/html" } });
    if (!response.ok) return;
    const holder = document.createElement("div");
    holder.innerHTML = await response.text();
    const fresh = holder.firstElementChild;
    const old = rowFor(id);
    if (old && fresh) {
      old.replaceWith(fresh);
      const box = boxFor(id);
      if (box) box.className = `box status-${fresh.dataset.status}`;
      applyFilter();
      select(id, { focus: true });
    }
  }

  // ---- editing with conflict handling -------------------------------------------------------
  function rawText(row, layer) {
    const el = $(`.text[data-layer='${layer}']`, row);
    return el ? el.textContent : "";
  }
  function startEdit(row) {
    if (row.classList.contains("editing")) return;
    row.classList.add("editing");
    for (const layer of ["source", "translation"]) {
      const el = $(`.text[data-layer='${layer}']`, row);
      const area = document.createElement("textarea");
      area.className = `editor editor-${layer}`;
      area.value = rawText(row, layer);
      area.dataset.original = area.value;
      area.setAttribute("aria-label", layer === "source" ? "Transcription" : "Translation");
      area.rows = Math.max(3, Math.ceil(area.value.length / 60) + area.value.split("\n").length);
      el.hidden = true;
      el.after(area);
    }
    const bar = document.createElement("div");
    bar.className = "edit-bar";
    bar.innerHTML = '<button type="button" data-action="save">Save (Ctrl+Enter)</button> ' +
      '<button type="button" data-action="cancel">Cancel (Esc)</button> <span class="edit-message" role="alert"></span>';
    row.appendChild(bar);
    $(".editor-translation", row).focus();
  }
  function cancelEdit(row) {
    $$(".editor, .edit-bar, .conflict", row).forEach((el) => el.remove());
    $$(".text[data-layer]", row).forEach((el) => { el.hidden = false; });
    row.classList.remove("editing");
    row.focus();
  }
  async function save(row, overrides) {
    const id = row.dataset.segmentId;
    const versions = overrides || {};
    const source = $(".editor-source", row);
    const target = $(".editor-translation", row);
    if (source && source.value !== source.dataset.original) {
      const version = versions.source || Number(row.dataset.sourceVersion);
      const result = await api("PATCH", `/api/segments/${id}/source`, { text: source.value, version });
      if (result.status === 409) { showConflict(row, "source", result.data); return; }
      if (!result.ok) { editMessage(row, result.data ? result.data.message : "Saving failed."); return; }
      source.dataset.original = source.value;
      row.dataset.sourceVersion = result.data.source_version;
    }
    if (target && target.value !== target.dataset.original) {
      const body = { text: target.value };
      if (row.dataset.translationId) {
        body.translation_id = Number(row.dataset.translationId);
        body.version = versions.translation || Number(row.dataset.translationVersion);
      }
      const result = await api("PATCH", `/api/segments/${id}/translation`, body);
      if (result.status === 409) { showConflict(row, "translation", result.data); return; }
      if (!result.ok) { editMessage(row, result.data ? result.data.message : "Saving failed."); return; }
    }
    flash("Saved.");
    await refreshRow(id);
  }
  function editMessage(row, text) { const m = $(".edit-message", row); if (m) m.textContent = text; }
  function showConflict(row, layer, data) {
    $$(".conflict", row).forEach((el) => el.remove());
    const box = document.createElement("div");
    box.className = "conflict";
    box.setAttribute("role", "alert");
    const title = document.createElement("p");
    title.textContent = `Someone else changed the ${layer === "source" ? "transcription" : "translation"} while you were editing. Their version:`;
    const theirs = document.createElement("pre");
    theirs.textContent = data.current_text;
    const keep = document.createElement("button");
    keep.type = "button";
    keep.textContent = "Use their version";
    keep.addEventListener("click", () => refreshRow(row.dataset.segmentId));
    const mine = document.createElement("button");
    mine.type = "button";
    mine.textContent = "Overwrite with mine";
    mine.addEventListener("click", () => save(row, { [layer]: data.current_version }));
    box.append(title, theirs, keep, mine);
    $(".edit-bar", row).before(box);
  }

  // ---- row actions ----------------------------------------------------------------------------
  async function rowAction(row, action) {
    const id = row.dataset.segmentId;
    if (action === "edit") return startEdit(row);
    if (action === "save") return save(row);
    if (action === "cancel") return cancelEdit(row);
    if (action === "approve") {
      const result = await api("POST", `/api/segments/${id}/approve`);
      if (result.ok) { flash("Approved."); await refreshRow(id); }
      return null;
    }
    if (action === "undo") {
      const result = await api("POST", `/api/segments/${id}/undo`);
      if (result.ok) { flash("Undone."); await refreshRow(id); }
      else flash(result.data ? result.data.message : "Nothing to undo.", "error");
      return null;
    }
    if (action === "history") return showHistory(id);
    if (action === "retranslate") return retranslate(row);
    return null;
  }
  async function retranslate(row) {
    const url = review.dataset.retranslateUrl;
    if (!url) { flash("Re-translation is not available here.", "error"); return; }
    const result = await api("POST", url.replace("{id}", row.dataset.segmentId));
    if (result.ok) { flash("Re-translation queued; the row updates when it is done."); pollRow(row.dataset.segmentId, 60); }
    else flash(result.data ? result.data.message : "Re-translation failed.", "error");
  }
  function pollRow(id, remaining) {
    if (remaining <= 0) return;
    window.setTimeout(async () => {
      const before = rowFor(id) ? rowFor(id).dataset.translationVersion + rowFor(id).dataset.status : "";
      await refreshRow(id);
      const now = rowFor(id) ? rowFor(id).dataset.translationVersion + rowFor(id).dataset.status : "";
      if (now === before) pollRow(id, remaining - 1);
    }, 2000);
  }
  async function showHistory(id) {
    const dialog = $("#history");
    const list = $("ol", dialog);
    list.textContent = "";
    const result = await api("GET", `/api/segments/${id}/history`);
    for (const edit of (result.data || [])) {
      const item = document.createElement("li");
      const when = new Date(edit.created_at).toLocaleString();
      const head = document.createElement("p");
      head.textContent = `${when} · ${edit.author} · ${edit.field}${edit.reverts_id ? " (undo)" : ""}`;
      const before = document.createElement("del");
      before.textContent = edit.before;
      const after = document.createElement("ins");
      after.textContent = edit.after;
      item.append(head, before, after);
      list.appendChild(item);
    }
    if (!list.children.length) list.innerHTML = "<li>No changes yet.</li>";
    dialog.showModal();
  }
  review.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    const row = event.target.closest("article.segment");
    if (!button || !row) return;
    if (button.dataset.action === "delete-annotation") {
      const result = await api("DELETE", `/api/annotations/${button.dataset.annotationId}`);
      if (result.status === 204 || result.ok) await refreshRow(row.dataset.segmentId);
      return;
    }
    await rowAction(row, button.dataset.action);
  });

  // ---- annotations from a text selection ----------------------------------------------------
  const menu = $("#annotate-menu");
  let pending = null;
  function offsetWithin(container, node, offset) {
    const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
    let total = 0;
    while (walker.nextNode()) {
      if (walker.currentNode === node) return total + offset;
      total += walker.currentNode.textContent.length;
    }
    return total;
  }
  document.addEventListener("mouseup", (event) => {
    if (menu.contains(event.target)) return;
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed) { menu.hidden = true; return; }
    const range = selection.getRangeAt(0);
    const container = range.commonAncestorContainer.nodeType === 1
      ? range.commonAncestorContainer : range.commonAncestorContainer.parentElement;
    const text = container.closest(".text[data-layer]");
    const row = container.closest("article.segment");
    if (!text || !row || row.classList.contains("editing")) { menu.hidden = true; return; }
    let start = offsetWithin(text, range.startContainer, range.startOffset);
    let end = offsetWithin(text, range.endContainer, range.endOffset);
    if (end < start) [start, end] = [end, start];
    if (end <= start) { menu.hidden = true; return; }
    pending = { id: row.dataset.segmentId, layer: text.dataset.layer, start, end };
    const rect = range.getBoundingClientRect();
    menu.style.left = `${window.scrollX + rect.left}px`;
    menu.style.top = `${window.scrollY + rect.bottom + 6}px`;
    menu.hidden = false;
  });
  menu.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-annotation-type]");
    if (!button || !pending) return;
    const note = $("input[name='note']", menu);
    const body = { layer: pending.layer, start: pending.start, end: pending.end,
                   type: button.dataset.annotationType, body: note.value || null };
    const result = await api("POST", `/api/segments/${pending.id}/annotations`, body);
    if (result.ok) { flash(`Tagged as ${body.type}.`); note.value = ""; menu.hidden = true; await refreshRow(pending.id); }
    else flash(result.data ? result.data.message : "Could not tag.", "error");
  });

  // ---- keyboard ---------------------------------------------------------------------------------
  function move(step) {
    const list = rows();
    if (!list.length) return;
    const current = selectedRow();
    let index = current ? list.indexOf(current) + step : 0;
    index = Math.max(0, Math.min(list.length - 1, index));
    select(list[index].dataset.segmentId, { scrollRow: true, scrollBox: true });
  }
  function bindShortcuts() {
    document.addEventListener("keydown", (event) => {
      const typing = event.target.closest && event.target.closest("input, textarea, select");
      const row = review ? (event.target.closest && event.target.closest("article.segment")) || selectedRow() : null;
      if (typing) {
        if (row && event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); save(row); }
        if (row && event.key === "Escape" && event.target.classList.contains("editor")) { event.preventDefault(); cancelEdit(row); }
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "?") { event.preventDefault(); help.showModal(); return; }
      if (!review) return;
      const keys = { j: () => move(1), ArrowDown: () => move(1), k: () => move(-1), ArrowUp: () => move(-1) };
      if (keys[event.key]) { event.preventDefault(); keys[event.key](); return; }
      const link = $(`.pager a[data-key='${event.key}']`);
      if (link) { window.location.href = link.href; return; }
      const actions = { e: "edit", a: "approve", u: "undo", h: "history", r: "retranslate" };
      if (actions[event.key] && row) { event.preventDefault(); rowAction(row, actions[event.key]); }
    });
  }
  bindShortcuts();
})();
