import { chartScript } from "./chart.ts";
import { clientScript } from "./client.ts";
import { markup } from "./markup.ts";
import { panelsScript } from "./panels.ts";
import { poolsScript } from "./pools.ts";
import { styles } from "./styles.ts";

/** The dashboard page and the Content-Security-Policy that lets exactly its inline script and style run. */
export interface DashboardPage {
  html: string;
  contentSecurityPolicy: string;
}

const script = `(function () {\n"use strict";\n${chartScript}\n${panelsScript}\n${poolsScript}\n${clientScript}\n})();`;

/** The page's one inline script (helpers + client), exported for a syntax check in tests. */
export const dashboardScript = script;

async function sha256Base64(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  let binary = "";
  for (const b of digest) binary += String.fromCharCode(b);
  return btoa(binary);
}

async function build(): Promise<DashboardPage> {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>inference-gateway · dashboard</title>
<link rel="icon" href="data:,">
<style>${styles}</style>
</head>
<body>
${markup}
<script>${script}</script>
</body>
</html>
`;
  // Nothing but this page's own script and style, and its own event stream: no CDN, no fonts.
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src 'sha256-${await sha256Base64(script)}'`,
    `style-src 'sha256-${await sha256Base64(styles)}'`,
    "connect-src 'self'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return { html, contentSecurityPolicy };
}

let page: Promise<DashboardPage> | undefined;

/**
 * The self-contained dashboard (inline CSS and JS, system fonts, nothing fetched but
 * `./dashboard/events`). Built once per process: the page is static, the data comes
 * from the event stream.
 */
export function dashboardPage(): Promise<DashboardPage> {
  page ??= build();
  return page;
}
