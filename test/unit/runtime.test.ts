/**
 * The lean runtime runs a machine as an XState actor does: the same
 * snapshots, actions, emitted events and children's results, in the same
 * order. One machine exercises what the connection machine uses (entry and
 * exit actions, invoked promises that resolve, reject or finish too late, an
 * invoked callback that sends back and is cleaned up, delayed transitions
 * that fire or are cancelled, emit, an event sent from inside an action, a
 * throwing action), run both ways on real timers; the traces must match, and
 * each says what it should.
 */

import { describe, expect, it } from "vitest";
import {
  Actor,
  type AnyEventObject,
  emit,
  fromCallback,
  fromPromise,
  type InspectionEvent,
  setup,
} from "xstate";
import { runMachine } from "../../src/client/runtime.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Input {
  trace: string[];
}

const machine = setup({
  types: {
    input: {} as Input,
    context: {} as Input,
    events: {} as { type: "GO" } | { type: "PING" } | { type: "LEAVE" } | { type: "BOOM" },
    emitted: {} as { type: "note"; text: string },
  },
  actors: {
    load: fromPromise<string, { fail?: boolean; ms: number }>(async ({ input }) => {
      await sleep(input.ms);
      if (input.fail) throw new Error("nope");
      return "loaded";
    }),
    watch: fromCallback<AnyEventObject, Input>(({ input, sendBack }) => {
      sendBack({ type: "PING" });
      return () => input.trace.push("watch cleaned up");
    }),
  },
  actions: {
    record: ({ context }, params: { text: string }) => {
      context.trace.push(params.text);
    },
    leaveAtOnce: ({ context, self }) => {
      self.send({ type: "LEAVE" });
      // The event waits: this action finishes before LEAVE is taken.
      context.trace.push("sent LEAVE");
    },
    boom: () => {
      throw new Error("boom");
    },
  },
}).createMachine({
  context: ({ input }) => ({ trace: input.trace }),
  initial: "idle",
  states: {
    idle: { on: { GO: "loading" } },
    loading: {
      entry: { type: "record", params: { text: "enter loading" } },
      invoke: {
        src: "load",
        input: { ms: 5 },
        onDone: {
          target: "watching",
          actions: [
            ({ context, event }) => context.trace.push(`output ${event.output}`),
            emit({ type: "note", text: "done" }),
          ],
        },
      },
    },
    watching: {
      invoke: { src: "watch", input: ({ context }) => context },
      on: { PING: { actions: { type: "record", params: { text: "ping" } } } },
      after: { 20: "failing" },
      exit: { type: "record", params: { text: "exit watching" } },
    },
    failing: {
      invoke: {
        src: "load",
        input: { fail: true, ms: 5 },
        onError: {
          target: "racing",
          actions: ({ context, event }) =>
            context.trace.push(`error ${(event.error as Error).message}`),
        },
      },
    },
    racing: {
      invoke: {
        src: "load",
        input: { ms: 40 },
        onDone: { target: "quiet", actions: { type: "record", params: { text: "too late" } } },
      },
      after: { 5: "waiting" },
    },
    waiting: {
      entry: "leaveAtOnce",
      after: { 30: { target: "quiet", actions: { type: "record", params: { text: "late" } } } },
      on: { LEAVE: { target: "quiet", actions: { type: "record", params: { text: "left" } } } },
    },
    quiet: { on: { BOOM: { actions: "boom" } } },
  },
});

async function traceOf(withActor: boolean): Promise<string[]> {
  const trace: string[] = [];
  const running = runMachine(
    machine,
    { trace },
    {
      snapshot: (snapshot) => trace.push(`state ${String(snapshot.value)}`),
      emitted: (event) => trace.push(`emitted ${event.text}`),
      failed: (error) => trace.push(`failed ${(error as Error).message}`),
    },
    withActor ? { next: () => {} } : undefined,
  );
  running.send({ type: "GO" });
  const deadline = Date.now() + 5000;
  while (running.getSnapshot().value !== "quiet" && Date.now() < deadline) await sleep(5);
  // Long enough for the cancelled timer and the stale promise to have fired, had they.
  await sleep(80);
  running.send({ type: "BOOM" });
  running.send({ type: "GO" });
  await sleep(10);
  trace.push(`status ${running.getSnapshot().status}`);
  return trace;
}

const EXPECTED = [
  "state idle",
  "enter loading",
  "state loading",
  // A custom action runs inside the transition; emitted events go out once it is in place.
  "output loaded",
  "emitted done",
  "state watching",
  "ping",
  "state watching",
  "exit watching",
  "watch cleaned up",
  "state failing",
  "error nope",
  "state racing",
  "sent LEAVE",
  "state waiting",
  "left",
  "state quiet",
  "failed boom",
  "status error",
];

describe("the lean runtime", () => {
  it("runs a machine exactly as an XState actor does", async () => {
    const lean = await traceOf(false);
    const actor = await traceOf(true);
    expect(lean).toEqual(actor);
    expect(lean).toEqual(EXPECTED);
  });

  it("is an XState actor only when inspected, and then devtools see its snapshots", () => {
    const hooks = { snapshot: () => {}, emitted: () => {}, failed: () => {} };
    expect(runMachine(machine, { trace: [] }, hooks)).not.toBeInstanceOf(Actor);
    const seen: InspectionEvent[] = [];
    const inspected = runMachine(machine, { trace: [] }, hooks, { next: (e) => seen.push(e) });
    expect(inspected).toBeInstanceOf(Actor);
    inspected.send({ type: "GO" });
    const states = seen.flatMap((e) => (e.type === "@xstate.snapshot" ? [e.snapshot] : []));
    expect(states.map((s) => (s as { value?: unknown }).value)).toContain("loading");
  });

  it("keeps the delayed events and children of machines sharing its system apart", async () => {
    // Same delayed-event ids, same child ids, on one shared system: none reaches the other.
    const traces = await Promise.all([traceOf(false), traceOf(false), traceOf(false)]);
    for (const trace of traces) expect(trace).toEqual(EXPECTED);
  });
});
