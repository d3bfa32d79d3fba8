/**
 * One client's services, plugged into the production statechart by name:
 * the broker adapter behind `connectBroker`, the registry behind
 * `restoreSubscriptions`, the credentials provider behind
 * `refreshCredentials`, the platform watcher behind `watchEnvironment`, and
 * the actions that attach the live connection to the registry and the
 * outbox. The machine decides when; this file only says how.
 *
 * The machine is provided once, for every client: `provide()` builds a whole
 * new machine (about 50 KB of state nodes), too much to pay per client. Each
 * client's `ClientServices` travels in the machine's input instead
 * (`services`), and the machine hands it to every actor it invokes and
 * every action it runs.
 */

// Longer than 300 lines on purpose: the services of one client and the connection attempt that
// reports to the machine change together.

import { type AnyActorRef, fromCallback, fromPromise } from "xstate";
import {
  AuthRefreshError,
  ClientClosedError,
  ClientFailedError,
  ConnectionLostError,
  type CourierError,
  ReauthenticationError,
} from "../errors.js";
import { connectionMachine } from "../machines/connection.machine.js";
import type {
  ActorInput,
  ConnectionEvent,
  OpenLinkParams,
  ReauthenticateInput,
  RefreshCredentialsInput,
  RestoreResult,
  RestoreSubscriptionsInput,
} from "../machines/connection.types.js";
import type { Random } from "../services/backoff.js";
import {
  BrokerLink,
  type LinkAuth,
  type LinkListener,
  loadTransport,
  preloadTransport,
  type Transport,
} from "../services/broker-link.js";
import { requestCredentials, tellProvider } from "../services/credentials.js";
import { patchEndpoint, type ResolvedEndpoint, scheduleRefresh } from "../services/endpoint.js";
import type * as EnhancedAuth from "../services/enhanced-auth.js";
import { hasSignals, watchWith } from "../services/environment.js";
import type { Message } from "../services/live-connection.js";
import { Outbox } from "../services/outbox.js";
import type { Refusal } from "../services/reason-codes.js";
import { SecretList } from "../services/secret-list.js";
import { SubscriptionRegistry } from "../services/subscriptions.js";
import type { ResolvedOptions } from "./options.js";

/** MQTT 5 DISCONNECT reason code 0x95, Packet too large. */
const PACKET_TOO_LARGE = 0x95;

export interface ServiceHooks {
  /** Every message, after the subscription handlers ran. */
  message(message: Message): void;
  /** Errors the services report outside the machine (handler threw, filter refused). */
  error(error: CourierError): void;
}

/** The services a machine input or context carries; RealtimeClient always passes them. */
function servicesOf(holder: { readonly services: unknown }): ClientServices {
  if (holder.services instanceof ClientServices) return holder.services;
  throw new Error("no RealtimeClient services in the machine input");
}

/** The production machine with the services plugged in. */
function provideServices() {
  return connectionMachine.provide({
    actors: {
      watchEnvironment: fromCallback<ConnectionEvent, ActorInput>(({ input, sendBack }) =>
        servicesOf(input).watchEnvironment(sendBack),
      ),
      restoreSubscriptions: fromPromise<RestoreResult, RestoreSubscriptionsInput>(({ input }) =>
        servicesOf(input).restore(input),
      ),
      refreshCredentials: fromPromise<ResolvedEndpoint, RefreshCredentialsInput>(
        ({ input, signal }) => servicesOf(input).refresh(input, signal),
      ),
      reauthenticate: fromPromise<void, ReauthenticateInput>(({ input, signal }) =>
        servicesOf(input).reauthenticate(input, signal),
      ),
    },
    actions: {
      openLink: ({ context, self }, params) => servicesOf(context).openLink(params, self),
      closeLink: ({ context }) => servicesOf(context).closeLink(),
      forceDisconnect: ({ context }) => servicesOf(context).endLink(true),
      closeConnection: ({ context }) => servicesOf(context).endLink(false),
      pingBroker: ({ context }) => servicesOf(context).pingLink(),
      attachConnection: ({ context }) => servicesOf(context).attach(),
      detachConnection: ({ context }) => servicesOf(context).detach(),
      rejectPending: ({ context }, params) =>
        servicesOf(context).rejectPending(params.reason, context.error),
    },
  });
}

export type ClientMachine = ReturnType<typeof provideServices>;

