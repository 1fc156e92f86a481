/* covtool's HTML report: line filters, keyboard navigation, the sortable and foldable tree. */
(function () {
  "use strict";
  var body = document.body;

  function setFilter(name) {
    body.setAttribute("data-show", name);
    var buttons = document.querySelectorAll("button[data-filter]");
    for (var i = 0; i < buttons.length; i++) {
      var pressed = buttons[i].getAttribute("data-filter") === name;
      buttons[i].setAttribute("aria-pressed", pressed ? "true" : "false");
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-filter]");
    if (button) {
      setFilter(button.getAttribute("data-filter"));
    }
  });

  // Keyboard: j or n goes to the next uncovered line, k or p to the previous one.
  var uncovered = null;
  var current = -1;

  function uncoveredRows() {
    if (uncovered === null) {
      uncovered = document.querySelectorAll(".lines > .m, .lines > .p");
      var target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
      for (var i = 0; target && i < uncovered.length; i++) {
        if (uncovered[i] === target) {
          current = i;
        }
      }
    }
    return uncovered;
  }

  function step(direction) {
    var rows = uncoveredRows();
    var i = current < 0 ? (direction > 0 ? 0 : rows.length - 1) : current + direction;
    for (; i >= 0 && i < rows.length; i += direction) {
      if (rows[i].offsetParent !== null) {
        show(rows, i);
        return;
      }
    }
  }

  function show(rows, index) {
    if (current >= 0) {
      rows[current].classList.remove("current");
    }
    current = index;
    var row = rows[index];
    row.classList.add("current");
    row.scrollIntoView({ block: "center" });
    if (row.id) {
      history.replaceState(null, "", "#" + row.id);
    }
  }

  var keys = { j: 1, n: 1, k: -1, p: -1 };
  document.addEventListener("keydown", function (event) {
    var known = Object.prototype.hasOwnProperty.call(keys, event.key);
    if (event.ctrlKey || event.metaKey || event.altKey || !known) {
      return;
    }
    var tag = event.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") {
      return;
    }
    event.preventDefault();
    step(keys[event.key]);
  });

  var tree = document.getElementById("tree");
  if (tree) {
    makeTree(tree);
  }

  // The index: rows carry data-id and data-parent; sorting orders each directory's
  // children and keeps every subtree under its directory; folding hides a subtree.
  function makeTree(table) {
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var children = {};
    rows.forEach(function (row) {
      var parent = row.getAttribute("data-parent");
      (children[parent] = children[parent] || []).push(row);
    });
    var headers = table.tHead.rows[0].cells;

    function value(row, column) {
      var text = row.cells[column].getAttribute("data-v");
      return column === 0 ? text : parseFloat(text);
    }

    function walk(parent, hidden, visit) {
      (children[parent] || []).forEach(function (row) {
        visit(row, hidden);
        if (row.classList.contains("d")) {
          walk(row.getAttribute("data-id"), hidden || row.classList.contains("folded"), visit);
        }
      });
    }

    function sortBy(column, descending) {
      var sign = descending ? -1 : 1;
      Object.keys(children).forEach(function (parent) {
        children[parent].sort(function (a, b) {
          var x = value(a, column);
          var y = value(b, column);
          var order = x < y ? -1 : x > y ? 1 : 0;
          if (order === 0 && column !== 0) {
            order = value(a, 0) < value(b, 0) ? -1 : 1;
            return order;
          }
          return sign * order;
        });
      });
      var ordered = document.createDocumentFragment();
      walk("0", false, function (row) {
        ordered.appendChild(row);
      });
      tbody.appendChild(ordered);
      for (var i = 0; i < headers.length; i++) {
        headers[i].setAttribute(
          "aria-sort", i === column ? (descending ? "descending" : "ascending") : "none");
      }
    }

    function applyFolds() {
      walk("0", false, function (row, hidden) {
        row.hidden = hidden;
      });
    }

    Array.prototype.forEach.call(headers, function (header, column) {
      var button = header.querySelector("button");
      if (button) {
        button.addEventListener("click", function () {
          sortBy(column, header.getAttribute("aria-sort") === "ascending");
        });
      }
    });

    tbody.addEventListener("click", function (event) {
      var fold = event.target.closest("button.fold");
      if (fold) {
        var row = fold.closest("tr");
        var folded = row.classList.toggle("folded");
        fold.setAttribute("aria-expanded", folded ? "false" : "true");
        applyFolds();
      }
    });
  }
})();
