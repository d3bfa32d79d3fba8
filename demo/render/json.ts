/** `--json`: one event per line, exactly as the scenario emitted it. */

import type { DemoEvent } from "../scenario/events.js";
import type { Output } from "./terminal.js";

export function jsonLines(out: Output): (event: DemoEvent) => void {
  return (event) => out.write(`${JSON.stringify(event)}\n`);
}
