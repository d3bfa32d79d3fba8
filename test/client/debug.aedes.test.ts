/**
 * `DEBUG=mqttjs*` used to print the CONNECT packet, password included, on
 * every connection. mqtt.js now logs through the SDK's redacting logger: a
 * real client in a child process, run with `DEBUG=mqttjs*` and the `debug`
 * option, connects to aedes with a JWT; the JWT appears nowhere in its
 * output, and the debug lines still show the CONNECT and CONNACK.
 */

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { RealtimeClient } from "@armaanjain/courier-web-sdk";
import { afterEach, expect, test } from "vitest";
import { TestBroker } from "../support/broker.js";

const run = promisify(execFile);
// A JWT-shaped token (header.payload.signature); the broker takes it as the password.
const JWT =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6NDEwMjQ0NDgwMH0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";
const USER = "alice-user-name";

let broker: TestBroker;
afterEach(async () => broker?.close());

test("DEBUG=mqttjs* and the debug option: no JWT anywhere, CONNECT and CONNACK lines shown", {
  timeout: 60_000,
}, async () => {
  broker = await TestBroker.start({
    authenticate: (_u, password) => (password === JWT ? true : 5),
  });
  const fixture = fileURLToPath(new URL("./fixtures/debug-connect.ts", import.meta.url));
  const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", fixture], {
    env: {
      ...process.env,
      DEBUG: "mqttjs*",
      DEBUG_COLORS: "0",
      BROKER_PORT: String(broker.tcpPort),
      BROKER_USER: USER,
      BROKER_JWT: JWT,
    },
    timeout: 50_000,
  });
  expect(broker.connects.filter((c) => c.accepted)).toHaveLength(1);
  const output = `${stdout}\n${stderr}`;
  expect(output).not.toContain(JWT);
  // Not even a part of it (the signature alone, the payload alone).
  for (const part of JWT.split(".")) expect(output).not.toContain(part);
  expect(output).not.toContain(USER);
  // mqtt.js's transport lines still go to DEBUG (stderr): the namespaces are on.
  expect(stderr).toContain("mqttjs");
  // The redacted lines are useful: the CONNECT written, the CONNACK handled, states.
  const lines = stdout.split("\n");
  expect(lines.some((l) => l.includes('"cmd":"connect"') && l.includes("[redacted]"))).toBe(true);
  expect(lines.some((l) => /connack/i.test(l))).toBe(true);
  expect(lines).toContain("state idle → connecting");
  expect(lines.some((l) => l.startsWith("state ") && l.endsWith("→ connected"))).toBe(true);
});

test("the debug option in-process: redacted lines, a throwing listener does not break the client", async () => {
  broker = await TestBroker.start({
    authenticate: (_u, password) => (password === JWT ? true : 5),
  });
  const lines: string[] = [];
  let calls = 0;
  const client = new RealtimeClient({
    endpoint: { host: "127.0.0.1", port: broker.tcpPort, username: USER, password: JWT },
    debug: (line) => {
      calls += 1;
      if (calls === 3) throw new Error("a listener's bug");
      lines.push(line);
    },
  });
  await client.connect();
  await client.publish("t", "payload-text-secret", { qos: 1 });
  await client.disconnect();
  const all = lines.join("\n");
  expect(all).not.toContain(JWT);
  expect(all).not.toContain(USER);
  expect(all).toMatch(/"cmd":"connect"/);
  expect(all).toMatch(/"cmd":"publish"/);
});
