/**
 * The dashboard's static skeleton. Every live value is filled in by the client script,
 * by id, with textContent (names come from clients: never parsed as HTML). The pools
 * panel and the pool column show only when the gateway serves more than one pool.
 */
export const markup = `
<header class="top">
  <div class="brand"><span class="logo"></span><b>inference-gateway</b><span class="muted">dashboard</span></div>
  <div class="chip">pool <b id="pool">–</b></div>
  <div class="chip" id="flow-chip">flow control –</div>
  <div class="spacer"></div>
  <div class="conn" id="conn"><span class="dot"></span><span id="conn-text">connecting…</span></div>
  <div class="muted num" id="updated"></div>
</header>
<main>
  <section class="stats">
    <div class="panel stat">
      <div class="label">Requests</div><div class="value" id="stat-requests" data-testid="total-requests">0</div>
      <div class="sub" title="the sum of inference_objective_request_total">since start, all models</div></div>
    <div class="panel stat"><svg class="spark" id="spark" viewBox="0 0 100 34" preserveAspectRatio="none"></svg>
      <div class="label">Requests / s</div><div class="value" id="stat-rate">0</div>
      <div class="sub">last 5 s; the line: last 60 s</div></div>
    <div class="panel stat"><div class="label">Errors</div><div class="value" id="stat-errors">0</div>
      <div class="sub" id="stat-errors-sub">0% of requests</div></div>
    <div class="panel stat"><div class="label">In flight</div><div class="value" id="stat-inflight">0</div>
      <div class="sub" id="stat-inflight-sub">queued in flow control: 0</div></div>
    <div class="panel stat"><div class="label">TTFT p50 / p90</div><div class="value" id="stat-ttft">–</div>
      <div class="sub" id="stat-ttft-sub">ms, last 60 s</div></div>
    <div class="panel stat"><div class="label">Endpoints</div><div class="value" id="stat-endpoints" data-testid="endpoint-count">0</div>
      <div class="sub" id="stat-endpoints-sub">–</div></div>
  </section>

  <section class="panel" id="pools-panel" hidden>
    <h2>Pools <span class="aside" id="pools-aside">select one for its endpoints, queues and rewrites</span></h2>
    <div class="pools" id="pools" role="group" aria-label="pools"></div>
  </section>

  <section class="row">
    <div class="panel">
      <h2>Endpoints <span class="pool-tag" data-pool-tag></span><span class="aside">bars scale to the busiest endpoint; KV cache to 100%</span></h2>
      <div class="ep-grid" id="endpoints">
        <div class="colhead" id="ep-window">endpoint</div><div class="colhead">queue<span class="wide"> (waiting)</span></div>
        <div class="colhead">running</div><div class="colhead">KV cache</div><div class="colhead">in flight<span class="wide"> (gateway)</span></div>
      </div>
      <div class="empty" id="endpoints-empty">No endpoints in the pool.</div>
    </div>
    <div class="panel side">
      <h2>Pool saturation <span class="pool-tag" data-pool-tag></span></h2>
      <div class="gauge">
        <svg viewBox="0 0 200 110" aria-label="pool saturation">
          <path d="M 20 100 A 80 80 0 0 1 180 100" fill="none" stroke="#23262d" stroke-width="14" stroke-linecap="round"/>
          <path id="gauge-arc" d="M 20 100 A 80 80 0 0 1 180 100" fill="none" stroke="#73bf69" stroke-width="14"
            stroke-linecap="round" pathLength="100" stroke-dasharray="0 100"/>
          <text x="100" y="86" text-anchor="middle" class="g-value" id="gauge-value">–</text>
          <text x="100" y="104" text-anchor="middle" class="g-sub">1.0 = full</text>
        </svg>
      </div>
      <h3>Flow control <span class="aside" id="flow-total"></span></h3>
      <div id="flow"></div>
    </div>
  </section>

  <section class="row">
    <div class="panel">
      <h2>Time to first token
        <span class="legend"><span><i class="l-p50"></i>p50 per second</span><span><i class="l-p90"></i>p90 per second</span></span>
        <span class="aside" id="window">last 60 s, finished requests</span></h2>
      <div class="chart-wrap"><canvas id="ttft" data-testid="ttft-chart"></canvas></div>
      <div class="legend chart-foot" id="ttft-models"></div>
    </div>
    <div class="panel">
      <h2>Rewrite splits <span class="pool-tag" data-pool-tag></span><span class="aside">share per target</span></h2>
      <div id="rewrites"></div>
    </div>
  </section>

  <section class="panel">
    <h2>Recent requests <span class="aside" id="recent-count" data-testid="recent-count">0 received</span></h2>
    <div class="table-wrap">
      <table>
        <thead><tr>
          <th>time</th><th>model → target</th><th class="pool-col">pool</th><th>endpoint</th><th class="r">priority</th><th>fairness id</th>
          <th>status</th><th class="r">queue ms</th><th class="r">TTFT ms</th><th class="r">duration ms</th>
          <th class="r">tokens in → out</th>
        </tr></thead>
        <tbody id="recent"></tbody>
      </table>
      <div class="empty" id="recent-empty">No requests yet.</div>
    </div>
  </section>
</main>
`;
