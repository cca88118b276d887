// The admin from the keyboard, and feedback on every htmx request:
// - busy state: the region a request will replace carries aria-busy="true" until the answer (the element that
//   sent it is disabled by hx-disabled-elt in the templates);
// - focus: when a swap removes the focused element (an inline Save, Cancel or Delete, the history panel, a page
//   of the list), the focus goes to what took its place instead of falling to <body>;
// - Escape closes an inline edit row, the inline new-record form or a status message;
// - shortcuts, only while the focus is not in a field: / Search, n new record, j/k next/previous row, e or Enter
//   edit the focused row, ? the list of shortcuts (templates/_shortcuts.html).
// Everything here only narrows what links and forms already do: without JavaScript the pages work as they are.
(function () {
  "use strict";

  // Without this class the controls that need JavaScript (dismiss buttons, the shortcuts button) stay hidden.
  document.documentElement.classList.add("js");

  // --- busy state --------------------------------------------------------------------------------------------

  var busy = new WeakMap(); // request -> the element marked busy for it

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (!(target instanceof Element) || target === document.body) return;
    target.setAttribute("aria-busy", "true");
    busy.set(event.detail.xhr, target);
  });

  // Fired after the swap (or after an error or abort): an element the swap kept must not stay busy.
  document.addEventListener("htmx:afterRequest", function (event) {
    var target = busy.get(event.detail.xhr);
    if (target) target.removeAttribute("aria-busy");
  });

  // --- focus ---------------------------------------------------------------------------------------------------

  function byId(id) {
    return id ? document.getElementById(id) : null;
  }

  function heading() {
    var h1 = document.querySelector("main h1");
    if (h1) h1.setAttribute("tabindex", "-1");
    return h1;
  }

  function rows() {
    return Array.from(document.querySelectorAll("main tbody[data-rows] > tr[id]"));
  }

  function markRow(row) {
    rows().forEach(function (other) { other.classList.remove("row-focus"); });
    row.classList.add("row-focus");
  }

  // j/k focus the row itself, so that Enter there edits it rather than following the name's link.
  function focusRow(row) {
    markRow(row);
    row.setAttribute("tabindex", "-1");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  // A row back from an inline edit: focus on its Edit link (Enter edits again), or its first link for a viewer.
  function focusRestoredRow(row) {
    var control = row.querySelector("[data-edit]") || row.querySelector("a[href]");
    if (!control) return focusRow(row);
    markRow(row);
    control.focus();
  }

  function focusHeading(region) {
    var title = region.querySelector("h1, h2");
    if (!title) return false;
    title.setAttribute("tabindex", "-1");
    title.focus();
    return true;
  }

  var swapping = null; // what the swap under way replaces, to find where the focus goes if it loses it
  var afterToast = null; // where the focus goes when the status message holding it is dismissed

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var row = target.matches("tbody[data-rows] > tr[id]") ? target : null;
    swapping = {
      id: target.id,
      row: row && row.id,
      next: row && row.nextElementSibling && row.nextElementSibling.id,
      previous: row && row.previousElementSibling && row.previousElementSibling.id,
    };
  });

  // After the settle (and htmx's own autofocus of a form's first field), so only a focus that is really lost
  // is moved. Fired once per settled element: the first one handles the swap.
  document.addEventListener("htmx:afterSettle", function () {
    var swapped = swapping;
    swapping = null;
    if (!swapped) return;
    settleFocus(swapped);
    // A message dismissed later gives the focus back to where the swap left it (a conflict row's field).
    var active = document.activeElement;
    if (!afterToast && active && active !== document.body && !active.closest("#toasts")) afterToast = active;
  });

  function settleFocus(swapped) {
    afterToast = null;
    var active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;
    var row = byId(swapped.row);
    if (row) return focusRestoredRow(row);
    if (swapped.row) {
      // The row was deleted: Undo first (the message says what happened), then the next row, or the heading.
      var next = byId(swapped.next) || byId(swapped.previous);
      afterToast = next;
      var undos = document.querySelectorAll("#toasts [data-undo]");
      if (undos.length) return undos[undos.length - 1].focus();
      if (next) return focusRow(next);
      var title = heading();
      if (title) title.focus();
      return;
    }
    var region = byId(swapped.id);
    if (!region || region === document.body) return;
    if (region.matches(".list")) {
      var first = region.querySelector("tbody[data-rows] > tr[id]");
      if (first) return focusRow(first);
    }
    if (!focusHeading(region)) {
      region.setAttribute("tabindex", "-1");
      region.focus();
    }
  }

  function dismiss(message) {
    message.remove();
    var back = afterToast && afterToast.isConnected ? afterToast : null;
    afterToast = null;
    if (back && back.matches("tr")) focusRow(back);
    else if (back) back.focus();
    else {
      var title = heading();
      if (title) title.focus();
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-dismiss]") : null;
    if (button) dismiss(button.closest(".toast, .alert") || button.parentElement);
    var opener = event.target instanceof Element ? event.target.closest("[data-open-shortcuts]") : null;
    if (opener) openShortcuts();
  });

  // The row focus follows the focus: it goes when the focus leaves the row for the page (not for the shortcuts
  // dialog, which gives the focus back), and comes back with it.
  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (!(target instanceof Element) || target.closest("dialog")) return;
    if (target.matches("tbody[data-rows] > tr[id]")) markRow(target);
    else if (!target.closest("tr.row-focus")) rows().forEach(function (row) { row.classList.remove("row-focus"); });
  });

  // --- keys ----------------------------------------------------------------------------------------------------

  function inField(element) {
    return element instanceof Element && !!element.closest("input, textarea, select, [contenteditable]:not([contenteditable='false'])");
  }

  function currentRow() {
    var active = document.activeElement;
    var row = active instanceof Element ? active.closest("tbody[data-rows] > tr[id]") : null;
    return row || document.querySelector("main tbody[data-rows] > tr.row-focus");
  }

  function moveRow(step) {
    var all = rows();
    if (!all.length) return;
    var current = currentRow();
    var index = current ? all.indexOf(current) + step : step > 0 ? 0 : all.length - 1;
    focusRow(all[Math.max(0, Math.min(all.length - 1, index))]);
  }

  function editRow() {
    var row = currentRow();
    var edit = row && row.querySelector("[data-edit]");
    if (edit) edit.click();
  }

  function openShortcuts() {
    var dialog = document.getElementById("shortcuts");
    if (dialog && !dialog.open) dialog.showModal();
  }

  function newRecord() {
    var field = document.querySelector("[data-form-slot] input:not([type='hidden']), [data-form-slot] select");
    if (field) return field.focus(); // the form is open already
    var link = document.querySelector("[data-new-record]");
    if (link) link.click();
  }

  // Escape: an inline edit goes back to its row (Cancel asks the server for it); the inline new form closes
  // without a request; a status message is dismissed. A dialog handles its own Escape.
  function escape(event) {
    var active = document.activeElement;
    if (!(active instanceof Element) || document.querySelector("dialog[open]")) return;
    var editing = active.closest("tr.editing");
    var cancel = editing && editing.querySelector("[data-cancel]");
    if (cancel) {
      event.preventDefault();
      return cancel.click();
    }
    var slot = active.closest("[data-form-slot]");
    if (slot) {
      event.preventDefault();
      slot.replaceChildren();
      var link = document.querySelector("[data-new-record]");
      if (link) link.focus();
      return;
    }
    var message = active.closest("#toasts .toast, #toasts .alert");
    if (message) {
      event.preventDefault();
      dismiss(message);
    }
  }

  var keys = {
    "/": function () {
      var search = document.querySelector("main form[role='search'] input[type='search']");
      if (search) {
        search.focus();
        search.select();
      }
    },
    "?": openShortcuts,
    n: newRecord,
    j: function () { moveRow(1); },
    k: function () { moveRow(-1); },
    e: editRow,
  };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") return escape(event);
    if (inField(event.target) || document.querySelector("dialog[open]")) return;
    // Enter on a focused row (not on a link or button in it, which keep their own Enter) edits it.
    var action = event.key === "Enter" ? (event.target instanceof Element && event.target.matches("tr.row-focus") ? editRow : null) : keys[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });
})();
