// The review desk: image viewer, segment selection, inline editing with conflict handling and
// drafts kept across reloads, annotations, approval, history and keyboard shortcuts. The page
// follows the work as it happens (desk-live.js): rows are swapped in place, never under an
// open editor. Plain JavaScript, same origin only; text is always set as text, never as HTML.
(function () {
  "use strict";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const desk = window.PalimpsestDesk = window.PalimpsestDesk || {};
  let review = null; // the current page view's .review element (replaced when a page is read)

  async function api(method, url, body) {
    const options = { method, headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try { response = await fetch(url, options); }
    catch (err) { return { ok: false, status: 0, data: { message: "The server does not answer; try again." } }; }
    let data = null;
    try { data = await response.json(); } catch (err) { data = null; }
    return { ok: response.ok, status: response.status, data };
  }
  function message(result, fallback) {
    return (result.data && (result.data.message || result.data.detail)) || fallback;
  }

  // Messages live outside the rows, so updates of the page never wipe them.
  function flash(text, kind) {
    let box = $("#flash");
    if (!box) {
      box = document.createElement("div");
      box.id = "flash";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    box.textContent = text;
    box.className = kind || "info";
    window.clearTimeout(flash.timer);
    flash.timer = window.setTimeout(() => { box.textContent = ""; box.className = ""; }, 8000);
  }
  desk.flash = flash;
  document.addEventListener("palimpsest:changed", () => { if (desk.refresh) desk.refresh(); });
  const refreshSoon = () => { if (desk.refresh) desk.refresh(); };

  // ---- approvals of a page or the whole document: rows update in place ------------------
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-action='approve-document'], [data-action='approve-page']");
    if (!button) return;
    const result = await api("POST", button.dataset.url);
    if (result.ok) { flash(`Approved ${result.data.approved} segment(s).`); refreshSoon(); }
    else flash(message(result, "Approval failed."), "error");
  });

  // ---- translate again, compare models (document actions) ----------------------------
  function backendModelParts(value, override) {
    const [backend, model] = String(value || "").split("|");
    return { backend: backend || null, model: (override && override.trim()) || model || null };
  }
  function pageNumber() {
    if (review) return Number(review.dataset.pageNumber);
    const asked = Number(new URLSearchParams(window.location.search).get("page"));
    return asked > 0 ? asked : 1;
  }
  desk.pageNumber = pageNumber;
  const retranslateForm = $("#retranslate");
  if (retranslateForm) retranslateForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = retranslateForm.dataset.documentId;
    const data = new FormData(retranslateForm);
    const choice = backendModelParts(data.get("backend_model"), data.get("model"));
    const scope = data.get("scope");
    let result;
    if (scope === "stale") {
      result = await api("POST", `/api/documents/${id}/retranslate-stale`, choice);
    } else {
      const body = Object.assign({ force: true }, choice);
      if (scope === "page" && review) { body.page_from = pageNumber(); body.page_to = pageNumber(); }
      result = await api("POST", `/api/documents/${id}/translation-runs`, body);
    }
    if (result.ok) {
      flash("Translation started; the rows fill in as it goes.");
      retranslateForm.closest("details").open = false;
      refreshSoon();
    } else flash(message(result, "Could not start the translation."), "error");
  });
  const compareForm = $("#compare");
  if (compareForm) compareForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(compareForm);
    const models = data.getAll("backend_model").map((value) => backendModelParts(value));
    if (models.length < 2) { flash("Choose two or more models to compare.", "error"); return; }
    const body = { models };
    if (data.get("scope") === "page" && review) { body.page_from = pageNumber(); body.page_to = pageNumber(); }
    const result = await api("POST", `/api/documents/${compareForm.dataset.documentId}/comparisons`, body);
    if (result.ok) window.location.href = result.data.url;
    else flash(message(result, "Could not start the comparison."), "error");
  });

  // ---- downloads: an export that cannot be made says why in the menu, not on a bare page --
  const exportForm = $("form.export");
  function downloadName(response) {
    const header = response.headers.get("Content-Disposition") || "";
    const utf8 = /filename\*=UTF-8''([^;]+)/i.exec(header);
    if (utf8) { try { return decodeURIComponent(utf8[1]); } catch (err) { /* fall through */ } }
    const plain = /filename="([^"]+)"/i.exec(header);
    return plain ? plain[1] : "export";
  }
  if (exportForm) exportForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const note = $(".export-message", exportForm);
    const data = new FormData(exportForm);
    const first = Number(data.get("first_page")), last = Number(data.get("last_page"));
    if (first && last && last < first) {
      note.textContent = `The last page (${last}) comes before the first (${first}).`;
      return;
    }
    note.textContent = "Preparing the download…";
    const button = $("button[type='submit']", exportForm);
    button.disabled = true;
    try {
      const response = await fetch(`${exportForm.action}?${new URLSearchParams(data)}`);
      if (!response.ok) {
        const body = await response.json().catch(() => null);
        note.textContent = (body && body.message) || `The export failed (${response.status}).`;
        return;
      }
      const link = document.createElement("a");
      link.href = URL.createObjectURL(await response.blob());
      link.download = downloadName(response);
      document.body.appendChild(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(link.href), 60000);
      note.textContent = `Downloaded ${link.download}.`;
    } catch (err) {
      note.textContent = "The server does not answer; try again.";
    } finally {
      button.disabled = false;
    }
  });

  const help = $("#help");
  $$("[data-action='help']").forEach((b) => b.addEventListener("click", () => help.showModal()));

  // ---- image viewer: zoom, and pan by dragging anywhere (boxes too) -------------------------
  const view = { scale: 1, x: 0, y: 0 };
  let dragged = false; // the last pointer gesture moved the image: its click selects nothing
  function canvas() { return review && $(".canvas", review); }
  function viewport() { return review && $(".viewport", review); }
  function applyView() {
    const c = canvas();
    if (c) c.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
  }
  function zoom(factor, cx, cy) {
    const port = viewport();
    if (!port) return;
    const next = Math.min(8, Math.max(1, view.scale * factor));
    const ratio = next / view.scale;
    const px = cx === undefined ? port.clientWidth / 2 : cx;
    const py = cy === undefined ? port.clientHeight / 2 : cy;
    view.x = px - (px - view.x) * ratio;
    view.y = py - (py - view.y) * ratio;
    view.scale = next;
    if (next === 1) { view.x = 0; view.y = 0; }
    applyView();
  }
  function bindViewer() {
    const port = viewport();
    if (!port) return;
    applyView();
    $$("[data-zoom]", review).forEach((b) => b.addEventListener("click", () => {
      if (b.dataset.zoom === "in") zoom(1.25);
      else if (b.dataset.zoom === "out") zoom(0.8);
      else { view.scale = 1; view.x = 0; view.y = 0; applyView(); }
    }));
    port.addEventListener("wheel", (event) => {
      event.preventDefault();
      const rect = port.getBoundingClientRect();
      zoom(event.deltaY < 0 ? 1.15 : 1 / 1.15, event.clientX - rect.left, event.clientY - rect.top);
    }, { passive: false });
    let drag = null;
    port.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      dragged = false;
      drag = { x: event.clientX, y: event.clientY, vx: view.x, vy: view.y, id: event.pointerId, moving: false };
    });
    port.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (!drag.moving && Math.hypot(dx, dy) < 4) return; // a click, not a drag
      if (!drag.moving) {
        drag.moving = true;
        port.setPointerCapture(drag.id);
        port.classList.add("dragging");
      }
      view.x = drag.vx + dx;
      view.y = drag.vy + dy;
      applyView();
    });
    const stop = () => {
      if (drag && drag.moving) dragged = true;
      drag = null;
      port.classList.remove("dragging");
    };
    port.addEventListener("pointerup", stop);
    port.addEventListener("pointercancel", stop);
    port.addEventListener("keydown", (event) => {
      if (event.key === "+" || event.key === "=") { zoom(1.25); event.preventDefault(); }
      if (event.key === "-") { zoom(0.8); event.preventDefault(); }
    });
  }

  // ---- selection: segment <-> box -----------------------------------------------------------
  const rows = () => (review ? $$("article.segment", review).filter((r) => !r.hidden) : []);
  function boxFor(id) { return review && $(`.box[data-segment-id="${id}"]`, review); }
  function rowFor(id) { return review && $(`#seg-${id}`, review); }
  function select(id, options) {
    const opts = options || {};
    if (!review) return;
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
      if (opts.scrollBox && viewport()) box.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  }
  function selectedRow() { return review && $("article.segment.selected", review); }
  document.addEventListener("click", (event) => {
    if (!review || !review.contains(event.target)) return;
    const box = event.target.closest(".box");
    if (box) {
      if (dragged) { dragged = false; return; } // the end of a pan, not a click
      select(box.dataset.segmentId, { scrollRow: true });
      return;
    }
    const row = event.target.closest("article.segment");
    if (row && !event.target.closest("button, textarea, input, a")) {
      select(row.dataset.segmentId, { scrollBox: true, focus: !window.getSelection().toString() });
    }
  });
  document.addEventListener("focusin", (event) => {
    if (!review || !review.contains(event.target)) return;
    const row = event.target.closest("article.segment");
    if (row && !row.classList.contains("selected")) select(row.dataset.segmentId, { focus: false });
  });

  // ---- layer toggle and status filter (kept when rows or the page view are replaced) --------
  const shown = { layer: "diplomatic", status: "all" };
  // The normalised text's low-confidence words come as offsets (data-low="start:end:conf,…"),
  // wrapped here the first time the normalised view shows them; where both forms are the
  // same text, the diplomatic marks are copied.
  function copyLowWords(el) {
    const diplomatic = $(".text.diplomatic", el.parentElement);
    if (!diplomatic || diplomatic.textContent !== el.textContent) return;
    const pieces = Array.from(diplomatic.childNodes).map((node) => {
      if (node.nodeType !== 1 || !node.classList.contains("low-conf")) return document.createTextNode(node.textContent);
      const span = document.createElement("span");
      span.className = "low-conf";
      span.title = node.title;
      span.textContent = node.textContent;
      return span;
    });
    el.replaceChildren(...pieces);
  }
  function markLowWords(el) {
    if (el.dataset.marked) return;
    el.dataset.marked = "true";
    if (!el.dataset.low) { copyLowWords(el); return; }
    const text = el.textContent;
    const pieces = [];
    let done = 0;
    for (const triplet of el.dataset.low.split(",")) {
      const [start, end, conf] = triplet.split(":").map(Number);
      if (!(start >= done && end > start && end <= text.length)) continue;
      if (start > done) pieces.push(document.createTextNode(text.slice(done, start)));
      const span = document.createElement("span");
      span.className = "low-conf";
      span.title = `OCR confidence ${conf} %`;
      span.textContent = text.slice(start, end);
      pieces.push(span);
      done = end;
    }
    if (done < text.length) pieces.push(document.createTextNode(text.slice(done)));
    el.replaceChildren(...pieces);
  }
  function applyLayer(root) {
    const normalised = shown.layer === "normalised";
    if (normalised) $$(".text.normalised", root).forEach(markLowWords);
    $$(".text.diplomatic", root).forEach((el) => { el.hidden = normalised || el.classList.contains("edited-away"); });
    $$(".text.normalised", root).forEach((el) => { el.hidden = !normalised || el.classList.contains("edited-away"); });
  }
  function applyFilter() {
    if (!review) return;
    $$("article.segment", review).forEach((row) => {
      row.hidden = shown.status !== "all" && row.dataset.status !== shown.status && !row.classList.contains("editing");
    });
  }
  function updateCounts() {
    if (!review) return;
    const counts = {};
    const all = $$("article.segment", review);
    all.forEach((row) => { counts[row.dataset.status] = (counts[row.dataset.status] || 0) + 1; });
    $$(".filter [data-count]", review).forEach((el) => {
      const status = el.dataset.count;
      const n = status === "all" ? all.length : (counts[status] || 0);
      el.textContent = String(n);
      const label = el.closest("label");
      if (status !== "all") label.hidden = n === 0 && shown.status !== status;
    });
  }
  document.addEventListener("change", (event) => {
    if (!review || !review.contains(event.target)) return;
    if (event.target.name === "layer") { shown.layer = event.target.value; applyLayer(review); }
    if (event.target.name === "status") { shown.status = event.target.value; applyFilter(); }
  });
  function restoreToolbar() {
    const layer = review && $(`input[name='layer'][value='${shown.layer}']`, review);
    if (layer) layer.checked = true;
    const status = review && $(`input[name='status'][value='${shown.status}']`, review);
    if (status) status.checked = true;
    else shown.status = "all";
    applyLayer(review);
    updateCounts();
    applyFilter();
  }

  // ---- swapping rows in place -------------------------------------------------------------
  function parseRows(html) {
    const holder = document.createElement("template");
    holder.innerHTML = html; // server-rendered, autoescaped rows of our own origin
    return $$("article.segment", holder.content);
  }
  function replaceRow(old, fresh) {
    const wasSelected = old.classList.contains("selected");
    const hadFocus = old.contains(document.activeElement);
    applyLayer(fresh);
    old.replaceWith(fresh);
    const box = boxFor(fresh.dataset.segmentId);
    if (box) box.className = `box status-${fresh.dataset.status}${wasSelected ? " selected" : ""}`;
    if (wasSelected) fresh.classList.add("selected");
    if (hadFocus) fresh.focus({ preventScroll: true });
  }
  // Rows whose key changed are replaced; a row being edited is left alone and told.
  desk.applyRows = function (html) {
    for (const fresh of parseRows(html)) {
      const old = rowFor(fresh.dataset.segmentId);
      if (!old || old.dataset.rowKey === fresh.dataset.rowKey) continue;
      if (old.classList.contains("editing")) { markChanged(old); continue; }
      replaceRow(old, fresh);
    }
    updateCounts();
    applyFilter();
  };
  desk.isEditing = () => Boolean(review && $("article.segment.editing", review));
  async function refreshRow(id, options) {
    let response;
    try { response = await fetch(`/segments/${id}/row`, { headers: { "Accept": "text/html" } }); }
    catch (err) { return; }
    if (!response.ok) return;
    const fresh = parseRows(await response.text())[0];
    const old = rowFor(id);
    if (!old || !fresh) return;
    replaceRow(old, fresh);
    updateCounts();
    applyFilter();
    if (!options || options.select !== false) select(id, { focus: true });
  }
  function markChanged(row) {
    row.dataset.outdated = "true";
    const note = $(".edit-message", row);
    if (note && !note.textContent) note.textContent = "This segment changed while you were editing; saving shows you the other version first.";
  }

  // ---- drafts: unsaved text survives a reload (sessionStorage, this tab only) ---------------
  const draftKey = (id) => `palimpsest:draft:${id}`;
  function readDraft(id) {
    try { return JSON.parse(window.sessionStorage.getItem(draftKey(id)) || "null"); }
    catch (err) { return null; }
  }
  function keepDraft(row) {
    const draft = {};
    for (const area of $$(".editor", row)) {
      draft[area.dataset.layer] = { text: area.value, original: area.dataset.original, version: area.dataset.version };
    }
    try { window.sessionStorage.setItem(draftKey(row.dataset.segmentId), JSON.stringify(draft)); }
    catch (err) { /* storage full or disabled: the unload warning still guards the text */ }
  }
  function dropDraft(id) { try { window.sessionStorage.removeItem(draftKey(id)); } catch (err) { /* ignore */ } }
  function unsaved(row) {
    return $$(".editor", row).some((area) => area.value !== area.dataset.original);
  }
  window.addEventListener("beforeunload", (event) => {
    if (!review) return;
    if ($$("article.segment.editing", review).some(unsaved)) {
      event.preventDefault();
      event.returnValue = ""; // the browser asks whether to leave; the draft is kept meanwhile
    }
  });

  // ---- editing with conflict handling -------------------------------------------------------
  function rawText(row, layer) {
    const el = $(`.text[data-layer='${layer}']`, row);
    return el ? el.textContent : "";
  }
  function startEdit(row, draft) {
    if (row.classList.contains("editing")) return;
    row.classList.add("editing");
    const versions = {
      source: row.dataset.sourceVersion,
      translation: row.dataset.translationVersion,
    };
    for (const layer of ["source", "translation"]) {
      const el = $(`.text[data-layer='${layer}']`, row);
      const area = document.createElement("textarea");
      const saved = draft && draft[layer];
      area.className = `editor editor-${layer}`;
      area.dataset.layer = layer;
      area.value = saved ? saved.text : rawText(row, layer);
      area.dataset.original = saved ? saved.original : rawText(row, layer);
      area.dataset.version = saved ? saved.version : versions[layer];
      area.setAttribute("aria-label", layer === "source" ? "Transcription" : "Translation");
      area.rows = Math.max(3, Math.ceil(area.value.length / 60) + area.value.split("\n").length);
      area.addEventListener("input", () => keepDraft(row));
      $$(".text", el.parentElement).forEach((t) => { t.hidden = true; t.classList.add("edited-away"); });
      el.after(area);
    }
    const bar = document.createElement("div");
    bar.className = "edit-bar";
    const saveButton = document.createElement("button");
    saveButton.type = "button"; saveButton.dataset.action = "save"; saveButton.textContent = "Save (Ctrl+Enter)";
    const cancelButton = document.createElement("button");
    cancelButton.type = "button"; cancelButton.dataset.action = "cancel"; cancelButton.textContent = "Cancel (Esc)";
    const note = document.createElement("span");
    note.className = "edit-message"; note.setAttribute("role", "alert");
    bar.append(saveButton, " ", cancelButton, " ", note);
    row.appendChild(bar);
    if (draft) note.textContent = "Your unsaved draft was restored.";
    $(".editor-translation", row).focus();
  }
  async function cancelEdit(row) {
    if (unsaved(row) && !window.confirm("Discard your changes to this segment?")) return;
    $$(".editor, .edit-bar, .conflict", row).forEach((el) => el.remove());
    $$(".text", row).forEach((el) => el.classList.remove("edited-away"));
    $$(".cell .text[data-layer]", row).forEach((el) => { el.hidden = false; });
    applyLayer(row);
    row.classList.remove("editing");
    dropDraft(row.dataset.segmentId);
    if (row.dataset.outdated) await refreshRow(row.dataset.segmentId);
    else row.focus();
  }
  async function save(row, overrides) {
    const id = row.dataset.segmentId;
    const versions = overrides || {};
    const source = $(".editor-source", row);
    const target = $(".editor-translation", row);
    if (source && source.value !== source.dataset.original) {
      const version = versions.source || Number(source.dataset.version);
      const result = await api("PATCH", `/api/segments/${id}/source`, { text: source.value, version });
      if (result.status === 409) { showConflict(row, "source", result.data); return; }
      if (!result.ok) { editMessage(row, message(result, "Saving failed.")); return; }
      source.dataset.original = source.value;
      source.dataset.version = result.data.source_version;
      keepDraft(row);
    }
    if (target && target.value !== target.dataset.original) {
      const body = { text: target.value };
      if (row.dataset.translationId) {
        body.translation_id = Number(row.dataset.translationId);
        body.version = versions.translation || Number(target.dataset.version);
      }
      const result = await api("PATCH", `/api/segments/${id}/translation`, body);
      if (result.status === 409) { showConflict(row, "translation", result.data); return; }
      if (!result.ok) { editMessage(row, message(result, "Saving failed.")); return; }
    }
    dropDraft(id);
    row.classList.remove("editing");
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
    keep.addEventListener("click", () => { dropDraft(row.dataset.segmentId); row.classList.remove("editing"); refreshRow(row.dataset.segmentId); });
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
    if (action === "edit") return startEdit(row, readDraft(id));
    if (action === "save") return save(row);
    if (action === "cancel") return cancelEdit(row);
    if (action === "approve") return approve(row);
    if (action === "undo") {
      const result = await api("POST", `/api/segments/${id}/undo`);
      if (result.ok) { flash("Undone."); await refreshRow(id); }
      else flash(message(result, "Nothing to undo."), "error");
      return null;
    }
    if (action === "history") return showHistory(id);
    if (action === "retranslate") return retranslate(row);
    return null;
  }
  async function approve(row) {
    const button = $("button[data-action='approve']", row);
    if (row.dataset.status === "approved") { flash("This segment is already approved."); return; }
    if (!button || button.disabled) {
      flash(row.dataset.status === "failed" ? "A failed translation cannot be approved; translate it again or write one."
        : "There is no translation to approve yet.", "error");
      return;
    }
    const result = await api("POST", `/api/segments/${row.dataset.segmentId}/approve`);
    if (!result.ok) { flash(message(result, "Approval failed."), "error"); return; }
    flash(result.data.approved ? "Approved." : "Nothing to approve.");
    await refreshRow(row.dataset.segmentId);
  }
  async function retranslate(row) {
    if (!$("button[data-action='retranslate']", row)) {
      flash("Page numbers, running heads and catchwords are kept as they are, not translated.", "error");
      return;
    }
    const url = review.dataset.retranslateUrl;
    const result = await api("POST", url.replace("{id}", row.dataset.segmentId));
    if (result.ok) { flash("Re-translation queued; the row updates when it is done."); refreshSoon(); }
    else flash(message(result, "Re-translation failed."), "error");
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
      const diff = document.createElement("p");
      diff.className = "diff";
      for (const [op, text] of edit.diff || []) {
        const piece = document.createElement(op === "-" ? "del" : op === "+" ? "ins" : "span");
        piece.textContent = text;
        diff.appendChild(piece);
      }
      item.append(head, diff);
      list.appendChild(item);
    }
    if (!list.children.length) {
      const none = document.createElement("li");
      none.textContent = "No changes yet.";
      list.appendChild(none);
    }
    dialog.showModal();
  }
  document.addEventListener("click", async (event) => {
    if (!review || !review.contains(event.target)) return;
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
  // Characters before (node, offset) inside the container, whatever kind of node the
  // selection ends in (a text node, or an element when it ends at a boundary).
  function offsetWithin(container, node, offset) {
    const range = document.createRange();
    range.setStart(container, 0);
    range.setEnd(node, offset);
    return range.toString().length;
  }
  const EDGE = /[\s\p{P}]/u;
  function trimmed(text, start, end) {
    let a = start, b = end;
    while (a < b && EDGE.test(text[a])) a += 1;
    while (b > a && EDGE.test(text[b - 1])) b -= 1;
    return a < b ? [a, b] : [start, end];
  }
  document.addEventListener("mouseup", (event) => {
    if (!menu || menu.contains(event.target)) return;
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
    [start, end] = trimmed(text.textContent, start, end);
    pending = { id: row.dataset.segmentId, layer: text.dataset.layer, start, end };
    const rect = range.getBoundingClientRect();
    const left = Math.max(0, Math.min(window.scrollX + rect.left, window.scrollX + document.documentElement.clientWidth - menu.offsetWidth - 8));
    menu.style.left = `${left}px`;
    menu.style.top = `${window.scrollY + rect.bottom + 6}px`;
    menu.hidden = false;
  });
  if (menu) menu.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-annotation-type]");
    if (!button || !pending) return;
    const note = $("input[name='note']", menu);
    const body = { layer: pending.layer, start: pending.start, end: pending.end,
                   type: button.dataset.annotationType, body: note.value || null };
    const result = await api("POST", `/api/segments/${pending.id}/annotations`, body);
    if (result.ok) { flash(`Tagged as ${body.type}.`); note.value = ""; menu.hidden = true; await refreshRow(pending.id); }
    else flash(message(result, "Could not tag."), "error");
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
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest && event.target.closest("input, textarea, select");
    const row = review ? (event.target.closest && event.target.closest("article.segment")) || selectedRow() : null;
    if (typing) {
      if (row && event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); save(row); }
      if (row && event.key === "Escape" && event.target.classList.contains("editor")) { event.preventDefault(); cancelEdit(row); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "?" && help) { event.preventDefault(); help.showModal(); return; }
    if (!review) return;
    const keys = { j: () => move(1), ArrowDown: () => move(1), k: () => move(-1), ArrowUp: () => move(-1) };
    if (keys[event.key]) { event.preventDefault(); keys[event.key](); return; }
    const link = $(`.pager a[data-key='${event.key}']`);
    if (link) { window.location.href = link.href; return; }
    const actions = { e: "edit", a: "approve", u: "undo", h: "history", r: "retranslate" };
    if (actions[event.key] && row) { event.preventDefault(); rowAction(row, actions[event.key]); }
  });

  // ---- a page view: bound on load, and again when the live update brings a read page -------
  desk.initView = function () {
    review = $(".review");
    bindViewer();
    restoreToolbar();
    if (!review) return;
    for (const row of $$("article.segment", review)) {
      const draft = readDraft(row.dataset.segmentId);
      if (draft) startEdit(row, draft);
    }
    if (window.location.hash.startsWith("#seg-") && rowFor(window.location.hash.slice(5))) {
      select(window.location.hash.slice(5), { scrollRow: true });
    }
  };
  // A link may open the page with a filter chosen (?status=needs_check): the page comes
  // with that radio checked, and the toolbar keeps it through later view swaps.
  const chosen = $(".review input[name='status']:checked");
  if (chosen) shown.status = chosen.value;
  desk.initView();
})();
