import { describe, expect, test } from "bun:test";
import { parseCli } from "../../src/runtime/cli.ts";

describe("command line and environment", () => {
  test("flags win over the environment", () => {
    const o = parseCli(["--port", "9000", "-c", "a.yaml"], {
      GATEWAY_PORT: "7000",
      GATEWAY_CONFIG: "b.yaml",
    });
    expect(o.port).toBe(9000);
    expect(o.config).toBe("a.yaml");
  });
  test("environment fills what flags leave out", () => {
    const o = parseCli([], { PORT: "7001", GATEWAY_HOST: "127.0.0.1", GATEWAY_LOG_LEVEL: "debug" });
    expect(o).toMatchObject({ port: 7001, host: "127.0.0.1", logLevel: "debug", help: false });
  });
  test("--help", () => expect(parseCli(["-h"], {}).help).toBe(true));
  test("a bad port is refused with a message", () => {
    expect(() => parseCli(["--port", "http"], {})).toThrow("--port");
  });
  test("GATEWAY_CONFIG_SETTLE_MS sets the reload settle time; a bad value is refused", () => {
    expect(parseCli([], { GATEWAY_CONFIG_SETTLE_MS: "50" }).settleMs).toBe(50);
    expect(parseCli([], {}).settleMs).toBeUndefined();
    expect(() => parseCli([], { GATEWAY_CONFIG_SETTLE_MS: "soon" })).toThrow("GATEWAY_CONFIG_SETTLE_MS");
  });
  test("an unknown flag is refused", () => {
    expect(() => parseCli(["--nope"], {})).toThrow();
  });
});
