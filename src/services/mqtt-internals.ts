/**
 * The one place that reaches past mqtt.js's public API. Nothing else in the
 * SDK may touch an mqtt.js private member; whatever needs one adds it here.
 *
 * Why: a broker may write a QoS 1 PUBLISH before its CONNACK (that breaks
 * MQTT-3.2.0-1, and aedes 1.2 does it when a live message reaches a
 * persistent session it is still restoring). mqtt.js 5 asks `handleMessage`
 * before it acknowledges a PUBLISH, and before the CONNACK it could only
 * queue that PUBACK: it then reads no further packet until the PUBACK is
 * written, so the CONNACK behind it would never be read. The adapter makes
 * `handleMessage` tell mqtt.js to skip its PUBACK and writes the PUBACK
 * itself after the CONNACK, through mqtt.js's private packet writer
 * `_sendPacket`.
 *
 * The day mqtt.js renames or reshapes these, the test of the early PUBLISH
 * (a QoS 1 one must be acknowledged after the CONNACK, on the same
 * connection) and the check that these members exist both fail.
 */

import type { IPublishPacket, MqttClient } from "mqtt";

/** Passed to `handleMessage`'s callback so that mqtt.js skips its own PUBACK. */
const ACK_LATER = /* @__PURE__ */ new Error("PUBACK deferred until CONNACK");

/** The members of an mqtt.js client used here. */
interface Internals {
  handleMessage(packet: IPublishPacket, callback: (error?: Error) => void): void;
  _sendPacket(packet: { cmd: "puback"; messageId: number }): void;
}

/**
 * From now on, mqtt.js sends no PUBACK for a PUBLISH `ackLater(packet)`
 * holds true of: the caller sends it with `sendPuback` when it can.
 */
export function deferPubacks(client: MqttClient, ackLater: (packet: IPublishPacket) => boolean) {
  (client as unknown as Internals).handleMessage = (packet, callback) =>
    callback(ackLater(packet) ? ACK_LATER : undefined);
}

/** Writes the PUBACK for `messageId` (one `deferPubacks` held back). */
export function sendPuback(client: MqttClient, messageId: number): void {
  (client as unknown as Internals)._sendPacket({ cmd: "puback", messageId });
}

/** True if this mqtt.js has the members used here (checked by the SDK's tests). */
export function hasInternals(client: MqttClient): boolean {
  const internals = client as unknown as Partial<Record<keyof Internals, unknown>>;
  return (
    typeof internals.handleMessage === "function" && typeof internals._sendPacket === "function"
  );
}
