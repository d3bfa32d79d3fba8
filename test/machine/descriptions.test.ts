/**
 * State descriptions live beside the machine (`connection.descriptions.ts`),
 * not in it: the diagrams and `./machine` users read them by state id, and
 * the client an app ships carries none of the text. Every state has one.
 */

import { expect, test } from "vitest";
import type { AnyStateNode } from "xstate";
import { STATE_DESCRIPTIONS } from "../../src/machines/connection.descriptions.js";
import { connectionMachine } from "../../src/machines/connection.machine.js";

function states(node: AnyStateNode = connectionMachine.root): AnyStateNode[] {
  return (Object.values(node.states) as AnyStateNode[]).flatMap((child) => [
    child,
    ...states(child),
  ]);
}

test("every state of the machine has a description, and the table has no other", () => {
  const ids = states().map((s) => s.id);
  // A new state: add its line to src/machines/connection.descriptions.ts.
  expect(ids.filter((id) => !STATE_DESCRIPTIONS[id])).toEqual([]);
  expect(Object.keys(STATE_DESCRIPTIONS).filter((id) => !ids.includes(id))).toEqual([]);
  expect(ids.length).toBeGreaterThan(10);
});

test("the runtime machine carries no description (move one written inline to the table)", () => {
  expect(
    states()
      .filter((s) => s.description !== undefined)
      .map((s) => s.id),
  ).toEqual([]);
});
