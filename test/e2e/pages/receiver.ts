/** receiver.html: stands in for the Stately inspector window; keeps what it is posted. */

import { createBrowserReceiver } from "@statelyai/inspect";

declare global {
  interface Window {
    received: unknown[];
  }
}

window.received = [];
createBrowserReceiver().subscribe((event) => {
  window.received.push(event);
});
