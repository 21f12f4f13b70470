"""The browser's stylesheet and script, shipped inline in every page.

Nothing is fetched: no CDN, no web font, no external file, so the pages work on an
air-gapped box and from a zipped export opened with ``file://``.  The Content Security
Policy allows exactly this stylesheet and this script, by their SHA-256, and nothing else
(not even another inline script), which backs up the escaping in :mod:`.markup`.
"""

from __future__ import annotations

import base64
import hashlib

STYLE = """
:root{--fg:#1f2933;--muted:#6b7785;--line:#e3e8ee;--bg:#f6f8fa;--card:#fff;--accent:#2457c5}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--fg);background:var(--bg)}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
header.top{background:#1d2733;color:#fff;padding:10px 24px;display:flex;align-items:center;gap:16px}
header.top a.brand{color:#fff;font-weight:700;letter-spacing:.02em}
header.top .root{margin-left:auto;color:#aab6c3;font-size:12px;overflow:hidden;text-overflow:ellipsis;
white-space:nowrap}
main{max-width:1240px;margin:0 auto;padding:18px 24px 40px}
nav.crumbs{font-size:13px;color:var(--muted);margin-bottom:6px}
h1{font-size:22px;margin:0 0 6px;display:flex;align-items:center;gap:10px;flex-wrap:wrap}
h2{font-size:15px;margin:28px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}
p{margin:6px 0}
.lead{color:#3e4a56;margin:4px 0 12px}
.desc{white-space:pre-wrap}
.facts{display:flex;flex-wrap:wrap;gap:6px 28px;margin:8px 0 4px;color:#3e4a56}
.facts b{color:var(--muted);font-weight:500;margin-right:6px}
.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:8px;background:var(--card)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}
thead th{background:#f0f3f6;font-weight:600;font-size:12.5px;color:#4a5561;white-space:nowrap}
tbody tr:last-child>*{border-bottom:0}
tbody tr:hover{background:#f8fafc}
tr[hidden]{display:none}
.columns{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:0 18px}
table.kv th{width:40%;background:#fafbfc;font-weight:500;color:#3e4a56}
tr.production>td{background:#f3fbf5}
tr.mismatch>td{background:#fdecec}
tr.mismatch>td:first-child{box-shadow:inset 3px 0 0 #d64545}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
.sha{word-break:break-all;font-size:11.5px}
.muted{color:var(--muted)}
.nowrap,a[data-holds]{white-space:nowrap}
table.models td:first-child{min-width:220px}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;padding:0 8px;border-radius:999px;font-size:12px;font-weight:600;
border:1px solid transparent;white-space:nowrap;line-height:20px}
.stage-production{background:#e3f6e8;color:#17692f;border-color:#a9dcb6}
.stage-staging{background:#fff4d6;color:#8a5a00;border-color:#f0d48a}
.stage-archived{background:#eef0f3;color:#5b6570;border-color:#d5dae0}
.alias{background:#e8effd;color:#2457c5;border-color:#c3d4f7}
.chip{display:inline-block;max-width:240px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;
vertical-align:bottom;padding:0 6px;border-radius:4px;background:#f0f3f6;border:1px solid var(--line);
font-size:12px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.ok{color:#17692f;font-weight:600}.bad{color:#b42318;font-weight:600}.warn{color:#8a5a00;font-weight:600}
.search{display:flex;gap:12px;align-items:center;margin:12px 0}
.search input{flex:0 1 380px;padding:7px 10px;border:1px solid #c8d0d9;border-radius:6px;font:inherit;
background:#fff}
.search input:focus{outline:2px solid #b8cbf5;border-color:var(--accent)}
button.copy{font:inherit;font-size:12px;padding:0 8px;border:1px solid #c8d0d9;border-radius:4px;
background:#fff;cursor:pointer;line-height:20px}
button.copy:hover{border-color:var(--accent)}
button.copy.done{background:#e3f6e8;border-color:#a9dcb6}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(400px,1fr));gap:14px}
figure.chart-card{margin:0;background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 12px}
figcaption{font-weight:600;margin-bottom:2px}
svg.chart{width:100%;height:auto;display:block}
svg .grid{stroke:#e3e8ee;stroke-width:1}
svg .tick{font-size:11px;fill:#6b7785;font-family:system-ui,sans-serif}
svg .line{stroke:#2457c5;stroke-width:2}
svg .point{fill:#fff;stroke:#2457c5;stroke-width:2}
svg .point.production{fill:#17692f;stroke:#17692f}
.legend{font-size:12px;color:var(--muted);margin:6px 0 0}
.legend i{display:inline-block;width:10px;height:10px;border-radius:50%;background:#17692f;margin-right:4px;
vertical-align:-1px}
.offscreen{position:fixed;left:-9999px;top:0}
footer{color:var(--muted);font-size:12px;text-align:center;padding:8px 16px 24px}
""".strip()

SCRIPT = """
(function () {
  "use strict";
  var search = document.getElementById("search");
  if (search) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-search]"));
    var count = document.getElementById("search-count");
    var apply = function () {
      var terms = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var text = row.getAttribute("data-search") || "";
        var match = terms.every(function (t) { return text.indexOf(t) !== -1; });
        row.hidden = !match;
        if (match) { shown += 1; }
      });
      if (count) { count.textContent = shown + " of " + rows.length + " models"; }
    };
    search.addEventListener("input", apply);
    apply();
  }
  var fallbackCopy = function (text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing else to try */ }
    document.body.removeChild(area);
  };
  document.addEventListener("click", function (event) {
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
})();
""".strip()


def _sha256(source: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()


#: what a page may load or run: this stylesheet and this script, and nothing from anywhere
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    f"style-src '{_sha256(STYLE)}'; "
    f"script-src '{_sha256(SCRIPT)}'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)
