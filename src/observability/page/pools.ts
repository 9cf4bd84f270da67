/**
 * Browser-side pool selector of the dashboard (plain ES2017): with more than one pool, a
 * card per pool (saturation, ready endpoints, in flight, queued, requests over the chart
 * window) that selects the pool the endpoint, saturation, flow-control and rewrite panels
 * show. The choice is kept in the page's URL (`?pool=`) so a link or a reload opens on it.
 * Made for 1 to 10 pools: cards wrap in a grid (two columns on a phone). Uses the state and
 * helpers of `client.ts` (one script, one scope); names go in via textContent only.
 */
export const poolsScript = String.raw`
/** The pool whose details show: the one chosen (or named by ?pool=) while it exists, else the first. */
function selectedPool(snap) {
  for (var i = 0; i < snap.pools.length; i++) if (snap.pools[i].name === state.selected) return snap.pools[i];
  return snap.pools[0];
}

/** Endpoint name -> pool name, so finished requests (which name their endpoint) count for their pool. */
function indexPools(pools) {
  var by = {};
  pools.forEach(function (p) { p.endpoints.forEach(function (e) { by[e.name] = p.name; }); });
  state.poolOf = by;
}

function poolOfItem(it) { return it.pool || (it.endpoint ? state.poolOf[it.endpoint] : undefined); }

function selectPool(name) {
  state.selected = name;
  var query = new URLSearchParams(location.search);
  query.set("pool", name);
  history.replaceState(null, "", location.pathname + "?" + query.toString() + location.hash);
  if (state.last) { renderPools(state.last.snapshot); renderSelected(state.last.snapshot); }
}

function makeCard(box, p) {
  var card = el("button", "pool-card"), head = el("div", "pc-head"), bar = el("div", "bar sat"), fill = el("i");
  card.type = "button";
  card.setAttribute("data-testid", "pool");
  card.setAttribute("data-pool", p.name);
  card.addEventListener("click", function () { selectPool(p.name); });
  var c = { card: card, sat: el("span", "pc-sat num"), fill: fill, ready: el("div", "pc-sub pc-ready"), load: el("div", "pc-sub pc-load") };
  head.appendChild(el("span", "pc-name", p.name));
  head.appendChild(c.sat);
  card.appendChild(head);
  bar.appendChild(fill);
  card.appendChild(bar);
  card.appendChild(c.ready);
  card.appendChild(c.load);
  box.appendChild(card);
  return c;
}

/** Requests finished per pool over the chart window. */
function poolCounts() {
  var by = {};
  state.points.forEach(function (p) { if (p.pool) by[p.pool] = (by[p.pool] || 0) + 1; });
  return by;
}

/** The cards (only with two pools or more) and the page's one-pool / many-pools mode. */
function renderPools(snap) {
  var multi = snap.pools.length > 1, box = byId("pools");
  document.body.classList.toggle("multi", multi);
  byId("pools-panel").hidden = !multi;
  if (!multi) return;
  var names = snap.pools.map(function (p) { return p.name; }).join("\n");
  if (names !== state.poolNames) {
    box.textContent = "";
    state.cards = {};
    snap.pools.forEach(function (p) { state.cards[p.name] = makeCard(box, p); });
    state.poolNames = names;
  }
  setText(byId("pools-aside"), snap.pools.length + " pools · select one for its endpoints, queues and rewrites");
  var chosen = selectedPool(snap).name, counts = poolCounts(), span = WINDOW_MS / 1000 + " s";
  snap.pools.forEach(function (p) {
    var c = state.cards[p.name], v = Math.max(0, p.saturation);
    var ready = p.endpoints.filter(function (e) { return !e.stale && !e.ejected; }).length;
    var inflight = p.endpoints.reduce(function (n, e) { return n + e.inflight; }, 0);
    var models = {};
    p.endpoints.forEach(function (e) { e.models.forEach(function (m) { models[m] = true; }); });
    c.card.title = p.name + (Object.keys(models).length ? " · serves " + Object.keys(models).sort().join(", ") : "");
    c.card.setAttribute("aria-pressed", p.name === chosen ? "true" : "false");
    c.card.className = "pool-card" + (p.name === chosen ? " on" : "");
    setText(c.sat, v.toFixed(2));
    width(c.fill, Math.min(1, v), 1);
    c.fill.style.background = v >= 1 ? "#f2495c" : v >= 0.7 ? "#ff9830" : "#73bf69";
    setText(c.ready, ready + "/" + p.endpoints.length + " ready · " + fmtInt(inflight) + " in flight");
    setText(c.load, (p.flowControl ? fmtInt(p.queued) + " queued" : "no flow control") + " · " + fmtInt(counts[p.name] || 0) + " req");
    c.load.title = "requests finished in the last " + span;
  });
}

/** The selected pool's panels: header chips, endpoints, gauge, flow control, rewrite splits. */
function renderSelected(snap) {
  var pool = selectedPool(snap), multi = snap.pools.length > 1;
  setText(byId("pool"), pool.name);
  setText(byId("flow-chip"), "flow control " + (pool.flowControl ? "on" : "off"));
  var tags = document.querySelectorAll("[data-pool-tag]");
  for (var i = 0; i < tags.length; i++) setText(tags[i], multi ? pool.name : "");
  renderEndpoints(pool.endpoints, pool.name);
  renderGauge(pool.saturation);
  renderFlow(pool);
  renderRewrites(snap.rewrites.filter(function (r) { return !multi || r.pool === pool.name || r.pool === null; }));
}
`;
