/**
 * Runs once around the whole test run (vitest `globalSetup`): says loudly,
 * at the start and again at the end, which suites are skipped because
 * a broker (mosquitto, redis-server, ejabberd, RabbitMQ) is not installed (or the JWT plugin
 * cannot be built) — or, with COURIER_REQUIRE_BROKERS=1 (as `.ci/run` sets), fails the run instead.
 */

import {
  APT_PACKAGE,
  brokersRequired,
  missingBinaries,
  skipBanner,
  whereNot,
} from "./requirements.js";

export default function setup(): (() => void) | undefined {
  const missing = missingBinaries();
  if (missing.length === 0) return undefined;
  if (brokersRequired()) {
    throw new Error(
      `COURIER_REQUIRE_BROKERS=1 but ${missing.map((b) => `${b} is ${whereNot(b)}`).join(" and ")}: apt-get install -y ${missing.map((m) => APT_PACKAGE[m]).join(" ")}`,
    );
  }
  console.warn(skipBanner(missing));
  return () => console.warn(skipBanner(missing));
}
