import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { fakeUpstream } from "../helpers/fake-upstream.ts";
import { chatOn, metricsGateway } from "../helpers/metrics-gateway.ts";
import { matches, parseExposition, readQuery, type Sample } from "./promql.ts";

/**
 * GIE's own Grafana dashboard (tools/dashboards/inference_gateway.json, stored verbatim in
 * test/fixtures; provenance in the sibling .md) against this gateway's /metrics after some
 * traffic: every series an EPP panel selects must have a sample that passes the panel's
 * matchers, and every label the panel groups or joins by must carry a value there. A panel
 * that would draw nothing fails, naming the panel, the series and the label.
 */

interface Panel {
  id: number;
  title: string;
  type: string;
  targets?: { expr: string; refId: string }[];
  panels?: Panel[];
}

const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/gie-inference-gateway-dashboard.json", import.meta.url), "utf8"),
) as { panels: Panel[] };

/** Rows of GIE's dashboard about components this gateway is not, with the reason. */
const NOT_THIS_GATEWAY: Record<string, string> = {
  vLLM: "model-server metrics (vllm:*): Prometheus scrapes them from the pods, not from the gateway",
  "Body Based Router":
    "bbr_* come from GIE's separate body-based-router ext_proc; this gateway reads the model from the body itself",
};

/**
 * Labels Prometheus adds from the scrape target (Kubernetes service discovery), not the
 * exporter: GIE's EPP does not emit them either, and grouping by them is harmless here.
 */
const TARGET_LABELS = new Set(["pod", "namespace", "instance", "job"]);

/**
 * EPP panels known not to be served yet, with the reason; each must still be empty, so the
 * entry is removed the day it starts working.
 */
const PENDING: Record<number, string> = {};

const rows = fixture.panels.filter((p) => p.type === "row");
const eppPanels = rows
  .filter((r) => !(r.title in NOT_THIS_GATEWAY))
  .flatMap((r) => (r.panels ?? []).map((p) => ({ row: r.title, panel: p })));

/** Drives streamed and plain chat requests (with usage, cached tokens) and an unknown model. */
async function scrapeAfterTraffic(): Promise<Sample[]> {
  const usage = {
    prompt_tokens: 50,
    completion_tokens: 3,
    total_tokens: 53,
    prompt_tokens_details: { cached_tokens: 16 },
  };
  const chunk = (content: string) =>
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
  const sse = [
    chunk("a"),
    chunk("b"),
    chunk("c"),
    `data: ${JSON.stringify({ choices: [], usage })}\n\n`,
    "data: [DONE]\n\n",
  ];
  const upstream = fakeUpstream((call) =>
    call.body["stream"]
      ? new Response(sse.join(""), { headers: { "content-type": "text/event-stream" } })
      : Response.json({ choices: [{ index: 0, message: { role: "assistant", content: "abc" } }], usage }),
  );
  let now = 1000;
  const gw = metricsGateway(upstream.fetch, () => (now += 7));
  const chat = chatOn(gw, 300);
  for (const [model, stream] of [
    ["m", false],
    ["m", true],
    ["alias", true],
    ["nope", false],
  ] as const)
    await (await chat(model, stream)).text();
  return parseExposition(await (await gw.fetch(new Request("http://gw/metrics"))).text());
}

/** Why a panel's query would draw nothing, or undefined when it would draw. */
function emptiness(expr: string, samples: Sample[]): string | undefined {
  const { selectors, groupLabels } = readQuery(expr);
  if (selectors.length === 0) return `no series found in ${expr}`;
  for (const s of selectors) {
    const hits = samples.filter((x) => x.name === s.metric && s.matchers.every((m) => matches(x, m)));
    if (hits.length === 0) {
      const any = samples.some((x) => x.name === s.metric);
      const filter = s.matchers.map((m) => `${m.label}${m.op}"${m.value}"`).join(",");
      return any
        ? `${s.metric}{${filter}} has no sample passing the matchers`
        : `${s.metric} is not exported`;
    }
    for (const label of groupLabels) {
      if (TARGET_LABELS.has(label)) continue;
      // `le` belongs to the histogram_quantile over the _bucket series, not to its neighbours.
      if (label === "le" && !s.metric.endsWith("_bucket")) continue;
      if (!hits.some((x) => (x.labels[label] ?? "") !== ""))
        return `${s.metric} has no \`${label}\` label value to group by`;
    }
  }
  return undefined;
}

describe("GIE v1.5.0's Grafana dashboard against /metrics", () => {
  test("the fixture is GIE's dashboard, with its EPP rows", () => {
    expect(rows.map((r) => r.title)).toEqual([
      "Inference Pool",
      "Inference Objective",
      "vLLM",
      "Body Based Router",
      "Flow Control Layer",
    ]);
    expect(eppPanels.length).toBe(19);
  });

  test("every EPP panel query selects series that are exported and non-empty, with the labels it groups by", async () => {
    const samples = await scrapeAfterTraffic();
    const problems: string[] = [];
    const stillPending: string[] = [];
    for (const { row, panel } of eppPanels) {
      const why = (panel.targets ?? []).map((t) => emptiness(t.expr, samples)).find((w) => w !== undefined);
      if (panel.id in PENDING) {
        if (why === undefined)
          stillPending.push(`${panel.id} "${panel.title}" works now: remove it from PENDING`);
        continue;
      }
      if (why !== undefined) problems.push(`${row} / ${panel.title} (id ${panel.id}): ${why}`);
    }
    expect(problems).toEqual([]);
    expect(stillPending).toEqual([]);
  });

  test("the reader finds names, matchers and grouping labels, and an absent series is reported", () => {
    const q = readQuery(
      'sum by (priority, fairness_id) (rate(x_count{outcome="Dispatched"}[$__rate_interval])) and on(priority) topk(10, y)',
    );
    expect(q.selectors).toEqual([
      { metric: "x_count", matchers: [{ label: "outcome", op: "=", value: "Dispatched" }] },
      { metric: "y", matchers: [] },
    ]);
    expect(q.groupLabels).toEqual(["priority", "fairness_id"]);
    const samples = parseExposition('x_count{outcome="dispatched",priority="0",fairness_id="a"} 1\ny 2\n');
    expect(emptiness('sum(x_count{outcome="Dispatched"})', samples)).toContain("no sample passing");
    expect(emptiness("sum by (priority) (y)", samples)).toContain("no `priority` label value");
    expect(emptiness("sum(z)", samples)).toBe("z is not exported");
    expect(emptiness("sum by (priority, pod) (x_count)", samples)).toBeUndefined();
  });
});
