// The transcription editor: each line's image beside its text field, typed with the keyboard
// alone (Enter goes on), regions and lines edited on the scan with the mouse, everything
// saved as it changes. Plain JavaScript, same origin only; text is set, never HTML.
(function () {
  "use strict";
  const root = document.getElementById("tx");
  const holder = document.getElementById("tx-state");
  if (!root || !holder) return;
  const state = JSON.parse(holder.textContent);
  const page = state.page;
  const $ = (sel, el) => (el || document).querySelector(sel);
  const $$ = (sel, el) => Array.from((el || document).querySelectorAll(sel));
  const list = $("#tx-regions");
  const overlay = $(".tx-overlay", root);
  const canvas = $(".tx-canvas", root);
  const viewport = $(".tx-viewport", root);
  const savedLabel = $("#tx-saved");
  let keys = 0;
  const nextKey = () => `k${++keys}`;

  // ---- model -------------------------------------------------------------------------------
  function toLine(line) {
    return {
      key: nextKey(),
      bbox: line.bbox ? line.bbox.slice() : null,
      text: line.text || "",
      unclear: (line.unclear || []).map((r) => r.slice()),
      proposal: line.proposal || null,
    };
  }
  function toRegion(region) {
    return {
      key: nextKey(),
      segment: region.segment,
      version: region.version || 0,
      draft: region.draft !== false,
      bbox: region.bbox.slice(),
      lines: region.lines.map(toLine),
      saving: false,
      again: false,
      timer: null,
      error: null,
      queued: false,
    };
  }
  let regions = state.regions.map(toRegion);
  let linesVersion = state.linesVersion;
  let reference = 1; // width in page pixels of the widest line (its image fills the column)
  let selected = null; // {region, line} of the box selected on the scan
  let current = null; // line key whose field has the focus
  const hasText = (region) => region.lines.some((l) => l.text.trim() !== "");
  const union = (boxes) => [
    Math.min(...boxes.map((b) => b[0])), Math.min(...boxes.map((b) => b[1])),
    Math.max(...boxes.map((b) => b[2])), Math.max(...boxes.map((b) => b[3])),
  ];
  function boxOf(line, region) { return line.bbox || region.bbox; }
  function findLine(key) {
    for (const region of regions) {
      const index = region.lines.findIndex((l) => l.key === key);
      if (index >= 0) return { region, line: region.lines[index], index };
    }
    return null;
  }
  function allLines() {
    return regions.flatMap((region) => region.lines.map((line) => ({ region, line })));
  }

  // ---- saving --------------------------------------------------------------------------------
  let layoutBusy = false; // a save of the untyped lines waits or runs
  let failures = 0; // saves waiting to be tried again (the server did not answer)
  const busy = () => layoutBusy || regions.some((r) => r.timer !== null || r.saving || r.again);
  function showSaved() {
    if (failures) { savedLabel.textContent = "Not saved yet: the server does not answer; retrying…"; savedLabel.className = "tx-saved error"; }
    else if (busy()) { savedLabel.textContent = "Saving…"; savedLabel.className = "tx-saved busy"; }
    else { savedLabel.textContent = "All changes saved"; savedLabel.className = "tx-saved"; }
  }
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
  function payload(region) {
    return {
      bbox: union([region.bbox, ...region.lines.filter((l) => l.bbox).map((l) => l.bbox)]),
      lines: region.lines.map((l) => ({
        bbox: l.bbox, text: l.text, unclear: l.unclear, proposal_id: l.proposal,
      })),
      draft: region.draft,
    };
  }
  function schedule(region, delay) {
    window.clearTimeout(region.timer);
    region.timer = window.setTimeout(() => { region.timer = null; save(region); }, delay);
    showSaved();
  }
  async function save(region) {
    if (region.saving) { region.again = true; return; }
    if (region.segment === null && !hasText(region) && region.draft) {
      saveLayout();
      return;
    }
    region.saving = true;
    let result;
    try {
      const body = payload(region);
      result = region.segment === null
        ? await api("POST", `/api/pages/${page.id}/segments`, body)
        : await api("PATCH", `/api/segments/${region.segment}`, Object.assign(body, { version: region.version }));
    } catch (err) {
      result = null;
    }
    region.saving = false;
    if (result === null || result.status >= 500) {
      failures += 1; showSaved();
      window.setTimeout(() => { failures = Math.max(0, failures - 1); save(region); }, 3000);
      return;
    }
    if (result.ok) afterSave(region, result.data);
    else saveRefused(region, result);
    if (region.again) { region.again = false; save(region); }
    showSaved();
  }
  function afterSave(region, data) {
    const created = region.segment === null;
    region.segment = data.id;
    region.version = data.version;
    region.error = null;
    if (data.lines_version !== undefined) linesVersion = data.lines_version;
    $("#tx-page-status").textContent = data.page_status_text;
    if (data.translation_queued) region.queued = true;
    if (created) renderOverlay();
    updateRegionHead(region, data.translation_note);
  }
  function saveRefused(region, result) {
    const message = result.data && (result.data.message || result.data.detail);
    region.error = result.status === 409
      ? "Someone else changed this region meanwhile: reload the page to see their text (yours is kept below)."
      : `Not saved: ${typeof message === "string" ? message : "the server refused the change"}`;
    updateRegionHead(region);
  }
  let layoutTimer = null;
  let layoutSaving = false; // one save of the untyped lines at a time: each needs the last version
  let layoutAgain = false;
  function saveLayout() {
    window.clearTimeout(layoutTimer);
    layoutBusy = true;
    showSaved();
    layoutTimer = window.setTimeout(() => { layoutTimer = null; putLayout(); }, 400);
  }
  async function putLayout() {
    if (layoutSaving) { layoutAgain = true; return; }
    layoutSaving = true;
    const untyped = regions.filter((r) => r.segment === null && !hasText(r));
    const body = {
      version: linesVersion,
      regions: untyped.map((r, i) => ({
        id: `r${i + 1}`, bbox: r.bbox, lines: r.lines.map((l) => ({ bbox: boxOf(l, r) })),
      })),
    };
    const result = await api("PUT", `/api/pages/${page.id}/lines`, body).catch(() => null);
    layoutSaving = false;
    if (result && result.ok) linesVersion = result.data.version;
    else if (result && result.status === 409) flash("Someone else changed this page's lines: reload to see them.");
    else { failures += 1; window.setTimeout(() => { failures = Math.max(0, failures - 1); putLayout(); }, 3000); return; }
    if (layoutAgain) { layoutAgain = false; putLayout(); return; }
    layoutBusy = layoutTimer !== null; // another change is waiting for its turn
    showSaved();
  }
  function finish(region) {
    if (!hasText(region)) return;
    if (region.draft) { region.draft = false; schedule(region, 0); }
  }
  window.addEventListener("beforeunload", (event) => {
    if (busy() || failures) { event.preventDefault(); event.returnValue = ""; }
  });

  // ---- the list of lines ----------------------------------------------------------------------
  // Every line's image at the same scale, the widest line filling the column: a short line
  // looks short, as on the page.
  function widest() {
    const widths = allLines().map(({ region, line }) => boxOf(line, region)[2] - boxOf(line, region)[0]);
    return Math.max(1, ...widths);
  }
  function cropStyle(element, box, zoom, reference) {
    const pad = Math.round(0.2 * (box[3] - box[1]));
    const x0 = Math.max(0, box[0] - pad), y0 = Math.max(0, box[1] - pad);
    const x1 = Math.min(page.width, box[2] + pad), y1 = Math.min(page.height, box[3] + pad);
    const w = Math.max(1, x1 - x0), h = Math.max(1, y1 - y0);
    zoom = zoom * Math.min(1, w / reference);
    element.style.backgroundImage = `url("${page.image}")`;
    element.style.backgroundSize = `${(100 * page.width) / w}% auto`;
    element.style.backgroundPosition = `${page.width > w ? (100 * x0) / (page.width - w) : 0}% ${page.height > h ? (100 * y0) / (page.height - h) : 0}%`;
    element.style.aspectRatio = `${w} / ${h}`;
    element.style.width = `${100 * zoom}%`;
  }
  function render() {
    const focusKey = current;
    const field = focusKey && $(`input[data-key="${focusKey}"]`);
    const caret = field ? [field.selectionStart, field.selectionEnd] : null;
    list.textContent = "";
    reference = widest();
    regions.forEach((region, r) => list.appendChild(regionElement(region, r)));
    $("#tx-empty").hidden = regions.length > 0;
    renderOverlay();
    if (focusKey) {
      const again = $(`input[data-key="${focusKey}"]`);
      if (again) { again.focus({ preventScroll: true }); if (caret) again.setSelectionRange(caret[0], caret[1]); }
    }
  }
  function regionElement(region, r) {
    const section = document.createElement("section");
    section.className = "tx-group";
    section.dataset.key = region.key;
    const head = document.createElement("header");
    const title = document.createElement("h2");
    title.id = `tx-${region.key}`;
    title.textContent = `Region ${r + 1}`;
    const stateLabel = document.createElement("span");
    stateLabel.className = "tx-state";
    const check = document.createElement("label");
    check.className = "tx-finish";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.tabIndex = -1;
    box.addEventListener("change", () => {
      if (box.checked && !hasText(region)) { box.checked = false; flash("Type the region's text before finishing it."); return; }
      region.draft = !box.checked; schedule(region, 0);
    });
    check.append(box, " finished");
    const note = document.createElement("span");
    note.className = "tx-note";
    note.setAttribute("role", "status");
    head.append(title, stateLabel, check, note);
    const proposals = regionProposals(region);
    if (proposals.length) head.appendChild(acceptAllButton(region));
    section.setAttribute("aria-labelledby", title.id);
    const rows = document.createElement("ol");
    rows.className = "tx-rows";
    region.lines.forEach((line, i) => rows.appendChild(lineElement(region, r, line, i)));
    section.append(head, rows);
    window.setTimeout(() => updateRegionHead(region), 0);
    return section;
  }
  function updateRegionHead(region, extra) {
    const section = $(`.tx-group[data-key="${region.key}"]`);
    if (!section) return;
    const label = $(".tx-state", section);
    label.textContent = region.segment === null ? "not typed yet" : region.draft ? "draft, saved" : "saved";
    section.classList.toggle("typed", region.segment !== null);
    section.classList.toggle("finished", !region.draft);
    $(".tx-finish input", section).checked = !region.draft;
    const note = $(".tx-note", section);
    note.textContent = region.error || extra || (region.queued && !region.draft ? "translation queued" : "");
    note.classList.toggle("error", Boolean(region.error));
  }
  function lineElement(region, r, line, i) {
    const item = document.createElement("li");
    item.className = "tx-row";
    item.dataset.key = line.key;
    const crop = document.createElement("div");
    crop.className = "tx-crop";
    crop.setAttribute("aria-hidden", "true");
    cropStyle(crop, boxOf(line, region), cropZoom(), reference);
    const frame = document.createElement("div");
    frame.className = "tx-crop-frame";
    frame.appendChild(crop);
    const input = document.createElement("input");
    input.type = "text";
    input.className = "tx-text";
    input.id = `tx-input-${line.key}`;
    input.dataset.key = line.key;
    input.value = line.text;
    input.lang = state.document.lang;
    input.spellcheck = false;
    input.autocomplete = "off";
    input.setAttribute("aria-label", `Region ${r + 1}, line ${i + 1} of ${region.lines.length}`);
    input.addEventListener("input", () => onInput(line.key, input));
    input.addEventListener("keydown", (event) => onKey(event, line.key, input));
    input.addEventListener("focus", () => onFocus(line.key));
    const marks = document.createElement("div");
    marks.className = "tx-marks";
    item.append(frame, input, marks);
    const proposal = lineProposal(region, line);
    if (proposal) item.appendChild(proposalElement(line.key, proposal));
    window.setTimeout(() => renderMarks(line.key), 0);
    return item;
  }
  function renderMarks(key) {
    const found = findLine(key);
    const marks = $(`.tx-row[data-key="${key}"] .tx-marks`);
    if (!found || !marks) return;
    marks.textContent = "";
    found.line.unclear.forEach((range) => {
      const chip = document.createElement("span");
      chip.className = "tx-unclear";
      chip.textContent = `unclear: “${found.line.text.slice(range[0], range[1])}”`;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.tabIndex = -1;
      remove.className = "link";
      remove.textContent = "×";
      remove.setAttribute("aria-label", "No longer unclear");
      remove.addEventListener("click", () => {
        found.line.unclear = found.line.unclear.filter((other) => other !== range);
        renderMarks(key); schedule(found.region, 300);
      });
      chip.appendChild(remove);
      marks.appendChild(chip);
    });
  }
  function cropZoom() { return Number(($("#tx-crop-zoom") || { value: 1 }).value) || 1; }
  const zoomSelect = $("#tx-crop-zoom");
  if (zoomSelect) zoomSelect.addEventListener("change", () => render());

  // ---- typing ---------------------------------------------------------------------------------
  function onInput(key, input) {
    const found = findLine(key);
    if (!found) return;
    found.line.unclear = shifted(found.line.unclear, found.line.text, input.value);
    found.line.text = input.value;
    renderMarks(key);
    schedule(found.region, 700);
  }
  // Unclear ranges follow an edit: before it they stay, after it they move, inside it they go.
  function shifted(ranges, before, after) {
    let start = 0;
    while (start < before.length && start < after.length && before[start] === after[start]) start++;
    let end = 0;
    while (end < before.length - start && end < after.length - start
      && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
    const oldEnd = before.length - end, delta = after.length - before.length;
    return ranges
      .filter((r) => r[1] <= start || r[0] >= oldEnd)
      .map((r) => (r[0] >= oldEnd ? [r[0] + delta, r[1] + delta] : r));
  }
  function onFocus(key) {
    current = key;
    $$(".tx-row.current").forEach((el) => el.classList.remove("current"));
    const row = $(`.tx-row[data-key="${key}"]`);
    if (row) row.classList.add("current");
    const found = findLine(key);
    if (found) { highlight(found.line.key); follow(boxOf(found.line, found.region)); }
  }
  function focusLine(position) {
    const lines = allLines();
    if (position < 0 || position >= lines.length) return false;
    const input = $(`input[data-key="${lines[position].line.key}"]`);
    if (input) { input.focus(); input.setSelectionRange(input.value.length, input.value.length); }
    return Boolean(input);
  }
  function onKey(event, key, input) {
    const lines = allLines();
    const position = lines.findIndex((item) => item.line.key === key);
    const found = lines[position];
    if (event.key === "Enter" && !event.shiftKey && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      const last = found.region.lines[found.region.lines.length - 1] === found.line;
      if (last) finish(found.region);
      if (!focusLine(position + 1)) flash(last ? "Last line of the page: the region is saved as finished." : "Last line of the page.");
    } else if ((event.key === "Enter" && event.shiftKey) || event.key === "ArrowUp") {
      event.preventDefault(); focusLine(position - 1);
    } else if (event.key === "ArrowDown") {
      event.preventDefault(); focusLine(position + 1);
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      finish(found.region);
      const next = lines.findIndex((item, i) => i > position && item.region !== found.region);
      if (next >= 0) focusLine(next);
    } else if (event.altKey && (event.key === "u" || event.key === "U")) {
      event.preventDefault(); toggleUnclear(found, input);
    } else if (event.altKey && (event.key === "p" || event.key === "P")) {
      event.preventDefault(); takeProposal(key);
    }
  }
  function toggleUnclear(found, input) {
    let [start, end] = [input.selectionStart, input.selectionEnd];
    if (start === end) { // the word at the cursor
      const text = input.value;
      while (start > 0 && /\S/.test(text[start - 1])) start--;
      while (end < text.length && /\S/.test(text[end])) end++;
    }
    if (start === end) return;
    const line = found.line;
    const overlapping = line.unclear.filter((r) => r[0] < end && r[1] > start);
    line.unclear = overlapping.length
      ? line.unclear.filter((r) => !overlapping.includes(r))
      : [...line.unclear, [start, end]].sort((a, b) => a[0] - b[0]);
    renderMarks(line.key);
    schedule(found.region, 300);
  }

  // ---- the scan: boxes, selection, moving, resizing, drawing ---------------------------------
  function pct(box) {
    return {
      left: `${(100 * box[0]) / page.width}%`, top: `${(100 * box[1]) / page.height}%`,
      width: `${(100 * (box[2] - box[0])) / page.width}%`, height: `${(100 * (box[3] - box[1])) / page.height}%`,
    };
  }
  function place(element, box) { Object.assign(element.style, pct(box)); }
  function renderOverlay() {
    overlay.textContent = "";
    state.ocr.forEach((o) => {
      const el = document.createElement("div");
      el.className = `tx-ocr kind-${o.kind}`;
      place(el, o.bbox);
      overlay.appendChild(el);
    });
    regions.forEach((region, r) => {
      const el = boxElement("region", region.key, `Region ${r + 1}`, region.bbox);
      el.classList.add(region.segment === null ? "untyped" : region.draft ? "draft" : "finished");
      overlay.appendChild(el);
      region.lines.forEach((line, i) => {
        if (!line.bbox) return;
        overlay.appendChild(boxElement("line", line.key, `Region ${r + 1}, line ${i + 1}`, line.bbox));
      });
    });
    highlight(current);
    markSelected();
  }
  function boxElement(kind, key, label, box) {
    const el = document.createElement("div");
    el.className = `tx-box tx-${kind}`;
    el.dataset.kind = kind;
    el.dataset.key = key;
    el.title = label;
    place(el, box);
    ["nw", "se"].forEach((corner) => {
      const handle = document.createElement("span");
      handle.className = `tx-handle ${corner}`;
      handle.dataset.corner = corner;
      el.appendChild(handle);
    });
    return el;
  }
  function highlight(key) {
    $$(".tx-box.current", overlay).forEach((el) => el.classList.remove("current"));
    if (!key) return;
    const el = $(`.tx-line[data-key="${key}"]`, overlay);
    if (el) el.classList.add("current");
  }
  function markSelected() {
    $$(".tx-box.selected", overlay).forEach((el) => el.classList.remove("selected"));
    const key = selected && (selected.line ? selected.line.key : selected.region.key);
    const el = key && $(`.tx-box[data-key="${key}"]`, overlay);
    if (el) el.classList.add("selected");
    $("[data-act='delete']", root).disabled = !selected;
    $("[data-act='merge']", root).disabled = !selected || !mergeTarget();
  }
  function select(kind, key) {
    selected = null;
    if (kind === "region") {
      const region = regions.find((r) => r.key === key);
      if (region) selected = { region, line: null };
    } else {
      const found = findLine(key);
      if (found) selected = { region: found.region, line: found.line };
    }
    markSelected();
  }

  const view = { scale: 1, x: 0, y: 0 };
  function applyView() { canvas.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`; }
  function zoom(factor, cx, cy) {
    const next = Math.min(8, Math.max(1, view.scale * factor));
    const px = cx === undefined ? viewport.clientWidth / 2 : cx;
    const py = cy === undefined ? viewport.clientHeight / 2 : cy;
    view.x = px - (px - view.x) * (next / view.scale);
    view.y = py - (py - view.y) * (next / view.scale);
    view.scale = next;
    if (next === 1) { view.x = 0; view.y = 0; }
    applyView();
  }
  // The scan follows the line being typed: it stays in view without a mouse.
  function follow(box) {
    const shown = canvas.offsetWidth * view.scale / page.width;
    const top = box[1] * shown + view.y, bottom = box[3] * shown + view.y;
    if (top < 0 || bottom > viewport.clientHeight) {
      view.y = Math.min(0, viewport.clientHeight / 3 - box[1] * shown);
      applyView();
    }
  }
  $$("[data-zoom]", root).forEach((b) => b.addEventListener("click", () => {
    if (b.dataset.zoom === "in") zoom(1.25);
    else if (b.dataset.zoom === "out") zoom(0.8);
    else { view.scale = 1; view.x = 0; view.y = 0; applyView(); }
  }));
  viewport.addEventListener("wheel", (event) => {
    event.preventDefault();
    const rect = viewport.getBoundingClientRect();
    zoom(event.deltaY < 0 ? 1.15 : 1 / 1.15, event.clientX - rect.left, event.clientY - rect.top);
  }, { passive: false });

  let tool = null;
  $$("[data-tool]", root).forEach((b) => b.addEventListener("click", () => {
    tool = tool === b.dataset.tool ? null : b.dataset.tool;
    $$("[data-tool]", root).forEach((o) => o.setAttribute("aria-pressed", String(o.dataset.tool === tool)));
    viewport.classList.toggle("drawing", tool !== null);
  }));
  function pagePoint(event) {
    const rect = canvas.getBoundingClientRect();
    return [
      Math.round(((event.clientX - rect.left) / rect.width) * page.width),
      Math.round(((event.clientY - rect.top) / rect.height) * page.height),
    ];
  }
  const clamp = (box) => [
    Math.max(0, Math.min(box[0], box[2] - 4)), Math.max(0, Math.min(box[1], box[3] - 4)),
    Math.min(page.width, Math.max(box[2], box[0] + 4)), Math.min(page.height, Math.max(box[3], box[1] + 4)),
  ];
  let drag = null;
  viewport.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    const target = event.target.closest(".tx-box");
    const start = pagePoint(event);
    viewport.focus({ preventScroll: true }); // Delete now acts on the scan, not on a line's text
    if (tool) {
      drag = { mode: "draw", start, ghost: ghostBox(start) };
    } else if (target) {
      const again = selected !== null && selected.line !== null && selected.line.key === target.dataset.key;
      select(target.dataset.kind, target.dataset.key);
      const item = selected.line || selected.region;
      drag = {
        mode: event.target.dataset.corner ? `resize-${event.target.dataset.corner}` : "move",
        start, item, region: selected.region, origin: boxOf(item, selected.region).slice(),
        lines: selected.line ? null : selected.region.lines.map((l) => (l.bbox ? l.bbox.slice() : null)),
        moved: false, again,
      };
    } else {
      selected = null; markSelected();
      drag = { mode: "pan", x: event.clientX, y: event.clientY, vx: view.x, vy: view.y };
    }
    viewport.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  viewport.addEventListener("pointermove", (event) => {
    if (!drag) return;
    if (drag.mode === "pan") {
      view.x = drag.vx + event.clientX - drag.x; view.y = drag.vy + event.clientY - drag.y; applyView();
      return;
    }
    const point = pagePoint(event);
    const dx = point[0] - drag.start[0], dy = point[1] - drag.start[1];
    if (drag.mode === "draw") { place(drag.ghost, clamp(normalised(drag.start, point))); return; }
    drag.moved = drag.moved || Math.abs(dx) + Math.abs(dy) > 3;
    const o = drag.origin;
    const box = drag.mode === "move" ? [o[0] + dx, o[1] + dy, o[2] + dx, o[3] + dy]
      : drag.mode === "resize-nw" ? [o[0] + dx, o[1] + dy, o[2], o[3]] : [o[0], o[1], o[2] + dx, o[3] + dy];
    setBox(drag, clamp(box), dx, dy);
    renderOverlay();
  });
  viewport.addEventListener("pointerup", (event) => {
    if (!drag) return;
    const done = drag;
    drag = null;
    if (done.mode === "draw") { done.ghost.remove(); drawn(clamp(normalised(done.start, pagePoint(event)))); }
    else if (done.mode !== "pan" && done.moved) changed(done.region, true);
    // A second click on a selected line selects its region (a drawn region is all line).
    else if (done.again) select("region", done.region.key);
  });
  function normalised(a, b) { return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])]; }
  function ghostBox(start) {
    const el = document.createElement("div");
    el.className = "tx-box tx-ghost";
    place(el, [start[0], start[1], start[0] + 1, start[1] + 1]);
    overlay.appendChild(el);
    return el;
  }
  function setBox(d, box, dx, dy) {
    if (d.item === d.region) {
      d.region.bbox = box;
      if (d.mode === "move") d.region.lines.forEach((line, i) => {
        const b = d.lines[i];
        if (b) line.bbox = clamp([b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy]);
      });
    } else {
      d.item.bbox = box;
      const boxed = d.region.lines.filter((l) => l.bbox).map((l) => l.bbox);
      d.region.bbox = union(boxed.length ? boxed : [box]);
    }
  }
  function changed(region, geometry) {
    region.lines.sort((a, b) => boxOf(a, region)[1] - boxOf(b, region)[1]);
    if (region.segment === null && !hasText(region)) saveLayout();
    else schedule(region, geometry ? 200 : 700);
    render();
  }
  function drawn(box) {
    if (box[2] - box[0] < 8 || box[3] - box[1] < 8) return;
    if (tool === "line") {
      const centre = [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
      const region = regions.find((r) => centre[0] >= r.bbox[0] && centre[0] <= r.bbox[2] && centre[1] >= r.bbox[1] && centre[1] <= r.bbox[3]);
      if (region) {
        region.lines.push(toLine({ bbox: box }));
        region.bbox = union([region.bbox, box]);
        changed(region, true);
        return;
      }
    }
    const region = toRegion({ segment: null, bbox: box, lines: [{ bbox: box }] });
    const at = regions.findIndex((r) => r.bbox[1] > box[1]);
    regions.splice(at < 0 ? regions.length : at, 0, region);
    changed(region, true);
  }

  // ---- delete and merge ------------------------------------------------------------------------
  $("[data-act='delete']", root).addEventListener("click", () => removeSelected());
  $("[data-act='merge']", root).addEventListener("click", () => mergeSelected());
  viewport.addEventListener("keydown", (event) => {
    if ((event.key === "Delete" || event.key === "Backspace") && selected) { event.preventDefault(); removeSelected(); }
  });
  async function removeSelected() {
    if (!selected) return;
    const { region, line } = selected;
    selected = null;
    if (line && region.lines.length > 1) {
      region.lines = region.lines.filter((l) => l !== line);
      region.bbox = union(region.lines.map((l) => boxOf(l, region)));
      changed(region, true);
      return;
    }
    if (hasText(region) && !window.confirm("Delete this region and the text typed in it?")) return;
    regions = regions.filter((r) => r !== region);
    window.clearTimeout(region.timer);
    region.timer = null;
    if (region.segment !== null) {
      const result = await api("DELETE", `/api/segments/${region.segment}`).catch(() => null);
      if (!result || !result.ok) flash("The region could not be deleted; reload the page.");
    } else saveLayout();
    render();
  }
  function mergeTarget() {
    if (!selected) return null;
    if (selected.line) {
      const lines = selected.region.lines;
      return lines[lines.indexOf(selected.line) + 1] || null;
    }
    return regions[regions.indexOf(selected.region) + 1] || null;
  }
  async function mergeSelected() {
    const next = mergeTarget();
    if (!next) return;
    const region = selected.region;
    if (selected.line) {
      const line = selected.line;
      const gap = line.text && next.text ? " " : "";
      const offset = line.text.length + gap.length;
      line.unclear = [...line.unclear, ...next.unclear.map((r) => [r[0] + offset, r[1] + offset])];
      line.text = line.text + gap + next.text;
      line.bbox = union([boxOf(line, region), boxOf(next, region)]);
      region.lines = region.lines.filter((l) => l !== next);
      selected = null;
      changed(region, true);
      return;
    }
    const [keep, drop] = region.segment === null && next.segment !== null ? [next, region] : [region, next];
    keep.lines = [...region.lines, ...next.lines];
    keep.bbox = union([region.bbox, next.bbox]);
    keep.draft = keep.draft || drop.draft;
    regions = regions.filter((r) => r !== drop);
    selected = null;
    window.clearTimeout(drop.timer);
    drop.timer = null;
    if (drop.segment !== null) {
      await api("DELETE", `/api/segments/${drop.segment}`).catch(() => null);
    }
    changed(keep, true);
    if (keep.segment === null && hasText(keep)) schedule(keep, 0);
  }

  // ---- proposals of a vision model ------------------------------------------------------------
  function overlapShare(a, b) {
    const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
    const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
    return (w * h) / Math.max(1, (a[2] - a[0]) * (a[3] - a[1]));
  }
  function proposedLines() {
    // Every answered proposal as lines with boxes: a line proposal is one; a region's answer
    // gives one per line when its line count matched.
    const out = [];
    state.proposals.filter((p) => p.status === "done").forEach((p) => {
      if (p.unit === "line") out.push({ id: p.id, bbox: p.bbox, text: p.text, model: p.model, flags: p.flags });
      else p.lines.forEach((l) => { if (l.text !== undefined) out.push({ id: p.id, bbox: l.bbox, text: l.text, model: p.model, flags: p.flags }); });
    });
    return out;
  }
  function lineProposal(region, line) {
    const box = boxOf(line, region);
    return proposedLines().find((p) => overlapShare(box, p.bbox) > 0.5 && overlapShare(p.bbox, box) > 0.5) || null;
  }
  function regionProposals(region) {
    return region.lines.map((line) => lineProposal(region, line)).filter(Boolean);
  }
  function proposalElement(key, proposal) {
    const el = document.createElement("div");
    el.className = "tx-proposal";
    const who = document.createElement("span");
    who.className = "tx-model";
    who.textContent = `${proposal.model}:`;
    const text = document.createElement("q");
    text.textContent = proposal.text;
    const take = document.createElement("button");
    take.type = "button";
    take.tabIndex = -1;
    take.textContent = "Take it (Alt+P)";
    take.addEventListener("click", () => takeProposal(key));
    el.append(who, " ", text, " ", take);
    (proposal.flags || []).forEach((f) => {
      const flag = document.createElement("span");
      flag.className = "badge";
      flag.title = f.message;
      flag.textContent = f.kind;
      el.append(" ", flag);
    });
    return el;
  }
  function takeProposal(key) {
    const found = findLine(key);
    const proposal = found && lineProposal(found.region, found.line);
    if (!proposal) return;
    found.line.text = proposal.text;
    found.line.unclear = [];
    found.line.proposal = proposal.id;
    const input = $(`input[data-key="${key}"]`);
    if (input) input.value = proposal.text;
    renderMarks(key);
    schedule(found.region, 300);
  }
  function acceptAllButton(region) {
    const button = document.createElement("button");
    button.type = "button";
    button.tabIndex = -1;
    button.textContent = "Take the proposals into empty lines";
    button.addEventListener("click", () => {
      let kept = 0;
      region.lines.forEach((line) => {
        if (line.text.trim()) { kept += 1; return; }
        const proposal = lineProposal(region, line);
        if (proposal) { line.text = proposal.text; line.proposal = proposal.id; }
      });
      render();
      schedule(region, 0);
      if (kept) flash(`${kept} line(s) you typed were kept as they are.`);
    });
    return button;
  }
  const visionForm = $("#tx-vision");
  if (visionForm) visionForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const unit = new FormData(visionForm).get("unit");
    const result = await api("POST", `/api/pages/${page.id}/proposals`, { unit });
    if (!result.ok) { flash(result.data ? result.data.message : "The model could not be asked."); return; }
    flash(`Asked for ${result.data.length} proposal(s); they appear as they come.`);
    pollProposals();
  });
  async function pollProposals() {
    const result = await api("GET", `/api/pages/${page.id}/proposals`).catch(() => null);
    if (result && result.ok) {
      state.proposals = result.data.map((p) => Object.assign(p, { bbox: p.bbox }));
      render();
      const waiting = result.data.filter((p) => p.status === "pending");
      if (waiting.length) {
        const why = waiting.find((p) => p.waiting);
        flash(why ? `Waiting for the model: ${why.waiting}` : `${waiting.length} proposal(s) still coming…`);
        window.setTimeout(pollProposals, 3000);
      }
    }
  }
  if (state.proposals.some((p) => p.status === "pending")) pollProposals();

  // ---- start ------------------------------------------------------------------------------------
  function flash(message) {
    let box = $("#flash");
    if (!box) {
      box = document.createElement("div");
      box.id = "flash";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    box.textContent = message;
    window.clearTimeout(flash.timer);
    flash.timer = window.setTimeout(() => { box.textContent = ""; }, 6000);
  }
  const help = $("#tx-help");
  $$("[data-act='help']").forEach((b) => b.addEventListener("click", () => help.showModal()));
  document.addEventListener("keydown", (event) => {
    if (event.key === "F1") { event.preventDefault(); help.showModal(); }
  });
  async function detect() {
    const result = await api("GET", `/api/pages/${page.id}/lines`).catch(() => null);
    if (result && result.status === 200) {
      linesVersion = result.data.version;
      result.data.regions.forEach((found) => {
        const region = toRegion({ segment: null, bbox: found.bbox, lines: found.lines.map((l) => ({ bbox: l.bbox })) });
        const at = regions.findIndex((r) => r.bbox[1] > found.bbox[1]);
        regions.splice(at < 0 ? regions.length : at, 0, region);
      });
      render();
      focusLine(0);
    } else {
      flash("Finding the lines on this page…");
      window.setTimeout(detect, 2000);
    }
  }
  render();
  if (!state.detected) detect();
  else {
    const lines = allLines();
    const open = lines.findIndex((item) => item.line.text.trim() === "");
    focusLine(open >= 0 ? open : 0);
  }
})();
