/**
 * A pod request's headers as the lines of an HTTP/1.1 head, written from the client's Headers
 * in one pass (issue 19, twelfth pass), for a pod client that writes its head itself (the Bun
 * wire client, src/runtime/bun-wire.ts). Any other fetch gets a `Headers` as before
 * (`bodyRequestHeaders`): forward.ts makes a PodHead only for a fetch that offers `POD_HEAD`.
 *
 * The lines are the ones `forEach` over that Headers (with the credential header set after)
 * gives, byte for byte and in the same order: Bun's Headers iterates its names sorted, the
 * client's names come out of `forEach` sorted (`set-cookie` last), and the gateway's own headers (accept-encoding,
 * content-type, x-request-id, the credential) are merged in at their places. What is saved:
 * the native copy of the client's Headers, its `keys()` scan, the deletes, three or four `set`s
 * and the wire client's `forEach` over the copy (~48 % + ~27 % of the request side's cost,
 * eleventh pass). A value the Headers would have trimmed or refused (anything but printable
 * ASCII without edge spaces) makes no PodHead: the caller builds the Headers, as before.
 */
import { bodyRequestHeaders, connectionListsMore, connectionTokens, isUnwantedUpstream } from "./headers.ts";

/** Where a pod client says it takes a `PodHead` as `init.headers` (read once by forward.ts). */
export const POD_HEAD = Symbol.for("inference-gateway.podHead");

/** What `podHead` reads from the settings (`settings.upstream`). */
export interface PodHeadOptions {
  forwardAuthorization: boolean;
  credential?: { header: string; value?: string | undefined } | undefined;
}

/** A value written as it is: printable ASCII, no space at either end (what Headers keeps unchanged). */
const PLAIN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
/** A header name Headers takes (an RFC 9110 token), lower case. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

const NONE: ReadonlySet<string> = new Set();

/** The pod request's header lines (`name: value\r\n` each), and the same as a Headers for any other fetch. */
export class PodHead {
  /** The header lines, in the order Bun's Headers would iterate them. */
  readonly lines: string;
  constructor(lines: string) {
    this.lines = lines;
  }

  /** The same headers as a Headers (a call the wire client hands to Bun's fetch: a URL it does not take). */
  toHeaders(): Headers {
    const out = new Headers();
    for (const line of this.lines.split("\r\n")) {
      if (line === "") continue;
      const colon = line.indexOf(": ");
      out.append(line.slice(0, colon), line.slice(colon + 2));
    }
    return out;
  }

  /** As a HeadersInit (pairs): any fetch given one by mistake still sends the same headers. */
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.toHeaders().entries();
  }
}

/** The gateway's own names, sorted, for a credential header name (one list per name, made once). */
const ORDERS = new Map<string, readonly string[]>();
const BASE_ORDER: readonly string[] = ["accept-encoding", "content-type", "x-request-id"];

function orderWith(credential: string): readonly string[] | undefined {
  let order = ORDERS.get(credential);
  if (order) return order;
  // set-cookie: Bun's Headers keeps it apart (after every other name); the Headers path for it.
  if (!TOKEN.test(credential) || credential === "set-cookie" || isUnwantedUpstream(credential, NONE, true))
    return undefined;
  order = BASE_ORDER.includes(credential) ? BASE_ORDER : [...BASE_ORDER, credential].sort();
  if (ORDERS.size < 16) ORDERS.set(credential, order);
  return order;
}

/**
 * The PodHead for `bodyRequestHeaders(client, kind, requestId, opts)` plus the credential header
 * set after, or undefined when one of the gateway's values is not plain (the caller then builds
 * the Headers, which trims or refuses it as before).
 */
export function podHead(
  client: Headers,
  kind: string,
  requestId: string,
  opts: PodHeadOptions,
): PodHead | undefined {
  const contentType =
    kind === "transcriptions" ? (client.get("content-type") ?? "multipart/form-data") : "application/json";
  if (!PLAIN.test(requestId) || (contentType !== "application/json" && !PLAIN.test(contentType)))
    return undefined;
  const credential = opts.credential;
  let names = BASE_ORDER;
  let values: string[];
  if (credential?.value) {
    const name = credential.header.toLowerCase();
    const order = orderWith(name);
    if (!order || !PLAIN.test(credential.value)) return undefined;
    names = order;
    values = [];
    for (const n of order)
      values.push(
        n === name
          ? credential.value
          : n === "accept-encoding"
            ? "identity"
            : n === "content-type"
              ? contentType
              : requestId,
      );
  } else values = ["identity", contentType, requestId];
  const lines = merged(client, names, values, opts.forwardAuthorization, NONE);
  // A Connection header lists names to drop that are not hop-by-hop already (rare: clients
  // send `keep-alive`): the lines again without them.
  if (lines !== undefined) return new PodHead(lines);
  return new PodHead(merged(client, names, values, opts.forwardAuthorization, connectionTokens(client))!);
}

/**
 * The client's wanted headers and the gateway's (`names`, sorted, with their `values`) as one
 * sorted run of lines; a gateway name replaces the client's. Undefined when the client sent a
 * `Connection` header listing more than hop-by-hop names and `dropped` is not yet its names.
 */
function merged(
  client: Headers,
  names: readonly string[],
  values: readonly string[],
  forwardAuthorization: boolean,
  dropped: ReadonlySet<string>,
): string | undefined {
  let out = "";
  let i = 0;
  let connection = false;
  client.forEach((value, name) => {
    if (name === "connection" && connectionListsMore(value)) connection = true;
    if (isUnwantedUpstream(name, dropped, forwardAuthorization)) return;
    // Bun's Headers gives `set-cookie` after every other name, not at its sorted place.
    const before = name === "set-cookie" ? "\uffff" : name;
    while (i < names.length && names[i]! < before) {
      out += `${names[i]}: ${values[i]}\r\n`;
      i++;
    }
    if (i < names.length && names[i] === name) return; // the gateway's value, written next
    out += `${name}: ${value}\r\n`;
  });
  if (connection && dropped === NONE) return undefined;
  for (; i < names.length; i++) out += `${names[i]}: ${values[i]}\r\n`;
  return out;
}

/** Whether the headers a fetch is given are a PodHead (the wire client's test). */
export function isPodHead(headers: unknown): headers is PodHead {
  return headers instanceof PodHead;
}

/** The Headers a PodHead stands for, built as forward.ts built it before (tests compare the two). */
export function podHeaders(client: Headers, kind: string, requestId: string, opts: PodHeadOptions): Headers {
  const headers = bodyRequestHeaders(client, kind, requestId, opts);
  const credential = opts.credential;
  if (credential?.value) headers.set(credential.header, credential.value);
  return headers;
}
