/**
 * Browser-side panel renderers of the dashboard (plain ES2017): endpoints with their bars,
 * the saturation gauge, flow-control queues and rewrite splits. They use the state and
 * helpers of `client.ts` (one script, one scope); client text goes in via textContent only.
 * No template literals inside, so this source stays a plain string.
 */
export const panelsScript = String.raw`
function makeRow(grid, e) {
  var name = el("div", "ep-name"), title = el("div", "title");
  var row = { badge: el("span", "badge"), age: el("span", "badge age"), addr: el("div", "addr"), served: el("div", "served") };
  name.setAttribute("data-testid", "endpoint");
  title.appendChild(el("span", null, e.name));
  title.appendChild(row.badge);
  title.appendChild(row.age);
  name.appendChild(title);
  name.appendChild(row.addr);
  name.appendChild(row.served);
  grid.appendChild(name);
  ["waiting", "running", "kv", "inflight"].forEach(function (kind) {
    var cell = el("div", "ep-cell"), bar = el("div", "bar " + (kind === "waiting" ? "queue" : kind)), fill = el("i");
    bar.appendChild(fill);
    cell.appendChild(bar);
    var val = el("div", "val");
    cell.appendChild(val);
    grid.appendChild(cell);
    row[kind] = { bar: bar, fill: fill, val: val };
  });
  return row;
}

function renderEndpoints(eps, pool) {
  var grid = byId("endpoints"), names = pool + "\u0000" + eps.map(function (e) { return e.name; }).join("\n");
  if (names !== state.epNames) {
    while (grid.children.length > 5) grid.removeChild(grid.lastChild);
    state.rows = {};
    state.scale = { waiting: 4, running: 4, inflight: 4 };
    eps.forEach(function (e) { state.rows[e.name] = makeRow(grid, e); });
    state.epNames = names;
  }
  byId("endpoints-empty").hidden = eps.length > 0;
  ["waiting", "running", "inflight"].forEach(function (k) {
    var max = eps.reduce(function (m, e) { return Math.max(m, e[k]); }, 0);
    state.scale[k] = Math.max(4, max, state.scale[k] * 0.97);
  });
  var stats = endpointStats();
  eps.forEach(function (e) {
    var r = state.rows[e.name], st = stats[e.name];
    st = st || { n: 0, ttft: [] };
    var p50 = quantile(st.ttft.sort(function (a, b) { return a - b; }), 0.5);
    setText(r.served, fmtInt(st.n) + " req" + (p50 === undefined ? "" : " · TTFT p50 " + fmtMs(p50) + " ms"));
    var status = e.ejected ? "ejected" : e.stale ? "stale" : "ok";
    r.badge.className = "badge " + status;
    setText(r.badge, status);
    setText(r.age, e.metricsAgeMs === null ? "never scraped" : "scraped " + fmtInt(e.metricsAgeMs) + " ms ago");
    setText(r.addr, e.address + (e.models.length ? " · " + e.models.join(", ") : ""));
    r.addr.title = r.addr.textContent;
    ["waiting", "running", "inflight"].forEach(function (k) {
      width(r[k].fill, e[k], state.scale[k]);
      setText(r[k].val, String(e[k]));
    });
    var kv = e.kvCacheUsage * 100;
    width(r.kv.fill, kv, 100);
    r.kv.bar.className = "bar kv" + (kv >= 90 ? " hot" : kv >= 70 ? " warm" : "");
    setText(r.kv.val, (kv > 0 && kv < 10 ? kv.toFixed(1) : kv.toFixed(0)) + "%");
  });
}

function renderGauge(sat) {
  var arc = byId("gauge-arc"), v = Math.max(0, sat);
  arc.setAttribute("stroke-dasharray", (Math.min(1, v) * 100).toFixed(1) + " 100");
  arc.setAttribute("stroke", v >= 1 ? "#f2495c" : v >= 0.7 ? "#ff9830" : "#73bf69");
  setText(byId("gauge-value"), v.toFixed(2));
}

/** Flow control of one pool (its queues by priority band, then by fairness id). */
function renderFlow(snap) {
  var box = byId("flow");
  box.textContent = "";
  if (!snap.flowControl) {
    setText(byId("flow-total"), "");
    box.appendChild(el("div", "empty", "Flow control is off: requests go straight to scheduling."));
    return;
  }
  setText(byId("flow-total"), snap.queued + " queued");
  if (!snap.queues.length) box.appendChild(el("div", "empty", "No queued requests."));
  snap.queues.slice().sort(function (a, b) { return b.priority - a.priority; }).forEach(function (band) {
    var div = el("div", "band"), head = el("div", "band-head");
    head.appendChild(el("span", null, "priority " + band.priority));
    head.appendChild(el("span", "muted num", band.requests + " req · " + fmtBytes(band.bytes)));
    div.appendChild(head);
    var flows = band.flows.slice().sort(function (a, b) { return b.requests - a.requests; }).slice(0, 6);
    var max = flows.reduce(function (m, f) { return Math.max(m, f.requests); }, 1);
    flows.forEach(function (f) {
      var row = el("div", "flow"), bar = el("div", "bar"), fill = el("i");
      row.appendChild(el("span", "id", f.fairnessId));
      bar.appendChild(fill);
      width(fill, f.requests, max);
      row.appendChild(bar);
      row.appendChild(el("span", "n", f.requests));
      div.appendChild(row);
    });
    box.appendChild(div);
  });
}

/** Targets chosen per alias over the chart window, from the finished requests. */
function recentSplits() {
  var by = {};
  state.points.forEach(function (p) {
    if (!p.rewrite || !p.target) return;
    var key = p.rewrite + "\u0000" + p.requested, g = by[key] || (by[key] = { total: 0, targets: {} });
    g.total++;
    g.targets[p.target] = (g.targets[p.target] || 0) + 1;
  });
  return by;
}

function stackBar(label, shares) {
  var row = el("div", "stack-row"), stack = el("div", "stack");
  row.appendChild(el("span", "muted", label));
  shares.forEach(function (s) {
    var seg = el("i");
    seg.style.width = (s.share * 100).toFixed(2) + "%";
    seg.style.background = colorOf(s.target);
    seg.title = s.target + " " + (s.share * 100).toFixed(1) + "%";
    stack.appendChild(seg);
  });
  row.appendChild(stack);
  return row;
}

function renderRewrites(rewrites) {
  var box = byId("rewrites"), groups = {}, order = [], recent = recentSplits(), span = WINDOW_MS / 1000 + " s";
  box.textContent = "";
  rewrites.forEach(function (r) {
    var key = r.rewrite + "\u0000" + r.model;
    if (!groups[key]) { groups[key] = { rewrite: r.rewrite, model: r.model, total: 0, targets: [] }; order.push(key); }
    groups[key].total += r.count;
    groups[key].targets.push(r);
  });
  if (!order.length) box.appendChild(el("div", "empty", "No rewrite decisions yet."));
  order.sort().forEach(function (key) {
    var g = groups[key], now = recent[key] || { total: 0, targets: {} };
    var div = el("div", "alias"), head = el("div", "alias-head");
    div.setAttribute("data-testid", "rewrite");
    head.appendChild(el("span", "name", g.model));
    head.appendChild(el("span", "muted num", g.rewrite + " · " + fmtInt(g.total) + " decisions"));
    div.appendChild(head);
    g.targets.sort(function (a, b) { return a.target < b.target ? -1 : 1; });
    var all = g.targets.map(function (t) { return { target: t.target, share: g.total ? t.count / g.total : 0 }; });
    var last = g.targets.map(function (t) { return { target: t.target, share: now.total ? (now.targets[t.target] || 0) / now.total : 0 }; });
    div.appendChild(stackBar("all", all));
    div.appendChild(stackBar(span, last));
    var cols = el("div", "split head");
    ["", "target", "count", "all", span].forEach(function (c) { cols.appendChild(el("span", c === "target" ? "t" : "p", c)); });
    div.appendChild(cols);
    g.targets.forEach(function (t, i) {
      var row = el("div", "split"), sw = el("span", "sw");
      sw.style.background = colorOf(t.target);
      row.appendChild(sw);
      row.appendChild(el("span", "t", t.target));
      row.appendChild(el("span", "c", fmtInt(t.count)));
      row.appendChild(el("span", "p", (all[i].share * 100).toFixed(1) + "%"));
      row.appendChild(el("span", "p muted", now.total ? (last[i].share * 100).toFixed(1) + "%" : "–"));
      div.appendChild(row);
    });
    box.appendChild(div);
  });
}

/** Per endpoint over the chart window: requests finished and their TTFT p50. */
function endpointStats() {
  var by = {};
  state.points.forEach(function (p) {
    if (!p.endpoint) return;
    var s = by[p.endpoint] || (by[p.endpoint] = { n: 0, ttft: [] });
    s.n++;
    if (p.v !== undefined) s.ttft.push(p.v);
  });
  return by;
}
`;
