import { describe, expect, it } from "vitest";
import { formatLine } from "../../src/services/debug-format.js";
import { DEBUG_SINK, debugLine, loadDebugFormat, mqttLog } from "../../src/services/mqtt-log.js";
import { SecretList } from "../../src/services/redact.js";

const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";

describe("mqttLog before its formatter is loaded", () => {
  it("holds the lines, in order with the SDK's own, and writes them redacted once it is in", async () => {
    const lines: string[] = [];
    const sink = { write: (l: string) => lines.push(l), secrets: undefined };
    mqttLog.call({ options: { [DEBUG_SINK]: sink } }, "options.password %s", "hunter2-secret");
    debugLine(sink, "state idle → connecting");
    mqttLog.call({ options: { [DEBUG_SINK]: sink } }, "token %s", JWT);
    expect(lines).toEqual([]);
    await loadDebugFormat();
    expect(lines).toEqual([
      "mqtt.js options.password [redacted]",
      "state idle → connecting",
      "mqtt.js token [redacted]",
    ]);
    debugLine(sink, "state connecting → connected");
    expect(lines.at(-1)).toBe("state connecting → connected");
  });
});

describe("formatLine: mqtt.js's log lines, redacted", () => {
  it("fills %s %d %o %O and appends extra arguments", () => {
    expect(formatLine(["a %s b %d", "x", 3], undefined)).toBe("a x b 3");
    expect(formatLine(["version:", "5.16.0"], undefined)).toBe("version: 5.16.0");
    expect(formatLine(["packet: %O", { cmd: "pingreq" }], undefined)).toBe(
      'packet: {"cmd":"pingreq"}',
    );
    expect(formatLine(["100%% done"], undefined)).toBe("100% done");
  });

  it("blanks credentials by field, by the word before them, by value and by shape", () => {
    const secrets = new SecretList();
    secrets.add("a-long-password-value");
    const connect = {
      cmd: "connect",
      username: "alice",
      password: Buffer.from("pw"),
      properties: { authenticationData: Buffer.from("secret") },
    };
    const line = formatLine(["_writePacket :: packet: %O", connect], secrets);
    expect(line).toBe(
      '_writePacket :: packet: {"cmd":"connect","username":"[redacted]","password":"[redacted]","properties":{"authenticationData":"[redacted]"}}',
    );
    expect(formatLine(["MqttClient :: options.username", "alice"], secrets)).toBe(
      "MqttClient :: options.username [redacted]",
    );
    expect(formatLine(["url %s", "ws://h/mqtt?x=a-long-password-value"], secrets)).toBe(
      "url [redacted]",
    );
    expect(formatLine([`token in text ${JWT} here`], undefined)).toBe(
      "token in text [redacted] here",
    );
    expect(
      formatLine(["publish %o", { cmd: "publish", payload: Buffer.from("hello") }], secrets),
    ).toBe('publish {"cmd":"publish","payload":"[5 bytes]"}');
  });

  it("mqttLog writes only to the sink of the client that logs, and survives a throwing sink", async () => {
    await loadDebugFormat();
    const lines: string[] = [];
    const withSink = {
      options: { [DEBUG_SINK]: { write: (l: string) => lines.push(l), secrets: undefined } },
    };
    mqttLog.call(withSink, "hello %s", "world");
    mqttLog.call({ options: {} }, "nobody hears this");
    mqttLog.call(undefined, "nor this");
    const throwing = {
      options: {
        [DEBUG_SINK]: {
          write: () => {
            throw new Error("bug");
          },
          secrets: undefined,
        },
      },
    };
    expect(() => mqttLog.call(throwing, "x")).not.toThrow();
    expect(lines).toEqual(["mqtt.js hello world"]);
  });
});
