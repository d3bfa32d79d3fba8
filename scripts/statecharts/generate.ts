/**
 * Everything `npm run diagrams` writes to `docs/statecharts/`, as file name →
 * content, generated from the production connection machine. The drift test
 * calls this too and compares with the committed files.
 */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { StateValue } from "xstate";
import { connectionStateOf } from "../../src/machines/connection.machine.js";
import { CONNECTION_STATES } from "../../src/machines/connection.types.js";
import { connectionChart, DELAY_OPTIONS } from "./connection.js";
import { toMermaid } from "./mermaid.js";
import { overviewText, toOverviewSvg } from "./overview.js";
import { toReadme } from "./readme.js";
import { toSvg } from "./svg.js";

const SOURCE = "src/machines/connection.machine.ts";
const TYPES = new URL("../../src/machines/connection.types.ts", import.meta.url);

/** The JSDoc line above each event of the `ConnectionEvent` union, by event type. */
export function eventDocs(source: string): Record<string, string> {
  const docs: Record<string, string> = {};
  const union = source.slice(source.indexOf("export type ConnectionEvent"));
  for (const m of union.matchAll(/\/\*\*\s*(.+?)\s*\*\/\s*\|\s*\{\s*type:\s*"([^"]+)"/g)) {
    if (m[1] && m[2]) docs[m[2]] = m[1];
  }
  return docs;
}

/** `client.state` for a state id, or `—` for a state that only groups others (`session`). */
function publicState(stateId: string): string {
  const path = stateId.split(".").slice(1);
  if (!path.some((key) => (CONNECTION_STATES as readonly string[]).includes(key))) return "—";
  const value = path.reduceRight<StateValue>((inner, key) => ({ [key]: inner }), "");
  return connectionStateOf(value);
}

export async function generateStatecharts(): Promise<Record<string, string>> {
  const chart = connectionChart();
  const mermaid = toMermaid(chart);
  return {
    "connection.mmd": mermaid,
    "connection.svg": await toSvg(chart, SOURCE),
    "overview.svg": await toOverviewSvg(chart, SOURCE),
    "README.md": toReadme({
      chart,
      mermaid,
      svgFile: "connection.svg",
      overviewFile: "overview.svg",
      overviewAlt: overviewText(chart),
      mermaidFile: "connection.mmd",
      source: SOURCE,
      publicState,
      eventDocs: eventDocs(readFileSync(fileURLToPath(TYPES), "utf8")),
      delayOptions: DELAY_OPTIONS,
    }),
  };
}
