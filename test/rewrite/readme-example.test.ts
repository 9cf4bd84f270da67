/** The README's rewrite example and its promotion advice do what the README says. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { parseRewrite, RewriteTable } from "../../src/rewrite/index.ts";

const README = readFileSync(join(resolve(import.meta.dir, "../.."), "README.md"), "utf8");
const section = README.slice(README.indexOf("### Model rewrite"));
const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;

const shares = (text: string) => RewriteTable.build([parseRewrite(parse(text))]).aliases()[0]!.shares;

test("the README's canary example splits 90/10", () => {
  expect(shares(yaml)).toEqual([0.9, 0.1]);
});

test("its promotion advice promotes: deleting the stable target's line sends everything to the canary", () => {
  expect(section).toContain("promoting the canary is deleting the stable target's line");
  const promoted = yaml
    .split("\n")
    .filter((l) => !l.includes("modelRewrite: facebook/opt-125m,"))
    .join("\n");
  const table = RewriteTable.build([parseRewrite(parse(promoted))]);
  expect(table.aliases()[0]).toMatchObject({ targets: ["facebook/opt-125m-canary"], shares: [1] });
});

test("raising only the canary's weight to 100 is not a promotion, as the README warns", () => {
  const raised = shares(yaml.replace("weight: 10 }", "weight: 100 }"));
  expect(raised[1]).toBeCloseTo(100 / 190, 6);
  expect(section).toContain(`${Math.round(raised[1]! * 100)} %, not a promotion`);
});
