/**
 * Devtools inspection (the `inspect` option), redacted of credentials. The
 * redaction code is loaded only when `inspect` is given: until it is, the
 * machine's inspection events wait, in order, and nothing unredacted is
 * ever delivered (if it cannot be loaded, they are dropped).
 */

import type { InspectionEvent, Observer } from "xstate";
import type { redactInspection } from "../services/redact.js";
import type { SecretList } from "../services/secret-list.js";

type Inspect = Parameters<typeof redactInspection>[0];

export function deferredInspection(
  inspect: Inspect,
  secrets: SecretList,
): Observer<InspectionEvent> {
  let deliver: ((event: InspectionEvent) => void) | undefined;
  let waiting: InspectionEvent[] | undefined = [];
  import("../services/redact.js").then(
    (module) => {
      const observer = module.redactInspection(inspect, secrets);
      deliver = (event) => observer.next?.(event);
      for (const event of waiting ?? []) deliver(event);
      waiting = undefined;
    },
    () => {
      waiting = undefined;
    },
  );
  return {
    next: (event) => {
      if (deliver) deliver(event);
      else waiting?.push(event);
    },
  };
}
