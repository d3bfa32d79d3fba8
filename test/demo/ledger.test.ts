/** Message accounting: lost, duplicated, gaps and late arrivals. */

import { expect, test } from "vitest";
import { Ledger } from "../../demo/scenario/ledger.js";

function sent(ledger: Ledger, n: number): void {
  for (let i = 0; i < n; i++) ledger.nextSeq();
}

test("everything received once: nothing lost, nothing duplicated", () => {
  const ledger = new Ledger(["a", "b"]);
  sent(ledger, 3);
  for (const viewer of ["a", "b"]) for (const seq of [1, 2, 3]) ledger.received(viewer, seq);
  expect(ledger.totals()).toMatchObject({ published: 3, received: 6, lost: 0, duplicated: 0 });
});

test("a skipped number is a gap; arriving later makes it late, not lost", () => {
  const ledger = new Ledger(["a"]);
  sent(ledger, 5);
  expect(ledger.received("a", 1)).toEqual({ duplicate: false, late: false });
  expect(ledger.received("a", 4)).toEqual({
    duplicate: false,
    late: false,
    gap: { from: 2, to: 3 },
  });
  expect(ledger.missing("a")).toBe(3);
  expect(ledger.received("a", 2)).toEqual({ duplicate: false, late: true });
  expect(ledger.received("a", 3)).toEqual({ duplicate: false, late: true });
  ledger.received("a", 5);
  expect(ledger.totals()).toMatchObject({ lost: 0, gaps: 1, late: 2 });
});

test("a second delivery is a duplicate; a number never received is lost, per viewer", () => {
  const ledger = new Ledger(["a", "b"]);
  sent(ledger, 4);
  for (const seq of [1, 2, 2, 3, 4]) ledger.received("a", seq);
  for (const seq of [1, 3]) ledger.received("b", seq);
  expect(ledger.missingSeqs("b")).toEqual([2, 4]);
  expect(ledger.totals()).toMatchObject({ received: 6, duplicated: 1, lost: 2 });
});

test("acknowledged and failed publishes are counted apart", () => {
  const ledger = new Ledger(["a"]);
  sent(ledger, 3);
  ledger.acked();
  ledger.acked();
  ledger.failed();
  expect(ledger.totals()).toMatchObject({ published: 3, acked: 2, failed: 1, lost: 3 });
});
