/**
 * Browser-side script of the dashboard (plain ES2017, no library): one EventSource on
 * `<page path>/events` (passing `?key=` and `?interval=` on from the page's own URL),
 * state kept in memory, panels updated in place. Everything a client can name (models,
 * fairness ids) is written with textContent, never as HTML. No template literals inside,
 * so this source stays a plain string; panels are drawn by `panels.ts`, the pool selector
 * by `pools.ts`, charts by `chart.ts`. Gateway-wide figures (stats, TTFT, recent requests)
 * cover every pool; the endpoint, saturation, flow and rewrite panels show the selected one.
 */
export const clientScript = String.raw`
var MAX_ITEMS = 500, TABLE_ROWS = 100, MAX_POINTS = 20000;
var PARAMS = new URLSearchParams(location.search);
var WINDOW_MS = Math.min(600, Math.max(10, Number(PARAMS.get("window")) || 60)) * 1000;
var PALETTE = ["#5794f2", "#73bf69", "#ff9830", "#b877d9", "#f2cc0c", "#8ab8ff", "#f2495c", "#96d98d"];
var state = {
  items: [], points: [], received: 0, samples: [], offset: 0, colors: {}, nextColor: 0,
  scale: { waiting: 4, running: 4, inflight: 4 }, rows: {}, epNames: null,
  selected: PARAMS.get("pool"), poolOf: {}, cards: {}, poolNames: null, last: null,
};

function byId(id) { return document.getElementById(id); }
function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function setText(node, text) { if (node.textContent !== text) node.textContent = text; }
function colorOf(name) {
  if (!state.colors[name]) state.colors[name] = PALETTE[state.nextColor++ % PALETTE.length];
  return state.colors[name];
}
function fmtInt(n) { return Math.round(n).toLocaleString("en-US"); }
function fmtMs(v) {
  if (v === undefined || v === null) return "–";
  return v > 0 && v < 10 ? v.toFixed(1) : fmtInt(v);
}
function fmtBytes(b) {
  if (b < 1024) return b + " B";
  if (b < 1048576) return (b / 1024).toFixed(1) + " KiB";
  return (b / 1048576).toFixed(1) + " MiB";
}
function fmtTime(ms) {
  var d = new Date(ms);
  var p = function (n, w) { n = String(n); while (n.length < w) n = "0" + n; return n; };
  return p(d.getHours(), 2) + ":" + p(d.getMinutes(), 2) + ":" + p(d.getSeconds(), 2) + "." + p(d.getMilliseconds(), 3);
}
function width(node, value, max) { node.style.width = Math.max(0, Math.min(100, (value / max) * 100)).toFixed(1) + "%"; }

function setConn(kind, text) {
  byId("conn").className = "conn " + kind;
  setText(byId("conn-text"), text);
}

function connect() {
  var query = new URLSearchParams();
  ["key", "interval"].forEach(function (k) { var v = PARAMS.get(k); if (v) query.set(k, v); });
  var every = Math.min(5000, Math.max(100, Number(PARAMS.get("interval")) || 500));
  var path = location.pathname.replace(/\/+$/, "") + "/events";
  var source = new EventSource(path + (query.toString() ? "?" + query.toString() : ""));
  source.addEventListener("snapshot", function (ev) {
    setConn("live", "live · every " + every + " ms");
    onEvent(JSON.parse(ev.data));
  });
  source.onerror = function () {
    if (source.readyState === EventSource.CLOSED) setConn("down", "disconnected (a metrics key? open /dashboard?key=…)");
    else setConn("down", "reconnecting…");
  };
}

function onEvent(ev) {
  var snap = ev.snapshot, fresh = ev.recent.items;
  state.offset = snap.time - Date.now();
  state.last = ev;
  indexPools(snap.pools);
  for (var i = 0; i < fresh.length; i++) {
    var it = fresh[i];
    state.items.push(it);
    state.points.push({
      end: it.at, endpoint: it.endpoint, pool: poolOfItem(it), v: it.ttftMs, rewrite: it.rewrite, requested: it.model, target: it.targetModel,
      t: it.ttftMs === undefined ? it.at : it.at - it.durationMs + it.ttftMs,
      model: it.targetModel || it.model || "?", color: colorOf(it.targetModel || it.model || "?"),
    });
  }
  if (state.items.length > MAX_ITEMS) state.items.splice(0, state.items.length - MAX_ITEMS);
  var oldest = 0;
  while (oldest < state.points.length && state.points[oldest].end < snap.time - WINDOW_MS) oldest++;
  state.points.splice(0, Math.max(oldest, state.points.length - MAX_POINTS));
  state.received += fresh.length;
  state.samples.push({ t: snap.time, requests: ev.totals.requests, errors: ev.totals.errors });
  while (state.samples.length > 2 && state.samples[0].t < snap.time - 60000) state.samples.shift();
  setText(byId("updated"), fmtTime(snap.time).slice(0, 8));
  renderPools(snap);
  renderSelected(snap);
  if (fresh.length) renderTable(fresh.length);
  var ttft = drawTtft();
  renderStats(ev, ttft);
}

function renderStats(ev, ttft) {
  var t = ev.totals, s = state.samples, last = s[s.length - 1], old = s[0];
  for (var i = s.length - 1; i >= 0; i--) if (last.t - s[i].t >= 5000) { old = s[i]; break; }
  var rate = last.t > old.t ? (last.requests - old.requests) / ((last.t - old.t) / 1000) : 0;
  setText(byId("stat-requests"), fmtInt(t.requests));
  setText(byId("stat-rate"), rate.toFixed(1));
  setText(byId("stat-errors"), fmtInt(t.errors));
  setText(byId("stat-errors-sub"), (t.requests ? ((100 * t.errors) / t.requests).toFixed(1) : "0") + "% of requests");
  var pools = ev.snapshot.pools, eps = [];
  pools.forEach(function (p) { eps = eps.concat(p.endpoints); });
  var inflight = eps.reduce(function (n, e) { return n + e.inflight; }, 0);
  var flow = pools.some(function (p) { return p.flowControl; });
  setText(byId("stat-inflight"), fmtInt(inflight));
  setText(byId("stat-inflight-sub"), flow ? "queued in flow control: " + ev.snapshot.queued : "flow control off");
  setText(byId("stat-ttft"), ttft.p50 === undefined ? "–" : fmtMs(ttft.p50) + " / " + fmtMs(ttft.p90));
  setText(byId("stat-endpoints"), String(eps.length));
  var stale = eps.filter(function (e) { return e.stale; }).length;
  var ejected = eps.filter(function (e) { return e.ejected; }).length;
  var health = stale || ejected ? stale + " stale · " + ejected + " ejected" : "all fresh, none ejected";
  if (pools.length > 1) health = pools.length + " pools · " + (stale || ejected ? health : "all fresh");
  setText(byId("stat-endpoints-sub"), health);
  drawSparkline(byId("spark"), state.samples);
}

function statusCell(it) {
  var td = el("td"), kind = it.outcome === "aborted" ? "s0" : "s" + String(it.status).charAt(0);
  td.appendChild(el("span", "pill " + kind, it.status || "–"));
  var note = it.droppedReason || (it.outcome === "success" ? "" : it.outcome);
  if (note) td.appendChild(el("span", "outcome", note));
  return td;
}

function renderTable(freshCount) {
  var body = byId("recent"), rows = document.createDocumentFragment();
  var items = state.items.slice(-TABLE_ROWS).reverse();
  items.forEach(function (it, i) {
    var tr = el("tr", i < freshCount ? "fresh" : "");
    tr.setAttribute("data-testid", "request-row");
    tr.appendChild(el("td", "num muted", fmtTime(it.at)));
    var model = el("td");
    model.appendChild(el("span", null, it.model || "–"));
    if (it.targetModel && it.targetModel !== it.model) {
      model.appendChild(el("span", "arrow", "→"));
      model.appendChild(el("span", "target", it.targetModel));
    }
    if (it.rewrite) model.title = "rewrite " + it.rewrite;
    tr.appendChild(model);
    tr.appendChild(el("td", "pool-col", poolOfItem(it) || "–"));
    tr.appendChild(el("td", null, it.endpoint || "–"));
    tr.appendChild(el("td", "r", it.priority === undefined ? "–" : it.priority));
    tr.appendChild(el("td", "mono", it.fairnessId || "–"));
    tr.appendChild(statusCell(it));
    tr.appendChild(el("td", "r", fmtMs(it.queueMs)));
    tr.appendChild(el("td", "r", fmtMs(it.ttftMs)));
    tr.appendChild(el("td", "r", fmtMs(it.durationMs)));
    var tokens = el("td", "r", it.promptTokens === undefined ? "–" : it.promptTokens + " → " + (it.completionTokens || 0));
    if (it.cachedTokens) tokens.title = it.cachedTokens + " prompt tokens cached";
    tr.appendChild(tokens);
    rows.appendChild(tr);
  });
  body.textContent = "";
  body.appendChild(rows);
  byId("recent-empty").hidden = items.length > 0;
  setText(byId("recent-count"), fmtInt(state.received) + " received · newest " + items.length + " shown");
}

function renderModelLegend(points) {
  var box = byId("ttft-models"), seen = {}, names = [];
  points.forEach(function (p) { if (!seen[p.model]) { seen[p.model] = true; names.push(p.model); } });
  names.sort();
  var key = names.join("\n");
  if (box.getAttribute("data-key") === key) return;
  box.setAttribute("data-key", key);
  box.textContent = "";
  names.slice(0, 5).forEach(function (name) {
    var span = el("span"), dot = el("i", "dot");
    dot.style.background = colorOf(name);
    span.appendChild(dot);
    span.appendChild(document.createTextNode(name));
    box.appendChild(span);
  });
}

function drawTtft() {
  var points = state.points.filter(function (p) { return p.v !== undefined; });
  renderModelLegend(points);
  return drawTtftChart(byId("ttft"), points, Date.now() + state.offset, WINDOW_MS);
}

window.addEventListener("resize", drawTtft);
setText(byId("window"), "last " + WINDOW_MS / 1000 + " s, finished requests");
setText(byId("stat-ttft-sub"), "ms, last " + WINDOW_MS / 1000 + " s");
setText(byId("ep-window"), "endpoint · last " + WINDOW_MS / 1000 + " s");
drawTtft();
connect();
`;
