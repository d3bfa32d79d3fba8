/**
 * Model-based tests (`npm run test:model`): paths generated from the
 * production machine (model-graph.ts, plan.ts) replayed on a real
 * RealtimeClient against real brokers on 127.0.0.1 (harness.ts), then the
 * transition coverage table, which must reach 100 %. See docs/testing.md.
 *
 * The MQTT 5 paths need mosquitto: without it they are skipped, loudly (and
 * so is the coverage table, which needs every path), or fail under
 * `COURIER_REQUIRE_BROKERS=1` — as every other broker suite.
 */

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Mosquitto } from "../support/mosquitto.js";
import { hasBinary } from "../support/requirements.js";
import { computeCoverage, formatCoverage } from "./coverage.js";
import { replayOnClient } from "./harness.js";
import { replayOnMachine } from "./machine-replay.js";
import { type ModelPath, stepName } from "./model-graph.js";
import { planPaths } from "./plan.js";

const plan = planPaths();
const onMosquitto = (path: ModelPath) => path.scenario.protocol === 5;
const mosquittoHere = plan.real.some(onMosquitto) && hasBinary("mosquitto");
const clientRuns: string[][] = [];
const machineRuns: string[][] = [];

const title = (path: ModelPath, i: number) =>
  `${i + 1}. [${path.scenario.name}] ${path.steps.map(stepName).join(" → ")}`;

describe("generated paths on a real client", () => {
  let mosquitto: Mosquitto | undefined;
  beforeAll(async () => {
    if (mosquittoHere) mosquitto = await Mosquitto.startOpen();
  });
  afterAll(async () => mosquitto?.close());

  const rows = plan.real.map((path, i) => [title(path, i), path] as const);
  const replayPath = async (_: string, path: ModelPath) => {
    const replay = await replayOnClient(path, mosquitto);
    expect(replay.problems).toEqual([]);
    clientRuns.push(replay.taken);
  };
  test.each(rows.filter(([, path]) => !onMosquitto(path)))("%s", replayPath);
  test.skipIf(!mosquittoHere).each(rows.filter(([, path]) => onMosquitto(path)))("%s", replayPath);
});

describe("generated paths on the machine (no real cause)", () => {
  test.each(plan.machine.map((path, i) => [title(path, i), path] as const))(
    "%s",
    async (_, path) => {
      machineRuns.push(await replayOnMachine(path));
    },
  );
});

test("every transition of the machine is taken (coverage table)", (ctx) => {
  // Run alone (`-t coverage`) or after a failed replay, the table would only repeat that.
  if (clientRuns.length < plan.real.length || machineRuns.length < plan.machine.length) {
    ctx.skip();
  }
  const coverage = computeCoverage(clientRuns, machineRuns);
  console.log(
    `${plan.candidates} candidate paths generated; replayed ${plan.real.length} on a real client, ${plan.machine.length} on the machine.\n${formatCoverage(coverage)}`,
  );
  expect(coverage.contradicted.map((r) => r.transition.key)).toEqual([]);
  expect(coverage.missing.map((r) => r.transition.key)).toEqual([]);
  expect(coverage.percent).toBe(100);
});
