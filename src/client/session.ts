/**
 * One client's services, plugged into the production statechart by name
 * (STYLE.md §1): the broker adapter behind `connectBroker`, the registry
 * behind `restoreSubscriptions`, the credentials provider behind
 * `refreshCredentials`, the platform watcher behind `watchEnvironment`, and
 * the actions that attach the live connection to the registry and outbox.
 * The machine decides when; this file only says how.
 *
 * The machine is provided once, for every client: `provide()` builds a whole
 * new machine (about 50 KB of state nodes), too much to pay per client. Its
 * implementations find their client's session through the actor system,
 * which every actor of one client shares.
 */

import type { IPublishPacket } from "mqtt";
import { type Actor, fromCallback, fromPromise } from "xstate";
import {
  AuthRefreshError,
  ClientClosedError,
  ClientFailedError,
  ConnectionLostError,
  type CourierError,
} from "../errors.js";
import { connectionMachine } from "../machines/connection.machine.js";
import type {
  ConnectBrokerInput,
  ConnectionEvent,
  LinkCommand,
  RefreshCredentialsInput,
  RestoreResult,
  RestoreSubscriptionsInput,
} from "../machines/connection.types.js";
import { BrokerLink } from "../services/broker-link.js";
import { coordinatedProviders, requestCredentials } from "../services/credentials.js";
import {
  assertCredentialsFit,
  mergeEndpoint,
  type ResolvedEndpoint,
} from "../services/endpoint.js";
import { watchWith } from "../services/environment.js";
import { Outbox } from "../services/outbox.js";
import { SecretList } from "../services/redact.js";
import { type Message, SubscriptionRegistry } from "../services/subscriptions.js";
import type { ResolvedOptions } from "./options.js";

export interface SessionHooks {
  /** Every message, after the subscription handlers ran. */
  message(message: Message): void;
  /** Errors the services report outside the machine (handler threw, filter refused). */
  error(error: CourierError): void;
  /** The machine entered `idle` or `failed`: settle what the facade holds (connect() promises). */
  settle(reason: "closed" | "failed", error: CourierError | null): void;
}

/** Each running client's session, by its actor system. */
const sessions = new WeakMap<object, Session>();

function sessionOf(system: object): Session {
  const session = sessions.get(system);
  if (!session) throw new Error("no session is bound to this actor system");
  return session;
}

/** The production machine with the services plugged in (shared by every client). */
export const clientMachine = connectionMachine.provide({
  actors: {
    watchEnvironment: fromCallback(({ system, sendBack }) =>
      sessionOf(system).watchEnvironment(sendBack),
    ),
    connectBroker: fromCallback<LinkCommand, ConnectBrokerInput>(
      ({ system, input, sendBack, receive }) =>
        sessionOf(system).openLink(input, sendBack, receive),
    ),
    restoreSubscriptions: fromPromise<RestoreResult, RestoreSubscriptionsInput>(
      ({ system, input }) => sessionOf(system).restore(input),
    ),
    refreshCredentials: fromPromise<ResolvedEndpoint, RefreshCredentialsInput>(
      ({ system, input, signal }) => sessionOf(system).refresh(input, signal),
    ),
  },
  actions: {
    attachSession: ({ system }) => sessionOf(system).attach(),
    detachSession: ({ system }) => sessionOf(system).detach(),
    rejectPending: ({ system, context }, params) =>
      sessionOf(system).rejectPending(params.reason, context.error),
  },
});

export type ClientActor = Actor<typeof clientMachine>;

export class Session {
  readonly registry: SubscriptionRegistry;
  readonly outbox: Outbox;
  /** Every password the client has held, so inspection events can be redacted of them. */
  readonly secrets = new SecretList();
  readonly #options: ResolvedOptions;
  readonly #hooks: SessionHooks;
  /** The connection the broker accepted, while the machine's `link` state holds it. */
  #link: BrokerLink | null = null;

  constructor(options: ResolvedOptions, hooks: SessionHooks) {
    this.#options = options;
    this.#hooks = hooks;
    this.registry = new SubscriptionRegistry({
      batchSize: options.subscribeBatchSize,
      onHandlerError: hooks.error,
      onRejected: hooks.error,
    });
    this.outbox = new Outbox(options.outbox);
    for (const endpoint of options.endpoints) this.adopt(endpoint);
  }

