import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createGateway } from "../../src/gateway.ts";
import { silentLogger } from "../../src/log.ts";
import { testConfig } from "../helpers/config.ts";
import { fakeUpstream } from "../helpers/fake-upstream.ts";

/**
 * deploy/grafana/inference-gateway.json against what the gateway really exports: every
 * metric a query names exists with that exact series name (a histogram only through
 * _bucket/_sum/_count), every label a query groups or filters by is declared by its
 * metric, and every exported family has a panel.
 */

interface Target {
  expr: string;
  legendFormat?: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
}

const dashboard = JSON.parse(
  readFileSync(new URL("../../deploy/grafana/inference-gateway.json", import.meta.url), "utf8"),
) as { panels: Panel[]; templating: { list: { name: string; type: string; query: unknown }[] } };
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = [
  ...panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr, legend: t.legendFormat })),
  ),
  ...dashboard.templating.list
    .filter((v) => v.type === "query")
    .map((v) => ({ panel: `$${v.name}`, expr: (v.query as { query: string }).query, legend: undefined })),
];

/**
 * Metrics another change registers later: accepted while the registry does not have them
 * yet, checked like every other metric once it does (none pending now).
 */
const PENDING: Record<string, "histogram" | "gauge"> = {};

/**
 * What a gateway exports, read from its metrics registry (what /metrics renders):
 * family → type and the label names it declares. Also checks that /metrics lists the same families.
 */
async function exported() {
  const config = testConfig({ endpoints: [{ name: "a", address: "10.0.0.1:8000", models: ["m"] }] });
  const gw = createGateway({ config, fetch: fakeUpstream().fetch, logger: silentLogger() });
  const types = new Map<string, string>();
  const labels = new Map<string, Set<string>>();
  for (const m of gw.deps.metrics.registry.getMetricsAsArray()) {
    types.set(m.name, String(m.type));
    const names = (m as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
    labels.set(m.name, new Set(names));
  }
  const text = await (await gw.fetch(new Request("http://gw/metrics"))).text();
  const listed = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => `${name} ${type}`);
  expect(listed.sort()).toEqual([...types].map(([name, type]) => `${name} ${type}`).sort());
  return { types, labels };
}

/** The series names a family of this type exposes. */
function seriesOf(name: string, type: string): string[] {
  if (type === "histogram") return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
  if (type === "summary") return [name, `${name}_sum`, `${name}_count`];
  return [name];
}

/** Series names in an expression (not the `inference_pool` label). */
const metricsIn = (expr: string) => [
  ...new Set(expr.match(/\binference_(?:objective|pool|extension)_[a-z0-9_]+/g) ?? []),
];

/** Labels an expression groups, joins or filters by (not `le`, not template variables). */
function labelsIn(expr: string): string[] {
  const out = new Set<string>();
  for (const [, list] of expr.matchAll(/\b(?:by|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g))
    for (const l of list!.split(",")) if (l.trim()) out.add(l.trim());
  for (const [, sel] of expr.matchAll(/\{([^}]*)\}/g))
    for (const [, l] of sel!.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) out.add(l!);
  const lv = /label_values\(\s*\w+\s*,\s*(\w+)\s*\)/.exec(expr);
  if (lv) out.add(lv[1]!);
  out.delete("le");
  return [...out];
}

describe("deploy/grafana/inference-gateway.json", () => {
  test("is a Grafana dashboard whose panels all query the Prometheus datasource variable", () => {
    const ds = dashboard.templating.list.find((v) => v.name === "datasource");
    expect(ds).toMatchObject({ type: "datasource", query: "prometheus" });
    const uid = "$" + "{datasource}";
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      if (p.type === "row") continue;
      expect(p.datasource).toEqual({ type: "prometheus", uid });
      expect(p.targets?.length).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.datasource.uid).toBe(uid);
    }
    expect(queries.length).toBeGreaterThan(30);
  });

  test("every metric a query names is exported under that exact series name", async () => {
    const { types } = await exported();
    const series = new Set([...types].flatMap(([name, type]) => seriesOf(name, type)));
    const pending = new Set(
      Object.entries(PENDING)
        .filter(([name]) => !types.has(name))
        .flatMap(([name, type]) => seriesOf(name, type)),
    );
    if (pending.size)
      console.warn(`grafana: not exported yet, accepted as pending: ${[...pending].join(", ")}`);
    for (const q of queries) {
      const names = metricsIn(q.expr);
      expect({ panel: q.panel, names: names.length > 0 }).toEqual({ panel: q.panel, names: true });
      for (const name of names)
        expect({ panel: q.panel, name, exported: series.has(name) || pending.has(name) }).toEqual({
          panel: q.panel,
          name,
          exported: true,
        });
    }
  });

  test("every label a query groups or filters by is one its metrics declare; legends use those labels", async () => {
    const { labels } = await exported();
    const familyOf = (series: string) => series.replace(/_(bucket|sum|count)$/, "");
    for (const q of queries) {
      const families = metricsIn(q.expr).map((m) => (labels.has(m) ? m : familyOf(m)));
      if (families.some((f) => !labels.has(f))) continue; // pending: not registered yet
      const declared = new Set(families.flatMap((f) => [...labels.get(f)!]));
      for (const label of labelsIn(q.expr))
        expect({ panel: q.panel, label, declared: declared.has(label) }).toEqual({
          panel: q.panel,
          label,
          declared: true,
        });
      for (const [, label] of (q.legend ?? "").matchAll(/\{\{(\w+)\}\}/g))
        expect({ panel: q.panel, legend: label, inQuery: q.expr.includes(label!) }).toEqual({
          panel: q.panel,
          legend: label,
          inQuery: true,
        });
    }
  });

  test("every metric family the gateway exports has a panel", async () => {
    const { types } = await exported();
    const charted = new Set(queries.flatMap((q) => metricsIn(q.expr)));
    for (const [name, type] of types) {
      if (!name.startsWith("inference_")) continue;
      expect({ name, charted: seriesOf(name, type).some((s) => charted.has(s)) }).toEqual({
        name,
        charted: true,
      });
    }
  });
});
