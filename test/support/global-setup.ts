/**
 * Runs once around the whole test run (vitest `globalSetup`): says loudly,
 * at the start and again at the end, which suites are skipped because
 * a broker (mosquitto, redis-server, ejabberd, RabbitMQ) is not installed — or, with
 * COURIER_REQUIRE_BROKERS=1 (as `.ci/run` sets), fails the run instead.
 */

import { APT_PACKAGE, brokersRequired, missingBinaries, skipBanner } from "./requirements.js";

export default function setup(): (() => void) | undefined {
  const missing = missingBinaries();
  if (missing.length === 0) return undefined;
  if (brokersRequired()) {
    throw new Error(
      `COURIER_REQUIRE_BROKERS=1 but ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not on PATH: apt-get install -y ${missing.map((b) => APT_PACKAGE[b]).join(" ")}`,
    );
  }
  console.warn(skipBanner(missing));
  return () => console.warn(skipBanner(missing));
}
