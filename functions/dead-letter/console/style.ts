// The console's style sheet (?asset=app.css): readable tables, visible focus, status colours that are also
// spelled out in words (never colour alone).
/** The tab's icon: an envelope. */
export const icon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="2" y="7" width="28" height="19" rx="3" fill="#102a43"/><path d="M4 9l12 9 12-9" fill="none" stroke="#f0b429" stroke-width="2.5"/></svg>`;

export const style = `
:root { --fg: #1b1f24; --muted: #5b6470; --line: #d5dae0; --bg: #f5f7f9; --card: #fff; --accent: #0b5cad; --danger: #b3261e; --warn: #8a5a00; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
.bar { display: flex; align-items: center; justify-content: space-between; gap: 1rem; padding: .6rem 1.25rem; background: #102a43; color: #fff; }
.bar h1 { margin: 0; font-size: 1.25rem; }
.bar p { margin: 0; }
main, #signin, .problem, .status { margin: 1rem 1.25rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem 1rem; margin: 1rem 1.25rem; }
.narrow { max-width: 40rem; }
h2 { font-size: 1.1rem; margin: .25rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
h4 { margin: .25rem 0; }
.row { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin: .4rem 0; }
.row h2 { margin-right: auto; }
label { font-weight: 500; }
input, select, button { font: inherit; }
input, select { padding: .25rem .4rem; border: 1px solid #9aa5b1; border-radius: 4px; background: #fff; }
#token { display: block; width: 100%; margin: .3rem 0; }
button { padding: .3rem .75rem; border: 1px solid var(--accent); border-radius: 4px; background: var(--accent); color: #fff; cursor: pointer; }
button:hover { filter: brightness(1.1); }
button:disabled, fieldset:disabled button { opacity: .5; cursor: not-allowed; }
button.danger { background: var(--danger); border-color: var(--danger); }
#signout, #detail-close, #redrive-close, #filters-clear, #refresh, #tasks-refresh, #more { background: #fff; color: var(--accent); }
:focus-visible { outline: 3px solid #f0b429; outline-offset: 2px; }
.hint { color: var(--muted); font-size: .9em; }
.empty { color: var(--muted); font-style: italic; }
.problem { border: 1px solid var(--danger); border-left-width: 6px; background: #fdecea; color: #5f1410; padding: .5rem .9rem; border-radius: 4px; }
.problem p { margin: .2rem 0; }
.status { min-height: 1.2em; color: #0f5132; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0; }
caption { text-align: left; color: var(--muted); padding: .2rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .45rem; text-align: left; vertical-align: top; }
th { background: #eef1f4; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.reason { max-width: 28rem; overflow-wrap: anywhere; }
td.warning { color: var(--warn); font-weight: 600; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .85em; border: 1px solid currentColor; }
.badge.open, .badge.running { color: #0b5cad; }
.badge.retrying { color: #6f42c1; }
.badge.parked, .badge.failed { color: var(--danger); }
.badge.resolved, .badge.completed { color: #1e7b34; }
.badge.discarded, .badge.cancelled { color: var(--muted); }
.counts { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; margin: .3rem 0 .6rem; }
.counts div { display: flex; flex-direction: column; }
.counts dt { color: var(--muted); font-size: .85em; }
.counts dd { margin: 0; font-size: 1.2rem; font-weight: 600; }
.chart { margin: 0; }
.chart figcaption { color: var(--muted); }
.chart-svg { width: 100%; max-width: 760px; height: auto; display: block; }
.chart-svg .axis { font-size: 11px; fill: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: 1rem; list-style: none; padding: 0; margin: .3rem 0 0; }
.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: .5rem .75rem; align-items: end; }
.filters label { display: flex; flex-direction: column; gap: .15rem; }
.filters .row { grid-column: 1 / -1; }
fieldset { border: 1px solid var(--line); border-radius: 4px; margin: .6rem 0 0; }
.fields { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
.fields div { display: contents; }
.fields dt { color: var(--muted); }
.fields dd { margin: 0; overflow-wrap: anywhere; }
pre { background: #0f1720; color: #e6edf3; padding: .6rem .8rem; border-radius: 4px; overflow: auto; max-height: 24rem; }
.note { padding: .4rem .7rem; border-left: 4px solid var(--accent); background: #eaf2fb; }
.note.recorded { border-color: var(--warn); background: #fff4e0; }
dialog { border: 1px solid var(--line); border-radius: 8px; max-width: min(56rem, 95vw); width: 100%; padding: 1rem 1.25rem; }
dialog::backdrop { background: rgba(16, 42, 67, .45); }
.warnings { border-left: 4px solid var(--warn); background: #fff4e0; padding: .3rem .8rem; margin: .5rem 0; }
progress { width: 100%; height: 1.1rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
