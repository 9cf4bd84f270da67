/**
 * The inference routes' handlers by exact path (POST only), offered on a fetch handler to a
 * server that can match paths itself (the Bun entry's server takes them as its `routes`:
 * src/runtime/serve-bun.ts): such a request then reaches its handler without the app reading
 * its URL (on Bun, `request.url` builds a string a request) and looking the path up (issue
 * 19, eleventh pass). Every other request, and every server that does not look, goes through
 * the fetch handler, which picks the same handler by the same exact path (src/app.ts).
 */
export type DirectRoutes = ReadonlyMap<string, (request: Request) => Promise<Response>>;

const DIRECT_ROUTES = Symbol.for("inference-gateway.directRoutes");

/** `fetch`, offering `routes` to the server it is given to. */
export function offerDirectRoutes<F extends object>(fetch: F, routes: DirectRoutes | undefined): F {
  if (routes !== undefined) (fetch as { [DIRECT_ROUTES]?: DirectRoutes })[DIRECT_ROUTES] = routes;
  return fetch;
}

/** What `fetch` offers (undefined: nothing; route everything through it). */
export function directRoutesOf(fetch: object): DirectRoutes | undefined {
  return (fetch as { [DIRECT_ROUTES]?: DirectRoutes })[DIRECT_ROUTES];
}
