import { defineConfig, type Options } from "tsup";

/** The package's entry points (package.json `exports`). */
const PUBLIC_ENTRIES = {
  index: "src/index.ts",
  machine: "src/machine.ts",
  react: "src/react/index.ts",
};

const shared: Options = {
  sourcemap: true,
  target: "es2022",
  platform: "neutral",
  // The React entry imports the main one by name, so an app gets one copy of the client.
  external: ["mqtt", "xstate", "react", "@armaanjain/courier-web-sdk"],
};

export default defineConfig([
  {
    ...shared,
    format: ["esm"],
    clean: true,
    // Pay for what you import: the parts an app may import without the client get
    // modules of their own (esbuild's code splitting gives each group of entries that
    // reaches a module its own chunk), and `sideEffects: false` lets the app's bundler
    // drop every chunk it does not use. The extra entries are not in `exports`.
    entry: {
      ...PUBLIC_ENTRIES,
      "parts/errors": "src/errors.ts",
      "parts/remote-credentials": "src/services/remote-credentials.ts",
      "parts/backoff": "src/services/backoff.ts",
      "parts/defaults": "src/defaults.ts",
    },
    splitting: true,
    dts: { entry: PUBLIC_ENTRIES },
  },
  {
    ...shared,
    format: ["cjs"],
    entry: PUBLIC_ENTRIES,
    // `require` users keep `require`: mqtt.js is loaded with it (inside a promise)
    // rather than with `import()`, which some CommonJS runtimes and test runners refuse.
    esbuildOptions(options) {
      options.supported = { ...options.supported, "dynamic-import": false };
    },
    dts: { entry: PUBLIC_ENTRIES },
  },
]);
