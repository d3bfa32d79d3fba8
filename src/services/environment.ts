/**
 * What the platform knows that the socket does not (issue 5, "page
 * lifecycle"): the browser going offline or online, and a hidden page
 * becoming visible again — after which its throttled timers may have let a
 * dead connection look alive. Reported to the statechart as events; outside
 * a browser there is nothing to watch.
 */

export type EnvironmentEvent =
  | { type: "NET.OFFLINE" }
  | { type: "NET.ONLINE" }
  | { type: "PAGE.VISIBLE" };

interface EventTargetLike {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/** Starts watching; returns the function that stops (removing every listener it added). */
export function watchEnvironment(send: (event: EnvironmentEvent) => void): () => void {
  const g = globalThis as {
    window?: EventTargetLike;
    document?: EventTargetLike & { visibilityState?: string };
  };
  const { window: win, document: doc } = g;
  if (!win || typeof win.addEventListener !== "function") return () => {};
  const listeners: [EventTargetLike, string, () => void][] = [
    [win, "offline", () => send({ type: "NET.OFFLINE" })],
    [win, "online", () => send({ type: "NET.ONLINE" })],
    // Back from the back/forward cache: the page was frozen, its socket likely gone.
    [win, "pageshow", () => send({ type: "PAGE.VISIBLE" })],
  ];
  if (doc && typeof doc.addEventListener === "function") {
    listeners.push([
      doc,
      "visibilitychange",
      () => doc.visibilityState === "visible" && send({ type: "PAGE.VISIBLE" }),
    ]);
    listeners.push([doc, "resume", () => send({ type: "PAGE.VISIBLE" })]);
  }
  for (const [target, type, listener] of listeners) target.addEventListener(type, listener);
  return () => {
    for (const [target, type, listener] of listeners) target.removeEventListener(type, listener);
  };
}
