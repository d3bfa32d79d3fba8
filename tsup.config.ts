import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", machine: "src/machine.ts", react: "src/react/index.ts" },
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "es2022",
  platform: "neutral",
  // The React entry imports the main one by name, so an app gets one copy of the client.
  external: ["mqtt", "xstate", "react", "@armaanjain/courier-web-sdk"],
});
