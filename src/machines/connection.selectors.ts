/**
 * Reading a snapshot of the connection machine: what `client.state` shows
 * and which endpoint the next (or current) connection uses.
 */

import type { StateValue } from "xstate";
import type { ResolvedEndpoint } from "../services/endpoint.js";
import {
  CONNECTION_STATES,
  type ConnectionContext,
  type ConnectionState,
} from "./connection.types.js";

const STATES: ReadonlySet<string> = new Set(CONNECTION_STATES);

function isConnectionState(name: string): name is ConnectionState {
  return STATES.has(name);
}

/**
 * The public state of a snapshot value: the deepest active state that is a
 * `ConnectionState` (`{ session: { link: { connected: "probing" } } }` is
 * `connected`; inner detail stays inside).
 */
export function connectionStateOf(value: StateValue): ConnectionState {
  let found: ConnectionState = "idle";
  let current: StateValue | undefined = value;
  while (current !== undefined) {
    const [name, child]: [string, StateValue | undefined] =
      typeof current === "string"
        ? [current, undefined]
        : (Object.entries(current)[0] ?? ["", undefined]);
    if (isConnectionState(name)) found = name;
    current = child;
  }
  return found;
}

/** The endpoint the next (or current) connection uses. */
export function currentEndpoint(
  context: Pick<ConnectionContext, "endpoints" | "endpointIndex">,
): ResolvedEndpoint {
  const endpoint = context.endpoints[context.endpointIndex] ?? context.endpoints[0];
  if (!endpoint) throw new Error("connection context has no endpoint");
  return endpoint;
}
