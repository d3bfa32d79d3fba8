import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url));

/**
 * `npm run test:e2e`: the browser suite, in Debian Chromium (test/e2e). Its
 * own run, one file at a time: browser timing is kept apart from the rest
 * of the suite on a small machine. .ci/run runs it after `npm test` and
 * counts both JSON reports in its closing line.
 */
export default defineConfig({
  resolve: {
    alias: [{ find: /^@armaanjain\/courier-web-sdk$/, replacement: src("index.ts") }],
  },
  test: {
    include: ["test/e2e/**/*.test.ts"],
    globalSetup: ["test/e2e/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default", ["json", { outputFile: ".vitest-e2e-results.json" }]],
  },
});
