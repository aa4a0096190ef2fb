// MathJax reads this configuration before it loads (pymdownx.arithmatex, generic mode).
window.MathJax = {
  tex: { inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]], processEscapes: true },
  options: { ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex" }
};

// Sortable comparison tables, re-applied after Material's instant navigation.
function initSortableTables() {
  if (typeof Tablesort === "undefined") return;
  document.querySelectorAll("article table:not([class])").forEach(function (table) {
    if (!table.dataset.sortable) { new Tablesort(table); table.dataset.sortable = "1"; }
  });
}
if (typeof document$ !== "undefined") { document$.subscribe(initSortableTables); }
else { document.addEventListener("DOMContentLoaded", initSortableTables); }
