/**
 * `RemoteCredentials`: the page's "Remote Credentials Provider". Fetches a
 * token from an HTTP endpoint and maps the JSON answer to an `Endpoint`.
 * Concurrent callers (one client or many sharing this object) share one HTTP
 * request (`sharesCalls`). Failures are `CredentialsFetchError`s whose messages never contain
 * the response body or the token.
 */

import { CredentialsFetchError, InvalidOptionsError } from "../errors.js";
import { type CredentialsProvider, type CredentialsRequest, shareFlight } from "./credentials.js";

type Provider<P extends CredentialsProvider> = P;
/** Checked by the compiler: a `RemoteCredentials` is a credentials provider. */
export type RemoteCredentialsProvider = Provider<RemoteCredentials>;

import type { CrossTabCredentials } from "./cross-tab.js";
import type { Endpoint } from "./endpoint.js";
import { scrubbedError } from "./scrub.js";
import type { Secret } from "./secret.js";
import { MAX_TIMER_MS } from "./values.js";

/** Options of `RemoteCredentials`: the `fetch` to use, its `init`, and a timeout. */
export interface RemoteCredentialsOptions {
  /**
   * The `fetch` to use (a wrapper that adds auth headers, a test double, …).
   * @default globalThis.fetch
   */
  fetch?: typeof globalThis.fetch;
  /**
   * Request options merged into every request (method, headers, credentials, …).
   * @default { method: "GET", headers: { accept: "application/json" } }
   */
  init?: RequestInit;
  /**
   * Abort the request after this many milliseconds.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * Tabs of one origin share refreshes keyed by this: when several refresh at
   * once, one asks the token endpoint (holding a Web Lock) and the others
   * take its answer (BroadcastChannel); a tab refused with credentials older
   * than another tab's newest reuses those. Give tabs that must not share a
   * token different keys (the same URL serving several users, told apart by
   * a header), or `false` to keep every tab to itself. Without Web Locks or
   * BroadcastChannel (Node.js), only this object's own callers share requests.
   * @default the URL
   */
  crossTabKey?: string | false;
}

/** Maps the token endpoint's JSON answer to an endpoint. */
export type CredentialsMapper<T> = (response: T) => Endpoint;

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The page's "Remote Credentials Provider": pass it as `onAuthFailure`. Fetches
 * `url` and maps its JSON answer to endpoint fields with `map`; concurrent
 * callers share one request (see the README, `RemoteCredentials`).
 */
// biome-ignore lint/suspicious/noExplicitAny: the page's sample maps an untyped JSON answer (`response.broker.host`).
export class RemoteCredentials<T = any> {
  readonly #url: string;
  readonly #map: CredentialsMapper<T>;
  readonly #fetch: typeof globalThis.fetch;
  readonly #init: RequestInit;
  readonly #timeoutMs: number;
  readonly #crossTabKey: string | false;
  /** This provider's coordinator with other tabs, made on first use (none where unsupported). */
  /** Cross-tab sharing, loaded on first use where the platform has it (null: it has not). */
  #tabs: Promise<CrossTabCredentials | null> | undefined;
  /** Concurrent `getCredentials` calls already share one request: clients need not share theirs. */
  readonly sharesCalls = true;

  constructor(
    url: string | URL,
    map: CredentialsMapper<T>,
    options: RemoteCredentialsOptions = {},
  ) {
    // Wrong arguments are InvalidOptionsError (a CourierError), like every option of the SDK.
    const check = (ok: boolean, field: string, expected: string, value: unknown) => {
      if (!ok) {
        throw new InvalidOptionsError(
          `RemoteCredentials ${field}`,
          `expected ${expected}, got ${typeof value === "string" ? `the string ${JSON.stringify(value)}` : value === null ? "null" : typeof value}`,
        );
      }
    };
    check(typeof url === "string" || url instanceof URL, "url", "a string or a URL", url);
    check(typeof map === "function", "map", "a function (JSON answer → endpoint)", map);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    check(
      typeof timeoutMs === "number" && timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS,
      "options.timeoutMs",
      `a positive number of milliseconds, at most ${MAX_TIMER_MS}`,
      timeoutMs,
    );
    const fetchImpl = options.fetch ?? globalThis.fetch;
    check(
      typeof fetchImpl === "function",
      "options.fetch",
      "a fetch function (none here)",
      fetchImpl,
    );
    this.#url = String(url);
    this.#map = map;
    this.#fetch = fetchImpl;
    this.#init = options.init ?? {};
    this.#timeoutMs = timeoutMs;
    const key = options.crossTabKey ?? this.#url;
    check(
      key === false || typeof key === "string",
      "options.crossTabKey",
      "a string or false",
      key,
    );
    this.#crossTabKey = key;
  }

