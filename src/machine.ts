/**
 * The connection statechart, for model-based tests and diagrams of your own:
 * `import { connectionMachine } from "@armaanjain/courier-web-sdk/machine"`.
 * Provide the connection (the `openLink`, `closeLink`, `forceDisconnect`,
 * `closeConnection` and `pingBroker` actions) and the actors
 * (`restoreSubscriptions`, `refreshCredentials`) with
 * `connectionMachine.provide({ actions, actors })` to run it,
 * and map a snapshot to `client.state` with `connectionStateOf(snapshot.value)`.
 * docs/testing.md shows how to generate test paths from it with `xstate/graph`.
 * What each state is for: `STATE_DESCRIPTIONS[stateNode.id]` (the machine
 * itself carries no descriptions, so the client an app ships has none).
 */

export { STATE_DESCRIPTIONS } from "./machines/connection.descriptions.js";
export { type ConnectionMachine, connectionMachine } from "./machines/connection.machine.js";
export type { RenewFailureParams } from "./machines/connection.retry.js";
export { connectionStateOf } from "./machines/connection.selectors.js";
export {
  type ActorInput,
  CONNECTION_ACTIONS,
  CONNECTION_ACTORS,
  CONNECTION_DELAYS,
  CONNECTION_GUARDS,
  CONNECTION_STATES,
  type ConnectionActionName,
  type ConnectionActorName,
  type ConnectionContext,
  type ConnectionDelayName,
  type ConnectionEmitted,
  type ConnectionEvent,
  type ConnectionEventType,
  type ConnectionGuardName,
  type ConnectionInput,
  type ConnectionState,
  type ConnectionTimeout,
  type ConnectionTiming,
  DEFAULT_RETRY,
  DEFAULT_TIMING,
  type LinkCredentials,
  type OpenLinkParams,
  type ReauthenticateInput,
  type RefreshCredentialsInput,
  type RefreshReason,
  type Renewal,
  type RestoreResult,
  type RestoreSubscriptionsInput,
  type RetryPolicy,
  type TimeoutParams,
} from "./machines/connection.types.js";
export { type BackoffPolicy, JITTERS, type Jitter, type Random } from "./services/backoff.js";
export type { ResolvedEndpoint, Scheme } from "./services/endpoint.js";
export type { Refusal, RefusalCategory } from "./services/reason-codes.js";
export { classifyConnack, classifyDisconnect } from "./services/reason-codes.js";
export { Secret } from "./services/secret.js";
