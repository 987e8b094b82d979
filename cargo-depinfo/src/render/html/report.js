// Sorting, filtering and copying of the report's tables. The tables are complete without
// this script; it reads nothing but the page's own cells.
(function () {
  "use strict";

  function sortTable(table, th) {
    var head = table.tHead.rows[0].cells;
    var index = th.cellIndex;
    var descending = th.getAttribute("aria-sort") === "ascending";
    for (var i = 0; i < head.length; i++) {
      head[i].removeAttribute("aria-sort");
    }
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var numeric = th.getAttribute("data-type") === "num";
    var body = table.tBodies[0];
    var keyed = [];
    for (var r = 0; r < body.rows.length; r++) {
      var raw = body.rows[r].cells[index].getAttribute("data-value") || "";
      keyed.push({ row: body.rows[r], at: r, value: numeric ? Number(raw) : raw });
    }
    keyed.sort(function (a, b) {
      var c = numeric ? a.value - b.value : a.value.localeCompare(b.value);
      if (descending) {
        c = -c;
      }
      return c || a.at - b.at;
    });
    var rows = document.createDocumentFragment();
    keyed.forEach(function (k) {
      rows.appendChild(k.row);
    });
    body.appendChild(rows);
  }

  function filterTable(table, view, typed) {
    var needle = typed.toLowerCase();
    var rows = table.tBodies[0].rows;
    for (var r = 0; r < rows.length; r++) {
      var row = rows[r];
      if (row.searchText === undefined) {
        // The crates view is the lookup of one crate: it matches the crate's name.
        var source = view === "crates" ? row.cells[0] : row;
        row.searchText = source.textContent.toLowerCase();
      }
      row.hidden = needle !== "" && row.searchText.indexOf(needle) < 0;
    }
  }

  function visibleText(table) {
    var lines = [];
    var head = table.tHead.rows[0].cells;
    var names = [];
    for (var h = 0; h < head.length; h++) {
      names.push(head[h].textContent.trim());
    }
    lines.push(names.join("\t"));
    var rows = table.tBodies[0].rows;
    for (var r = 0; r < rows.length; r++) {
      if (rows[r].hidden) {
        continue;
      }
      var cells = rows[r].cells;
      var values = [];
      for (var c = 0; c < cells.length; c++) {
        values.push(cells[c].getAttribute("data-value") || "");
      }
      lines.push(values.join("\t"));
    }
    return lines.join("\n") + "\n";
  }

  // Copies `text`; when the browser refuses the clipboard (a file opened without a user
  // gesture, or a policy), shows it selected in a text area below the controls instead.
  function copyText(section, view, text, done) {
    function shown() {
      var area = section.querySelector('textarea[data-copied="' + view + '"]');
      if (!area) {
        area = document.createElement("textarea");
        area.className = "copied";
        area.setAttribute("readonly", "");
        area.setAttribute("data-copied", view);
        area.setAttribute("aria-label", "Rows of " + view + " to copy");
        section.querySelector(".tools").insertAdjacentElement("afterend", area);
      }
      area.value = text;
      area.focus();
      area.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (e) {
        ok = false;
      }
      done(ok);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () {
        done(true);
      }, shown);
    } else {
      shown();
    }
  }

  var tables = document.querySelectorAll("table[data-view]");
  Array.prototype.forEach.call(tables, function (table) {
    var view = table.getAttribute("data-view");
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.addEventListener("click", function () {
        sortTable(table, th);
      });
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sortTable(table, th);
        }
      });
    });
    var section = table.closest("section");
    var input = section.querySelector('input[data-filter="' + view + '"]');
    if (input) {
      input.addEventListener("input", function () {
        filterTable(table, view, input.value);
      });
      if (input.value !== "") {
        filterTable(table, view, input.value);
      }
    }
    var button = section.querySelector('button[data-copy="' + view + '"]');
    var status = section.querySelector(".status");
    if (button) {
      button.addEventListener("click", function () {
        var text = visibleText(table);
        var count = text.split("\n").length - 2;
        copyText(section, view, text, function (ok) {
          if (status) {
            status.textContent = ok
              ? "Copied " + count + (count === 1 ? " row" : " rows")
              : "The browser refused the clipboard: the " + count +
                (count === 1 ? " row is" : " rows are") + " selected below, copy with Ctrl+C";
          }
        });
      });
    }
  });
})();
