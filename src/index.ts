/**
 * @armaanjain/courier-web-sdk — a realtime MQTT client for browsers and
 * Node.js that stays connected when credentials expire.
 */

export type { AbortOptions, EventValue, OnceOptions } from "./client/abort.js";
export type { MessageStream, MessagesOptions } from "./client/message-stream.js";
export type {
  AuthFailureHandler,
  CredentialsProvider,
  OfflineQueueOptions,
  RealtimeClientOptions,
  RefreshAheadOptions,
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
export { OPTION_DEFAULTS, type OptionDefault, type OptionPath } from "./defaults.js";
export * from "./errors.js";
export {
  CONNECTION_STATES,
  type ConnectionState,
  type Renewal,
  type RestoreResult,
} from "./machines/connection.types.js";
export {
  type BackoffPolicy,
  backoffDelay,
  JITTERS,
  type Jitter,
  type Random,
} from "./services/backoff.js";
export type { MqttOptions } from "./services/broker-link.js";
export type {
  AuthFailureContext,
  CredentialsRequest,
  RefreshReason,
} from "./services/credentials.js";
export type { Endpoint, EndpointUpdate, Scheme } from "./services/endpoint.js";
export type {
  Mqtt5AuthCredentials,
  Mqtt5AuthData,
  Mqtt5AuthOptions,
  Mqtt5AuthRound,
} from "./services/enhanced-auth.js";
export {
  browserEnvironment,
  type EnvironmentSignal,
  type EnvironmentWatcher,
} from "./services/environment.js";
export type { Message, Qos } from "./services/live-connection.js";
export type { RefusalCategory } from "./services/reason-codes.js";
export {
  type CredentialsMapper,
  RemoteCredentials,
  type RemoteCredentialsOptions,
} from "./services/remote-credentials.js";
export type { Secret } from "./services/secret.js";
export type { MessageHandler, Subscription } from "./services/subscriptions.js";
