/**
 * What devtools may see (docs/browser.md "Devtools"): every inspection
 * event the client forwards to the `inspect` observer is a redacted copy.
 * Passwords and tokens never leave the SDK through it — not in a snapshot's
 * context, not in an event (the provider's done event, an error and its
 * cause), not in an actor's input or output, whichever way the observer
 * serializes it (JSON, structured clone for `postMessage`, or reading
 * `actorRef.getSnapshot()` later, as `@statelyai/inspect` does).
 *
 * The rules, in order: a `Secret` is `[redacted]`; a field named like a
 * credential (`password`, `username`, `token`, `jwt`, `authorization`, …)
 * holding text or an object is `[redacted]` — user names too, as some
 * brokers take the token as the user name; any other text that contains a
 * secret the client has held (8 characters or more) is `[redacted]`; an error keeps its name (and,
 * for the SDK's own errors, which never quote a secret, its code, reason and
 * message, and its cause redacted by the same rules) but not the message of
 * an error the SDK did not write, which may quote anything. Actor references
 * become read-only views (`id`, `sessionId`, the machine's definition,
 * `getSnapshot()` redacted); transitions stay as XState made them (they hold
 * the machine's definition, no data).
 */

import type { AnyActorRef, InspectionEvent, Observer } from "xstate";
import { CourierError } from "../errors.js";
import { Secret } from "./secret.js";
import type { SecretList } from "./secret-list.js";

export { REDACTED, redactText, scrubbedError } from "./scrub.js";
export { SecretList } from "./secret-list.js";

import { REDACTED } from "./scrub.js";

/** Field names (lower-cased) whose value is a credential wherever it appears. */
const CREDENTIAL_FIELD =
  /(pass(word|wd)?|user(name)?|secret|jwt|token|authorization|authenticationdata|cookie|credentials?|api_?key)$/;

/** Snapshot fields that hold the machine's definition, not data. */
const DEFINITION_FIELDS = new Set(["machine", "_nodes", "tags", "historyValue"]);

type Inspect = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/** The user's observer, fed redacted copies of every inspection event. */
export function redactInspection(inspect: Inspect, secrets: SecretList): Observer<InspectionEvent> {
  const views = new WeakMap<object, AnyActorRef>();
  const next =
    typeof inspect === "function" ? inspect : (event: InspectionEvent) => inspect.next?.(event);
  return { next: (event) => next(redactEvent(event, secrets, views)) };
}

function redactEvent(
  event: InspectionEvent,
  secrets: SecretList,
  views: WeakMap<object, AnyActorRef>,
): InspectionEvent {
  const copy: Record<string, unknown> = { ...event };
  const view = (ref: unknown) => actorView(ref, secrets, views);
  copy.actorRef = view(event.actorRef);
  if ("sourceRef" in event) copy.sourceRef = view(event.sourceRef);
  if ("event" in event) copy.event = redact(event.event, secrets);
  if ("snapshot" in event) copy.snapshot = redactSnapshot(event.snapshot, secrets);
  if ("action" in event) copy.action = redact(event.action, secrets);
  return copy as unknown as InspectionEvent;
}

/** A snapshot with its data redacted; definition fields and methods (`matches`, `toJSON`) kept. */
export function redactSnapshot(snapshot: unknown, secrets: SecretList): unknown {
  if (typeof snapshot !== "object" || snapshot === null) return snapshot;
  const copy: Record<string, unknown> = { ...snapshot };
  for (const [field, value] of Object.entries(copy)) {
    if (!DEFINITION_FIELDS.has(field) && typeof value !== "function") {
      copy[field] = redact(value, secrets);
    }
  }
  return copy;
}

function isActorRef(value: object): value is AnyActorRef {
  return "sessionId" in value && typeof (value as AnyActorRef).send === "function";
}

/** A read-only view of an actor: enough for an inspector, nothing to drive the client with. */
function actorView(
  ref: unknown,
  secrets: SecretList,
  views: WeakMap<object, AnyActorRef>,
): AnyActorRef | undefined {
  if (typeof ref !== "object" || ref === null || !isActorRef(ref)) return undefined;
  let view = views.get(ref);
  if (!view) {
    const { logic, systemId } = ref as unknown as {
      logic?: { config?: unknown };
      systemId?: string;
    };
    const config = logic?.config;
    view = {
      id: ref.id,
      sessionId: ref.sessionId,
      systemId,
      src: typeof ref.src === "string" ? ref.src : undefined,
      logic: config === undefined ? undefined : { config },
      get _parent() {
        return actorView(ref._parent, secrets, views);
      },
      getSnapshot: () => redactSnapshot(ref.getSnapshot(), secrets),
      send: () => {},
      toJSON: () => ({ xstate$$type: 1, id: ref.id }),
    } as unknown as AnyActorRef;
    views.set(ref, view);
  }
  return view;
}

/** A redacted deep copy of `value` (see the rules at the top of this file). */
export function redact(value: unknown, secrets: SecretList, depth = 0, field = ""): unknown {
  const credential = CREDENTIAL_FIELD.test(field.toLowerCase());
  if (typeof value === "string") return credential || secrets.within(value) ? REDACTED : value;
  if (typeof value === "function") return undefined;
  if (typeof value !== "object" || value === null) return value;
  if (value instanceof Secret || credential) return REDACTED;
  if (depth > 12) return "[too deep]";
  if (isActorRef(value)) return { xstate$$type: 1, id: value.id };
  const inner = (v: unknown, f: string) => redact(v, secrets, depth + 1, f);
  if (value instanceof Error) {
    const own = value instanceof CourierError;
    const { code, reason, reasonCode, status } = value as unknown as Record<string, unknown>;
    const copy: Record<string, unknown> = { name: value.name };
    if (own) {
      Object.assign(copy, { code, reason, reasonCode, status });
      copy.message = inner(value.message, "message");
      if (value.cause !== undefined) copy.cause = inner(value.cause, "cause");
    }
    return copy;
  }
  if (Array.isArray(value)) return value.map((item) => inner(item, ""));
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== "function") copy[key] = inner(item, key);
  }
  return copy;
}
