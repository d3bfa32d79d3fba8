/**
 * Writing and reading MQTT 5 AUTH packets (§3.15) on an mqtt.js 5.16 client.
 *
 * Why this touches mqtt.js internals: mqtt.js has no public call that writes
 * an AUTH packet (a pull request proposing one, mqttjs/MQTT.js#2057, is not
 * merged), yet re-authentication (§4.12.1: AUTH 0x19 Re-authenticate on a
 * live connection) needs exactly that. Two members of `MqttClient` are used,
 * and nothing else:
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
 * `authInternalsPresent()` says whether both are still there; the test
 * `test/brokers/mqtt-internals-auth.test.ts` fails the day mqtt.js changes.
 */

import type { MqttClient, Packet } from "mqtt";

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
