"""The browser's one script, inline in every page and allowed by its SHA-256 (see :mod:`.assets`).

What it does, page by page (``<body data-page=...>``):

* every page: copy buttons;
* ``models``: the search box (name, description, tags, stage, alias, flavor, and metric
  filters such as ``auc>0.8``), sorting by column, the query kept in the URL (``?q=``);
* ``model``: the versions table, drawn from the page's JSON data block: filter, sort,
  paging, a choice of metric columns, selecting versions to compare; and, on charts with
  too many versions to mark each one, the version under the pointer (a click opens it);
* ``search``: every version of every model, filtered the same way;
* ``compare``: the chosen versions side by side, differences marked, metric deltas signed.

Why it is written this way: it builds every element with ``createElement`` and
``textContent`` (never ``innerHTML``), so nothing the registry holds can become markup; it
reads its data from ``<script type="application/json">`` blocks, which are never run; it
loads nothing (the page's CSP has ``default-src 'none'``); and it keeps its state in the
URL's query (``history.replaceState``), which works on the live server and on
``file://``, so a filtered, sorted view can be linked or bookmarked.
"""

from __future__ import annotations

_SOURCE = r"""
(function () {
  "use strict";
  var doc = document;
  var PER_PAGE = [25, 50, 100, 250];
  var DEFAULT_PER = 50;

  // -- small helpers -------------------------------------------------------------------------
  function $(sel, root) { return (root || doc).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || doc).querySelectorAll(sel)); }
  function el(tag, attrs, children) {
    var node = doc.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) { return; }
      if (key === "text") { node.textContent = String(value); }
      else if (key === "class") { node.className = value; }
      else { node.setAttribute(key, value === true ? "" : String(value)); }
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === "") { return; }
      node.appendChild(typeof child === "string" ? doc.createTextNode(child) : child);
    });
    return node;
  }
  function svgEl(tag, attrs) {
    var node = doc.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs).forEach(function (key) { node.setAttribute(key, String(attrs[key])); });
    return node;
  }
  function readJSON(id) {
    var block = doc.getElementById(id);
    return block ? JSON.parse(block.textContent) : null;
  }
  function isNum(v) { return typeof v === "number" && isFinite(v); }
  // the same as fsregistry.ui.metrics.metric_text
  function fmt(v) {
    if (!isNum(v)) { return v === null || v === undefined ? "—" : String(v); }
    if (Number.isInteger(v) && Math.abs(v) < 1e15) { return String(v); }
    if (v === 0) { return "0"; }
    var mag = Math.floor(Math.log10(Math.abs(v)));
    if (mag < -4 || mag >= 15) { return v.toExponential(3).replace(/e([+-])(\d)$/, "e$10$2"); }
    var decimals = Math.max(0, 3 - mag);
    var scaled = decimals > 0 ? v : Math.round(v / Math.pow(10, mag - 3)) * Math.pow(10, mag - 3);
    var text = scaled.toFixed(decimals);
    return text.indexOf(".") >= 0 ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
  }
  function signed(v) {
    var text = fmt(Math.abs(v));
    return (v > 0 ? "+" : v < 0 ? "\u2212" : "\u00b1") + text;
  }
  // the same as fsregistry.ui.markup.size
  function humanSize(n) {
    if (!isNum(n)) { return "—"; }
    var units = ["B", "KiB", "MiB", "GiB", "TiB"], value = n, step = 0;
    while (value >= 1024 && step < units.length - 1) { value /= 1024; step += 1; }
    return step === 0 ? n + " B" : value.toFixed(1) + " " + units[step];
  }
  function params() { return new URLSearchParams(location.search); }
  function setParams(changes) {
    var p = params();
    Object.keys(changes).forEach(function (key) {
      var value = changes[key];
      p.delete(key);
      if (Array.isArray(value)) { value.forEach(function (item) { p.append(key, item); }); }
      else if (value !== null && value !== undefined && value !== "") { p.set(key, value); }
    });
    var query = p.toString();
    try { history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + location.hash); }
    catch (e) { /* a browser that refuses: the view still works, it just cannot be linked */ }
  }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function stageBadge(stage) {
    return stage ? el("span", {"class": "badge stage-" + stage.toLowerCase(), "data-stage": stage, text: stage}) : null;
  }
  function aliasBadges(aliases) {
    return (aliases || []).map(function (a) { return el("span", {"class": "badge alias", text: "@" + a}); });
  }
  function chips(tags) {
    return Object.keys(tags || {}).map(function (k) {
      var text = k + "=" + tags[k];  // cut as fsregistry.ui.markup.chip_text does
      return el("span", {"class": "chip", title: text, text: text.length <= 48 ? text : text.slice(0, 47) + "\u2026"});
    });
  }
  // minutes since 1970 as "YYYY-MM-DD HH:MM" (UTC), as fsregistry.ui.markup.short_time writes it
  function minuteText(minutes) {
    if (!isNum(minutes)) { return ""; }
    var iso = new Date(minutes * 60000).toISOString();
    return iso.slice(0, 10) + " " + iso.slice(11, 16);
  }
  function timeCell(text) {
    if (!text) { return el("span", {"class": "muted", text: "—"}); }
    var parts = text.split(" ");
    return el("time", {title: text + " UTC"}, [
      el("span", {"class": "d", text: parts[0]}), " ", el("span", {"class": "t", text: parts[1] || ""})
    ]);
  }
  // a name that may break after "_", ".", "-" or "/" (the same as fsregistry.ui.markup.breakable)
  function breakable(text) {
    var out = doc.createDocumentFragment();
    String(text).split(/(?<=[_.\/-])/).forEach(function (piece, i) {
      if (i) { out.appendChild(el("wbr")); }
      out.appendChild(doc.createTextNode(piece));
    });
    return out;
  }
  function spaced(nodes) {
    var out = [];
    nodes.forEach(function (node) { if (node) { if (out.length) { out.push(" "); } out.push(node); } });
    return out;
  }

  // -- queries: words, quoted phrases, metric conditions (auc>0.8) ------------------------------
  var CONDITION = /^([^<>=!\s"]+)(>=|<=|>|<)([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)$/i;
  function parseQuery(text) {
    var terms = [], conditions = [];
    (String(text || "").match(/"[^"]*"?|\S+/g) || []).forEach(function (raw) {
      var quoted = raw.charAt(0) === '"';
      var term = (quoted ? raw.replace(/^"|"$/g, "") : raw).toLowerCase();
      if (!term) { return; }
      var m = quoted ? null : CONDITION.exec(term);
      if (m) { conditions.push({name: m[1], op: m[2], value: parseFloat(m[3])}); }
      else { terms.push(term); }
    });
    return {terms: terms, conditions: conditions, empty: !terms.length && !conditions.length};
  }
  function holds(op, a, b) { return op === ">" ? a > b : op === ">=" ? a >= b : op === "<" ? a < b : a <= b; }
  // metricOf(name, op) gives the number a condition is tested against, or undefined
  function matches(query, text, metricOf) {
    for (var i = 0; i < query.terms.length; i += 1) {
      if (text.indexOf(query.terms[i]) === -1) { return false; }
    }
    for (var j = 0; j < query.conditions.length; j += 1) {
      var c = query.conditions[j], value = metricOf(c.name, c.op);
      if (!isNum(value) || !holds(c.op, value, c.value)) { return false; }
    }
    return true;
  }

  // -- copy buttons --------------------------------------------------------------------------
  function fallbackCopy(text) {
    var area = el("textarea", {readonly: true, "class": "offscreen"});
    area.value = text;
    doc.body.appendChild(area);
    area.select();
    try { doc.execCommand("copy"); } catch (e) { /* nothing else to try */ }
    doc.body.removeChild(area);
  }
  doc.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (!button) { return; }
    var text = button.getAttribute("data-copy");
    var done = function () {
      button.textContent = "Copied";
      button.classList.add("done");
      setTimeout(function () { button.textContent = "Copy"; button.classList.remove("done"); }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  });

  // -- sortable header cells -----------------------------------------------------------------
  // "key" sorts ascending, "-key" descending
  function sortHeader(th, key, label, sort, onSort) {
    var active = sort.replace(/^-/, "") === key, descending = sort.charAt(0) === "-";
    th.setAttribute("aria-sort", active ? (descending ? "descending" : "ascending") : "none");
    var mark = active ? (descending ? "\u25bc" : "\u25b2") : "";
    var arrow = el("span", {"class": "arrow", "aria-hidden": "true", text: mark});
    var button = el("button", {type: "button", "class": "sort", "data-sort": key, title: "Sort by " + label},
      [el("span", {"class": "label"}, [breakable(label)]), arrow]);
    button.addEventListener("click", function () {
      onSort(active && !descending ? "-" + key : active ? key : "-" + key);  // descending first, then flip
    });
    th.textContent = "";
    th.appendChild(button);
  }

  // -- the models list -----------------------------------------------------------------------
  function initModels() {
    var input = $("#search"), table = $("table.models");
    if (!input || !table) { return; }
    var tbody = table.tBodies[0], rows = $$("tr[data-model]", tbody);
    var count = $("#search-count"), link = $("#search-versions");
    var ranges = rows.map(function (row) { return JSON.parse(row.getAttribute("data-metrics") || "{}"); });
    var state = {q: params().get("q") || "", sort: params().get("sort") || "name"};
    input.value = state.q;
    var keys = {name: "data-model", versions: "data-versions", updated: "data-updated"};
    function value(row, key) {
      var raw = row.getAttribute(keys[key]) || "";
      return key === "versions" ? Number(raw) : raw.toLowerCase();
    }
    function apply() {
      var query = parseQuery(state.q), shown = 0;
      rows.forEach(function (row, i) {
        var text = row.getAttribute("data-search") || "";
        var ok = matches(query, text, function (name, op) {
          var range = ranges[i][name];
          return range ? (op.charAt(0) === ">" ? range[1] : range[0]) : undefined;
        });
        row.hidden = !ok;
        if (ok) { shown += 1; }
      });
      var key = state.sort.replace(/^-/, ""), sign = state.sort.charAt(0) === "-" ? -1 : 1;
      if (!keys[key]) { key = "name"; sign = 1; }
      rows.slice().sort(function (a, b) {
        var x = value(a, key), y = value(b, key);
        return (x < y ? -1 : x > y ? 1 : 0) * sign || (value(a, "name") < value(b, "name") ? -1 : 1);
      }).forEach(function (row) { tbody.appendChild(row); });
      $$("th[data-key]", table).forEach(function (th) {
        sortHeader(th, th.getAttribute("data-key"), th.getAttribute("data-label"), state.sort, function (next) {
          state.sort = next; apply();
        });
      });
      if (count) { count.textContent = shown + " of " + plural(rows.length, "model"); }
      if (link) {
        var base = link.getAttribute("data-base");
        link.href = base + (state.q.trim() ? "?q=" + encodeURIComponent(state.q.trim()) : "");
        link.textContent = state.q.trim() ? "Search every version for \u201c" + state.q.trim() + "\u201d \u2192"
          : "Search every version of every model \u2192";
      }
      setParams({q: state.q.trim() || null, sort: state.sort === "name" ? null : state.sort});
    }
    input.addEventListener("input", function () { state.q = input.value; apply(); });
    apply();
  }

  // -- a table drawn from data: filter, sort, pages --------------------------------------------
  function dataGrid(cfg) {
    var p = params();
    var per = parseInt(p.get("per"), 10);
    var state = {
      q: p.get("q") || "",
      sort: p.get("sort") || cfg.defaultSort,
      page: Math.max(1, parseInt(p.get("page"), 10) || 1),
      per: PER_PAGE.indexOf(per) >= 0 ? per : DEFAULT_PER
    };
    if (cfg.filter) {
      cfg.filter.value = state.q;
      cfg.filter.addEventListener("input", function () { state.q = cfg.filter.value; state.page = 1; render(); });
    }
    function sortRows(list, columns) {
      var key = state.sort.replace(/^-/, ""), sign = state.sort.charAt(0) === "-" ? -1 : 1;
      var column = columns.filter(function (c) { return c.key === key && c.sort; })[0];
      if (!column) { return list; }
      var keyed = list.map(function (row, i) { return {row: row, value: column.sort(row), i: i}; });
      keyed.sort(function (a, b) {
        var x = a.value, y = b.value, xm = x === null || x === undefined, ym = y === null || y === undefined;
        if (xm || ym) { return xm && ym ? a.i - b.i : xm ? 1 : -1; }  // missing values last, either way
        return (x < y ? -1 : x > y ? 1 : 0) * sign || a.i - b.i;
      });
      return keyed.map(function (k) { return k.row; });
    }
    function pager(total, pages) {
      var box = cfg.pager;
      if (!box) { return; }
      box.textContent = "";
      var first = total ? (state.page - 1) * state.per + 1 : 0, last = Math.min(total, state.page * state.per);
      box.appendChild(el("span", {"class": "range", text: "Showing " + first + "\u2013" + last + " of " +
        plural(total, cfg.noun)}));
      var prev = el("button", {type: "button", "class": "page-prev", text: "\u2190 Previous",
        disabled: state.page <= 1});
      var next = el("button", {type: "button", "class": "page-next", text: "Next \u2192",
        disabled: state.page >= pages});
      prev.addEventListener("click", function () { state.page -= 1; render(); });
      next.addEventListener("click", function () { state.page += 1; render(); });
      var select = el("select", {"class": "per-page", "aria-label": "Rows per page"},
        PER_PAGE.map(function (n) {
          return el("option", {value: n, selected: n === state.per, text: n + " per page"});
        }));
      select.addEventListener("change", function () { state.per = Number(select.value); state.page = 1; render(); });
      box.appendChild(el("span", {"class": "pages"}, [prev, el("span", {"class": "page-of",
        text: "Page " + state.page + " of " + pages}), next, select]));
    }
    function render() {
      var columns = cfg.columns(), query = parseQuery(state.q);
      var list = cfg.rows.filter(function (row) {
        return query.empty || matches(query, row.text, function (name) { return cfg.metric(row, name); });
      });
      list = sortRows(list, columns);
      var pages = Math.max(1, Math.ceil(list.length / state.per));
      state.page = Math.min(state.page, pages);
      var slice = list.slice((state.page - 1) * state.per, state.page * state.per);
      var head = el("tr");
      columns.forEach(function (c) {
        var th = el("th", {scope: "col", "class": c.cls || null, title: c.title || null});
        if (c.sort) {
          sortHeader(th, c.key, c.label, state.sort, function (next) { state.sort = next; state.page = 1; render(); });
        }
        else { th.appendChild(c.header ? c.header() : doc.createTextNode(c.label)); }
        head.appendChild(th);
      });
      var body = doc.createDocumentFragment();
      slice.forEach(function (row) {
        var tr = el("tr", cfg.rowAttrs(row));
        columns.forEach(function (c) { tr.appendChild(el("td", {"class": c.cls || null}, [c.cell(row)])); });
        body.appendChild(tr);
      });
      var table = cfg.table;
      table.tHead.textContent = "";
      table.tHead.appendChild(head);
      table.tBodies[0].textContent = "";
      table.tBodies[0].appendChild(body);
      if (cfg.empty) { cfg.empty.hidden = list.length > 0; }
      if (cfg.count) { cfg.count.textContent = list.length + " of " + plural(cfg.rows.length, cfg.noun); }
      pager(list.length, pages);
      setParams({
        q: state.q.trim() || null,
        sort: state.sort === cfg.defaultSort ? null : state.sort,
        page: state.page > 1 ? String(state.page) : null,
        per: state.per !== DEFAULT_PER ? String(state.per) : null
      });
      if (cfg.after) { cfg.after(list); }
    }
    return {render: render, state: state};
  }

  function versionText(parts) {
    return parts.filter(function (p) { return p; }).join(" ").toLowerCase();
  }

  // -- one model: its versions table, metric columns, compare, chart pointer --------------------
  function initModel(data) {
    var table = $("#versions");
    if (!table) { return; }
    var metricsLower = data.metrics.map(function (m) { return m.toLowerCase(); });
    var rows = data.rows.map(function (r) {
      var tags = data.tagsets[r[3]] || {};
      var row = {v: r[0], stage: data.stages[r[1]], aliases: r[2], tags: tags, created: minuteText(r[4]),
        flavor: data.flavors[r[5]], size: r[6], desc: r[7], m: r[8]};
      row.text = versionText(["v" + row.v, row.stage ? "stage=" + row.stage : "",
        row.aliases.map(function (a) { return "@" + a; }).join(" "),
        Object.keys(tags).map(function (k) { return k + "=" + tags[k]; }).join(" "),
        row.flavor ? "flavor=" + row.flavor : "", row.desc]);
      return row;
    });
    var href = function (v) { return data.href[0] + v + data.href[1]; };
    var fromUrl = params().getAll("m");  // "m=-" alone: no metric columns
    var chosen = fromUrl.length ? data.metrics.filter(function (m) { return fromUrl.indexOf(m) >= 0; })
      : data.metrics.slice(0, data.shown);
    var selected = [];
    var boxes = $$("#metric-chooser input[type=checkbox]");
    var summary = $("#metric-chooser-summary"), note = $("#metric-note");
    var compareButton = $("#compare-selected");
    function syncChooser() {
      boxes.forEach(function (box) { box.checked = chosen.indexOf(box.value) >= 0; });
      var text = "Metric columns: " + chosen.length + " of " + data.metrics.length + " shown";
      if (summary) { summary.textContent = text; }
      if (note) { note.hidden = chosen.length >= data.metrics.length; }
    }
    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        chosen = data.metrics.filter(function (m) {
          return m === box.value ? box.checked : chosen.indexOf(m) >= 0;
        });
        syncChooser();
        table.classList.toggle("many-metrics", chosen.length > data.shown);  // narrow screens drop tags then
        var defaults = data.metrics.slice(0, data.shown);
        setParams({m: chosen.join("\n") === defaults.join("\n") ? null : chosen.length ? chosen : ["-"]});
        grid.render();
      });
    });
    function syncCompare() {
      if (!compareButton) { return; }
      compareButton.disabled = selected.length < 2 || selected.length > data.max_compare;
      compareButton.textContent = "Compare selected (" + selected.length + ")";
    }
    if (compareButton) {
      compareButton.addEventListener("click", function () {
        if (selected.length < 2) { return; }
        location.href = data.compare + "?" + selected.map(function (v) { return "v=" + v; }).join("&");
      });
    }
    function pick(row) {
      var box = el("input", {type: "checkbox", "class": "pick", value: row.v, "aria-label": "Select v" + row.v,
        checked: selected.indexOf(row.v) >= 0});
      box.addEventListener("change", function () {
        selected = selected.filter(function (v) { return v !== row.v; });
        if (box.checked) { selected.push(row.v); }
        syncCompare();
      });
      return box;
    }
    function metricColumn(name) {
      var i = data.metrics.indexOf(name);
      return {key: "m:" + name, label: name, cls: "num metric", title: name,
        sort: function (row) { return isNum(row.m[i]) ? row.m[i] : null; },
        cell: function (row) {
          var value = row.m[i];
          return isNum(value) ? el("span", {title: name + " = " + value, text: fmt(value)})
            : el("span", {"class": "muted", text: "—"});
        }};
    }
    function columns() {
      return [
        {key: "pick", label: "", cls: "pick-cell",
          header: function () { return el("span", {"class": "sr", text: "Select"}); },
          cell: pick},
        {key: "version", label: "Version", cls: "ver", sort: function (row) { return row.v; }, cell: function (row) {
          return el("span", {"class": "ver-cell"}, spaced([el("a", {href: href(row.v), text: "v" + row.v}),
            stageBadge(row.stage)].concat(aliasBadges(row.aliases))));
        }}
      ].concat(chosen.map(metricColumn)).concat([
        {key: "tags", label: "Tags", cls: "tags", cell: function (row) {
          return el("div", {"class": "cell-text"}, spaced(chips(row.tags)));
        }},
        {key: "created", label: "Created", cls: "created", sort: function (row) { return row.created; },
          cell: function (row) { return timeCell(row.created); }},
        {key: "flavor", label: "Flavor", cls: "opt", sort: function (row) { return row.flavor; },
          cell: function (row) { return el("span", {text: row.flavor || "—"}); }},
        {key: "size", label: "Size", cls: "num opt", sort: function (row) { return row.size; },
          cell: function (row) { return el("span", {text: humanSize(row.size)}); }}
      ]);
    }
    var grid = dataGrid({
      table: table, rows: rows, noun: "version", defaultSort: "-version", columns: columns,
      filter: $("#filter"), count: $("#filter-count"), pager: $("#pager"), empty: $("#no-match"),
      metric: function (row, name) {
        var i = metricsLower.indexOf(name);
        return i >= 0 ? row.m[i] : undefined;
      },
      rowAttrs: function (row) {
        return {"data-version": row.v, "data-stage": row.stage || "",
          "class": row.stage === "Production" ? "production" : null};
      }
    });
    syncChooser();
    syncCompare();
    grid.render();
    table.classList.toggle("many-metrics", chosen.length > data.shown);
    initCharts(data, rows, href);
  }

  // charts with too many versions to mark each point: the version under the pointer
  function initCharts(data, rows, href) {
    $$("svg.chart[data-hover]").forEach(function (svg) {
      var i = data.metrics.indexOf(svg.getAttribute("data-metric"));
      if (i < 0) { return; }
      var points = rows.filter(function (row) { return isNum(row.m[i]); })
        .map(function (row) { return {v: row.v, value: row.m[i]}; })
        .sort(function (a, b) { return a.v - b.v; });
      if (!points.length) { return; }
      var g = function (name) { return Number(svg.getAttribute("data-" + name)); };
      var x0 = g("x0"), x1 = g("x1"), top = g("top"), bottom = g("bottom"), low = g("low"), high = g("high");
      var xOf = function (k) { return points.length === 1 ? (x0 + x1) / 2 : x0 + k * (x1 - x0) / (points.length - 1); };
      var yOf = function (value) { return top + (high - value) / (high - low) * (bottom - top); };
      var guide = svgEl("line", {"class": "guide", y1: top, y2: bottom, x1: -10, x2: -10});
      var dot = svgEl("circle", {"class": "point cursor", r: 4, cx: -10, cy: -10});
      var label = svgEl("text", {"class": "hover-label", x: x0, y: top + 10});
      [guide, dot, label].forEach(function (node) { node.style.display = "none"; svg.appendChild(node); });
      var current = null;
      function nearest(event) {
        var matrix = svg.getScreenCTM();
        if (!matrix) { return null; }
        var at = svg.createSVGPoint();
        at.x = event.clientX; at.y = event.clientY;
        var x = at.matrixTransform(matrix.inverse()).x;
        var k = points.length === 1 ? 0 : Math.round((x - x0) / (x1 - x0) * (points.length - 1));
        return Math.max(0, Math.min(points.length - 1, k));
      }
      svg.addEventListener("mousemove", function (event) {
        var k = nearest(event);
        if (k === null) { return; }
        current = points[k];
        var x = xOf(k), y = yOf(current.value);
        guide.setAttribute("x1", x); guide.setAttribute("x2", x);
        dot.setAttribute("cx", x); dot.setAttribute("cy", y);
        label.textContent = "v" + current.v + ": " + fmt(current.value);
        label.setAttribute("x", x > (x0 + x1) / 2 ? x - 8 : x + 8);
        label.setAttribute("text-anchor", x > (x0 + x1) / 2 ? "end" : "start");
        [guide, dot, label].forEach(function (node) { node.style.display = ""; });
        svg.setAttribute("data-current", String(current.v));
      });
      svg.addEventListener("mouseleave", function () {
        [guide, dot, label].forEach(function (node) { node.style.display = "none"; });
      });
      svg.addEventListener("click", function (event) {
        var k = nearest(event);
        if (k !== null) { location.href = href(points[k].v); }
      });
    });
  }

  // -- search across models ------------------------------------------------------------------
  function initSearch(data) {
    var table = $("#results");
    if (!table) { return; }
    var rows = data.rows.map(function (r) {
      var model = data.models[r[0]], tags = data.tagsets[r[4]] || {};
      var names = data.metrics[r[0]] || [];
      var row = {model: model[0], modelHref: model[1], href: model[2] + r[1] + model[3], v: r[1],
        stage: data.stages[r[2]], aliases: r[3], tags: tags, created: minuteText(r[5]), flavor: data.flavors[r[6]],
        desc: r[7], m: r[8], names: names,
        lower: names.map(function (n) { return n.toLowerCase(); })};
      row.text = versionText([model[0].toLowerCase(), "v" + row.v, row.stage ? "stage=" + row.stage : "",
        row.aliases.map(function (a) { return "@" + a; }).join(" "),
        Object.keys(tags).map(function (k) { return k + "=" + tags[k]; }).join(" "),
        row.flavor ? "flavor=" + row.flavor : "", row.desc]);
      return row;
    });
    var filter = $("#search");
    function wanted() { return parseQuery(filter ? filter.value : "").conditions.map(function (c) { return c.name; }); }
    var grid = dataGrid({
      table: table, rows: rows, noun: "version", defaultSort: "model",
      filter: filter, count: $("#search-count"), pager: $("#pager"), empty: $("#no-match"),
      metric: function (row, name) {
        var i = row.lower.indexOf(name);
        return i >= 0 ? row.m[i] : undefined;
      },
      rowAttrs: function (row) {
        return {"data-model": row.model, "data-version": row.v, "data-stage": row.stage || ""};
      },
      columns: function () {
        var asked = wanted();
        return [
          // ties keep the data's order: each model's newest version first
          {key: "model", label: "Model", cls: "model-col", sort: function (row) { return row.model.toLowerCase(); },
            cell: function (row) { return el("a", {href: row.modelHref, "class": "model-link", text: row.model}); }},
          {key: "version", label: "Version", cls: "ver", sort: function (row) { return row.v; }, cell: function (row) {
            return el("span", {"class": "ver-cell"}, spaced([el("a", {href: row.href, text: "v" + row.v}),
              stageBadge(row.stage)].concat(aliasBadges(row.aliases))));
          }},
          {key: "metrics", label: "Metrics", cls: "metrics", cell: function (row) {
            var show = [];
            asked.forEach(function (name) {
              var i = row.lower.indexOf(name);
              if (i >= 0 && show.indexOf(i) < 0) { show.push(i); }
            });
            for (var i = 0; i < row.names.length && show.length < 3; i += 1) {
              if (show.indexOf(i) < 0 && isNum(row.m[i])) { show.push(i); }
            }
            var numbers = show.filter(function (k) { return isNum(row.m[k]); });
            return el("div", {"class": "cell-text"}, spaced(numbers.map(function (k) {
              return el("span", {"class": "metric-chip", title: row.names[k] + " = " + row.m[k]},
                [el("code", {text: row.names[k]}), " ", el("b", {text: fmt(row.m[k])})]);
            })));
          }},
          {key: "tags", label: "Tags", cls: "tags", cell: function (row) {
            return el("div", {"class": "cell-text"}, spaced(chips(row.tags)));
          }},
          {key: "created", label: "Created", cls: "created", sort: function (row) { return row.created; },
            cell: function (row) { return timeCell(row.created); }},
          {key: "flavor", label: "Flavor", cls: "opt", sort: function (row) { return row.flavor; },
            cell: function (row) { return el("span", {text: row.flavor || "—"}); }}
        ];
      }
    });
    grid.render();
  }

  // -- versions side by side -----------------------------------------------------------------
  function initCompare(data) {
    var box = $("#compare");
    if (!box) { return; }
    var shared = data.shared || {};
    var byVersion = {};
    data.entries.forEach(function (entry) {
      var e = {};
      Object.keys(entry).forEach(function (k) { e[k] = entry[k]; });
      Object.keys(shared).forEach(function (section) { e[section] = shared[section][entry[section]]; });
      byVersion[e.version] = e;
    });
    var known = {};
    data.versions.forEach(function (v) { known[v[0]] = v; });
    var asked = [], missing = [], over = 0;
    params().getAll("v").forEach(function (raw) {
      var v = /^[1-9][0-9]{0,17}$/.test(raw) ? Number(raw) : NaN;
      if (!isNum(v)) { missing.push(raw); return; }
      if (asked.indexOf(v) >= 0) { return; }
      if (asked.length >= data.max_compare) { over += 1; return; }  // the server read only the first ones
      if (known[v] && byVersion[v]) { asked.push(v); } else { missing.push("v" + raw); }
    });
    var onlyDiff = params().get("diff") === "1";
    var href = function (v) { return data.href[0] + v + data.href[1]; };
    function urlWith(list, diff) {
      var q = list.map(function (v) { return "v=" + v; });
      if (diff) { q.push("diff=1"); }
      return location.pathname + (q.length ? "?" + q.join("&") : "");
    }
    box.textContent = "";
    // the picker: add a version
    var select = el("select", {id: "add-version", "aria-label": "Add a version"},
      [el("option", {value: "", text: "Add a version\u2026"})].concat(data.versions.filter(function (v) {
        return asked.indexOf(v[0]) < 0;
      }).map(function (v) {
        var label = "v" + v[0] + (v[1] ? " \u00b7 " + v[1] : "") + (v[2].length ? " \u00b7 @" + v[2].join(" @") : "");
        return el("option", {value: v[0], text: label});
      })));
    select.disabled = asked.length >= data.max_compare;
    select.addEventListener("change", function () {
      if (select.value) { location.href = urlWith(asked.concat([Number(select.value)]), onlyDiff); }
    });
    var toggle = el("input", {type: "checkbox", id: "only-diff", checked: onlyDiff});
    toggle.addEventListener("change", function () {
      onlyDiff = toggle.checked;
      box.classList.toggle("only-diff", onlyDiff);
      setParams({diff: onlyDiff ? "1" : null});
    });
    var toggleLabel = el("label", {"class": "toggle"}, [toggle, " Only differences"]);
    box.appendChild(el("div", {"class": "toolbar"}, [select, toggleLabel]));
    box.classList.toggle("only-diff", onlyDiff);
    if (over) {
      box.appendChild(el("p", {"class": "warn", id: "compare-over",
        text: "At most " + data.max_compare + " versions side by side; " + over + " more " +
          (over === 1 ? "was" : "were") + " left out."}));
    }
    if (missing.length) {
      box.appendChild(el("p", {"class": "warn", id: "compare-missing",
        text: "Not versions of this model: " + missing.join(", ") + "."}));
    }
    if (asked.length < 2) {
      box.appendChild(el("p", {"class": "muted", id: "compare-hint", text: asked.length ?
        "Add another version to compare with." :
        "Pick versions to compare: select them in the model's versions table, or add them here."}));
      if (!asked.length) { return; }
    }
    var entries = asked.map(function (v) { return byVersion[v]; });
    var base = entries[0];
    // header: one column per version, with remove and make-baseline links
    var head = el("tr", {}, [el("th", {scope: "col", "class": "what", text: ""})]);
    entries.forEach(function (e, i) {
      var others = asked.filter(function (v) { return v !== e.version; });
      var tools = [el("a", {href: urlWith(others, onlyDiff), "class": "remove", title: "Remove v" + e.version,
        text: "Remove"})];
      if (i > 0) {
        tools.push(el("a", {href: urlWith([e.version].concat(others), onlyDiff), "class": "baseline",
          title: "Compare the others with v" + e.version, text: "Make baseline"}));
      } else { tools.push(el("span", {"class": "muted base-note", text: "baseline"})); }
      head.appendChild(el("th", {scope: "col", "data-version": e.version}, [
        el("div", {"class": "ver-cell"}, spaced([el("a", {href: href(e.version), text: "v" + e.version}),
          stageBadge(e.stage)].concat(aliasBadges(e.aliases)))),
        el("div", {"class": "col-tools"}, spaced(tools))
      ]));
    });
    var table = el("table", {"class": "grid compare", id: "compare-table"}, [el("thead", {}, [head])]);
    function keysOf(section) {
      var keys = [];
      entries.forEach(function (e) {
        Object.keys(e[section] || {}).forEach(function (k) { if (keys.indexOf(k) < 0) { keys.push(k); } });
      });
      return section === "overview" ? keys : keys.sort();
    }
    function cellOf(section, key, e) {
      var values = e[section];
      if (!values || !Object.prototype.hasOwnProperty.call(values, key)) {
        return {text: section === "signature" && !values ? "no signature" : "—", same: "\u0000absent", node: null};
      }
      var v = values[key];
      if (section === "metrics") {
        var node = el("span", {"class": "num", title: String(v), text: fmt(v)});
        var b = base[section] && base[section][key];
        if (e !== base && isNum(v) && isNum(b)) {
          var d = v - b;
          node = el("span", {}, [node, " ", el("span", {"class": "delta " + (d > 0 ? "up" : d < 0 ? "down" : "zero"),
            title: "against v" + base.version, text: signed(d)})]);
        }
        return {same: JSON.stringify(v), node: node};
      }
      if (section === "files") {
        var sha = v[1] || "";
        return {same: JSON.stringify(v), node: el("span", {}, [el("span", {"class": "num", text: humanSize(v[0])}), " ",
          el("code", {"class": "sha", title: sha, text: sha.slice(0, 12) + (sha.length > 12 ? "\u2026" : "")})])};
      }
      var plain = el("span", {"class": section === "overview" ? "" : "mono", text: String(v)});
      return {same: JSON.stringify(v), node: plain};
    }
    var titles = {overview: "Overview", metrics: "Metrics", params: "Parameters", tags: "Tags",
      signature: "Signature", environment: "Environment", files: "Files"};
    Object.keys(titles).forEach(function (section) {
      var keys = keysOf(section);
      var differing = 0, body = el("tbody", {"data-section": section});
      keys.forEach(function (key) {
        var cells = entries.map(function (e) { return cellOf(section, key, e); });
        var same = cells.every(function (c) { return c.same === cells[0].same; });
        if (!same) { differing += 1; }
        var tr = el("tr", {"class": same ? "same" : "diff", "data-key": key},
          [el("th", {scope: "row"}, [el("code", {text: key})])]);
        cells.forEach(function (c) {
          tr.appendChild(el("td", {}, [c.node || el("span", {"class": "muted", text: c.text})]));
        });
        body.appendChild(tr);
      });
      var label = titles[section] + " \u2014 " +
        (keys.length ? differing + " of " + keys.length + " differ" : "none recorded");
      var headRow = el("tr", {"class": "section"},
        [el("th", {colspan: entries.length + 1, scope: "rowgroup", text: label})]);
      body.insertBefore(headRow, body.firstChild);
      table.appendChild(body);
    });
    box.appendChild(el("div", {"class": "scroll card"}, [table]));
  }

  // -- start ---------------------------------------------------------------------------------
  var kind = doc.body.getAttribute("data-page");
  var data = readJSON("page-data");
  if (kind === "models") { initModels(); }
  else if (kind === "model" && data) { initModel(data); }
  else if (kind === "search" && data) { initSearch(data); }
  else if (kind === "compare" && data) { initCompare(data); }
})();
""".strip()


def _shipped(source: str) -> str:
    """The source without indentation and whole-line comments (a quarter smaller on every
    page); the page's CSP hash is taken of exactly this text."""
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//"))


SCRIPT = _shipped(_SOURCE)
