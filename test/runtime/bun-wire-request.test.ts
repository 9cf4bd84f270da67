/**
 * The wire client's request line (bun-wire.ts `handled`): a method is upper-cased when it is
 * one of the usual ones whatever its case, and kept as given otherwise; a path fetch would have
 * to encode goes to the fallback even right after a plain one (the last plain path is
 * remembered), and a known origin (one with a pool) is still called on its own host and port.
 */
import { afterAll, expect, test } from "bun:test";
import { wireFetch } from "../../src/runtime/bun-wire.ts";
import { headPod } from "../helpers/head-pod.ts";

const pod = headPod("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
afterAll(() => pod.stop());
const base = `http://${pod.origin}`;
/** The request lines the pod got, in order. */
const requestLines = () => pod.heads.map((head) => head.slice(0, head.indexOf("\r\n")));

test("methods: the usual ones upper-cased, any other as given", async () => {
  const wire = wireFetch();
  pod.heads.length = 0;
  for (const method of ["post", "POST", "Get", "delete", "purge", "PATCH"])
    expect(await (await wire(`${base}/m`, { method, body: method === "Get" ? undefined : "x" })).text()).toBe(
      "ok",
    );
  wire.close();
  expect(requestLines()).toEqual([
    "POST /m HTTP/1.1",
    "POST /m HTTP/1.1",
    "GET /m HTTP/1.1",
    "DELETE /m HTTP/1.1",
    "purge /m HTTP/1.1",
    "PATCH /m HTTP/1.1",
  ]);
});

test("a path fetch would encode goes to the fallback, before and after plain ones", async () => {
  const fell: string[] = [];
  const wire = wireFetch({
    fallback: async (url) => {
      fell.push(url);
      return new Response("fallback");
    },
  });
  pod.heads.length = 0;
  const paths = ["/a b", "/plain", "/plain", "/a%20b", "/caf\u00e9", "/plain", "/x#frag", "/plain"];
  const got: string[] = [];
  for (const path of paths) got.push(await (await wire(`${base}${path}`, { method: "GET" })).text());
  wire.close();
  expect(got).toEqual(["fallback", "ok", "ok", "ok", "fallback", "ok", "fallback", "ok"]);
  expect(fell).toEqual([`${base}/a b`, `${base}/caf\u00e9`, `${base}/x#frag`]);
  expect(requestLines()).toEqual([
    "GET /plain HTTP/1.1",
    "GET /plain HTTP/1.1",
    "GET /a%20b HTTP/1.1",
    "GET /plain HTTP/1.1",
    "GET /plain HTTP/1.1",
  ]);
});

test("an origin with a pool: its calls go to its host and port; a malformed one still falls back", async () => {
  const fell: string[] = [];
  const wire = wireFetch({
    fallback: async (url) => {
      fell.push(url);
      return new Response("fallback");
    },
  });
  for (let i = 0; i < 3; i++) expect(await (await wire(`${base}/p`, { method: "GET" })).text()).toBe("ok");
  expect(wire.pools.has(pod.origin)).toBe(true);
  expect(await (await wire("http://127.0.0.1:99999/p", { method: "GET" })).text()).toBe("fallback");
  expect(await (await wire("http://user@127.0.0.1/p", { method: "GET" })).text()).toBe("fallback");
  wire.close();
  expect(fell).toEqual(["http://127.0.0.1:99999/p", "http://user@127.0.0.1/p"]);
});
