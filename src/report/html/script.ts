/**
 * The page's only script, inline: filters by state and by name, and a click
 * on a bar or a node opens that task's details. Everything else (the
 * timeline, the graph, hover titles, the task list) reads without it.
 */
export const SCRIPT = `
(function () {
  "use strict";
  var filters = document.getElementById("filters");
  var timeline = document.getElementById("timeline-svg");
  if (!filters || !timeline) return;
  filters.classList.remove("hidden");
  var rowHeight = Number(timeline.getAttribute("data-row-height"));
  var top = Number(timeline.getAttribute("data-rows-top"));
  var bottom = Number(timeline.getAttribute("data-rows-bottom"));
  var rows = Array.prototype.slice.call(timeline.querySelectorAll("g.row"));
  var tasks = Array.prototype.slice.call(document.querySelectorAll("details.task"));
  var boxes = Array.prototype.slice.call(filters.querySelectorAll("input[type=checkbox]"));
  var search = filters.querySelector("input[type=search]");
  var count = document.getElementById("filter-count");
  function shown(el) {
    var text = search && search.value ? search.value.toLowerCase() : "";
    var state = el.getAttribute("data-state");
    var on = boxes.some(function (b) { return b.checked && b.value === state; });
    return on && (text === "" || String(el.getAttribute("data-name")).toLowerCase().indexOf(text) !== -1);
  }
  function apply() {
    var y = top, visible = 0;
    rows.forEach(function (row) {
      var on = shown(row);
      row.classList.toggle("hidden", !on);
      if (on) { row.setAttribute("transform", "translate(0," + y + ")"); y += rowHeight; visible++; }
    });
    var height = y + bottom;
    timeline.setAttribute("height", String(height));
    timeline.setAttribute("viewBox", "0 0 " + timeline.getAttribute("width") + " " + height);
    Array.prototype.forEach.call(timeline.querySelectorAll(".span-rows"), function (el) {
      el.setAttribute("y2", String(y));
      if (el.tagName === "rect") el.setAttribute("height", String(Math.max(0, y - top)));
    });
    tasks.forEach(function (t) { t.classList.toggle("hidden", !shown(t)); });
    if (count) count.textContent = visible + " of " + rows.length + " rows";
  }
  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  if (search) search.addEventListener("input", apply);
  function open(index) {
    var details = document.getElementById("task-" + index);
    if (!details) return;
    details.open = true;
    details.scrollIntoView({ block: "start" });
  }
  document.addEventListener("click", function (e) {
    var el = e.target && e.target.closest ? e.target.closest("[data-row]") : null;
    if (el) open(el.getAttribute("data-row"));
  });
  apply();
})();
`;