  /**
   * Fetches fresh credentials; callers that arrive while a request is in
   * flight share it, in this tab and (see `crossTabKey`) in other tabs.
   * `refused` (set by the client after a refusal) lets a tab reuse newer
   * credentials another tab fetched instead of asking again.
   */
  getCredentials(request: CredentialsRequest = {}): Promise<Endpoint> {
    const tabs = this.#crossTab();
    const key = this.#crossTabKey;
    return shareFlight(
      this,
      (shared) =>
        tabs && key !== false
          ? tabs.then((t) =>
              t
                ? t.request(key, request.refused, (s) => this.#request(s), shared)
                : this.#request(shared),
            )
          : this.#request(shared),
      request.signal,
      () => new CredentialsFetchError("aborted", "the caller stopped waiting."),
    );
  }

  /** A client of this page uses `password` (see `CredentialsProvider.usingCredentials`). */
  usingCredentials(password: Secret | undefined): void {
    const key = this.#crossTabKey;
    if (key !== false) this.#crossTab()?.then((tabs) => tabs?.using(key, password));
  }

  /**
   * Cross-tab sharing, where the platform has Web Locks and BroadcastChannel
   * (browsers): its code is loaded then, on first use, so pages that never
   * need it (and Node) do not carry it. A failed load shares nothing.
   */
  #crossTab(): Promise<CrossTabCredentials | null> | undefined {
    if (this.#crossTabKey === false) return undefined;
    if (this.#tabs === undefined) {
      const g = globalThis as { navigator?: { locks?: unknown }; BroadcastChannel?: unknown };
      if (!g.navigator?.locks || !g.BroadcastChannel) return undefined;
      this.#tabs = import("./cross-tab.js").then(
        (module) => module.crossTabCredentials() ?? null,
        () => null,
      );
    }
    return this.#tabs;
  }

  async #request(signal: AbortSignal): Promise<Endpoint> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    const onAbort = () => controller.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    const failure = (error: unknown, what: string): CredentialsFetchError => {
      if (timedOut)
        return new CredentialsFetchError("timeout", `no answer within ${this.#timeoutMs} ms.`);
      if (signal.aborted) return new CredentialsFetchError("aborted", "the request was cancelled.");
      return new CredentialsFetchError("network", what, { cause: error });
    };
    try {
      let response: Response;
      try {
        // Called detached: a browser's fetch throws "Illegal invocation" when called
        // as a method of another object (here, this provider).
        const fetchImpl = this.#fetch;
        response = await fetchImpl(this.#url, {
          method: "GET",
          ...this.#init,
          headers: { accept: "application/json", ...headersOf(this.#init.headers) },
          signal: controller.signal,
        });
      } catch (error) {
        throw failure(error, "the token endpoint could not be reached.");
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => {});
        throw new CredentialsFetchError(
          "http",
          `the token endpoint answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}.`,
          { status: response.status },
        );
      }
      let json: T;
      try {
        json = (await response.json()) as T;
      } catch (error) {
        if (timedOut || signal.aborted) throw failure(error, "");
        // The parser's message quotes the body, which may hold a token: it is not kept.
        throw new CredentialsFetchError("json", "the token endpoint's answer is not valid JSON.", {
          status: response.status,
        });
      }
      let endpoint: Endpoint;
      try {
        endpoint = this.#map(json);
      } catch (error) {
        // The mapper's message may quote the token: this message names only its kind, and the
        // cause is a copy of the mapper's error with the answer's strings and any JWT blanked.
        const kind = error instanceof Error ? error.name : typeof error;
        throw new CredentialsFetchError(
          "mapper",
          `the mapping function threw (${kind}; see this error's cause).`,
          { cause: scrubbedError(error, json) },
        );
      }
      if (typeof endpoint !== "object" || endpoint === null) {
        throw new CredentialsFetchError(
          "mapper",
          "the mapping function returned no endpoint object.",
        );
      }
      return endpoint;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  }
}

function headersOf(headers: RequestInit["headers"]): Record<string, string> {
  if (!headers) return {};
  return Object.fromEntries(new Headers(headers).entries());
}
