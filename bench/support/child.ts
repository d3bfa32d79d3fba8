/**
 * Runs one benchmark module in this (fresh) process and writes its output
 * as JSON to the file named by the second argument:
 * `node --import tsx --expose-gc bench/support/child.ts <name> <out.json> [--quick]`.
 */

import { writeFileSync } from "node:fs";
import type { BenchOutput } from "./stats.js";

const [name, out] = process.argv.slice(2);
const quick = process.argv.includes("--quick");
if (!name || !out) throw new Error("usage: child.ts <benchmark> <out.json> [--quick]");
const module = (await import(`../${name}.ts`)) as {
  run(options: { quick: boolean }): Promise<BenchOutput>;
};
const output = await module.run({ quick });
writeFileSync(out, JSON.stringify(output));
process.exit(0);
