/**
 * Pay for what you import (docs/benchmarks.md, "Tree-shaking"): an app that
 * imports only `RemoteCredentials`, only the error classes or only types
 * from the package's main entry — the way the published Authentication page
 * imports `RemoteCredentials` — bundles without mqtt.js and xstate, and
 * `RemoteCredentials` alone stays within 3 KB min + gzip. The apps are
 * bundled by esbuild from the built package (`dist/`, through package.json
 * `exports`; built first when older than `src/`), exactly as `npm run size`
 * reports them (bench/tree-shaking.ts).
 */

import { beforeAll, describe, expect, test } from "vitest";
import { ensureDist } from "../../bench/support/dist.js";
import { type AppReport, measureApps, TARGETS } from "../../bench/tree-shaking.js";

let apps: AppReport[] = [];

beforeAll(async () => {
  console.log(`tree-shaking: ${ensureDist()}`);
  apps = await measureApps();
}, 120_000);

function app(name: string): AppReport {
  const found = apps.find((a) => a.name.startsWith(name));
  if (!found) throw new Error(`no app "${name}" was bundled`);
  return found;
}

describe("tree-shaking of the package's main entry", () => {
  test("the detector sees mqtt.js and xstate where they are: in an app that constructs a client", () => {
    const whole = app("the whole client");
    expect(whole.hasMqtt).toBe(true);
    expect(whole.hasXstate).toBe(true);
  });

  test(`RemoteCredentials alone: neither mqtt.js nor xstate, at most ${TARGETS.remoteCredentialsGzip} bytes min + gzip`, () => {
    const credentials = app("RemoteCredentials only");
    expect({ mqtt: credentials.hasMqtt, xstate: credentials.hasXstate }).toEqual({
      mqtt: false,
      xstate: false,
    });
    expect(credentials.gzip).toBeLessThanOrEqual(TARGETS.remoteCredentialsGzip);
  });

  test("the error classes alone: neither mqtt.js nor xstate", () => {
    const errors = app("error classes only");
    expect({ mqtt: errors.hasMqtt, xstate: errors.hasXstate }).toEqual({
      mqtt: false,
      xstate: false,
    });
  });

  test("types only: no code from the package at all", () => {
    const types = app("types only");
    expect({ mqtt: types.hasMqtt, xstate: types.hasXstate }).toEqual({
      mqtt: false,
      xstate: false,
    });
    // The app's own few statements; nothing of the SDK (its smallest class is far larger).
    expect(types.gzip).toBeLessThan(200);
  });
});
