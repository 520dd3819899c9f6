/**
 * The admin page's style sheet, inlined under the page's CSP nonce. Light and dark schemes follow
 * the system; below 640 px the tables become stacked cards (each cell labelled from `data-label`),
 * so nothing overflows a phone's width.
 */
export const PAGE_CSS = `
:root{color-scheme:light dark;--fg:#1d2330;--muted:#5d6878;--line:#d0d5dd;--accent:#2456c7;--bad:#b42318;--ok:#1f7a44;--bg:#fff;--panel:#f5f7fa;--focus:#2456c7}
@media (prefers-color-scheme:dark){:root{--fg:#e4e7ec;--muted:#a3adbd;--line:#344054;--accent:#8ab4ff;--bad:#f97066;--ok:#47cd89;--bg:#101418;--panel:#1a2028;--focus:#8ab4ff}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
#app{max-width:1200px;margin:0 auto;padding:16px}
a{color:var(--accent)}
:focus-visible{outline:2px solid var(--focus);outline-offset:2px}
header{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:8px}
h1{font-size:20px;margin:0}
h1 a{color:inherit;text-decoration:none}
h2{font-size:16px;margin:24px 0 8px}
h3{font-size:14px;margin:16px 0 6px}
.muted{color:var(--muted)}
.toolbar{display:flex;flex-wrap:wrap;align-items:center;gap:8px}
#summary{margin:12px 0 0}
#summary p{margin:0 0 4px}
.legend{display:flex;flex-wrap:wrap;align-items:center;gap:6px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px}
.swatch.ok,.chart .ok{background:var(--ok);fill:var(--ok)}
.swatch.bad,.chart .bad{background:var(--bad);fill:var(--bad)}
.chart{display:block;width:100%;height:60px;background:var(--panel);border:1px solid var(--line);border-radius:6px}
.chart .hit{fill:transparent}
.chart g:hover .hit{fill:var(--line)}
.axis{display:flex;justify-content:space-between;color:var(--muted);font-size:12px}
#tabs{display:flex;flex-wrap:wrap;gap:4px;margin:16px 0 8px;border-bottom:1px solid var(--line)}
.tab{padding:6px 12px;color:var(--fg);text-decoration:none;border:1px solid transparent;border-bottom:none;border-radius:6px 6px 0 0}
.tab.active{border-color:var(--line);background:var(--panel);font-weight:600}
.count{display:inline-block;min-width:1.6em;padding:0 6px;border-radius:9px;background:var(--line);text-align:center;font-size:12px}
#filter{display:flex;flex-wrap:wrap;align-items:center;gap:8px;margin:8px 0}
#filter label{display:flex;align-items:center;gap:6px}
input[type=search],select{font:inherit;padding:4px 8px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);max-width:100%}
input[type=search]{width:16em}
.table-wrap{max-width:100%;overflow-x:auto}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
th{color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase}
td{overflow-wrap:break-word}
td.args code{white-space:pre-wrap;overflow-wrap:anywhere}
td.error-text{overflow-wrap:anywhere;min-width:12em}
td.args{min-width:12em}
.error-text,#status.error{color:var(--bad)}
#status{color:var(--muted)}
button{font:inherit;padding:4px 10px;border:1px solid var(--line);border-radius:6px;background:var(--panel);color:var(--fg);cursor:pointer}
button:hover{border-color:var(--accent)}
a.id{font-family:ui-monospace,monospace}
#pager{display:flex;gap:12px;align-items:center;margin:8px 0}
.actions{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}
td .actions{margin:0}
#job-view{overflow-wrap:anywhere;margin-top:8px;padding:12px 16px;border:1px solid var(--line);border-radius:8px;background:var(--panel)}
#job-view h2{margin-top:0;overflow-wrap:anywhere}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:8px 0}
.facts dt{color:var(--muted)}
.facts dd{margin:0;overflow-wrap:anywhere}
.state{display:inline-block;padding:0 8px;border-radius:9px;background:var(--line);font-weight:600}
.state-failed{background:var(--bad);color:var(--bg)}
.state-completed{background:var(--ok);color:var(--bg)}
pre.json{margin:0;padding:8px;overflow:auto;max-height:480px;white-space:pre-wrap;overflow-wrap:anywhere;background:var(--bg);border:1px solid var(--line);border-radius:6px}
.stack{margin:0;padding:8px 8px 8px 2.5em;max-height:320px;overflow:auto;background:var(--bg);border:1px solid var(--line);border-radius:6px;font-size:12px}
.stack code{white-space:pre-wrap;overflow-wrap:anywhere}
time{white-space:nowrap}
.progress{display:flex;align-items:center;gap:8px;margin:0}
progress{width:min(24em,70%);height:12px;accent-color:var(--accent)}
.attempts{margin:0;padding-left:1.5em}
.attempts li{margin:0 0 4px}
.outcome-failed{color:var(--bad);font-weight:600}
.outcome-completed{color:var(--ok);font-weight:600}
.log{margin:0;padding:8px 8px 8px 1em;list-style:none;max-height:320px;overflow:auto;background:var(--bg);border:1px solid var(--line);border-radius:6px;font-size:12px}
.log code{white-space:pre-wrap;overflow-wrap:anywhere}
[hidden]{display:none!important}
@media (max-width:640px){
#app{padding:10px}
input[type=search]{width:100%}
#filter label{flex:1 1 100%}
#filter select{flex:1;min-width:0}
table,tbody,tr,td{display:block;width:100%}
thead{display:none}
tr{border:1px solid var(--line);border-radius:8px;margin:0 0 8px;padding:4px 0}
td{border:none;padding:2px 10px;display:grid;grid-template-columns:6.5em 1fr;gap:8px}
td::before{content:attr(data-label);color:var(--muted);font-size:12px}
td:empty{display:none}
.facts{grid-template-columns:1fr}
.facts dd{margin-bottom:6px}
}
`
