import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { ALPHA_GROUP_VERSIONS, POOL_GROUP_VERSION } from "../../src/kubernetes/index.ts";

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const docs = parseAllDocuments(readFileSync(join(import.meta.dir, "../../deploy/rbac.yaml"), "utf8")).map(
  (d) =>
    d.toJS() as {
      kind: string;
      metadata: { name: string };
      rules?: Rule[];
      roleRef?: { kind: string; name: string };
      subjects?: { name: string }[];
    },
);

describe("deploy/rbac.yaml", () => {
  const group = (gv: string) => gv.split("/")[0]!;
  const watched: [string, string][] = [
    ["", "pods"],
    [group(POOL_GROUP_VERSION), "inferencepools"],
    ...ALPHA_GROUP_VERSIONS.flatMap((gv): [string, string][] => [
      [group(gv), "inferenceobjectives"],
      [group(gv), "inferencemodelrewrites"],
    ]),
  ];

  test.each(watched)("the ClusterRole grants get/list/watch on %s %s", (apiGroup, resource) => {
    const role = docs.find((d) => d.kind === "ClusterRole")!;
    const rule = role.rules!.find((r) => r.apiGroups.includes(apiGroup) && r.resources.includes(resource));
    expect(rule?.verbs).toEqual(expect.arrayContaining(["get", "list", "watch"]));
  });

  test("a RoleBinding (per watched namespace) ties the ClusterRole to the ServiceAccount; nothing is granted cluster-wide", () => {
    const sa = docs.find((d) => d.kind === "ServiceAccount")!;
    const role = docs.find((d) => d.kind === "ClusterRole")!;
    const binding = docs.find((d) => d.kind === "RoleBinding")!;
    expect(binding.roleRef).toMatchObject({ kind: "ClusterRole", name: role.metadata.name });
    expect(binding.subjects!.map((s) => s.name)).toEqual([sa.metadata.name]);
    expect(docs.filter((d) => d.kind === "ClusterRoleBinding")).toEqual([]);
  });
});
