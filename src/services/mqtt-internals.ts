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
 *
 * MQTT 5 AUTH packets (§3.15), the second use: mqtt.js has no public call
 * that writes an AUTH packet (a pull request proposing one,
 * mqttjs/MQTT.js#2057, is not merged), yet re-authentication (§4.12.1: AUTH
 * 0x19 Re-authenticate on a live connection) needs exactly that. Two members
 * of `MqttClient` are used:
 *
 * - `_sendPacket(packet, cb)` (private in mqtt.js's typings): on a connected
 *   client it hands an `auth` packet straight to the stream writer (the
 *   `default` branch of its switch; it emits `packetsend` on the way), and
 *   while not connected it writes `auth` packets too (the enhanced
 *   authentication exchange before CONNACK) instead of storing them.
 * - `handleAuth(packet, callback)` (public in the typings, a no-op by
 *   default): mqtt.js calls it for every AUTH the broker sends, after it has
 *   checked that the packet is MQTT 5 and carries the Authentication Method
 *   of the CONNECT (else it closes with 0x82 Protocol Error). For reason code
 *   0x18 Continue it writes the packet given to `callback`; for 0x00 Success
 *   it does nothing more; an error given to `callback` closes the connection
 *   and is emitted as `error`. Every packet also surfaces as `packetreceive`.
 *
 * `authInternalsPresent()` says whether both are still there; the SDK's
 * tests of AUTH against a re-authenticating broker fail the day mqtt.js
 * changes.
 */

import type { IPublishPacket, MqttClient, Packet } from "mqtt";

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

/** An MQTT 5 AUTH packet as mqtt.js (mqtt-packet) represents it. */
export type AuthPacket = Extract<Packet, { cmd: "auth" }>;

/** AUTH reason codes (MQTT 5 §3.15.2.1). */
export const AuthReasonCode = {
  success: 0x00,
  continueAuthentication: 0x18,
  reauthenticate: 0x19,
} as const;

export interface OutgoingAuth {
  /** 0x19 to start a re-authentication, 0x18 to answer a broker's 0x18. */
  readonly reasonCode:
    | typeof AuthReasonCode.continueAuthentication
    | typeof AuthReasonCode.reauthenticate;
  /** Must be the Authentication Method of the CONNECT (§4.12.1). */
  readonly method: string;
  readonly data?: Uint8Array;
  readonly reasonString?: string;
}

interface AuthInternals {
  _sendPacket(packet: AuthPacket, callback?: (error?: Error) => void): void;
  handleAuth(packet: AuthPacket, callback: (error?: Error, packet?: AuthPacket) => void): void;
}

function internals(client: MqttClient): AuthInternals {
  return client as unknown as AuthInternals;
}

/** Whether this mqtt.js still has the two members this file relies on. */
export function authInternalsPresent(client: MqttClient): boolean {
  const c = internals(client);
  return typeof c._sendPacket === "function" && typeof c.handleAuth === "function";
}

function requireInternals(client: MqttClient): AuthInternals {
  if (!authInternalsPresent(client)) {
    throw new Error(
      "this mqtt.js version has no MqttClient._sendPacket/handleAuth: MQTT 5 AUTH cannot be sent",
    );
  }
  return internals(client);
}

function authPacket(auth: OutgoingAuth): AuthPacket {
  const properties: NonNullable<AuthPacket["properties"]> = { authenticationMethod: auth.method };
  // mqtt-packet writes any Uint8Array (Buffer.byteLength, stream.write); no copy into a Buffer,
  // which browsers do not have globally.
  if (auth.data !== undefined) properties.authenticationData = auth.data as Buffer;
  if (auth.reasonString !== undefined) properties.reasonString = auth.reasonString;
  return { cmd: "auth", reasonCode: auth.reasonCode, properties };
}

/**
 * Writes an AUTH packet on a connected MQTT 5 client. Returns once it is
 * handed to the socket; the broker's answer (AUTH 0x00 / 0x18, or a
 * DISCONNECT) comes through {@link onAuthPacket} and mqtt.js's events, so a
 * caller bounds its wait for it. Throws when not connected (§4.12.1: a
 * re-authentication happens on a live connection) or not MQTT 5.
 */
export function sendAuth(client: MqttClient, auth: OutgoingAuth): void {
  const c = requireInternals(client);
  if (client.options.protocolVersion !== 5) throw new Error("AUTH packets exist only in MQTT 5");
  if (!client.connected) throw new Error("AUTH can be sent only on a connected client");
  c._sendPacket(authPacket(auth));
}

/**
 * What to do with an AUTH from the broker: for 0x18 Continue, return the
 * Authentication Data of the client's 0x18 answer; for 0x00 Success the
 * result is ignored. Throwing (or rejecting) ends the connection: mqtt.js
 * closes it and emits the error as `error`.
 */
export type AuthPacketHandler = (
  packet: AuthPacket,
) => Uint8Array | undefined | Promise<Uint8Array | undefined>;

/**
 * Routes every AUTH the broker sends on `client` to `handler` (replacing
 * mqtt.js's no-op `handleAuth`), during the CONNECT exchange and on a live
 * connection alike. Returns the removal, which puts the previous one back.
 */
export function onAuthPacket(client: MqttClient, handler: AuthPacketHandler): () => void {
  const c = requireInternals(client);
  const previous = Object.hasOwn(c, "handleAuth") ? c.handleAuth : undefined;
  c.handleAuth = (packet, callback) => {
    Promise.resolve()
      .then(() => handler(packet))
      .then(
        (data) => {
          if (packet.reasonCode !== AuthReasonCode.continueAuthentication) return callback();
          const method = packet.properties?.authenticationMethod ?? "";
          callback(
            undefined,
            authPacket({ reasonCode: AuthReasonCode.continueAuthentication, method, data }),
          );
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
  };
  return () => {
    if (previous) c.handleAuth = previous;
    else delete (c as Partial<AuthInternals>).handleAuth;
  };
}
