"use strict";
(function () {
  function sortKey(cell) {
    var v = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    var n = Number(v);
    return v !== "" && !isNaN(n) ? n : v.toLowerCase();
  }
  function compare(x, y) {
    if (typeof x !== typeof y) return typeof x === "number" ? -1 : 1;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  function sortBy(table, index, th) {
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keys = new Map();
    rows.forEach(function (r) { keys.set(r, sortKey(r.cells[index])); });
    rows.sort(function (a, b) { return compare(keys.get(a), keys.get(b)) * dir; });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (r) { fragment.appendChild(r); });
    body.appendChild(fragment);
  }
  function count(table) {
    var label = document.querySelector('[data-count-for="' + table.id + '"]');
    if (!label) return;
    var rows = table.tBodies[0].rows, shown = 0;
    for (var i = 0; i < rows.length; i++) if (!rows[i].hidden) shown++;
    label.textContent = shown + " of " + rows.length + " rows";
  }
  document.querySelectorAll("table.data").forEach(function (table) {
    table.querySelectorAll("th").forEach(function (th, i) {
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortBy(table, i, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, i, th); }
      });
    });
    count(table);
  });
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    var text = null;
    input.addEventListener("input", function () {
      var rows = table.tBodies[0].rows;
      if (text === null) {
        text = new Map();
        for (var i = 0; i < rows.length; i++) text.set(rows[i], rows[i].textContent.toLowerCase());
      }
      var q = input.value.trim().toLowerCase();
      for (var j = 0; j < rows.length; j++) rows[j].hidden = q !== "" && text.get(rows[j]).indexOf(q) < 0;
      count(table);
    });
  });
})();
