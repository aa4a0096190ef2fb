// MathJax reads this configuration before it loads (pymdownx.arithmatex, generic mode).
window.MathJax = {
  tex: { inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]], processEscapes: true },
  options: { ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex" }
};

// The pages' numbers as tablesort reads them: a sign ("+", "-" or the pages' "\u2212"), a decimal
// comma or point, then a unit ("88,5 %", "\u22128,5 pp", "+0.048"). tablesort.number reads neither
// "\u2212" nor a comma as a decimal mark; a column it cannot read comes here.
var PAGE_NUMBER = /^\s*([+\-\u2212]?)(\d+)(?:[.,](\d+))?/;
function pageNumber(text) {
  var found = PAGE_NUMBER.exec(text);
  if (!found) return NaN;
  var value = parseFloat(found[2] + "." + (found[3] || "0"));
  return found[1] === "-" || found[1] === "\u2212" ? -value : value;
}
var pageNumbersSortable = false;
function sortPageNumbers() {
  if (pageNumbersSortable) return;
  pageNumbersSortable = true;
  Tablesort.extend("page-number", function (cell) {
    return PAGE_NUMBER.test(cell) || /^\s*\u2014?\s*$/.test(cell);  // "\u2014": no value
  }, function (a, b) {
    var x = pageNumber(a), y = pageNumber(b);
    return (isNaN(y) ? -Infinity : y) - (isNaN(x) ? -Infinity : x);
  });
}

// Sortable comparison tables, re-applied after Material's instant navigation.
function initSortableTables() {
  if (typeof Tablesort === "undefined") return;
  sortPageNumbers();
  document.querySelectorAll("article table:not([class])").forEach(function (table) {
    if (!table.dataset.sortable) { new Tablesort(table); table.dataset.sortable = "1"; }
  });
}
if (typeof document$ !== "undefined") { document$.subscribe(initSortableTables); }
else { document.addEventListener("DOMContentLoaded", initSortableTables); }
