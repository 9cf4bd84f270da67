import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../src/config/errors.ts";
import { parseConfig } from "../../src/config/load.ts";

const EPC = "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\n";
const PLUGINS = `plugins:
  - type: queue-scorer
  - type: max-score-picker
`;
const profile = (ref: string) => `schedulingProfiles:
  - name: default
    plugins:
      - { pluginRef: queue-scorer, ${ref}: 2 }
      - { pluginRef: max-score-picker }
`;

function message(text: string): string {
  try {
    parseConfig(text, "gw.yaml");
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error("the config loaded");
}

describe("EndpointPickerConfig: unknown fields are errors, as upstream's strict decoding makes them", () => {
  test("`wieght` on a profile's plugin does not load as the default weight", () => {
    expect(message(EPC + PLUGINS + profile("wieght"))).toBe(
      'gw.yaml: EndpointPickerConfig (document 1) schedulingProfiles[0].plugins[0].wieght: unknown field "wieght" ' +
        '(did you mean "weight"?); the fields here are pluginRef, weight',
    );
  });

  test("`paramters` on a plugin, and a misspelt top-level section", () => {
    const params = `${EPC}plugins:\n  - type: max-score-picker\n    paramters: { maxNumOfEndpoints: 2 }\n`;
    expect(message(params)).toContain(
      'plugins[0].paramters: unknown field "paramters" (did you mean "parameters"?)',
    );
    expect(message(`${EPC + PLUGINS}schedulingProfile: []\n`)).toContain(
      'unknown field "schedulingProfile" (did you mean "schedulingProfiles"?)',
    );
  });

  test("flowControl and saturationDetector fields: a near miss is named, not just refused", () => {
    expect(message(`${EPC}featureGates: [flowControl]\nflowControl: { maxBytez: 1 }\n`)).toContain(
      'flowControl.maxBytez: unknown field "maxBytez" (did you mean "maxBytes"?)',
    );
    expect(message(`${EPC}saturationDetector: { queueDepthTreshold: 3 }\n`)).toContain(
      'saturationDetector.queueDepthTreshold: unknown field "queueDepthTreshold" (did you mean "queueDepthThreshold"?)',
    );
  });

  test("GIE's older `data:` section loads as it did", () => {
    expect(parseConfig(`${EPC + PLUGINS}data: { sources: [] }\n`, "gw.yaml").pickerConfig).toBeDefined();
  });

  test("upstream's sections and a ConfigMap's metadata still load", () => {
    const text = `${EPC}metadata: { name: epp }\n${PLUGINS}${profile("weight")}dataLayer: { sources: [] }\nrequestHandler: {}\n`;
    expect(parseConfig(text, "gw.yaml").pickerConfig?.schedulingProfiles[0]?.plugins[0]?.weight).toBe(2);
  });
});
