// Bulk selection on the list pages. A list's bulk form (id "hero-bulk" / "team-bulk") owns the row checkboxes
// through their form attribute. "Select all" ticks or clears every row of the page; ticking "Select all N
// matching" ticks them too (they are part of it), and clearing one row clears it (the action would no longer
// be on all of them). The selection count beside them ("3 of 25 selected") follows every tick. Without JavaScript
// "Select all" and the count stay hidden and rows are ticked one by one.
// Event delegation on the document: the lists are swapped in and out by htmx.
(function () {
  "use strict";

  function rows(form) {
    return Array.from(form.elements).filter(function (box) {
      return box.type === "checkbox" && box.name === "selected";
    });
  }

  function pageBox(form) {
    return form.querySelector("[data-select-page] input[type=checkbox]");
  }

  function allMatching(form) {
    return form.querySelector("input[type=checkbox][name=all_matching]");
  }

  function number(n) {
    return n.toLocaleString("en"); // as the server writes counts: 1,234
  }

  // "Select all" shows whether every row, some or none of the page are ticked; the count says how many.
  function sync(form) {
    var boxes = rows(form);
    var ticked = boxes.filter(function (row) { return row.checked; }).length;
    var box = pageBox(form);
    if (box) {
      box.checked = boxes.length > 0 && ticked === boxes.length;
      box.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    var output = form.querySelector("[data-selection-count]");
    if (!output) return;
    // data-matching is there while the list counted its matches (within its count's cap); a search past its cap
    // offers "Select all matching" without a number, and the preview says how many.
    var matching = output.dataset.matching ? Number(output.dataset.matching) : null;
    var all = allMatching(form);
    if (all && all.checked && matching === null) {
      output.textContent = "All matching selected";
      return;
    }
    if (all && all.checked) ticked = matching;
    output.textContent = number(ticked) + (matching === null ? "" : " of " + number(matching)) + " selected";
  }

  function tickPage(form, checked) {
    rows(form).forEach(function (row) { row.checked = checked; });
    sync(form);
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox" || !box.form) return;
    var form = box.form;
    var matching = allMatching(form);
    if (box.closest("[data-select-page]")) {
      tickPage(form, box.checked);
      if (!box.checked && matching) matching.checked = false;
    } else if (box === matching) {
      if (box.checked) tickPage(form, true);
      else sync(form);
    } else if (box.name === "selected") {
      if (!box.checked && matching) matching.checked = false;
      sync(form);
    }
  });

  function reveal(root) {
    root.querySelectorAll("[data-select-page]").forEach(function (wrap) {
      wrap.hidden = false;
      if (wrap.closest("form")) sync(wrap.closest("form"));
    });
  }

  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  // htmx fires htmx:load on content it swaps in (a new page of the list, a search).
  document.addEventListener("htmx:load", function (event) { reveal(event.detail.elt); });
})();
