import type { ConnectionState, RealtimeClient } from "../../src/index.js";

/**
 * Resolves the next time `client` enters `state` — not if it is there now
 * (unlike `reach`). Call it before the action that should cause the change.
 */
export function nextState(
  client: RealtimeClient,
  state: ConnectionState,
  timeoutMs = 10_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for the next ${state}; now ${client.state}`));
    }, timeoutMs);
    const off = client.on("stateChange", (change) => {
      if (change.state !== state) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}
