/**
 * Records the statechart transitions a client or machine takes, by the keys
 * the diagrams and the model-based coverage table use (scripts/statecharts/
 * chart.ts), from XState's `@xstate.microstep` inspection events.
 */

import type { RunnerTask, RunnerTestCase } from "vitest";
import type { AnyTransitionDefinition, InspectionEvent } from "xstate";
import { transitionKey } from "../../scripts/statecharts/chart.js";

export function transitionRecorder(): {
  readonly taken: Set<string>;
  inspect(event: InspectionEvent): void;
} {
  const taken = new Set<string>();
  return {
    taken,
    inspect(event) {
      if (event.type !== "@xstate.microstep" || event.actorRef.sessionId !== event.rootId) return;
      const transitions =
        (event as { _transitions?: AnyTransitionDefinition[] })._transitions ?? [];
      for (const t of transitions) taken.add(transitionKey(t));
    },
  };
}

/** True when every other test of `task`'s file is running in this run (none filtered out with -t). */
export function everyTestRan(task: RunnerTestCase): boolean {
  const leaves = (tasks: readonly RunnerTask[]): RunnerTask[] =>
    tasks.flatMap((t) => (t.type === "suite" ? leaves(t.tasks) : [t]));
  return leaves(task.file.tasks).every((t) => t === task || t.mode === "run");
}
