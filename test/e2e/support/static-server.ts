/**
 * Serves the pages on 127.0.0.1: the Vite build at `/`, the no-bundler page
 * at `/esm/`, and for that page the package's `dist/` and the browser builds
 * of its two dependencies (what an import map points at).
 */

import {
  type ExampleServer,
  PACKAGE_MOUNTS,
  serveMounts,
} from "../../../examples/support/serve.js";
import { ROOT } from "./bundle.js";

export type StaticServer = ExampleServer;

export function startStaticServer(buildDir: string): Promise<StaticServer> {
  return serveMounts([
    ["/esm/", `${ROOT}test/e2e/pages/esm/`],
    ...PACKAGE_MOUNTS,
    ["/", `${buildDir}/`],
  ]);
}
