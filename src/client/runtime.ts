/**
 * What runs a client's connection machine. Either way the statechart decides
 * everything; they differ in what one client holds while it runs.
 *
 * - Without the `inspect` option: the machine's snapshot and one small
 *   object that feeds it events through the machine's own `transition()`
 *   (the step an XState actor takes), runs the actions it hands back, and
 *   owns an event queue as an actor's mailbox does. Delayed events and the
 *   services the machine invokes (the restore, the credential refresh, the
 *   in-place re-authentication) are scheduled on, and run as child actors of,
 *   one actor system shared by every client of the process. An idle
 *   connected client then keeps no actor, mailbox, scheduler or system of its
 *   own: 17.4 KB per idle client instead of 21.1 KB (README "Benchmarks").
 * - With `inspect`: an ordinary XState actor (`createActor({ inspect })`),
 *   so devtools see the standard actor, its children and its events.
 *
 * Same order of effects as an actor: a custom action runs inside the
 * transition that takes it; delayed events are scheduled, children started
 * and emitted events delivered once the new snapshot is in place, then the
 * snapshot is reported; an event sent while one is being processed waits its
 * turn.
 */

import {
  type ActorScope,
  type ActorSystem,
  type AnyActorRef,
  type AnyEventObject as AnyEvent,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createActor,
  createMachine,
  type EmittedFrom,
  type EventFromLogic,
  type InputFrom,
  type InspectionEvent,
  type Observer,
  type SnapshotFrom,
} from "xstate";
import { throwLater } from "./emitter.js";

/** What a running machine tells its client. */
export interface RuntimeHooks<TMachine extends AnyStateMachine> {
  /** Every snapshot the machine settles in, the initial one first. */
  snapshot(snapshot: SnapshotFrom<TMachine>): void;
  /** Every event the machine emits. */
  emitted(event: EmittedFrom<TMachine>): void;
  /** The machine threw: it is stopped, and reports nothing more. */
  failed(error: unknown): void;
}

/** The running machine, as its client drives it. */
export interface MachineRuntime<TMachine extends AnyStateMachine> {
  send(event: EventFromLogic<TMachine>): void;
  getSnapshot(): SnapshotFrom<TMachine>;
}

/** Starts `machine` with `input`: an XState actor if `inspect` is given, else a lean runtime. */
export function runMachine<TMachine extends AnyStateMachine>(
  machine: TMachine,
  input: InputFrom<TMachine>,
  hooks: RuntimeHooks<TMachine>,
  inspect?: Observer<InspectionEvent>,
): MachineRuntime<TMachine> {
  if (!inspect) {
    const lean = new LeanRuntime(machine, input, hooks as RuntimeHooks<AnyStateMachine>);
    return lean as unknown as MachineRuntime<TMachine>;
  }
  const actor = createActor(machine, { input, inspect });
  actor.subscribe({ next: hooks.snapshot, error: hooks.failed });
  actor.on("*", hooks.emitted);
  return actor.start();
}

// biome-ignore lint/suspicious/noExplicitAny: the system of machines of any kind
type AnySystem = ActorSystem<any> & { _bookId(): string };

let shared: AnySystem | undefined;

/** The actor system of every lean runtime of the process (an idle actor's, never started). */
function sharedSystem(): AnySystem {
  shared ??= createActor(createMachine({})).system as AnySystem;
  return shared;
}

/** A child actor as the runtime stops it (`Actor#_stop`, what an actor's own scope calls). */
interface StoppableChild {
  _stop(): void;
}

const NOT_STARTED = 0;
const RUNNING = 1;
const STOPPED = 2;

type Scope = ActorScope<AnyMachineSnapshot, AnyEvent>;

/**
 * One machine, run without an actor of its own. It is its own actor scope:
 * the `self` of the machine's actions and the parent of its children, which
 * reach it through the shared system's `_relay` (it calls `_send`).
 */
class LeanRuntime implements MachineRuntime<AnyStateMachine> {
  readonly system = sharedSystem();
  readonly sessionId: string = this.system._bookId();
  readonly id = this.sessionId;
  readonly #machine: AnyStateMachine;
  readonly #hooks: RuntimeHooks<AnyStateMachine>;
  #snapshot: AnyMachineSnapshot;
  #status = NOT_STARTED;
  #busy = false;
  readonly #queue: AnyEvent[] = [];
  readonly #deferred: (() => void)[] = [];