let machine: ClientMachine | undefined;

/**
 * The production machine, shared by every client; built when the first
 * client is, so that importing the package builds nothing.
 */
export function clientMachine(): ClientMachine {
  machine ??= provideServices();
  return machine;
}

/**
 * What one client's machine runs on. Its state is private (an inspector
 * that copies the machine's context sees no field of it).
 */
export class ClientServices {
  readonly #registry: SubscriptionRegistry;
  readonly #outbox: Outbox;
  /** Every password the client has held, so inspection events can be redacted of them. */
  readonly #secrets = new SecretList();
  readonly #options: ResolvedOptions;
  readonly #hooks: ServiceHooks;
  /** The client's clock and random source (the same the machine's input carries). */
  readonly #now: () => number;
  readonly #random: Random;
  /** The connection the broker accepted, while the machine's `link` state holds it. */
  #link: BrokerLink | null = null;
  /** The connection attempt of the machine's `link` state, from `openLink` to `closeLink`. */
  #attempt: LinkAttempt | null = null;
  /** The credentials of the latest re-authentication (what `mqtt5Auth.onContinue` is told). */
  #presenting: EnhancedAuth.Mqtt5AuthCredentials | undefined;
  /** With `mqtt5Auth`: its code, loaded when the client is made. */
  readonly #auth: Promise<typeof EnhancedAuth> | undefined;

