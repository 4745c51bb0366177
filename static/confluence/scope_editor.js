// The scope step's editor (templates/confluence/step_scope.html).
//
// The whole selection travels in ONE hidden field, `selection`, as JSON (confluence/scope_editor.py describes it
// and checks it): one field scales to thousands of chosen pages, where a checkbox per page would exceed the
// number of fields a request may carry. This script keeps that field in step with the space checkboxes, the
// page choice menus (in the trees and in the list of page choices) and the labels box, and sets the menus of
// each tree level as it loads, so a page shows its choice wherever it appears.
(function () {
  "use strict";

  const form = document.getElementById("scope-form");
  const field = document.getElementById("scope-selection");
  if (!form || !field) return;
  const labelsBox = document.getElementById("scope-labels");
  const pickList = document.getElementById("scope-picks");
  const noPicks = document.getElementById("scope-no-picks");
  const rowTemplate = document.getElementById("scope-pick-row");

  const state = read(field.value);

  function read(text) {
    let data = {};
    try {
      data = JSON.parse(text || "{}") || {};
    } catch (error) {
      data = {};
    }
    const pages = new Map(); // page id → {space, mode}
    Object.entries(data.pages || {}).forEach(function ([space, modes]) {
      Object.entries(modes || {}).forEach(function ([id, mode]) {
        pages.set(id, {space: space, mode: mode});
      });
    });
    return {spaces: new Set(data.spaces || []), pages: pages, labels: data.excluded_labels || []};
  }

  function write() {
    const pages = {};
    state.pages.forEach(function (pick, id) {
      (pages[pick.space] = pages[pick.space] || {})[id] = pick.mode;
    });
    field.value = JSON.stringify({spaces: Array.from(state.spaces).sort(), pages: pages, excluded_labels: state.labels});
  }

  function labelsFrom(text) {
    // Confluence labels hold no spaces or commas, and are stored in lower case.
    const labels = text.split(/[\s,]+/).map(function (label) { return label.toLowerCase(); }).filter(Boolean);
    return Array.from(new Set(labels)).sort();
  }

  // Set every control under `root` from the state.
  function show(root) {
    root.querySelectorAll("select[data-page]").forEach(function (select) {
      const pick = state.pages.get(select.dataset.page);
      select.value = pick ? pick.mode : "";
    });
    root.querySelectorAll("input[data-space]").forEach(function (box) {
      box.checked = state.spaces.has(box.dataset.space);
    });
  }

  function countPicks() {
    const counts = {};
    state.pages.forEach(function (pick) { counts[pick.space] = (counts[pick.space] || 0) + 1; });
    form.querySelectorAll("[data-space-count]").forEach(function (span) {
      const n = counts[span.dataset.spaceCount] || 0;
      span.textContent = n ? n + " page choice" + (n === 1 ? "" : "s") + " below" : "";
    });
  }

  // A page chosen in a tree joins the list of page choices, where it stays visible however the trees are folded.
  function listPick(select) {
    const id = select.dataset.page;
    if (!select.value || !pickList || !rowTemplate) return;
    if (Array.from(pickList.children).some(function (row) { return row.dataset.pick === id; })) return;
    const row = rowTemplate.content.firstElementChild.cloneNode(true);
    const copy = row.querySelector("select");
    row.dataset.pick = id;
    row.querySelector("span").textContent = select.dataset.title;
    row.querySelector("code").textContent = select.dataset.space;
    copy.dataset.page = id;
    copy.dataset.space = select.dataset.space;
    copy.dataset.title = select.dataset.title;
    copy.setAttribute("aria-label", select.getAttribute("aria-label"));
    pickList.appendChild(row);
    if (noPicks) noPicks.hidden = true;
  }

  form.addEventListener("change", function (event) {
    const target = event.target;
    if (target.matches("input[data-space]")) {
      if (target.checked) state.spaces.add(target.dataset.space);
      else state.spaces.delete(target.dataset.space);
    } else if (target.matches("select[data-page]")) {
      if (target.value) state.pages.set(target.dataset.page, {space: target.dataset.space, mode: target.value});
      else state.pages.delete(target.dataset.page);
      listPick(target);
      show(form); // the same page in the tree and in the list of choices
      countPicks();
    } else {
      return;
    }
    write();
  });

  if (labelsBox) {
    labelsBox.addEventListener("input", function () {
      state.labels = labelsFrom(labelsBox.value);
      write();
    });
  }

  form.addEventListener("submit", function () {
    if (labelsBox) state.labels = labelsFrom(labelsBox.value);
    write();
  });

  // Page trees load one level at a time, when a space or a page is opened.
  document.addEventListener("toggle", function (event) {
    const details = event.target;
    if (!(details instanceof HTMLDetailsElement) || !details.open || details.dataset.loaded) return;
    details.dataset.loaded = "1";
    fetch(details.dataset.src, {credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) delete details.dataset.loaded; // closing and opening again retries
        return response.text();
      })
      .then(function (html) {
        const level = document.createElement("template");
        level.innerHTML = html;
        show(level.content);
        const holder = details.querySelector(".children");
        holder.classList.remove("muted");
        holder.replaceChildren(level.content);
      })
      .catch(function () {
        delete details.dataset.loaded;
      });
  }, true);

  // Searching spaces filters the list in place, so choices not yet saved stay on the page.
  const search = document.getElementById("scope-search");
  if (search) {
    const box = search.querySelector("input[name=q]");
    function filter() {
      const query = box.value.trim().toLowerCase();
      document.querySelectorAll("[data-space-row]").forEach(function (row) {
        row.hidden = Boolean(query) && !row.dataset.search.includes(query);
      });
    }
    search.addEventListener("submit", function (event) {
      event.preventDefault();
      filter();
    });
    box.addEventListener("input", filter);
  }

  show(form);
  write();
})();
