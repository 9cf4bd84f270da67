/**
 * Browser-side drawing helpers of the dashboard (plain ES2017, no library): quantiles,
 * the TTFT chart on a <canvas> and the request-rate sparkline in SVG. Concatenated
 * into the page's one inline script by `index.ts`; no template literals inside, so this
 * source stays a plain string.
 */
export const chartScript = `
function quantile(sorted, q) {
  if (!sorted.length) return undefined;
  var pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** The smallest 1, 2, 2.5 or 5 x 10^n at or above v. */
function niceCeil(v) {
  if (!(v > 0)) return 1;
  var p = Math.pow(10, Math.floor(Math.log10(v)));
  var steps = [1, 2, 2.5, 5, 10];
  for (var i = 0; i < steps.length; i++) if (steps[i] * p >= v) return steps[i] * p;
  return 10 * p;
}

function msLabel(v) {
  if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 1) + " s";
  return (v >= 10 ? Math.round(v) : Math.round(v * 10) / 10) + " ms";
}

function clockLabel(ms) {
  var d = new Date(ms);
  var p = function (n) { return (n < 10 ? "0" : "") + n; };
  return p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
}

/**
 * TTFT over the last windowMs: one dot per finished request at the moment its first
 * token came (end - duration + ttft), coloured by target model, and p50 / p90 lines
 * over one-second buckets. Returns the window's p50 and p90.
 */
function drawTtftChart(canvas, points, now, windowMs) {
  var w = canvas.clientWidth, h = canvas.clientHeight, dpr = window.devicePixelRatio || 1;
  if (!w || !h) return {};
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  var ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  var from = now - windowMs;
  var pad = { l: 54, r: 10, t: 8, b: 22 };
  var pw = w - pad.l - pad.r, ph = h - pad.t - pad.b;
  var inWindow = points.filter(function (p) { return p.t >= from && p.t <= now + 1000; });
  var values = inWindow.map(function (p) { return p.v; }).sort(function (a, b) { return a - b; });

  var buckets = {};
  inWindow.forEach(function (p) {
    var s = Math.floor(p.t / 1000);
    (buckets[s] = buckets[s] || []).push(p.v);
  });
  var series = Object.keys(buckets).map(Number).sort(function (a, b) { return a - b; }).map(function (s) {
    var vs = buckets[s].sort(function (a, b) { return a - b; });
    return { t: s * 1000 + 500, p50: quantile(vs, 0.5), p90: quantile(vs, 0.9) };
  });
  var top = Math.max(quantile(values, 0.98) || 0, series.reduce(function (m, b) { return Math.max(m, b.p90); }, 0));
  var ymax = niceCeil(Math.max(top * 1.1, 4) / 4) * 4; // four gridlines at round values
  var x = function (t) { return pad.l + ((t - from) / windowMs) * pw; };
  var y = function (v) { return pad.t + ph - (Math.min(v, ymax) / ymax) * ph; };

  ctx.font = "11px system-ui, sans-serif";
  ctx.lineWidth = 1;
  ctx.textBaseline = "middle";
  ctx.textAlign = "right";
  for (var i = 0; i <= 4; i++) {
    var v = (ymax * i) / 4, gy = Math.round(y(v)) + 0.5;
    ctx.strokeStyle = i === 0 ? "#2f323a" : "#23262d";
    ctx.beginPath(); ctx.moveTo(pad.l, gy); ctx.lineTo(w - pad.r, gy); ctx.stroke();
    ctx.fillStyle = "#8e909b";
    ctx.fillText(msLabel(v), pad.l - 6, gy);
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  var steps = [1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000], step = steps[0];
  for (var k = 0; k < steps.length && windowMs / steps[k] > pw / 90; k++) step = steps[k + 1] || steps[k];
  for (var t = Math.ceil(from / step) * step; t <= now; t += step) {
    var gx = Math.round(x(t)) + 0.5;
    ctx.strokeStyle = "#1f2228";
    ctx.beginPath(); ctx.moveTo(gx, pad.t); ctx.lineTo(gx, pad.t + ph); ctx.stroke();
    ctx.fillStyle = "#8e909b";
    if (gx > pad.l + 24 && gx < w - 24) ctx.fillText(clockLabel(t), gx, pad.t + ph + 6);
  }

  if (!inWindow.length) {
    ctx.fillStyle = "#5d606b";
    ctx.textBaseline = "middle";
    ctx.font = "13px system-ui, sans-serif";
    ctx.fillText("waiting for requests…", pad.l + pw / 2, pad.t + ph / 2);
    return {};
  }
  ctx.save();
  ctx.beginPath(); ctx.rect(pad.l, pad.t - 3, pw, ph + 6); ctx.clip();
  ctx.globalAlpha = 0.5;
  inWindow.forEach(function (p) {
    ctx.fillStyle = p.color;
    ctx.beginPath(); ctx.arc(x(p.t), y(p.v), 2.2, 0, Math.PI * 2); ctx.fill();
  });
  ctx.globalAlpha = 1;
  [["p50", "#5794f2"], ["p90", "#ff9830"]].forEach(function (line) {
    ctx.strokeStyle = line[1];
    ctx.lineWidth = 2;
    ctx.lineJoin = "round";
    ctx.beginPath();
    var prev;
    series.forEach(function (b) {
      if (prev === undefined || b.t - prev > 3000) ctx.moveTo(x(b.t), y(b[line[0]]));
      else ctx.lineTo(x(b.t), y(b[line[0]]));
      prev = b.t;
    });
    ctx.stroke();
  });
  ctx.restore();
  return { p50: quantile(values, 0.5), p90: quantile(values, 0.9) };
}

/** Requests per second between consecutive samples, as an area sparkline in a 100x34 viewBox. */
function drawSparkline(svg, samples) {
  var NS = svg.namespaceURI;
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  var rates = [];
  for (var i = 1; i < samples.length; i++) {
    var dt = (samples[i].t - samples[i - 1].t) / 1000;
    if (dt > 0) rates.push(Math.max(0, (samples[i].requests - samples[i - 1].requests) / dt));
  }
  if (rates.length < 2) return;
  var max = Math.max.apply(null, rates) || 1;
  var pts = rates.map(function (r, j) {
    return ((j / (rates.length - 1)) * 100).toFixed(2) + "," + (33 - (r / max) * 26).toFixed(2);
  });
  var area = document.createElementNS(NS, "polygon");
  area.setAttribute("points", "0,34 " + pts.join(" ") + " 100,34");
  area.setAttribute("fill", "rgba(87,148,242,0.16)");
  var line = document.createElementNS(NS, "polyline");
  line.setAttribute("points", pts.join(" "));
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "#5794f2");
  line.setAttribute("stroke-width", "1.5");
  line.setAttribute("vector-effect", "non-scaling-stroke");
  svg.appendChild(area);
  svg.appendChild(line);
}
`;
