import { expect, test } from "bun:test";
import { gatewayArgs, healthUrl } from "../../src/runtime/healthcheck.ts";

const config = (port: number) =>
  `apiVersion: gateway.inference.dev/v1alpha1\nkind: GatewayConfig\nport: ${port}\n`;
const files: Record<string, string> = { "/etc/gw.yaml": config(9000) };
const read = (f: string) => {
  const text = files[f];
  if (text === undefined) throw new Error(`no ${f}`);
  return text;
};

test("the image's health check asks the port the gateway was started with", () => {
  const cmdline = ["bun", "run", "src/runtime/bun.ts", "--config", "/etc/gw.yaml", ""].join("\0");
  expect(gatewayArgs(cmdline)).toEqual(["--config", "/etc/gw.yaml"]);
  expect(healthUrl(gatewayArgs(cmdline), {}, read)).toBe("http://127.0.0.1:9000/healthz");
  expect(healthUrl(["--config", "/etc/gw.yaml", "--port", "7000"], {}, read)).toBe(
    "http://127.0.0.1:7000/healthz",
  );
  expect(healthUrl(["--config", "/etc/gw.yaml"], { GATEWAY_PORT: "7100" }, read)).toBe(
    "http://127.0.0.1:7100/healthz",
  );
  expect(healthUrl(["--config", "/etc/gw.yaml", "--host", "10.1.2.3"], {}, read)).toBe(
    "http://10.1.2.3:9000/healthz",
  );
  expect(healthUrl(["--config", "/missing.yaml"], {}, read)).toBe("http://127.0.0.1:8080/healthz");
  expect(healthUrl([], {})).toBe("http://127.0.0.1:8080/healthz"); // the quickstart
});
