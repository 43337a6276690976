// Drag and drop onto the upload form: dropped files go into the file input; the chosen
// files are listed. Nothing is sent anywhere but this form's own action.
(function () {
  "use strict";
  const zone = document.querySelector("[data-dropzone]");
  if (!zone) return;
  const input = zone.querySelector("input[type=file]");
  const list = zone.querySelector(".chosen");
  function show() {
    list.textContent = "";
    for (const file of input.files) {
      const item = document.createElement("li");
      item.textContent = `${file.name} (${Math.max(1, Math.round(file.size / 1024))} KB)`;
      list.appendChild(item);
    }
  }
  input.addEventListener("change", show);
  ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
    event.preventDefault();
    zone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("over")));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    const transfer = new DataTransfer();
    for (const file of input.files) transfer.items.add(file);
    for (const file of event.dataTransfer.files) transfer.items.add(file);
    input.files = transfer.files;
    show();
  });
})();
