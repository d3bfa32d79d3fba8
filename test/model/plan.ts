/**
 * Which generated paths to replay. Every candidate path of every scenario is
 * generated (model-graph.ts); a greedy set cover then keeps the fewest paths
 * that together take every transition, preferring paths a real client can
 * follow (faults.ts), cheap scenarios (aedes before mosquitto) and short
 * paths. A path that adds no new transition is dropped; coverage is still
 * computed over all transitions of the machine, never from a list.
 */

import { infeasible, noRealCause } from "./faults.js";
import { candidatePaths, chart, eventName, type ModelPath, SCENARIOS } from "./model-graph.js";

export interface Plan {
  /** Replayed on a real RealtimeClient against a real broker. */
  readonly real: readonly ModelPath[];
  /** Replayed on the machine with test actors: transitions with no real cause (faults.ts). */
  readonly machine: readonly ModelPath[];
  /** How many candidate paths were generated. */
  readonly candidates: number;
}

const describePath = (p: ModelPath) => p.steps.map((s) => eventName(s.event)).join(" ");

function cover(candidates: readonly ModelPath[], wanted: ReadonlySet<string>): ModelPath[] {
  const left = new Set(wanted);
  const chosen: ModelPath[] = [];
  for (;;) {
    let best: ModelPath | undefined;
    let bestGain = 0;
    for (const path of candidates) {
      let gain = 0;
      for (const key of path.covers) if (left.has(key)) gain++;
      if (gain === 0) continue;
      const better =
        !best ||
        path.scenario.cost < best.scenario.cost ||
        (path.scenario.cost === best.scenario.cost &&
          (gain > bestGain ||
            (gain === bestGain &&
              (path.steps.length < best.steps.length ||
                (path.steps.length === best.steps.length &&
                  describePath(path) < describePath(best))))));
      if (better) {
        best = path;
        bestGain = gain;
      }
    }
    if (!best) return chosen;
    chosen.push(best);
    for (const key of best.covers) left.delete(key);
  }
}

export function planPaths(): Plan {
  const realCandidates = SCENARIOS.filter((s) => s.maxRetries >= 1).flatMap((s) =>
    candidatePaths(s, true),
  );
  const all = SCENARIOS.flatMap((s) => candidatePaths(s, false));
  const everything = new Set(chart.transitions.map((t) => t.key));
  const real = cover(
    realCandidates.filter((p) => infeasible(p) === undefined),
    new Set([...everything].filter((key) => noRealCause(key) === undefined)),
  );
  const covered = new Set(real.flatMap((p) => [...p.covers]));
  const machine = cover(all, new Set([...everything].filter((key) => !covered.has(key))));
  return { real, machine, candidates: realCandidates.length + all.length };
}
