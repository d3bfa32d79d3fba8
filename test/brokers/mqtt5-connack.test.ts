/**
 * MQTT 5 CONNACK refusals that take the auth path (DESIGN.md behaviour 1),
 * against a real mosquitto. mosquitto 2.0.11 sends 0x87 for a bad password
 * and 0x8C for an Authentication Method it has no plugin for; it never sends
 * 0x86, which comes from `FaultProxy` (a CONNACK generated with mqtt-packet,
 * instead of forwarding the CONNECT).
 */

import {
  type ConnectionRefusedError,
  NotAuthorizedError,
  RetriesExhaustedError,
} from "@armaanjain/courier-web-sdk";
import { describe, expect, test } from "vitest";
import { hasBinary } from "../support/requirements.js";
import { recordStates } from "../support/wait.js";
import { useMqtt5Setup, V5 } from "./mqtt5-setup.js";

describe.skipIf(!hasBinary("mosquitto"))("MQTT 5 CONNACK codes on mosquitto", () => {
  const f = useMqtt5Setup();

  test("0x87 not authorized — mosquitto's answer to a bad password: refresh, reconnect, connected", async () => {
    const provider = f.renewing("good");
    const c = f.client({
      id: f.nextId("connack87"),
      port: f.mosquitto.tcpPort,
      password: "expired",
      onAuthFailure: provider.onAuthFailure,
      refreshWaitSeconds: 0.05,
    });
    const { states } = recordStates(c);
    await c.connect();
    expect(await f.mosquitto.refusalCodes()).toEqual([0x87]);
    expect(states.slice(0, 4)).toEqual(["connecting", "authFailed", "refreshing", "waiting"]);
    expect(provider.calls).toBe(1);
  });

  test("0x87 without onAuthFailure: failed with NotAuthorizedError carrying 0x87", async () => {
    const c = f.client({
      id: f.nextId("noprovider"),
      port: f.mosquitto.tcpPort,
      password: "expired",
    });
    const error = await c.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotAuthorizedError);
    expect((error as NotAuthorizedError).reasonCode).toBe(0x87);
    expect(c.state).toBe("failed");
  });

  test("0x8C bad authentication method — mosquitto refuses a method it has no plugin for: auth path, provider asked, then retries run out", async () => {
    // A provider returns an Endpoint; it cannot change the CONNECT's Authentication
    // Method, so every reconnection is refused again and the auth retries run out.
    const provider = f.renewing("good");
    const c = f.client({
      id: f.nextId("connack8c"),
      port: f.mosquitto.tcpPort,
      onAuthFailure: provider.onAuthFailure,
      refreshWaitSeconds: 0.05,
      retryBackoff: { baseSeconds: 0.05, maxRetries: 1 },
      mqtt: { ...V5, properties: { authenticationMethod: "X-COURIER-UNSUPPORTED" } },
    });
    const { states } = recordStates(c);
    const error = await c.connect().catch((e: unknown) => e);
    expect(await f.mosquitto.refusalCodes()).toEqual([0x8c, 0x8c, 0x8c]);
    expect(states.slice(0, 3)).toEqual(["connecting", "authFailed", "refreshing"]);
    expect(states).toContain("authBackoff");
    expect(states).not.toContain("backoff");
    expect(provider.calls).toBe(2);
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect(((error as Error).cause as ConnectionRefusedError).reasonCode).toBe(0x8c);
  });

  test("0x86 bad user name or password (from the proxy): refresh, and the next CONNECT reaches mosquitto and is accepted", async () => {
    const id = f.nextId("connack86");
    const provider = f.renewing("rotated");
    const c = f.client({ id, onAuthFailure: provider.onAuthFailure, refreshWaitSeconds: 0.05 });
    f.proxy.refuseNextConnect(0x86);
    const { states } = recordStates(c);
    await c.connect();
    expect(f.proxy.connects.map((x) => x.forwarded)).toEqual([false, true]);
    expect(await f.mosquitto.connectsOf(id)).toHaveLength(1);
    expect(states).toEqual([
      "connecting",
      "authFailed",
      "refreshing",
      "waiting",
      "reconnecting",
      "restoring",
      "connected",
    ]);
    expect(provider.calls).toBe(1);
  });
});
