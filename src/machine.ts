/**
 * The connection statechart, for model-based tests and diagrams of your own:
 * `import { connectionMachine } from "@armaanjain/courier-web-sdk/machine"`.
 * Provide the three actors (`connectBroker`, `restoreSubscriptions`,
 * `refreshCredentials`) with `connectionMachine.provide({ actors })` to run it,
 * and map a snapshot to `client.state` with `connectionStateOf(snapshot.value)`.
 * docs/testing.md shows how to generate test paths from it with `xstate/graph`.
 */

export {
  type ConnectionMachine,
  connectionMachine,
  connectionStateOf,
} from "./machines/connection.machine.js";
export * from "./machines/connection.types.js";
export type { BackoffPolicy, Jitter } from "./services/backoff.js";
export type { ResolvedEndpoint, Scheme } from "./services/endpoint.js";
export type { Refusal, RefusalCategory } from "./services/reason-codes.js";
export { classifyConnack, classifyDisconnect } from "./services/reason-codes.js";
export { Secret } from "./services/secret.js";