  /** The client uses `endpoint`'s credentials from now on (at start, or after `updateEndpoint()`). */
  adopt(endpoint: ResolvedEndpoint): void {
    this.secrets.add(endpoint.password);
    const provider = this.#options.onAuthFailure;
    if (provider) coordinatedProviders.get(provider)?.using(endpoint.password);
  }

  /** Serves `actor`'s machine implementations; call before `actor.start()`. */
  bind(actor: ClientActor): void {
    sessions.set(actor.system, this);
  }

  watchEnvironment(sendBack: (event: ConnectionEvent) => void): (() => void) | undefined {
    const { environment } = this.#options;
    return environment ? watchWith(environment, sendBack) : undefined;
  }

  /** From `connected` on, publishes and subscribes go to the live connection. */
  attach(): void {
    const link = this.#link;
    if (!link) return;
    this.registry.attach(link);
    this.outbox.attach(link);
  }

  detach(): void {
    this.registry.detach();
    this.outbox.detach();
  }

  openLink(
    input: ConnectBrokerInput,
    sendBack: (event: ConnectionEvent) => void,
    receive: (listener: (command: LinkCommand) => void) => void,
  ): () => void {
    const link = new BrokerLink(input.endpoint, this.#options.mqtt, input.connectTimeoutMs, {
      accepted: (sessionPresent) => {
        this.#link = link;
        sendBack({ type: "MQTT.CONNACK", sessionPresent });
      },
      refused: (refusal) => sendBack({ type: "MQTT.REFUSED", refusal }),
      serverDisconnect: (refusal) => sendBack({ type: "MQTT.DISCONNECT", refusal }),
      closed: (error) => sendBack({ type: "MQTT.CLOSED", error }),
      pong: () => sendBack({ type: "MQTT.PONG" }),
      message: (topic, payload, packet) => this.#onMessage(topic, payload, packet),
    });
    receive((command) => {
      if (command.type === "LINK.END") link.end(command.force);
      else link.ping();
    });
    link.open();
    return () => {
      if (this.#link === link) this.#link = null;
      link.dispose();
    };
  }

  async restore(input: RestoreSubscriptionsInput): Promise<RestoreResult> {
    const link = this.#link;
    if (!link) {
      throw new ConnectionLostError("closed before subscriptions were restored");
    }
    const outcome = await this.registry.restore(link, input.sessionPresent);
    return { ...outcome, sessionPresent: input.sessionPresent };
  }

  async refresh(input: RefreshCredentialsInput, signal: AbortSignal): Promise<ResolvedEndpoint> {
    const handler = this.#options.onAuthFailure;
    if (!handler) throw new AuthRefreshError("rejected", "no onAuthFailure was configured.");
    const patch = await requestCredentials(
      handler,
      { signal, retry: input.retry },
      input.endpoint.password,
    );
    // Known before it is validated: a malformed answer must not leak it either.
    const password = (patch as { password?: unknown } | null)?.password;
    if (typeof password === "string") this.secrets.add(password);
    try {
      const next = mergeEndpoint(input.endpoint, patch, "onAuthFailure() result");
      assertCredentialsFit(next, this.#options.protocolVersion, "onAuthFailure() result");
      return next;
    } catch (error) {
      throw new AuthRefreshError("invalid", (error as Error).message);
    }
  }

  #onMessage(topic: string, payload: Uint8Array, packet: IPublishPacket): void {
    const message: Message = {
      topic,
      payload,
      qos: packet.qos,
      retain: packet.retain,
      dup: packet.dup,
      ...(packet.properties ? { properties: packet.properties } : {}),
    };
    this.registry.dispatch(message);
    this.#hooks.message(message);
  }

  /** Settles every pending promise when the machine enters `idle` or `failed`. */
  rejectPending(reason: "closed" | "failed", error: CourierError | null): void {
    this.#hooks.settle(reason, error);
    const failed = (what: string) =>
      reason === "closed" ? new ClientClosedError(what) : new ClientFailedError(what, error);
    this.outbox.rejectAll(failed("publish()"));
    this.registry.rejectPending(failed("subscribe()"));
  }
}
