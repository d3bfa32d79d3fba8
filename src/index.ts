/**
 * @armaanjain/courier-web-sdk — a realtime MQTT client for browsers and
 * Node.js that stays connected when credentials expire.
 */

export type { AbortOptions, EventValue, OnceOptions } from "./client/abort.js";
export type { MessageStream, MessagesOptions } from "./client/message-stream.js";
export type {
  OfflineQueueOptions,
  RealtimeClientOptions,
  RetryBackoffOptions,
  TimeoutOptions,
} from "./client/options.js";
export {
  type ClientEvents,
  type PublishOptions,
  RealtimeClient,
  type StateChange,
  type SubscribeOptions,
} from "./client/realtime-client.js";
export * from "./errors.js";
export type { ConnectionState, RestoreResult } from "./machines/connection.types.js";
export { type BackoffPolicy, backoffDelay, type Jitter, type Random } from "./services/backoff.js";
export type { MqttOptions, Qos } from "./services/broker-link.js";
export type {
  AuthFailureContext,
  AuthFailureHandler,
  CredentialsProvider,
} from "./services/credentials.js";
export type { Endpoint, Scheme } from "./services/endpoint.js";
export {
  browserEnvironment,
  type EnvironmentSignal,
  type EnvironmentWatcher,
} from "./services/environment.js";
export type { RefusalCategory } from "./services/reason-codes.js";
export {
  type CredentialsMapper,
  RemoteCredentials,
  type RemoteCredentialsOptions,
} from "./services/remote-credentials.js";
export type { Message, MessageHandler, Subscription } from "./services/subscriptions.js";