  constructor(
    options: ResolvedOptions,
    hooks: ServiceHooks,
    run: { now: () => number; random: Random } = { now: Date.now, random: Math.random },
  ) {
    this.#options = options;
    this.#hooks = hooks;
    this.#now = run.now;
    this.#random = run.random;
    this.#registry = new SubscriptionRegistry({
      batchSize: options.subscribeBatchSize,
      onHandlerError: hooks.error,
      onRejected: hooks.error,
    });
    this.#outbox = new Outbox(options.outbox);
    for (const endpoint of options.endpoints) this.adopt(endpoint);
    if (options.mqtt5Auth) {
      this.#auth = import("../services/enhanced-auth.js");
      this.#auth.catch(() => {}); // reported by the connection attempt that needs it
    }
    preloadTransport();
  }

  get registry(): SubscriptionRegistry {
    return this.#registry;
  }

  get outbox(): Outbox {
    return this.#outbox;
  }

  get secrets(): SecretList {
    return this.#secrets;
  }

  /**
   * `patch` (from `updateEndpoint()`) over `current`, validated; the client
   * uses its credentials from now on. Throws `InvalidOptionsError`.
   */
  update(current: ResolvedEndpoint, patch: unknown): ResolvedEndpoint {
    const next = this.schedule(
      patchEndpoint(current, patch, this.#options.protocolVersion, "endpoint", this.#now()),
    );
    this.adopt(next);
    return next;
  }

  /**
   * `endpoint` with its refresh point drawn (`refreshAhead`), once per
   * credentials, from this client's random source; none when the expiry is
   * unknown or refreshing ahead is off.
   */
  schedule(endpoint: ResolvedEndpoint): ResolvedEndpoint {
    return scheduleRefresh(endpoint, this.#options.refreshAhead, this.#random);
  }

  /** The client uses `endpoint`'s credentials from now on (at start, or after `updateEndpoint()`). */
  adopt(endpoint: ResolvedEndpoint): void {
    this.#secrets.add(endpoint.password);
    const provider = this.#options.onAuthFailure;
    if (provider) tellProvider(provider, endpoint.password);
  }

  /** There is a platform to watch (the machine starts `watchEnvironment` only then). */
  get watchesEnvironment(): boolean {
    return hasSignals(this.#options.environment);
  }

  watchEnvironment(sendBack: (event: ConnectionEvent) => void): (() => void) | undefined {
    const { environment } = this.#options;
    return environment ? watchWith(environment, sendBack) : undefined;
  }

  /** From `connected` on, publishes and subscribes go to the live connection. */
  attach(): void {
    const link = this.#link;
    if (!link) return;
    this.#registry.attach(link);
    this.#outbox.attach(link);
  }

  detach(): void {
    this.#registry.detach();
    this.#outbox.detach();
  }

  /**
   * Opens the connection of the machine's `link` state: what it does is sent
   * to `machine` as `MQTT.*` events until `closeLink()`.
   */
  openLink(params: OpenLinkParams, machine: AnyActorRef): void {
    this.#attempt?.stop();
    const attempt = new LinkAttempt(this, machine);
    this.#attempt = attempt;
    const transport = loadTransport();
    const auth = this.#auth;
    if (transport instanceof Promise || auth) {
      Promise.all([transport, auth]).then(
        ([mqtt, code]) =>
          attempt.start(mqtt, params, this.#options.mqtt, this.linkAuth(params.endpoint, code)),
        (error: Error) => attempt.notLoaded(error),
      );
    } else attempt.start(transport, params, this.#options.mqtt);
  }

  /** The machine left the `link` state: the connection is disposed of, and reports nothing more. */
  closeLink(): void {
    this.#attempt?.stop();
    this.#attempt = null;
  }

  /** Ends the connection: `force` drops the socket now; otherwise DISCONNECT once in-flight QoS 1/2 settled. */
  endLink(force: boolean): void {
    this.#attempt?.end(force);
  }

  /** PINGREQ on the connection; `MQTT.PONG` when the broker answers. */
  pingLink(): void {
    this.#attempt?.ping();
  }

  /** The broker accepted `link` (LinkAttempt): publishes and subscribes may use it once attached. */
  accepted(link: BrokerLink | undefined): void {
    this.#link = link ?? null;
  }

  /** The attempt holding `link` is over. */
  released(link: BrokerLink): void {
    if (this.#link === link) this.#link = null;
  }

  /** A message from the live connection: the subscription handlers, then the client's listeners. */
  deliver(message: Message): void {
    this.#registry.dispatch(message);
    this.#hooks.message(message);
  }

  /** `timeouts.ackSeconds`, in milliseconds: an acknowledgement later than this ends the connection. */
  get ackTimeoutMs(): number {
    return this.#options.ackTimeoutMs;
  }

  /** Packet too large (DISCONNECT 0x95): the publish that caused it is rejected, not sent again. */
  packetTooLarge(link: BrokerLink): void {
    this.#outbox.packetTooLarge(link);
  }

  /** `mqtt5Auth` for a connection opened with `endpoint`'s credentials, if set and its code is loaded. */
  linkAuth(endpoint: ResolvedEndpoint, code?: typeof EnhancedAuth): LinkAuth | undefined {
    const options = this.#options.mqtt5Auth;
    return options && code?.linkAuthFor(options, endpoint, () => this.#presenting);
  }

  /** MQTT 5 re-authentication on the live connection with `input.endpoint`'s credentials. */
  async reauthenticate(input: ReauthenticateInput, signal: AbortSignal): Promise<void> {
    const options = this.#options.mqtt5Auth;
    const link = this.#link;
    const code = await this.#auth;
    if (!options || !code || !link) throw new ReauthenticationError("closed");
    this.#presenting = code.authCredentialsOf(input.endpoint);
    signal.addEventListener("abort", () => link.abandonReauthentication(), { once: true });
    await link.reauthenticate(code.authDataFor(options, input.endpoint));
  }

  async restore(input: RestoreSubscriptionsInput): Promise<RestoreResult> {
    const link = this.#link;
    if (!link) {
      throw new ConnectionLostError("closed before subscriptions were restored");
    }
    const outcome = await this.#registry.restore(
      link,
      input.sessionPresent,
      this.#options.trustSessionPresent,
    );
    return { ...outcome, sessionPresent: input.sessionPresent };
  }

  async refresh(input: RefreshCredentialsInput, signal: AbortSignal): Promise<ResolvedEndpoint> {
    const handler = this.#options.onAuthFailure;
    if (!handler) throw new AuthRefreshError("rejected", "no onAuthFailure was configured.");
    const { password, expiresAt, receivedAt: heldSince } = input.endpoint;
    const { endpoint: patch, receivedAt } = await requestCredentials(handler, {
      signal,
      retry: input.retry,
      reason: input.reason,
      held: { password, expiresAt, receivedAt: heldSince },
      now: this.#now,
      // After a refusal the answer is used after the page's wait; ahead of the expiry, at once.
      needMs: input.reason === "refused" ? this.#options.timing.refreshWaitMs : 0,
    });
    // Known before it is validated: a malformed answer must not leak it either.
    const fresh = (patch as { password?: unknown } | null)?.password;
    if (typeof fresh === "string") this.#secrets.add(fresh);
    let next: ResolvedEndpoint;
    try {
      next = this.schedule(
        patchEndpoint(
          input.endpoint,
          patch,
          this.#options.protocolVersion,
          "onAuthFailure() result",
          receivedAt,
        ),
      );
    } catch (error) {
      throw new AuthRefreshError("invalid", (error as Error).message);
    }
    const refused = input.reason === "refused" ? password : undefined;
    if (refused?.equals(next.password) && next.username === input.endpoint.username) {
      // Reported, not refused: the refusal may have been transient; the backoff still applies.
      this.#hooks.error(
        new AuthRefreshError(
          "unchanged",
          "onAuthFailure returned the very credentials the broker just refused; reconnecting with them after the backoff.",
        ),
      );
    }
    return next;
  }

  /** Settles every pending publish and subscribe when the machine enters `idle` or `failed`. */
  rejectPending(reason: "closed" | "failed", error: CourierError | null): void {
    const failed = (what: string) =>
      reason === "closed" ? new ClientClosedError(what) : new ClientFailedError(what, error);
    this.#outbox.rejectAll(failed("publish()"));
    this.#registry.rejectPending(failed("subscribe()"));
  }
}

/**
 * One connection attempt, from the machine's `openLink` action to its
 * `closeLink`: opens the link once mqtt.js is loaded and sends what the link
 * says to the machine as events; none after `stop()`. (One object per
 * attempt, its methods on the prototype: no closure per report.)
 */
class LinkAttempt implements LinkListener {
  readonly #services: ClientServices;
  readonly #machine: AnyActorRef;
  #link: BrokerLink | undefined;
  /** Ended before mqtt.js was loaded (or it could not be): nothing is opened. */
  #ended = false;
  /** The machine left the `link` state: nothing more is reported. */
  #stopped = false;

  constructor(services: ClientServices, machine: AnyActorRef) {
    this.#services = services;
    this.#machine = machine;
  }

  #sendBack(event: ConnectionEvent): void {
    if (!this.#stopped) this.#machine.send(event);
  }

  start(
    mqtt: Transport,
    params: OpenLinkParams,
    options: ResolvedOptions["mqtt"],
    auth?: LinkAuth,
  ): void {
    if (this.#ended || this.#stopped) return;
    this.#link = new BrokerLink(
      mqtt,
      params.endpoint,
      options,
      params.connectTimeoutMs,
      this,
      this.#services.ackTimeoutMs,
      auth,
    );
    this.#link.open();
  }

  notLoaded(error: Error): void {
    if (this.#ended || this.#stopped) return;
    this.#ended = true;
    const detail = `the MQTT transport (mqtt.js) could not be loaded: ${error.message}`;
    this.#sendBack({
      type: "MQTT.CLOSED",
      error: new ConnectionLostError(detail, { cause: error }),
    });
  }

  end(force: boolean): void {
    const link = this.#link;
    if (link) link.end(force);
    else if (!this.#ended) {
      // Ended while mqtt.js was still loading: nothing was opened, so it is closed now.
      this.#ended = true;
      const error = new ConnectionLostError("closed before it opened");
      queueMicrotask(() => this.#sendBack({ type: "MQTT.CLOSED", error }));
    }
  }

  ping(): void {
    this.#link?.ping();
  }

  stop(): void {
    this.#stopped = true;
    const link = this.#link;
    if (!link) return;
    this.#services.released(link);
    link.dispose();
  }

  accepted(sessionPresent: boolean): void {
    this.#services.accepted(this.#link);
    this.#sendBack({ type: "MQTT.CONNACK", sessionPresent });
  }

  refused(refusal: Refusal): void {
    this.#sendBack({ type: "MQTT.REFUSED", refusal });
  }

  serverDisconnect(refusal: Refusal): void {
    if (refusal.reasonCode === PACKET_TOO_LARGE && this.#link) {
      this.#services.packetTooLarge(this.#link);
    }
    this.#sendBack({ type: "MQTT.DISCONNECT", refusal });
  }

  closed(error: CourierError, beforeConnack: boolean): void {
    this.#sendBack(
      beforeConnack
        ? { type: "MQTT.CLOSED", error, beforeConnack }
        : { type: "MQTT.CLOSED", error },
    );
  }

  pong(): void {
    this.#sendBack({ type: "MQTT.PONG" });
  }

  message(message: Message): void {
    this.#services.deliver(message);
  }
}
