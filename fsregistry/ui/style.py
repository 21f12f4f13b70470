"""The browser's stylesheet, inline in every page and allowed by its SHA-256 (see :mod:`.assets`).

Layout rules that exist because real names broke the first version (issue 14):

* every table cell may break a long unbroken word (``overflow-wrap: anywhere``), so a
  600-character description or a ``val_roc_auc_ovr_weighted`` header cannot widen its
  column until the other columns leave the card; text cells also have a maximum width;
* numbers, badges, dates and times never break inside (``white-space: nowrap``), and a
  timestamp is two such pieces, so a date wraps onto two lines at most, never four;
* name/value tables are ``table-layout: fixed`` with both columns breakable, so a long
  metric name cannot hide its value;
* below 900 px the least useful columns (flavor, size) are hidden and padding shrinks, so
  the metric columns stay on screen at 800 px.
"""

from __future__ import annotations

STYLE = """
:root{--fg:#1f2933;--muted:#6b7785;--line:#e3e8ee;--bg:#f6f8fa;--card:#fff;--accent:#2457c5}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--fg);background:var(--bg)}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
header.top{background:#1d2733;color:#fff;padding:10px 24px;display:flex;align-items:center;gap:16px;min-width:0}
header.top a{color:#d7e0ea}
header.top a.brand{color:#fff;font-weight:700;letter-spacing:.02em}
header.top .root{margin-left:auto;color:#aab6c3;font-size:12px;overflow:hidden;text-overflow:ellipsis;
white-space:nowrap;min-width:0;flex:0 1 auto}
main{max-width:1240px;margin:0 auto;padding:18px 24px 40px}
nav.crumbs{font-size:13px;color:var(--muted);margin-bottom:6px;overflow-wrap:anywhere}
h1{font-size:22px;margin:0 0 6px;display:flex;align-items:center;gap:6px 10px;flex-wrap:wrap;overflow-wrap:anywhere;
min-width:0}
h1>.title{min-width:0;overflow-wrap:anywhere}
h2{font-size:15px;margin:28px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
h3{font-size:13.5px;margin:0 0 6px}
p{margin:6px 0}
.lead{color:#3e4a56;margin:4px 0 12px}
.desc{white-space:pre-wrap;overflow-wrap:anywhere}
.clamp{display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow:hidden}
.facts{display:flex;flex-wrap:wrap;gap:6px 28px;margin:8px 0 4px;color:#3e4a56}
.facts>span{min-width:0;overflow-wrap:anywhere}
.facts b{color:var(--muted);font-weight:500;margin-right:6px}
.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:8px;background:var(--card)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:break-word}
thead th{background:#f0f3f6;font-weight:600;font-size:12.5px;color:#4a5561;vertical-align:bottom}
tbody tr:last-child>*{border-bottom:0}
tbody tr:hover{background:#f8fafc}
tr[hidden]{display:none}
.cell-text{max-width:22em;min-width:8em;overflow-wrap:anywhere}
th.metric{min-width:5.5em}
th.metric .label{display:-webkit-box;-webkit-line-clamp:4;-webkit-box-orient:vertical;overflow:hidden}
th.metric button.sort{display:block;max-width:9em;margin-left:auto}
.columns{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:0 18px}
.columns>section{min-width:0}
table.kv{table-layout:fixed}
table.kv th{width:42%;background:#fafbfc;font-weight:500;color:#3e4a56}
tr.production>td{background:#f3fbf5}
tr.mismatch>td{background:#fdecec}
tr.mismatch>td:first-child{box-shadow:inset 3px 0 0 #d64545}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px;
overflow-wrap:anywhere}
.sha{word-break:break-all;font-size:11.5px}
.muted{color:var(--muted)}
.nowrap,a[data-holds],time .d,time .t{white-space:nowrap}
table.models td.model-cell{min-width:11em}
table.models td.model-cell>div{max-width:26em}
.stack>*{display:block}
.alias-line{display:block;margin:1px 0}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th.num{text-align:right;white-space:normal}
.badge{display:inline-block;padding:0 8px;border-radius:999px;font-size:12px;font-weight:600;
border:1px solid transparent;white-space:nowrap;line-height:20px}
.stage-production{background:#e3f6e8;color:#17692f;border-color:#a9dcb6}
.stage-staging{background:#fff4d6;color:#8a5a00;border-color:#f0d48a}
.stage-archived{background:#eef0f3;color:#5b6570;border-color:#d5dae0}
.alias{background:#e8effd;color:#2457c5;border-color:#c3d4f7;white-space:normal;overflow-wrap:anywhere;border-radius:10px}
.chip,.metric-chip{display:inline-block;max-width:100%;overflow-wrap:anywhere;vertical-align:top;padding:0 6px;
border-radius:4px;background:#f0f3f6;border:1px solid var(--line);font-size:12px;margin:1px 0;
font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.metric-chip{background:#fff}
.tag-group{display:block}
.tag-group>.label{color:var(--muted);font-size:11.5px;margin-right:4px}
.ver-cell{display:inline-flex;flex-wrap:wrap;gap:3px 5px;align-items:center;max-width:15em}
td.tags>.cell-text{min-width:13em}
.ok{color:#17692f;font-weight:600}.bad{color:#b42318;font-weight:600}.warn{color:#8a5a00;font-weight:600}
.search,.toolbar{display:flex;flex-wrap:wrap;gap:8px 12px;align-items:center;margin:12px 0}
.search input,.toolbar input[type=search]{flex:0 1 460px;min-width:0;padding:7px 10px;border:1px solid #c8d0d9;
border-radius:6px;font:inherit;background:#fff}
.search input:focus,.toolbar input:focus{outline:2px solid #b8cbf5;border-color:var(--accent)}
select,.toolbar button,.pager button{font:inherit;font-size:13px;padding:3px 8px;border:1px solid #c8d0d9;
border-radius:6px;background:#fff;color:var(--fg)}
.toolbar button:disabled,.pager button:disabled{color:#a0aab4;cursor:default}
.toolbar button:not(:disabled),.pager button:not(:disabled){cursor:pointer}
.toolbar button:not(:disabled):hover,.pager button:not(:disabled):hover{border-color:var(--accent)}
.hint{font-size:12px;color:var(--muted)}
details.chooser{position:relative}
details.chooser>summary{cursor:pointer;font-size:13px;padding:3px 8px;border:1px solid #c8d0d9;border-radius:6px;
background:#fff;list-style:none}
details.chooser>summary::-webkit-details-marker{display:none}
details.chooser>summary:after{content:" \\25be"}
details.chooser>.menu{position:absolute;z-index:5;top:calc(100% + 4px);left:0;background:#fff;
border:1px solid #c8d0d9;border-radius:8px;padding:8px 10px;box-shadow:0 6px 18px rgba(20,30,40,.12);
width:min(420px,80vw);max-height:360px;overflow:auto}
details.chooser label{display:flex;gap:6px;align-items:flex-start;padding:2px 0;overflow-wrap:anywhere;
font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.note{font-size:12.5px;color:#8a5a00}
.pager{display:flex;flex-wrap:wrap;gap:8px 14px;align-items:center;justify-content:space-between;margin:8px 0}
.pager .pages{display:flex;gap:8px;align-items:center;flex-wrap:wrap}
button.sort{all:unset;cursor:pointer;display:inline;overflow-wrap:anywhere}
button.sort:focus-visible{outline:2px solid #b8cbf5}
button.sort .arrow{font-size:10px;margin-left:3px;color:var(--accent)}
th[aria-sort=ascending],th[aria-sort=descending]{color:var(--fg)}
td.pick-cell,th.pick-cell{width:28px;padding-right:0}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
button.copy{font:inherit;font-size:12px;padding:0 8px;border:1px solid #c8d0d9;border-radius:4px;
background:#fff;cursor:pointer;line-height:20px;white-space:nowrap}
button.copy:hover{border-color:var(--accent)}
button.copy.done{background:#e3f6e8;border-color:#a9dcb6}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px}
figure.chart-card{margin:0;background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 12px;min-width:0}
figcaption{font-weight:600;margin-bottom:2px;overflow-wrap:anywhere}
details.more-charts{margin-top:12px}
details.more-charts>summary{cursor:pointer;color:var(--accent);margin-bottom:10px}
svg.chart{width:100%;height:auto;display:block}
svg.chart[data-hover]{cursor:pointer}
svg .grid{stroke:#e3e8ee;stroke-width:1}
svg .tick{font-size:10.5px;fill:#6b7785;font-family:system-ui,sans-serif}
svg .line{stroke:#2457c5;stroke-width:2}
svg .line.dense{stroke-width:1.25}
svg .point{fill:#fff;stroke:#2457c5;stroke-width:2}
svg .point.production{fill:#17692f;stroke:#17692f}
svg a:hover .point{fill:#2457c5}
svg .guide{stroke:#9aa7b5;stroke-width:1;stroke-dasharray:3 3}
svg .point.cursor{fill:#2457c5}
svg .hover-label{font-size:12px;fill:#1f2933;font-family:system-ui,sans-serif;font-weight:600;
paint-order:stroke;stroke:#fff;stroke-width:3px}
.legend{font-size:12px;color:var(--muted);margin:6px 0 0}
.legend i{display:inline-block;width:10px;height:10px;border-radius:50%;background:#17692f;margin-right:4px;
vertical-align:-1px}
.snippets{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:12px}
.snippet{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 12px;min-width:0}
.snippet-head{display:flex;justify-content:space-between;align-items:center;gap:8px;margin-bottom:6px}
pre.code{margin:0;background:#f3f5f8;border:1px solid var(--line);border-radius:6px;padding:8px 10px;
white-space:pre-wrap;overflow-wrap:anywhere;font-size:12.5px;line-height:1.45}
.depth-1>th{padding-left:26px}.depth-2>th{padding-left:42px}.depth-3>th,.depth-4>th{padding-left:58px}
table.compare{table-layout:fixed}
table.compare th.what{width:22%}
table.compare thead th{vertical-align:top;background:#f0f3f6}
table.compare tr.section>th{background:#f7f9fb;font-size:12.5px;color:#3e4a56;padding-top:10px}
table.compare tr.diff>td{background:#fff8e1}
table.compare tr.diff>th{box-shadow:inset 3px 0 0 #e0a400}
table.compare tbody th{font-weight:500}
.only-diff table.compare tr.same{display:none}
.col-tools{font-size:12px;margin-top:4px;display:flex;gap:8px;flex-wrap:wrap}
.delta{font-size:12px;color:#4a5561;white-space:nowrap;font-variant-numeric:tabular-nums}
.delta.up{color:#1d5fa8}.delta.down{color:#a8541d}
label.toggle{display:inline-flex;gap:6px;align-items:center;font-size:13px}
.offscreen{position:fixed;left:-9999px;top:0}
footer{color:var(--muted);font-size:12px;text-align:center;padding:8px 16px 24px}
@media (min-width:1200px){td.created time{white-space:nowrap}}
@media (max-width:900px){
main{padding:14px 12px 32px}
header.top{padding:10px 12px;gap:10px}
table.grid{font-size:13px}
th,td{padding:6px 5px}
th.metric{min-width:4.6em}
td.metric{font-size:12px}
td.pick-cell,th.pick-cell{width:22px}
.badge{padding:0 6px}
.opt,table.many-metrics .tags{display:none}
.cell-text{max-width:14em;min-width:5em}
table.models td.model-cell>div{max-width:16em}
td.tags>.cell-text{min-width:6em}
table.compare th.what{width:26%}
}
""".strip()
