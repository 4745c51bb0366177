// The scope step's editor (templates/confluence/step_scope.html).
//
// The whole selection travels in ONE hidden field, `selection`, as JSON (confluence/scope_editor.py describes it
// and checks it): one field scales to thousands of chosen pages, where a checkbox per page would exceed the
// number of fields a request may carry. Everything on the page edits that selection and is redrawn from it:
//
// - a space's checkbox: the whole space ("spaces");
// - a page's menu: one choice for that page ("pages": include or exclude, with or without descendants);
// - a page's tick box in a tree: ticks or clears the page and everything below it, replacing the choices below
//   it with one include or exclude (see `tick`); the box is half-ticked when only some pages below are chosen;
// - the excluded labels.
//
// A space's tree is built here from one listing of the space (TreeLevel.rows), fetched when the space is opened:
// counts per subtree and the search by title need every page. Only opened levels are drawn, CHUNK rows at a time,
// and every redraw walks the listing once (no work that grows with the square of the pages).
(function () {
  "use strict";

  const form = document.getElementById("scope-form");
  const field = document.getElementById("scope-selection");
  if (!form || !field) return;
  const labelsBox = document.getElementById("scope-labels");
  const pickList = document.getElementById("scope-picks");
  const noPicks = document.getElementById("scope-no-picks");
  const pickTemplate = document.getElementById("scope-pick-row");
  const rowTemplate = document.getElementById("scope-tree-row");

  const CHUNK = 200; // rows drawn at a time under one parent
  const MAX_RESULTS = 50; // search results drawn
  const numbers = new Intl.NumberFormat("en-US");

  const state = read(field.value);
  const trees = new Map(); // space key → its tree, once opened
  const rowOf = new WeakMap(); // tree row (li) → {tree, node, box, count, select}
  const moreOf = new WeakMap(); // "show more" row → the function drawing the next rows
  const pickRows = new Map(); // page id → its row in the list of page choices

  // The selection ----------------------------------------------------------------------------------------------

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

  function modeOf(id) {
    const pick = state.pages.get(id);
    return pick ? pick.mode : "";
  }

  // A space's tree ---------------------------------------------------------------------------------------------

  function buildTree(key, name, rows) {
    const nodes = new Map();
    rows.forEach(function (row) {
      nodes.set(row[0], {id: row[0], parentId: row[1], title: row[2], lower: row[2].toLowerCase(),
        parent: null, children: [], size: 1, kept: 0});
    });
    const roots = [];
    nodes.forEach(function (node) {
      const parent = node.parentId ? nodes.get(node.parentId) : null;
      if (parent) {
        node.parent = parent;
        parent.children.push(node);
      } else {
        roots.push(node);
      }
    });
    // Parents before children: `resolve` walks it forwards, counts add up walking it backwards.
    const order = [];
    const stack = roots.slice().reverse();
    while (stack.length) {
      const node = stack.pop();
      order.push(node);
      for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]);
    }
    for (let i = order.length - 1; i >= 0; i--) {
      if (order[i].parent) order[i].parent.size += order[i].size;
    }
    return {key: key, name: name, nodes: nodes, roots: roots, order: order, kept: 0, panel: null};
  }

  // Which pages the selection keeps, as confluence/scope.py's select_pages decides (labels aside, which the
  // listing does not carry): included by the whole space or an include, minus every exclusion.
  function resolve(tree) {
    const whole = state.spaces.has(tree.key);
    tree.kept = 0;
    tree.order.forEach(function (node) {
      const mode = modeOf(node.id);
      const includedAbove = node.parent ? node.parent.includesBelow : whole;
      const excludedAbove = node.parent ? node.parent.excludesBelow : false;
      node.includesBelow = includedAbove || mode === "include";
      node.excludesBelow = excludedAbove || mode === "exclude";
      const included = includedAbove || mode === "include" || mode === "include_only";
      const excluded = excludedAbove || mode === "exclude" || mode === "exclude_only";
      node.kept = included && !excluded ? 1 : 0;
    });
    for (let i = tree.order.length - 1; i >= 0; i--) {
      const node = tree.order[i];
      if (node.parent) node.parent.kept += node.kept;
      else tree.kept += node.kept;
    }
  }

  function ticked(node) {
    return node.kept === 0 ? "false" : node.kept === node.size ? "true" : "mixed";
  }

  function pathOf(node) {
    const path = [];
    for (let up = node.parent; up; up = up.parent) path.unshift(up);
    return path;
  }

  function subtree(node, visit) {
    const stack = [node];
    while (stack.length) {
      const next = stack.pop();
      visit(next);
      for (let i = 0; i < next.children.length; i++) stack.push(next.children[i]);
    }
  }

  // Ticking a box chooses the page and everything below it; clearing it, none of them. The choices below are
  // replaced; choices elsewhere are kept. Exclusions win over inclusions (as in the engine), so ticking a page
  // inside an excluded subtree narrows that exclusion to the pages beside the path down to it.
  function tick(tree, node) {
    const choose = ticked(node) !== "true";
    subtree(node, function (below) { state.pages.delete(below.id); });
    if (choose) {
      const path = pathOf(node);
      const first = path.findIndex(function (up) { return modeOf(up.id) === "exclude"; });
      if (first >= 0) {
        for (let i = first; i < path.length; i++) {
          const on = path[i];
          const next = path[i + 1] || node;
          state.pages.set(on.id, {space: tree.key, mode: "exclude_only"});
          on.children.forEach(function (child) {
            if (child !== next) state.pages.set(child.id, {space: tree.key, mode: "exclude"});
          });
        }
      }
      resolve(tree);
      const includedAbove = node.parent ? node.parent.includesBelow : state.spaces.has(tree.key);
      if (!includedAbove) state.pages.set(node.id, {space: tree.key, mode: "include"});
    } else {
      resolve(tree);
      const includedAbove = node.parent ? node.parent.includesBelow : state.spaces.has(tree.key);
      const excludedAbove = node.parent ? node.parent.excludesBelow : false;
      if (includedAbove && !excludedAbove) state.pages.set(node.id, {space: tree.key, mode: "exclude"});
    }
  }

  // Drawing ----------------------------------------------------------------------------------------------------

  function drawRow(tree, node, level, flat) {
    const li = rowTemplate.content.firstElementChild.cloneNode(true);
    const parts = {tree: tree, node: node, box: li.querySelector(".tick"), count: li.querySelector(".count"),
      select: li.querySelector("select")};
    li.dataset.id = node.id;
    li.dataset.space = tree.key;
    li.setAttribute("aria-level", String(level));
    // Named by its title and the size of its subtree; how much of it is chosen is its aria-checked.
    li.setAttribute("aria-label", node.size > 1 ? node.title + ", " + numbers.format(node.size) + " pages" : node.title);
    li.querySelector(".title").textContent = node.title;
    parts.select.dataset.page = node.id;
    parts.select.dataset.space = tree.key;
    parts.select.dataset.title = node.title;
    parts.select.setAttribute("aria-label", node.title + " in " + tree.key);
    if (flat) {
      const where = document.createElement("span");
      where.className = "where muted";
      where.textContent = pathOf(node).map(function (up) { return up.title; }).join(" / ") || "Top level";
      li.insertBefore(where, parts.count);
    } else if (node.children.length) {
      // A page with pages below opens like a <details> (the summary is the triangle); its rows are drawn then.
      li.setAttribute("aria-expanded", "false");
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      const group = document.createElement("ul");
      summary.tabIndex = -1;
      summary.title = "Show the pages below " + node.title;
      summary.setAttribute("aria-hidden", "true");
      group.setAttribute("role", "group");
      details.append(summary, group);
      li.append(details);
    }
    rowOf.set(li, parts);
    paintRow(parts, li);
    return li;
  }

  function paintRow(parts, li) {
    const node = parts.node;
    const now = ticked(node);
    if (li.getAttribute("aria-checked") !== now) li.setAttribute("aria-checked", now);
    parts.box.checked = now === "true";
    parts.box.indeterminate = now === "mixed";
    let count = "";
    if (node.size > 1) {
      count = now === "mixed" ? numbers.format(node.kept) + " of " + numbers.format(node.size) + " pages"
        : numbers.format(node.size) + " pages";
    }
    if (parts.count.textContent !== count) parts.count.textContent = count;
    const mode = modeOf(node.id);
    if (parts.select.value !== mode) parts.select.value = mode;
    parts.select.classList.toggle("unset", !mode); // drawn quietly: most pages have no choice of their own
  }

  function drawChildren(tree, node, group, start) {
    const children = node ? node.children : tree.roots;
    const level = node ? pathOf(node).length + 2 : 1;
    const end = Math.min(children.length, start + CHUNK);
    const rows = document.createDocumentFragment();
    for (let i = start; i < end; i++) rows.appendChild(drawRow(tree, children[i], level, false));
    if (end < children.length) {
      const more = document.createElement("li");
      more.setAttribute("role", "treeitem");
      more.setAttribute("aria-level", String(level));
      more.tabIndex = -1;
      more.className = "more";
      more.textContent = "Show " + numbers.format(Math.min(CHUNK, children.length - end)) + " more (" +
        numbers.format(children.length - end) + " not shown)";
      moreOf.set(more, function () {
        more.remove();
        drawChildren(tree, node, group, end);
      });
      rows.appendChild(more);
    }
    group.appendChild(rows);
  }

  function openRow(li) {
    const details = li.querySelector(":scope > details");
    if (!details) return;
    const group = details.lastElementChild;
    if (!group.firstElementChild) {
      const parts = rowOf.get(li);
      drawChildren(parts.tree, parts.node, group, 0);
    }
    details.open = true;
    li.setAttribute("aria-expanded", "true");
  }

  function paint(tree) {
    tree.panel.querySelectorAll("li[data-id]").forEach(function (li) {
      const parts = rowOf.get(li);
      if (parts) paintRow(parts, li);
    });
    const total = form.querySelector('[data-space-total="' + CSS.escape(tree.key) + '"]');
    if (total) {
      total.textContent = numbers.format(tree.order.length) + " page" + (tree.order.length === 1 ? "" : "s") +
        " · " + numbers.format(tree.kept) + " chosen";
    }
  }

  function showSpace(details, rows) {
    const key = details.dataset.key;
    const tree = buildTree(key, details.dataset.name, rows);
    trees.set(key, tree);
    resolve(tree);
    const panel = document.createElement("div");
    panel.className = "space-pages";
    const searchId = "scope-page-search-" + key;
    panel.innerHTML =
      '<p class="page-search"><label></label> <input type="search" autocomplete="off">' +
      ' <span class="muted" role="status" aria-live="polite"></span></p>' +
      '<ul role="tree" class="page-tree"></ul><ul role="tree" class="page-results" hidden></ul>';
    const label = panel.querySelector("label");
    const box = panel.querySelector("input");
    label.textContent = "Search pages in " + tree.name;
    label.htmlFor = searchId;
    box.id = searchId;
    box.placeholder = "Page title";
    const treeList = panel.querySelector(".page-tree");
    const results = panel.querySelector(".page-results");
    treeList.setAttribute("aria-label", "Pages of " + tree.name);
    results.setAttribute("aria-label", "Pages of " + tree.name + " matching the search");
    tree.panel = panel;
    tree.list = treeList;
    tree.results = results;
    tree.status = panel.querySelector("[role=status]");
    if (tree.roots.length) {
      drawChildren(tree, null, treeList, 0);
      treeList.firstElementChild.tabIndex = 0;
    } else {
      tree.status.textContent = "This space has no pages.";
      box.disabled = true;
    }
    let pending = null;
    box.addEventListener("input", function () {
      clearTimeout(pending);
      pending = setTimeout(function () { search(tree, box.value); }, 120);
    });
    box.addEventListener("keydown", function (event) {
      // Enter searches at once instead of submitting the form (which would preview).
      if (event.key === "Enter") {
        event.preventDefault();
        clearTimeout(pending);
        search(tree, box.value);
      }
    });
    details.querySelector(".children").replaceWith(panel);
    paint(tree);
    redraw();
  }

  function search(tree, text) {
    const query = text.trim().toLowerCase();
    tree.results.replaceChildren();
    if (!query) {
      tree.results.hidden = true;
      tree.list.hidden = false;
      tree.status.textContent = "";
      return;
    }
    const found = [];
    let matches = 0;
    tree.order.forEach(function (node) {
      if (!node.lower.includes(query)) return;
      matches += 1;
      if (found.length < MAX_RESULTS) found.push(node);
    });
    const rows = document.createDocumentFragment();
    found.forEach(function (node) { rows.appendChild(drawRow(tree, node, 1, true)); });
    tree.results.appendChild(rows);
    if (tree.results.firstElementChild) tree.results.firstElementChild.tabIndex = 0;
    tree.results.hidden = false;
    tree.list.hidden = true;
    tree.status.textContent = matches === 0 ? "No page title contains “" + text.trim() + "”."
      : matches > found.length ? "The first " + found.length + " of " + numbers.format(matches) + " matching pages."
        : numbers.format(matches) + " matching page" + (matches === 1 ? "" : "s") + ". Enter shows one in the tree.";
  }

  // A search result, shown in its place in the tree (every level above it opened and drawn).
  function reveal(tree, node) {
    const box = tree.panel.querySelector("input[type=search]");
    box.value = "";
    search(tree, "");
    let group = tree.list;
    let li = null;
    pathOf(node).concat([node]).forEach(function (step) {
      if (li) {
        openRow(li);
        group = li.querySelector(":scope > details").lastElementChild;
      }
      li = group.querySelector(':scope > li[data-id="' + CSS.escape(step.id) + '"]');
      while (!li && group.lastElementChild && moreOf.has(group.lastElementChild)) {
        moreOf.get(group.lastElementChild)();
        li = group.querySelector(':scope > li[data-id="' + CSS.escape(step.id) + '"]');
      }
    });
    if (li) focusRow(li);
  }

  // Everything drawn from the selection, after any change.
  function redraw(keep) {
    trees.forEach(function (tree) {
      resolve(tree);
      paint(tree);
    });
    listPicks(keep);
    countPicks();
    write();
  }

  function countPicks() {
    const counts = {};
    const including = new Set();
    state.pages.forEach(function (pick) {
      counts[pick.space] = (counts[pick.space] || 0) + 1;
      if (pick.mode.startsWith("include")) including.add(pick.space);
    });
    form.querySelectorAll("[data-space-count]").forEach(function (span) {
      const n = counts[span.dataset.spaceCount] || 0;
      const text = n ? n + " page choice" + (n === 1 ? "" : "s") + " below" : "";
      if (span.textContent !== text) span.textContent = text;
    });
    // A space's box: ticked for the whole space, half-ticked when only some of its pages are chosen.
    form.querySelectorAll("input[data-space]").forEach(function (box) {
      const key = box.dataset.space;
      const tree = trees.get(key);
      box.checked = state.spaces.has(key);
      box.indeterminate = !box.checked && (tree ? tree.kept > 0 : including.has(key));
    });
    // Only a whole space can sync its blog (the server refuses the rest): the box is off and unticked until then.
    form.querySelectorAll("input[data-blog]").forEach(function (box) {
      const whole = state.spaces.has(box.dataset.blog);
      if (!whole) box.checked = false;
      box.disabled = !whole;
    });
  }

  // The list of page choices: every chosen page, wherever it is in the trees. A row whose menu was just set to
  // "Not chosen" stays (`keep`), so the choice can be made again where it was cleared.
  function listPicks(keep) {
    if (!pickList) return;
    pickRows.forEach(function (row, id) {
      if (!state.pages.has(id) && row !== keep) {
        row.remove();
        pickRows.delete(id);
      }
    });
    const added = document.createDocumentFragment();
    state.pages.forEach(function (pick, id) {
      if (pickRows.has(id)) return;
      const row = pickTemplate.content.firstElementChild.cloneNode(true);
      const select = row.querySelector("select");
      const tree = trees.get(pick.space);
      const node = tree ? tree.nodes.get(id) : null;
      const title = node ? node.title : "Page " + id;
      row.dataset.pick = id;
      row.querySelector("span").textContent = title;
      row.querySelector("code").textContent = pick.space;
      select.dataset.page = id;
      select.dataset.space = pick.space;
      select.dataset.title = title;
      select.setAttribute("aria-label", title + " in " + pick.space);
      pickRows.set(id, row);
      added.appendChild(row);
    });
    pickList.appendChild(added);
    pickRows.forEach(function (row, id) {
      const select = row.querySelector("select");
      const mode = modeOf(id);
      if (select.value !== mode) select.value = mode;
    });
    if (noPicks) noPicks.hidden = pickRows.size > 0;
  }

  // Changes ----------------------------------------------------------------------------------------------------

  form.addEventListener("change", function (event) {
    const target = event.target;
    if (target.matches("input[data-space]")) {
      if (target.checked) state.spaces.add(target.dataset.space);
      else state.spaces.delete(target.dataset.space);
      redraw();
    } else if (target.matches("select[data-page]")) {
      if (target.value) state.pages.set(target.dataset.page, {space: target.dataset.space, mode: target.value});
      else state.pages.delete(target.dataset.page);
      redraw(target.closest("li[data-pick]"));
    } else if (target.matches("input.tick")) {
      const li = target.closest("li[data-id]");
      const parts = rowOf.get(li);
      tick(parts.tree, parts.node);
      redraw();
    }
  });

  form.addEventListener("click", function (event) {
    const li = event.target.closest("li[role=treeitem]");
    if (!li) return;
    if (moreOf.has(li)) {
      showMore(li);
    } else if (event.target.matches(".page-results .title")) {
      const parts = rowOf.get(li);
      reveal(parts.tree, parts.node);
    } else if (!event.target.matches("select, input, summary")) {
      focusRow(li);
    }
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

  // Keyboard: the trees follow the WAI-ARIA tree pattern; one row of each tree is in the tab order (and its
  // menu right after it), the arrow keys move between the rows that are shown.
  function focusRow(li) {
    const list = li.closest("[role=tree]");
    list.querySelectorAll("[role=treeitem][tabindex='0'], select[tabindex='0']").forEach(function (el) {
      el.tabIndex = -1;
    });
    li.tabIndex = 0;
    const parts = rowOf.get(li);
    if (parts) parts.select.tabIndex = 0;
    li.focus();
  }

  function parentRow(li) {
    const group = li.parentElement;
    return group.getAttribute("role") === "group" ? group.closest("[role=treeitem]") : null;
  }

  function openGroup(li) {
    const details = li.querySelector(":scope > details");
    return details && details.open ? details.lastElementChild : null;
  }

  function lastShown(li) {
    for (let group = openGroup(li); group && group.lastElementChild; group = openGroup(li)) li = group.lastElementChild;
    return li;
  }

  function nextRow(li) {
    const group = openGroup(li);
    if (group && group.firstElementChild) return group.firstElementChild;
    for (let up = li; up; up = parentRow(up)) {
      if (up.nextElementSibling) return up.nextElementSibling;
    }
    return null;
  }

  function previousRow(li) {
    return li.previousElementSibling ? lastShown(li.previousElementSibling) : parentRow(li);
  }

  function showMore(more) {
    const previous = more.previousElementSibling;
    moreOf.get(more)();
    const next = previous ? previous.nextElementSibling : null;
    if (next) focusRow(next);
  }

  form.addEventListener("keydown", function (event) {
    const li = event.target;
    if (!(li instanceof HTMLElement) || li.getAttribute("role") !== "treeitem") return;
    const list = li.closest("[role=tree]");
    const parts = rowOf.get(li);
    let to = null;
    switch (event.key) {
      case "ArrowDown":
        to = nextRow(li);
        break;
      case "ArrowUp":
        to = previousRow(li);
        break;
      case "ArrowRight":
        if (li.getAttribute("aria-expanded") === "false") openRow(li);
        else if (openGroup(li)) to = openGroup(li).firstElementChild;
        break;
      case "ArrowLeft":
        if (li.getAttribute("aria-expanded") === "true") {
          li.querySelector(":scope > details").open = false;
          li.setAttribute("aria-expanded", "false");
        } else {
          to = parentRow(li);
        }
        break;
      case "Home":
        to = list.firstElementChild;
        break;
      case "End":
        to = lastShown(list.lastElementChild);
        break;
      case " ":
      case "Enter":
        if (moreOf.has(li)) {
          showMore(li);
        } else if (event.key === " ") {
          tick(parts.tree, parts.node);
          redraw();
        } else if (list.classList.contains("page-results")) {
          reveal(parts.tree, parts.node);
        } else if (li.getAttribute("aria-expanded") === "false") {
          openRow(li);
        } else if (li.getAttribute("aria-expanded") === "true") {
          li.querySelector(":scope > details").open = false;
          li.setAttribute("aria-expanded", "false");
        }
        break;
      default:
        return;
    }
    event.preventDefault();
    if (to) focusRow(to);
  });

  // Opening: a space loads its listing once; a page draws its rows once.
  document.addEventListener("toggle", function (event) {
    const details = event.target;
    if (!(details instanceof HTMLDetailsElement)) return;
    const li = details.parentElement;
    if (li && li.getAttribute("role") === "treeitem") {
      // Rows are drawn from the resolved selection, so opening needs no redraw.
      if (details.open) openRow(li);
      else li.setAttribute("aria-expanded", "false");
      return;
    }
    if (!details.open || !details.dataset.src || details.dataset.loaded) return;
    details.dataset.loaded = "1";
    const holder = details.querySelector(".children");
    fetch(details.dataset.src, {credentials: "same-origin"})
      .then(function (response) {
        return response.text().then(function (html) { return {ok: response.ok, html: html}; });
      })
      .then(function (answer) {
        const level = document.createElement("template");
        level.innerHTML = answer.html;
        const data = level.content.querySelector("#scope-tree-rows");
        if (!answer.ok || !data) {
          delete details.dataset.loaded; // closing and opening again retries
          holder.classList.remove("muted");
          holder.replaceChildren(level.content);
          return;
        }
        showSpace(details, JSON.parse(data.textContent));
      })
      .catch(function () {
        delete details.dataset.loaded;
        holder.textContent = "Could not reach ctx|. Close and open again to retry.";
      });
  }, true);

  // Searching spaces filters the list in place, so choices not yet saved stay on the page.
  const spaceSearch = document.getElementById("scope-search");
  if (spaceSearch) {
    const box = spaceSearch.querySelector("input[name=q]");
    const filter = function () {
      const query = box.value.trim().toLowerCase();
      document.querySelectorAll("[data-space-row]").forEach(function (row) {
        row.hidden = Boolean(query) && !row.dataset.search.includes(query);
      });
    };
    spaceSearch.addEventListener("submit", function (event) {
      event.preventDefault();
      filter();
    });
    box.addEventListener("input", filter);
  }

  if (pickList) {
    pickList.querySelectorAll("li[data-pick]").forEach(function (row) { pickRows.set(row.dataset.pick, row); });
  }
  redraw();
  const preview = document.getElementById("scope-preview");
  if (preview) preview.focus();
})();
