import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HostedBackend } from "../../src/aigw/types.ts";
import { KeyStore } from "../../src/backends/credentials.ts";
import { backendUrl } from "../../src/backends/hosted.ts";
import type { InferenceRequest } from "../../src/request.ts";

const backend = (o: Partial<HostedBackend>): HostedBackend => ({
  name: "b",
  schema: "OpenAI",
  version: undefined,
  origin: "https://h:443",
  ca: undefined,
  credential: undefined,
  ...o,
});
const req = (kind: InferenceRequest["kind"], path: string) => ({ kind, path }) as InferenceRequest;

describe("hosted backend URLs", () => {
  test("OpenAI schema: the route's path under the version prefix (v1 by default)", () => {
    expect(backendUrl(backend({}), req("chat", "/v1/chat/completions"), "m")).toBe(
      "https://h:443/v1/chat/completions",
    );
    expect(backendUrl(backend({ version: "api/v2" }), req("embeddings", "/v1/embeddings"), "m")).toBe(
      "https://h:443/api/v2/embeddings",
    );
    expect(backendUrl(backend({}), req("tokenize", "/tokenize"), "m")).toBe("https://h:443/tokenize");
  });

  test("AzureOpenAI: the deployment named by the model, with the api-version; other routes are a 400", () => {
    const azure = backend({ schema: "AzureOpenAI", version: "2024-10-21" });
    expect(backendUrl(azure, req("chat", "/v1/chat/completions"), "gpt 4o")).toBe(
      "https://h:443/openai/deployments/gpt%204o/chat/completions?api-version=2024-10-21",
    );
    expect(() => backendUrl(azure, req("rerank", "/v1/rerank"), "m")).toThrow(
      "chat completions, completions and embeddings only",
    );
  });
});

describe("API keys", () => {
  const now = { t: 0 };
  const keys = new KeyStore(() => now.t);
  const cred = (source: Parameters<KeyStore["header"]>[0]["source"]) => ({
    header: "authorization" as const,
    prefix: "Bearer ",
    source,
    from: "BackendSecurityPolicy/p",
  });

  test("from an env variable; unset is a 503 naming the variable, never a key", async () => {
    process.env["AIGW_TEST_KEY"] = "sk-env";
    expect(await keys.header(cred({ kind: "env", name: "AIGW_TEST_KEY" }), "b")).toEqual([
      "authorization",
      "Bearer sk-env",
    ]);
    delete process.env["AIGW_TEST_KEY"];
    const err = await keys.header(cred({ kind: "env", name: "AIGW_TEST_KEY" }), "b").catch((e) => e);
    expect(err.status).toBe(503);
    expect(err.message).toContain("AIGW_TEST_KEY");
  });

  test("from a file, re-read after 10 s so a rotated Secret is picked up", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aigw-key-"));
    const file = join(dir, "apiKey");
    try {
      writeFileSync(file, "sk-one\n");
      const c = cred({ kind: "file", path: file });
      expect((await keys.header(c, "b"))[1]).toBe("Bearer sk-one");
      writeFileSync(file, "sk-two");
      expect((await keys.header(c, "b"))[1]).toBe("Bearer sk-one");
      now.t += 10_001;
      expect((await keys.header(c, "b"))[1]).toBe("Bearer sk-two");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
