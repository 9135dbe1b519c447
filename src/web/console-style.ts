// The console's style sheet (/console.css). States have one colour each everywhere: green for
// ACTIVE and sent, amber for deferred / retry / WAIT, red for NOT USABLE, bounced, dead and the
// SUSPENDED banner. Usable from 420 px: one column, tables scroll inside their box, less
// important columns (class "wide") are left out below 640 px.
export const CONSOLE_CSS = `:root { --ok: #1b7a2e; --ok-bg: #e4f4e7; --warn: #8a5a00; --warn-bg: #fff3d6; --bad: #b3141b; --bad-bg: #fde5e5; --mute: #5d6470; --line: #d5d8de; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { font-family: system-ui, sans-serif; margin: 0; color: #111; background: #f6f7f9; font-size: 15px; }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem; padding: .6rem 1rem; background: #1f2933; color: #fff; }
header.top h1 { font-size: 1.15rem; margin: 0; flex: 1 1 auto; }
header.top .conn { font-size: .85rem; color: #cfd6de; }
header.top .conn.failed { color: #ffb4b4; }
header.top label { font-size: .85rem; }
main { padding: 0 1rem 1rem; max-width: 1200px; }
h2 { font-size: 1.05rem; margin: 1.2rem 0 .5rem; } h3 { font-size: 1rem; }
.banner { padding: .6rem 1rem; font-weight: 600; }
.banner.bad { background: var(--bad); color: #fff; }
.banner.warn { background: var(--warn-bg); color: var(--warn); border-bottom: 1px solid var(--warn); }
.banner button { margin-left: .5rem; }
.login { margin: 1rem; padding: 1rem; background: #fff; border: 2px solid var(--warn); border-radius: 6px; max-width: 52rem; }
.login h2 { margin-top: 0; }
.login-row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
.login-row input { flex: 1 1 16rem; min-width: 0; }
.error { color: var(--bad); font-weight: 600; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; background: #eef0f3; padding: 0 .2rem; overflow-wrap: anywhere; }
nav { display: flex; flex-wrap: wrap; gap: .25rem; padding: .5rem 1rem; border-bottom: 1px solid var(--line); background: #fff; }
nav button { border: 1px solid var(--line); background: #fff; border-radius: 4px; padding: .35rem .6rem; cursor: pointer; }
nav button[aria-current="page"] { background: #1f2933; color: #fff; border-color: #1f2933; }
button { font: inherit; }
button.danger { border-color: var(--bad); color: var(--bad); background: #fff; }
button:disabled { opacity: .45; cursor: not-allowed; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(8.5rem, 1fr)); gap: .5rem; }
.tiles > p { grid-column: 1 / -1; margin: 0; }
body.no-token main, body.no-token nav { opacity: .55; }
.tile { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .5rem .7rem; text-align: left; cursor: pointer; }
.tile .n { display: block; font-size: 1.5rem; font-weight: 700; }
.tile.warn { border-color: var(--warn); background: var(--warn-bg); }
.tile.bad { border-color: var(--bad); background: var(--bad-bg); }
ul.targets, ul.faults { list-style: none; padding: 0; margin: 0; display: grid; gap: .4rem; }
.target { border: 1px solid var(--line); border-left-width: 6px; border-radius: 4px; padding: .45rem .7rem; background: #fff; overflow-wrap: anywhere; }
.target .state { font-weight: 700; margin-left: .4rem; }
.target .err { display: block; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85rem; margin-top: .2rem; }
.target.s-active { border-left-color: var(--ok); } .target.s-active .state { color: var(--ok); }
.target.s-unknown { border-left-color: var(--mute); } .target.s-unknown .state { color: var(--mute); }
.target.s-not-usable { border-color: var(--bad); border-left-color: var(--bad); background: var(--bad-bg); }
.target.s-not-usable .state, .target.s-not-usable .err { color: var(--bad); }
.spark { width: 100%; height: 48px; background: #fff; border: 1px solid var(--line); }
.faults li { background: var(--bad-bg); color: var(--bad); padding: .4rem .6rem; border-radius: 4px; overflow-wrap: anywhere; }
.filters { display: flex; flex-wrap: wrap; gap: .4rem .8rem; align-items: flex-end; margin: .8rem 0; }
.filters label { display: flex; flex-direction: column; font-size: .8rem; color: var(--mute); }
.filters input, .filters select { font: inherit; width: 10rem; max-width: 100%; }
.pager { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin: .5rem 0; }
.scroll { overflow-x: auto; max-width: 100%; }
table.grid { border-collapse: collapse; width: 100%; background: #fff; font-size: .9rem; }
table.grid th, table.grid td { border-bottom: 1px solid var(--line); padding: .3rem .45rem; text-align: left; vertical-align: top; }
table.grid th { background: #eef0f3; font-weight: 600; }
table.grid td { overflow-wrap: anywhere; }
tr.changed td { background: #f0f6ff; }
.badge { display: inline-block; white-space: nowrap; padding: 0 .4rem; border-radius: 3px; font-size: .8rem; font-weight: 600; background: #e6e8ec; }
.badge.retry, .badge.extended, .badge.deferred, .badge.processing { background: var(--warn-bg); color: var(--warn); }
.badge.held, .badge.quarantined, .badge.hold { background: #e7e3f7; color: #45318f; }
.badge.dead, .badge.bounced, .badge.failed, .badge.bounce, .badge.delete, .badge.purge, .badge.not-usable { background: var(--bad-bg); color: var(--bad); }
.badge.sent, .badge.delivered, .badge.active { background: var(--ok-bg); color: var(--ok); }
.bulk { display: flex; flex-wrap: wrap; gap: .35rem; align-items: center; margin: .4rem 0; padding: .4rem .6rem; background: #fff; border: 1px dashed var(--line); border-radius: 4px; }
.row-actions { display: flex; flex-wrap: wrap; gap: .25rem; }
.row-actions button { font-size: .85rem; padding: .1rem .4rem; }
a.id { font-family: ui-monospace, Menlo, Consolas, monospace; }
.detail { margin-top: 1rem; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .5rem .8rem; }
pre.output { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85rem; background: #fff; border: 1px solid var(--line); padding: .5rem; overflow-x: auto; min-height: 1.2em; white-space: pre-wrap; overflow-wrap: anywhere; }
pre.failed { border-color: var(--bad); }
ol.events { list-style: none; padding: 0; margin: 0; font-size: .85rem; }
ol.events li { border-bottom: 1px solid var(--line); padding: .25rem 0; overflow-wrap: anywhere; }
ol.events .t { color: var(--mute); margin-right: .4rem; font-family: ui-monospace, Menlo, Consolas, monospace; }
ol.events .reply { display: block; color: var(--mute); font-family: ui-monospace, Menlo, Consolas, monospace; }
.hint { color: var(--mute); font-size: .85rem; }
.actions, .loglevel { display: flex; flex-wrap: wrap; gap: .35rem; align-items: center; margin: .8rem 0; }
.loglevel input { width: 5rem; }
details { margin: .6rem 0; } summary { cursor: pointer; font-weight: 600; }
dialog { border: 2px solid var(--bad); border-radius: 6px; max-width: min(32rem, 92vw); }
dialog::backdrop { background: rgba(0, 0, 0, .35); }
dialog label { display: flex; flex-direction: column; gap: .2rem; font-size: .85rem; }
.dialog-buttons { display: flex; justify-content: flex-end; gap: .5rem; margin-top: .8rem; }
footer { padding: 1rem; font-size: .85rem; }
@media (max-width: 640px) {
  main { padding: 0 .5rem .5rem; } nav { padding: .4rem .5rem; }
  .wide { display: none; }
  .filters input, .filters select { width: 8.5rem; }
  header.top h1 { font-size: 1rem; }
  /* Row tables become one card per row: the cells flow, the actions go under them. */
  table.cards thead { display: none; }
  table.cards, table.cards tbody, table.cards tr { display: block; }
  table.cards tr { border-bottom: 1px solid var(--line); padding: .35rem .3rem; }
  table.cards td { display: inline; border: 0; padding: 0 .4rem 0 0; }
  table.cards td.wide { display: none; }
  table.cards td:last-child { display: block; margin-top: .25rem; }
}
`;
