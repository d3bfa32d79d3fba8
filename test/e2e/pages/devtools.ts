/**
 * devtools.html: the same app with `@statelyai/inspect`'s browser inspector
 * passed as `inspect`, as docs/browser.md shows. The inspector window is
 * receiver.html in an iframe on this origin instead of stately.ai (no
 * external host): it gets every event exactly as the inspector posts it
 * (serialized, then `postMessage`'s structured clone).
 */

import { createBrowserInspector } from "@statelyai/inspect";
import { createE2EPage } from "./client.js";

const iframe = document.createElement("iframe");
iframe.id = "inspector";
iframe.title = "inspector";
document.body.append(iframe);
const inspector = createBrowserInspector({ iframe, url: "/receiver.html" });

window.e2e = createE2EPage(inspector.inspect);
