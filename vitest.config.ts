import { fileURLToPath } from "node:url";
import { configDefaults, defineConfig } from "vitest/config";

const src = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@armaanjain\/courier-web-sdk\/machine$/, replacement: src("machine.ts") },
      { find: /^@armaanjain\/courier-web-sdk\/react$/, replacement: src("react/index.ts") },
      { find: /^@armaanjain\/courier-web-sdk$/, replacement: src("index.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    // The Chromium suite runs on its own: `npm run test:e2e` (vitest.e2e.config.ts).
    exclude: [...configDefaults.exclude, "test/e2e/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Names the suites skipped when mosquitto or redis-server is missing (fails under
    // COURIER_REQUIRE_BROKERS=1).
    globalSetup: ["test/support/global-setup.ts"],
    // The JSON results feed the closing "N passed, M failed" line .ci/run prints.
    reporters: ["default", ["json", { outputFile: ".vitest-results.json" }]],
  },
});