  constructor(machine: AnyStateMachine, input: unknown, hooks: RuntimeHooks<AnyStateMachine>) {
    this.#machine = machine;
    this.#hooks = hooks;
    try {
      this.#snapshot = machine.getInitialSnapshot(this.#scope, input) as AnyMachineSnapshot;
    } catch (error) {
      this.#snapshot = { status: "error", error } as AnyMachineSnapshot;
    }
    this.#start();
  }

  get #scope(): Scope {
    return this as unknown as Scope;
  }

  // The actor scope, as the machine's transitions use it.

  get self(): this {
    return this;
  }

  get logger(): Scope["logger"] {
    return this.system._logger;
  }

  defer(fn: () => void): void {
    this.#deferred.push(fn);
  }

  stopChild(child: AnyActorRef): void {
    (child as unknown as StoppableChild)._stop();
  }

  emit(event: AnyEvent): void {
    try {
      this.#hooks.emitted(event);
    } catch (error) {
      throwLater(error);
    }
  }

  /** An own function, not a method: a microstep wraps it and calls it unbound. */
  readonly actionExecutor: Scope["actionExecutor"] = (action) => {
    const exec = () => action.exec?.(action.info, action.params);
    if (this.#status === RUNNING) exec();
    else this.#deferred.push(exec);
  };

  getSnapshot(): AnyMachineSnapshot {
    return this.#snapshot;
  }

  send(event: AnyEvent): void {
    this._send(event);
  }

  /** How the shared system delivers events (delayed ones, children's results) to this machine. */
  _send(event: AnyEvent): void {
    if (this.#status === STOPPED) return;
    this.#queue.push(event);
    if (this.#status === RUNNING) this.#drain();
  }

  #start(): void {
    if (this.#snapshot.status === "error") {
      this.#fail(this.#snapshot.error);
      return;
    }
    this.#status = RUNNING;
    // Events sent while the initial snapshot is reported wait, as in an actor's unstarted mailbox.
    this.#busy = true;
    try {
      this.#machine.start(this.#snapshot);
      this.#update(this.#snapshot);
    } catch (error) {
      this.#fail(error);
      return;
    } finally {
      this.#busy = false;
    }
    this.#drain();
  }

  /** Processes queued events one at a time; an event sent meanwhile waits its turn. */
  #drain(): void {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let event = this.#queue.shift(); event; event = this.#queue.shift()) {
        let next: AnyMachineSnapshot;
        try {
          next = this.#machine.transition(this.#snapshot, event, this.#scope) as AnyMachineSnapshot;
        } catch (error) {
          this.#fail(error);
          return;
        }
        this.#update(next);
      }
    } finally {
      this.#busy = false;
    }
  }

  /** The new snapshot is in place: delayed events, children and emits go out, then it is reported. */
  #update(next: AnyMachineSnapshot): void {
    this.#snapshot = next;
    for (let fn = this.#deferred.shift(); fn; fn = this.#deferred.shift()) {
      try {
        fn();
      } catch (error) {
        this.#deferred.length = 0;
        this.#snapshot = { ...next, status: "error", error } as AnyMachineSnapshot;
      }
    }
    const { status } = this.#snapshot;
    if (status === "error") {
      this.#fail(this.#snapshot.error);
      return;
    }
    if (status !== "active") this.#halt();
    try {
      this.#hooks.snapshot(next);
    } catch (error) {
      throwLater(error);
    }
  }

  /** No more events: pending delayed events are cancelled. */
  #halt(): void {
    this.#status = STOPPED;
    this.#queue.length = 0;
    this.system.scheduler.cancelAll(this as unknown as AnyActorRef);
  }

  #fail(error: unknown): void {
    if (this.#snapshot.status !== "error") {
      this.#snapshot = { ...this.#snapshot, status: "error", error } as AnyMachineSnapshot;
    }
    this.#halt();
    this.#hooks.failed(error);
  }
}
