/** The dashboard's stylesheet: a dark, dense, Grafana-like panel grid; system fonts only. */
export const styles = `
:root {
  --bg: #111217; --panel: #181b1f; --line: #2a2d35; --track: #23262d;
  --text: #d8d9e0; --muted: #8e909b; --faint: #5d606b;
  --blue: #5794f2; --green: #73bf69; --yellow: #f2cc0c; --orange: #ff9830;
  --red: #f2495c; --purple: #b877d9;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--text); }
body { font: 13px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.num { font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); }
.mono { font-family: var(--mono); font-size: 12px; }

header.top {
  display: flex; align-items: center; gap: 14px; padding: 10px 16px;
  border-bottom: 1px solid var(--line); background: #0d0e12;
}
.brand { display: flex; align-items: center; gap: 8px; font-size: 15px; }
.brand .logo {
  width: 18px; height: 18px; border-radius: 4px;
  background: linear-gradient(135deg, var(--orange), var(--blue));
}
.chip {
  padding: 2px 8px; border: 1px solid var(--line); border-radius: 10px; color: var(--muted); font-size: 12px;
}
.chip b { color: var(--text); font-weight: 600; }
.spacer { flex: 1; }
.conn { display: flex; align-items: center; gap: 6px; color: var(--muted); font-size: 12px; }
.conn .dot { width: 8px; height: 8px; border-radius: 50%; background: var(--faint); }
.conn.live .dot { background: var(--green); box-shadow: 0 0 6px var(--green); }
.conn.down .dot { background: var(--red); }

main { padding: 12px 16px 16px; display: grid; gap: 12px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 10px 12px; min-width: 0; }
.panel h2 {
  margin: 0 0 8px; font-size: 13px; font-weight: 600; display: flex; align-items: baseline; gap: 10px; white-space: nowrap;
}
.panel h2 .aside { margin-left: auto; white-space: nowrap; font-weight: 400; font-size: 12px; color: var(--muted); }
.row { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); gap: 12px; }
.empty { color: var(--faint); padding: 12px 0; text-align: center; }

.stats { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 12px; }
.stat { position: relative; overflow: hidden; padding: 8px 12px 10px; }
.stat .label { color: var(--muted); font-size: 12px; }
.stat .value { font-size: 26px; font-weight: 500; margin-top: 2px; font-variant-numeric: tabular-nums; }
.stat .sub { color: var(--faint); font-size: 11px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.stat svg.spark { position: absolute; right: 12px; top: 28px; width: 46%; height: 34px; }

/* Pools: shown with two or more; a card per pool selects the pool the panels below show. */
.pools { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 8px; }
.pool-card {
  display: flex; flex-direction: column; gap: 4px; min-width: 0; padding: 6px 10px 8px; text-align: left;
  font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: 4px; cursor: pointer;
}
.pool-card:hover { border-color: var(--faint); }
.pool-card.on { border-color: var(--blue); box-shadow: inset 0 0 0 1px var(--blue); }
.pool-card:focus-visible { outline: 2px solid var(--blue); outline-offset: 1px; }
.pc-head { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; min-width: 0; }
.pc-name { font-family: var(--mono); font-size: 12px; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.pc-sat { color: var(--muted); font-size: 12px; }
.pc-sub { color: var(--muted); font-size: 11px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-variant-numeric: tabular-nums; }
.pool-tag, .pool-col { display: none; }
body.multi .pool-tag {
  display: block; min-width: 0; max-width: 24ch; color: var(--blue); font-family: var(--mono); font-size: 12px; font-weight: 400;
  overflow: hidden; text-overflow: ellipsis;
}
body.multi .pool-col { display: table-cell; }

.ep-grid { display: grid; grid-template-columns: minmax(150px, 1.3fr) repeat(4, minmax(0, 1fr)); gap: 6px 14px; align-items: center; }
.ep-grid .colhead { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .04em; }
.ep-name { display: flex; flex-direction: column; min-width: 0; padding: 4px 0; border-top: 1px solid var(--line); }
.ep-name .title { display: flex; flex-wrap: wrap; align-items: center; gap: 0 6px; font-weight: 600; }
.ep-name .title > span { white-space: nowrap; }
.ep-name .served { color: var(--muted); font-size: 11px; font-variant-numeric: tabular-nums; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.ep-name .addr { color: var(--faint); font-family: var(--mono); font-size: 11px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.ep-cell { border-top: 1px solid var(--line); padding: 6px 0; align-self: stretch; display: flex; flex-direction: column; justify-content: center; gap: 4px; }
.bar { height: 8px; background: var(--track); border-radius: 2px; overflow: hidden; }
.bar > i { display: block; height: 100%; width: 0; border-radius: 2px; transition: width .35s ease-out; }
.bar.queue > i { background: var(--orange); }
.bar.running > i { background: var(--blue); }
.bar.kv > i { background: var(--green); }
.bar.kv.warm > i { background: var(--yellow); }
.bar.kv.hot > i { background: var(--red); }
.bar.inflight > i { background: var(--purple); }
.ep-cell .val { font-size: 12px; font-variant-numeric: tabular-nums; color: var(--text); }

.badge { font-size: 10px; font-weight: 600; padding: 0 5px; border-radius: 3px; line-height: 16px; text-transform: uppercase; letter-spacing: .03em; }
.badge.ok { background: rgba(115, 191, 105, .15); color: var(--green); }
.badge.stale { background: rgba(242, 204, 12, .15); color: var(--yellow); }
.badge.ejected { background: rgba(242, 73, 92, .18); color: var(--red); }
.badge.age { color: var(--faint); font-weight: 400; text-transform: none; padding: 0; }

.gauge { display: flex; flex-direction: column; align-items: center; margin: -2px 0 6px; }
.gauge svg { width: 190px; height: 104px; }
.gauge .g-value { font-size: 24px; font-weight: 500; fill: var(--text); }
.gauge .g-sub { font-size: 11px; fill: var(--muted); }
.side h3 { margin: 10px 0 6px; font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; display: flex; }
.side h3 .aside { margin-left: auto; text-transform: none; letter-spacing: 0; font-weight: 400; }
.band { margin-bottom: 8px; }
.band-head { display: flex; justify-content: space-between; font-size: 12px; margin-bottom: 3px; }
.flow { display: grid; grid-template-columns: minmax(0, 1fr) 90px 34px; gap: 8px; align-items: center; font-size: 12px; padding: 1px 0; }
.flow .id { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-family: var(--mono); font-size: 11px; }
.flow .bar > i { background: var(--orange); }
.flow .n { text-align: right; font-variant-numeric: tabular-nums; }

.chart-wrap { position: relative; height: 210px; }
.chart-wrap canvas { position: absolute; inset: 0; width: 100%; height: 100%; }
.legend { display: flex; gap: 12px; font-size: 12px; color: var(--muted); font-weight: 400; }
.legend i { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 5px; border-radius: 1px; }
.legend i.dot { width: 7px; height: 7px; border-radius: 50%; }
.legend span { white-space: nowrap; }
.chart-foot { margin-top: 6px; padding-left: 54px; font-family: var(--mono); font-size: 11px; flex-wrap: wrap; gap: 4px 14px; }
.legend .l-p50 { background: var(--blue); } .legend .l-p90 { background: var(--orange); }

.alias { margin-bottom: 12px; }
.alias-head { display: flex; justify-content: space-between; gap: 8px; font-size: 12px; margin-bottom: 4px; }
.alias-head .name { font-weight: 600; font-family: var(--mono); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.stack-row { display: grid; grid-template-columns: 40px minmax(0, 1fr); gap: 8px; align-items: center; font-size: 11px; margin: 3px 0; }
.stack { display: flex; height: 12px; border-radius: 2px; overflow: hidden; background: var(--track); }
.stack > i { display: block; height: 100%; transition: width .35s ease-out; }
.split { display: grid; grid-template-columns: 10px minmax(0, 1fr) 48px 50px 50px; gap: 6px; align-items: center; font-size: 12px; margin-top: 3px; }
.split.head { color: var(--faint); font-size: 11px; margin-top: 8px; }
.split .sw { width: 8px; height: 8px; border-radius: 2px; }
.split .t { font-family: var(--mono); font-size: 11px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.split .c, .split .p { text-align: right; font-variant-numeric: tabular-nums; }
.split .c { color: var(--muted); }

.table-wrap { max-height: 420px; overflow: auto; }
table { width: 100%; border-collapse: collapse; font-size: 12px; }
th { position: sticky; top: 0; background: var(--panel); color: var(--muted); font-weight: 500; text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
td { padding: 3px 8px; border-bottom: 1px solid #202329; white-space: nowrap; max-width: 260px; overflow: hidden; text-overflow: ellipsis; }
tr.fresh td { animation: flash 1.2s ease-out; }
@keyframes flash { from { background: rgba(87, 148, 242, .16); } to { background: transparent; } }
th.r, td.r { text-align: right; font-variant-numeric: tabular-nums; }
td .arrow { color: var(--faint); padding: 0 4px; }
td .target { color: var(--blue); }
.pill { display: inline-block; min-width: 30px; text-align: center; padding: 0 5px; border-radius: 3px; font-weight: 600; font-size: 11px; line-height: 16px; }
.pill.s2 { background: rgba(115, 191, 105, .15); color: var(--green); }
.pill.s4 { background: rgba(255, 152, 48, .15); color: var(--orange); }
.pill.s5 { background: rgba(242, 73, 92, .18); color: var(--red); }
.pill.s0 { background: rgba(142, 144, 155, .15); color: var(--muted); }
td .outcome { color: var(--muted); margin-left: 6px; }
@media (max-width: 1000px) {
  .row { grid-template-columns: minmax(0, 1fr); }
  .stats { grid-template-columns: repeat(3, minmax(0, 1fr)); }
}
/* Phones (390 px portrait): nothing wider than the screen; captions wrap under their titles,
   each endpoint's name takes its own line above its four bars, the table scrolls in its panel. */
@media (max-width: 600px) {
  header.top { flex-wrap: wrap; gap: 6px 10px; padding: 8px 12px; }
  .brand, .chip, .conn { white-space: nowrap; }
  .brand .muted { display: none; }
  main { padding: 10px; gap: 10px; }
  .stats { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px; }
  .pools { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 6px; }
  .panel h2 { flex-wrap: wrap; white-space: normal; row-gap: 2px; }
  .panel h2 .aside { white-space: normal; margin-left: 0; flex-basis: 100%; }
  .legend { flex-wrap: wrap; }
  .ep-grid { grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 4px 10px; }
  .ep-grid > .colhead:first-child, .ep-name { grid-column: 1 / -1; }
  .ep-grid .wide { display: none; }
  .ep-cell { border-top: 0; padding-top: 0; }
}
`;
