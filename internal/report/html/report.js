// iamaudit HTML report: filters, sorting and search for the findings table, and
// opening a user's detail from a link. The page works without it (a plain table,
// most severe first). It reads only the page: no network, no storage, no eval.
(function () {
  "use strict";
  var table = document.getElementById("findings-table");
  var form = document.getElementById("filters");
  if (table && form) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var selects = Array.prototype.slice.call(form.querySelectorAll("select"));
    var search = document.getElementById("f-search");
    var count = document.getElementById("f-count");
    var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
    var apply = function () {
      var want = {};
      selects.forEach(function (s) { if (s.value) { want[s.getAttribute("data-key")] = s.value; } });
      var q = search.value.trim().toLowerCase();
      var shown = 0;
      rows.forEach(function (r, i) {
        var ok = true;
        for (var k in want) {
          if (r.getAttribute("data-" + k) !== want[k]) { ok = false; break; }
        }
        if (ok && q && texts[i].indexOf(q) < 0) { ok = false; }
        r.hidden = !ok;
        if (ok) { shown++; }
      });
      count.textContent = count.getAttribute("data-format")
        .replace("{n}", String(shown)).replace("{total}", String(rows.length));
      count.setAttribute("data-shown", String(shown));
    };
    selects.forEach(function (s) { s.addEventListener("change", apply); });
    search.addEventListener("input", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    form.hidden = false;
    apply();

    // Sorting: each column header becomes a button; a second click reverses.
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var key = function (r, col, num) {
      var c = r.cells[col];
      var v = c.hasAttribute("data-sort") ? c.getAttribute("data-sort") : c.textContent.trim().toLowerCase();
      return num ? Number(v) : v;
    };
    heads.forEach(function (th, col) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(b);
      b.addEventListener("click", function () {
        var desc = th.getAttribute("aria-sort") === "ascending";
        var num = th.getAttribute("data-type") === "num";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", desc ? "descending" : "ascending");
        var order = rows.map(function (r, i) { return i; });
        order.sort(function (i, j) {
          var a = key(rows[i], col, num), z = key(rows[j], col, num);
          var c = a < z ? -1 : a > z ? 1 : i - j;
          return desc ? -c : c;
        });
        var frag = document.createDocumentFragment();
        order.forEach(function (i) { frag.appendChild(rows[i]); });
        body.appendChild(frag);
      });
    });
  }

  // A link to a user (or account) opens its collapsed detail and shows it.
  var reveal = function () {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (!el) { return; }
    for (var p = el; p; p = p.parentElement) {
      if (p.tagName === "DETAILS") { p.open = true; }
    }
    el.scrollIntoView();
  };
  window.addEventListener("hashchange", reveal);
  reveal();

  // Printing shows every detail; they close again afterwards.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = Array.prototype.filter.call(document.querySelectorAll("details"), function (d) { return !d.open; });
    opened.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
})();
