/**
 * What the platform knows that the socket does not (docs/browser.md "The
 * page's lifecycle"): the network going away or coming back, and a hidden page
 * becoming visible again — after which its throttled timers may have let a
 * dead connection look alive. Reported to the statechart as events.
 */

export type EnvironmentEvent =
  | { type: "NET.OFFLINE" }
  | { type: "NET.ONLINE" }
  | { type: "PAGE.VISIBLE" };

/** What a platform can report: the network went away or came back; the app came back to the foreground. */
export type EnvironmentSignal = "offline" | "online" | "visible";

/**
 * A source of platform signals: called with `notify` when the client starts
 * trying to connect; returns the function that stops it. The browser one is
 * built in; React Native, Electron or a test can pass their own (NetInfo,
 * AppState, powerMonitor, …).
 */
export type EnvironmentWatcher = (notify: (signal: EnvironmentSignal) => void) => () => void;

const EVENTS: Record<EnvironmentSignal, EnvironmentEvent> = {
  offline: { type: "NET.OFFLINE" },
  online: { type: "NET.ONLINE" },
  visible: { type: "PAGE.VISIBLE" },
};

/** Runs `watcher`, turning its signals into statechart events. */
export function watchWith(
  watcher: EnvironmentWatcher,
  send: (event: EnvironmentEvent) => void,
): () => void {
  return watcher((signal) => {
    const event = EVENTS[signal];
    if (event) send(event);
  });
}

interface EventTargetLike {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/** False when nothing would be watched: no watcher, or the browser's outside a browser. */
export function hasSignals(watcher: EnvironmentWatcher | false): boolean {
  if (!watcher) return false;
  if (watcher !== browserEnvironment) return true;
  const win = (globalThis as { window?: Partial<EventTargetLike> }).window;
  return typeof win?.addEventListener === "function";
}

/** The browser's signals (window online/offline, page visibility, bfcache, resume); nothing elsewhere. */
export const browserEnvironment: EnvironmentWatcher = (notify) => {
  const g = globalThis as {
    window?: EventTargetLike;
    document?: EventTargetLike & { visibilityState?: string };
  };
  const { window: win, document: doc } = g;
  if (!win || typeof win.addEventListener !== "function") return () => {};
  const listeners: [EventTargetLike, string, () => void][] = [
    [win, "offline", () => notify("offline")],
    [win, "online", () => notify("online")],
    // Back from the back/forward cache: the page was frozen, its socket likely gone.
    [win, "pageshow", () => notify("visible")],
  ];
  if (doc && typeof doc.addEventListener === "function") {
    listeners.push([
      doc,
      "visibilitychange",
      () => doc.visibilityState === "visible" && notify("visible"),
    ]);
    // Page Lifecycle API: the page was frozen and is running again.
    listeners.push([doc, "resume", () => notify("visible")]);
  }
  for (const [target, type, listener] of listeners) target.addEventListener(type, listener);
  return () => {
    for (const [target, type, listener] of listeners) target.removeEventListener(type, listener);
  };
};
