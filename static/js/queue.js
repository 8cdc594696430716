// Keyboard for the coordinator queue. Everything here also works with plain links and forms.
(function () {
  "use strict";
  var current = null;

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tbody.lead-row")); }

  function focusRow(row) {
    if (!row) { return; }
    if (current) { current.classList.remove("current"); }
    current = row;
    row.classList.add("current");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var all = rows();
    if (!all.length) { return; }
    var index = current ? all.indexOf(current) : -1;
    if (index === -1 && current) { current = null; }
    focusRow(all[Math.max(0, Math.min(all.length - 1, index + step))]);
  }

  function typing(event) {
    var el = event.target;
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var help = document.getElementById("help");
    if (event.key === "Escape") {
      var open = document.querySelector(".panel:not(:empty)");
      if (open) { open.innerHTML = ""; if (current) { current.focus(); } }
      return;
    }
    if (typing(event)) { return; }
    if (event.key === "?") { event.preventDefault(); if (help.open) { help.close(); } else { help.showModal(); } return; }
    if (event.key === "/") { event.preventDefault(); var q = document.getElementById("q"); if (q) { q.focus(); } return; }
    if (event.key === "j") { event.preventDefault(); move(1); return; }
    if (event.key === "k") { event.preventDefault(); move(-1); return; }
    if (!current || !document.body.contains(current)) {
      current = null;
      return;
    }
    if (event.key === "Enter") { event.preventDefault(); current.querySelector("a.open").click(); return; }
    if (event.key === "x") { event.preventDefault(); var box = current.querySelector("input[type=checkbox]"); box.checked = !box.checked; return; }
    var link = current.querySelector('a[data-key="' + event.key + '"]');
    if (link) { event.preventDefault(); link.click(); }
  });

  // A row's actions menu (narrow screens) closes once one of its forms is on its way.
  document.body.addEventListener("htmx:beforeRequest", function () {
    var menus = document.querySelectorAll(".acts-links[popover]");
    for (var i = 0; i < menus.length; i++) {
      try { if (menus[i].matches(":popover-open")) { menus[i].hidePopover(); } } catch (e) { /* no popover support */ }
    }
  });

  // After an inline form loads, put the cursor in it; after a save, keep the row current.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target.classList && target.classList.contains("panel")) {
      var field = target.querySelector("select, input:not([type=hidden]), textarea");
      if (field) { field.focus(); }
    }
    if (target.id && target.id.indexOf("lead-") === 0) {
      var row = document.getElementById(target.id);
      if (row) { focusRow(row); }
    }
  });

  document.body.addEventListener("click", function (event) {
    var close = event.target.closest("[data-close-panel]");
    if (close) { event.preventDefault(); close.closest(".panel").innerHTML = ""; }
    var openHelp = event.target.closest("[data-help-open]");
    if (openHelp) { document.getElementById("help").showModal(); }
    var row = event.target.closest("tbody.lead-row");
    if (row) { focusRow(row); }
  });
})();
