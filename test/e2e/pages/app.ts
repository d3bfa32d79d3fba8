/** index.html: the SDK alone, as an app bundles it. */

import { createE2EPage } from "./client.js";

window.e2e = createE2EPage();
