import type { ConnectionState, RealtimeClient } from "@armaanjain/courier-web-sdk";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` until it holds; fails after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs = 5000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Resolves when `client` enters `state` (now or later). */
export function reach(
  client: RealtimeClient,
  state: ConnectionState,
  timeoutMs = 10_000,
): Promise<void> {
  if (client.state === state) return Promise.resolve();
  return nextState(client, state, timeoutMs);
}

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

/** Records every state the client enters, with timestamps. */
export function recordStates(client: RealtimeClient): {
  states: ConnectionState[];
  log: { state: ConnectionState; at: number }[];
} {
  const log: { state: ConnectionState; at: number }[] = [];
  const states: ConnectionState[] = [];
  client.on("stateChange", (change) => {
    states.push(change.state);
    log.push({ state: change.state, at: change.at });
  });
  return { states, log };
}

/** Counts the active handles of the kinds a client could leak. */
export function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}
