import { describe, expect, it } from "vitest";
import { LinkedList, type Links } from "../../src/services/linked-list.js";

interface Item extends Links<Item> {
  readonly name: string;
}

const item = (name: string): Item => ({ name, prev: null, next: null, listed: false });
const names = (list: LinkedList<Item>) => [...list].map((i) => i.name);

describe("LinkedList", () => {
  it("keeps insertion order; deletes from the front, middle and back", () => {
    const list = new LinkedList<Item>();
    const [a, b, c, d] = ["a", "b", "c", "d"].map(item) as [Item, Item, Item, Item];
    for (const i of [a, b, c, d]) list.add(i);
    expect(names(list)).toEqual(["a", "b", "c", "d"]);
    expect(list.size).toBe(4);
    expect(list.first).toBe(a);

    expect(list.delete(b)).toBe(true);
    expect(names(list)).toEqual(["a", "c", "d"]);
    expect(list.delete(a)).toBe(true);
    expect(list.first).toBe(c);
    expect(list.delete(d)).toBe(true);
    expect(names(list)).toEqual(["c"]);
    expect(list.size).toBe(1);
    expect(list.has(c)).toBe(true);
    expect(list.has(d)).toBe(false);
  });

  it("ignores deleting an item it does not hold, and adding one twice", () => {
    const list = new LinkedList<Item>();
    const a = item("a");
    expect(list.delete(a)).toBe(false);
    list.add(a);
    list.add(a);
    expect(list.size).toBe(1);
    expect(names(list)).toEqual(["a"]);
  });

  it("clear() returns the items oldest first and unlinks them", () => {
    const list = new LinkedList<Item>();
    const items = ["a", "b", "c"].map(item);
    for (const i of items) list.add(i);
    expect(list.clear().map((i) => i.name)).toEqual(["a", "b", "c"]);
    expect(list.size).toBe(0);
    expect(list.first).toBeUndefined();
    expect(items.every((i) => !i.listed && i.prev === null && i.next === null)).toBe(true);
    // Reusable after clear.
    list.add(items[1] as Item);
    expect(names(list)).toEqual(["b"]);
  });
});
