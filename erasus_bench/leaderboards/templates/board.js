(function () {
  "use strict";
  function key(td, type) {
    var k = td.getAttribute("data-k");
    if (type === "text") { return (k === null ? td.textContent : k).trim(); }
    return k === null || k === "" ? null : parseFloat(k);
  }
  function compare(x, y) {
    if (x === y) { return 0; }
    if (typeof x === "string") { return x.localeCompare(y); }
    return x < y ? -1 : 1;
  }
  document.querySelectorAll("table.board").forEach(function (table) {
    var body = table.querySelector("tbody.rows");
    table.querySelectorAll("th[data-type]").forEach(function (th) {
      th.tabIndex = 0;
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") { th.click(); } });
      th.addEventListener("click", function () {
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        var col = th.cellIndex, type = th.getAttribute("data-type");
        table.querySelectorAll("th[aria-sort]").forEach(function (o) { o.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[col], type), y = key(b.cells[col], type);
          if (x === null || y === null) { return (x === null) - (y === null); }
          return dir * compare(x, y);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  var form = document.querySelector("form.filters");
  if (!form) { return; }
  form.hidden = false;
  form.addEventListener("change", function () {
    var selects = form.querySelectorAll("select");
    document.querySelectorAll("tbody.rows tr").forEach(function (tr) {
      tr.hidden = Array.prototype.some.call(selects, function (s) {
        return s.value !== "" && tr.getAttribute("data-" + s.name) !== s.value;
      });
    });
  });
}());
