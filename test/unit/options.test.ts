import { describe, expect, it } from "vitest";
import {
  machineInput,
  type RealtimeClientOptions,
  resolveOptions,
} from "../../src/client/options.js";
import { InvalidOptionsError } from "../../src/errors.js";
import { mqttLog } from "../../src/services/mqtt-log.js";

const PASSWORD = "p4ssw0rd-must-not-leak";
const endpoint = { host: "broker.example.com", port: 8883, username: "u", password: PASSWORD };

/** Runs `fn`, expects an `InvalidOptionsError`, returns it. */
function invalid(fn: () => unknown): InvalidOptionsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionsError);
    return error as InvalidOptionsError;
  }
  throw new Error("expected an InvalidOptionsError, nothing was thrown");
}

/** Options with `extra` merged over a valid base; `extra` may be wrong on purpose. */
const withOptions = (extra: Record<string, unknown>) =>
  ({ endpoint, ...extra }) as unknown as RealtimeClientOptions;

describe("resolveOptions defaults", () => {
  const resolved = resolveOptions({ endpoint });

  it("backoff: base 1 s, ceil 60 s, jitter none, maxRetries Infinity", () => {
    expect(resolved.retry).toEqual({
      baseSeconds: 1,
      ceilSeconds: 60,
      jitter: "none",
      maxRetries: Number.POSITIVE_INFINITY,
    });
  });

  it("timing: refresh wait 2000 ms, close 5000 ms, 30 s timeouts, stable after 10 s", () => {
    expect(resolved.timing).toEqual({
      refreshWaitMs: 2_000,
      connectTimeoutMs: 30_000,
      restoreTimeoutMs: 30_000,
      refreshTimeoutMs: 30_000,
      closeTimeoutMs: 5_000,
      stableAfterMs: 10_000,
      probeTimeoutMs: 5000,
      reauthTimeoutMs: 10_000,
    });
  });

  it("offline queue: 1000 messages, 4 MiB, QoS 0 queued, reject new on overflow", () => {
    expect(resolved.outbox).toEqual({
      maxMessages: 1_000,
      maxBytes: 4 * 1024 * 1024,
      qos0: "queue",
      overflow: "rejectNew",
    });
  });

  it("subscribe batch 100, no handler, no inspector, no mqtt options", () => {
    expect(resolved.subscribeBatchSize).toBe(100);
    expect(resolved.onAuthFailure).toBeUndefined();
    expect(resolved.inspect).toBeUndefined();
    // Only the SDK's shared logger, which keeps mqtt.js's CONNECT lines (and passwords) out of DEBUG output.
    expect(resolved.mqtt).toEqual({ log: expect.any(Function) });
    expect(resolved.mqtt.log).not.toBe(mqttLog);
  });

  it("endpoint: defaults applied, random courier_ client id, password sealed", () => {
    expect(resolved.endpoints[0]).toMatchObject({
      host: "broker.example.com",
      port: 8883,
      scheme: "mqtt",
      path: "/mqtt",
      username: "u",
    });
    expect(resolved.endpoints[0]?.clientId).toMatch(/^courier_[a-z0-9]{15}$/);
    expect(resolved.endpoints[0]?.password?.reveal()).toBe(PASSWORD);
    expect(JSON.stringify(resolved)).not.toContain(PASSWORD);
  });

  it("draws a new client id per client", () => {
    expect(resolveOptions({ endpoint }).endpoints[0]?.clientId).not.toBe(
      resolved.endpoints[0]?.clientId,
    );
  });
});

describe("resolveOptions keeps valid values", () => {
  it("a full set of options", () => {
    const onAuthFailure = async () => endpoint;
    const inspect = () => {};
    const resolved = resolveOptions({
      endpoint: { ...endpoint, clientId: "fixed" },
      onAuthFailure,
      retryBackoff: {
        baseSeconds: 0.5,
        ceilSeconds: 30,
        jitter: "decorrelated",
        resetAfterSeconds: 0,
        maxRetries: 7,
      },
      refreshWaitSeconds: 0,
      timeouts: { connectSeconds: 1, restoreSeconds: 2, refreshSeconds: 3, closeSeconds: 0.25 },
      offlineQueue: { maxMessages: 5, maxBytes: 100, qos0: "reject", overflow: "dropOldest" },
      subscribeBatchSize: 7,
      inspect,
      mqtt: { keepalive: 15, protocolVersion: 5 },
    });
    expect(resolved.endpoints[0]?.clientId).toBe("fixed");
    expect(resolved.onAuthFailure).toBe(onAuthFailure);
    expect(resolved.retry).toEqual({
      baseSeconds: 0.5,
      ceilSeconds: 30,
      jitter: "decorrelated",
      maxRetries: 7,
    });
    expect(resolved.timing).toEqual({
      refreshWaitMs: 0,
      connectTimeoutMs: 1_000,
      restoreTimeoutMs: 2_000,
      refreshTimeoutMs: 3_000,
      closeTimeoutMs: 250,
      stableAfterMs: 0,
      probeTimeoutMs: 5000,
      reauthTimeoutMs: 10_000,
    });
    expect(resolved.outbox).toEqual({
      maxMessages: 5,
      maxBytes: 100,
      qos0: "reject",
      overflow: "dropOldest",
    });
    expect(resolved.subscribeBatchSize).toBe(7);
    expect(resolved.inspect).toBe(inspect);
    expect(resolved.mqtt).toEqual({
      keepalive: 15,
      protocolVersion: 5,
      log: expect.any(Function),
    });
  });

  it("a credentials provider object is accepted as onAuthFailure", () => {
    const provider = { getCredentials: async () => endpoint };
    expect(resolveOptions({ endpoint, onAuthFailure: provider }).onAuthFailure).toBe(provider);
  });

  it("an observer object is accepted as inspect", () => {
    const observer = { next: () => {} };
    expect(resolveOptions({ endpoint, inspect: observer }).inspect).toBe(observer);
  });

  it.each([
    [{ baseSeconds: 120 }, 120, 120],
    [{ baseSeconds: 5, ceilSeconds: 5 }, 5, 5],
    [{ ceilSeconds: 10 }, 1, 10],
    [{ baseSeconds: 0.05, ceilSeconds: 1 }, 0.05, 1],
  ])("retryBackoff %j → base %d, ceil %d", (retryBackoff, base, ceil) => {
    const { retry } = resolveOptions({ endpoint, retryBackoff });
    expect(retry.baseSeconds).toBe(base);
    expect(retry.ceilSeconds).toBe(ceil);
  });

  it.each(["none", "full", "equal", "decorrelated"] as const)("jitter %s", (jitter) => {
    expect(resolveOptions({ endpoint, retryBackoff: { jitter } }).retry.jitter).toBe(jitter);
  });

  it("the longest durations a timer holds, and MQTT's own bounds, are accepted", () => {
    const most = 2_147_483.647;
    const resolved = resolveOptions(
      withOptions({
        retryBackoff: { baseSeconds: most, ceilSeconds: most, resetAfterSeconds: most },
        refreshWaitSeconds: most,
        timeouts: { connectSeconds: most, probeSeconds: most },
        mqtt: {
          keepalive: 65_535,
          clean: false,
          protocolVersion: 5,
          properties: {
            sessionExpiryInterval: 4_294_967_295,
            receiveMaximum: 65_535,
            maximumPacketSize: 1,
            topicAliasMaximum: 0,
          },
        },
      }),
    );
    expect(resolved.timing.connectTimeoutMs).toBe(2_147_483_647);
    expect(resolved.retry.ceilSeconds).toBe(most);
    expect(resolveOptions(withOptions({ mqtt: { keepalive: 0 } })).mqtt.keepalive).toBe(0);
  });

  it("Infinity is a valid maxRetries, maxMessages and maxBytes", () => {
    const resolved = resolveOptions({
      endpoint,
      retryBackoff: { maxRetries: Number.POSITIVE_INFINITY },
      offlineQueue: { maxMessages: Number.POSITIVE_INFINITY, maxBytes: Number.POSITIVE_INFINITY },
    });
    expect(resolved.retry.maxRetries).toBe(Number.POSITIVE_INFINITY);
    expect(resolved.outbox.maxMessages).toBe(Number.POSITIVE_INFINITY);
    expect(resolved.outbox.maxBytes).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("resolveOptions rejects each invalid option, naming it", () => {
  it.each<[string, unknown, string]>([
    ["options null", null, "options"],
    ["options a string", "mqtt://x", "options"],
    ["options without endpoint", {}, "endpoint"],
  ])("%s → %s", (_, options, field) => {
    expect(invalid(() => resolveOptions(options as RealtimeClientOptions)).field).toBe(field);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["endpoint port 0", { endpoint: { ...endpoint, port: 0 } }, "endpoint.port"],
    ["endpoint scheme http", { endpoint: { ...endpoint, scheme: "http" } }, "endpoint.scheme"],
    ["endpoint password 123", { endpoint: { ...endpoint, password: 123 } }, "endpoint.password"],
    ["endpoint host empty", { endpoint: { ...endpoint, host: "" } }, "endpoint.host"],
    ["onAuthFailure 42", { onAuthFailure: 42 }, "onAuthFailure"],
    ["onAuthFailure a string", { onAuthFailure: "refresh" }, "onAuthFailure"],
    ["onAuthFailure null", { onAuthFailure: null }, "onAuthFailure"],
    ["onAuthFailure {} (no getCredentials)", { onAuthFailure: {} }, "onAuthFailure"],
    ["retryBackoff not an object", { retryBackoff: 5 }, "retryBackoff"],
    ["retryBackoff an array", { retryBackoff: [] }, "retryBackoff"],
    ["baseSeconds 0", { retryBackoff: { baseSeconds: 0 } }, "retryBackoff.baseSeconds"],
    ["baseSeconds -1", { retryBackoff: { baseSeconds: -1 } }, "retryBackoff.baseSeconds"],
    ["baseSeconds NaN", { retryBackoff: { baseSeconds: Number.NaN } }, "retryBackoff.baseSeconds"],
    [
      "baseSeconds Infinity",
      { retryBackoff: { baseSeconds: Number.POSITIVE_INFINITY } },
      "retryBackoff.baseSeconds",
    ],
    ["baseSeconds a string", { retryBackoff: { baseSeconds: "1" } }, "retryBackoff.baseSeconds"],
    [
      "ceilSeconds below base",
      { retryBackoff: { baseSeconds: 10, ceilSeconds: 5 } },
      "retryBackoff.ceilSeconds",
    ],
    [
      "ceilSeconds below default base",
      { retryBackoff: { ceilSeconds: 0.5 } },
      "retryBackoff.ceilSeconds",
    ],
    ["ceilSeconds 0", { retryBackoff: { ceilSeconds: 0 } }, "retryBackoff.ceilSeconds"],
    ["ceilSeconds NaN", { retryBackoff: { ceilSeconds: Number.NaN } }, "retryBackoff.ceilSeconds"],
    ["jitter weird", { retryBackoff: { jitter: "weird" } }, "retryBackoff.jitter"],
    ["jitter true", { retryBackoff: { jitter: true } }, "retryBackoff.jitter"],
    ["maxRetries 0", { retryBackoff: { maxRetries: 0 } }, "retryBackoff.maxRetries"],
    ["maxRetries 2.5", { retryBackoff: { maxRetries: 2.5 } }, "retryBackoff.maxRetries"],
    ["maxRetries NaN", { retryBackoff: { maxRetries: Number.NaN } }, "retryBackoff.maxRetries"],
    [
      "resetAfterSeconds -1",
      { retryBackoff: { resetAfterSeconds: -1 } },
      "retryBackoff.resetAfterSeconds",
    ],
    ["refreshWaitSeconds -1", { refreshWaitSeconds: -1 }, "refreshWaitSeconds"],
    ["refreshWaitSeconds NaN", { refreshWaitSeconds: Number.NaN }, "refreshWaitSeconds"],
    ["refreshWaitSeconds '2'", { refreshWaitSeconds: "2" }, "refreshWaitSeconds"],
    ["timeouts not an object", { timeouts: 30 }, "timeouts"],
    ["connectSeconds 0", { timeouts: { connectSeconds: 0 } }, "timeouts.connectSeconds"],
    ["restoreSeconds -5", { timeouts: { restoreSeconds: -5 } }, "timeouts.restoreSeconds"],
    [
      "refreshSeconds Infinity",
      { timeouts: { refreshSeconds: Number.POSITIVE_INFINITY } },
      "timeouts.refreshSeconds",
    ],
    ["closeSeconds 0", { timeouts: { closeSeconds: 0 } }, "timeouts.closeSeconds"],
    ["offlineQueue not an object", { offlineQueue: true }, "offlineQueue"],
    ["maxMessages 0", { offlineQueue: { maxMessages: 0 } }, "offlineQueue.maxMessages"],
    ["maxMessages 1.5", { offlineQueue: { maxMessages: 1.5 } }, "offlineQueue.maxMessages"],
    ["maxBytes -1", { offlineQueue: { maxBytes: -1 } }, "offlineQueue.maxBytes"],
    ["qos0 drop", { offlineQueue: { qos0: "drop" } }, "offlineQueue.qos0"],
    ["qos0 0", { offlineQueue: { qos0: 0 } }, "offlineQueue.qos0"],
    ["overflow ignore", { offlineQueue: { overflow: "ignore" } }, "offlineQueue.overflow"],
    ["subscribeBatchSize 0", { subscribeBatchSize: 0 }, "subscribeBatchSize"],
    ["subscribeBatchSize 2.5", { subscribeBatchSize: 2.5 }, "subscribeBatchSize"],
    [
      "subscribeBatchSize Infinity",
      { subscribeBatchSize: Number.POSITIVE_INFINITY },
      "subscribeBatchSize",
    ],
    ["subscribeBatchSize '10'", { subscribeBatchSize: "10" }, "subscribeBatchSize"],
    ["inspect 1", { inspect: 1 }, "inspect"],
    ["inspect a string", { inspect: "devtools" }, "inspect"],
    ["mqtt a string", { mqtt: "keepalive=5" }, "mqtt"],
    ["refreshAhead true", { refreshAhead: true }, "refreshAhead"],
    [
      "refreshAhead.marginSeconds -1",
      { refreshAhead: { marginSeconds: -1 } },
      "refreshAhead.marginSeconds",
    ],
    [
      "refreshAhead.jitterSeconds '5'",
      { refreshAhead: { jitterSeconds: "5" } },
      "refreshAhead.jitterSeconds",
    ],
    // Durations past 2147483647 ms: a timer would fire after 1 ms.
    [
      "baseSeconds 3e6",
      { retryBackoff: { baseSeconds: 3e6, ceilSeconds: 3e6 } },
      "retryBackoff.baseSeconds",
    ],
    ["ceilSeconds 3e6", { retryBackoff: { ceilSeconds: 3e6 } }, "retryBackoff.ceilSeconds"],
    [
      "resetAfterSeconds 3e6",
      { retryBackoff: { resetAfterSeconds: 3e6 } },
      "retryBackoff.resetAfterSeconds",
    ],
    ["refreshWaitSeconds 3e6", { refreshWaitSeconds: 3e6 }, "refreshWaitSeconds"],
    ["connectSeconds 3e6", { timeouts: { connectSeconds: 3e6 } }, "timeouts.connectSeconds"],
    ["restoreSeconds 3e6", { timeouts: { restoreSeconds: 3e6 } }, "timeouts.restoreSeconds"],
    ["refreshSeconds 3e6", { timeouts: { refreshSeconds: 3e6 } }, "timeouts.refreshSeconds"],
    ["closeSeconds 3e6", { timeouts: { closeSeconds: 3e6 } }, "timeouts.closeSeconds"],
    [
      "probeSeconds 2147483.648",
      { timeouts: { probeSeconds: 2_147_483.648 } },
      "timeouts.probeSeconds",
    ],
    // mqtt.js options outside MQTT's ranges.
    ["keepalive -1", { mqtt: { keepalive: -1 } }, "mqtt.keepalive"],
    ["keepalive 65536", { mqtt: { keepalive: 65_536 } }, "mqtt.keepalive"],
    ["keepalive 1.5", { mqtt: { keepalive: 1.5 } }, "mqtt.keepalive"],
    ["keepalive '60'", { mqtt: { keepalive: "60" } }, "mqtt.keepalive"],
    ["protocolVersion 6", { mqtt: { protocolVersion: 6 } }, "mqtt.protocolVersion"],
    ["clean 'false'", { mqtt: { clean: "false" } }, "mqtt.clean"],
    ["properties a number", { mqtt: { protocolVersion: 5, properties: 1 } }, "mqtt.properties"],
    [
      "sessionExpiryInterval -1",
      { mqtt: { protocolVersion: 5, properties: { sessionExpiryInterval: -1 } } },
      "mqtt.properties.sessionExpiryInterval",
    ],
    [
      "sessionExpiryInterval 2^32",
      { mqtt: { protocolVersion: 5, properties: { sessionExpiryInterval: 2 ** 32 } } },
      "mqtt.properties.sessionExpiryInterval",
    ],
    [
      "receiveMaximum 0",
      { mqtt: { protocolVersion: 5, properties: { receiveMaximum: 0 } } },
      "mqtt.properties.receiveMaximum",
    ],
    [
      "receiveMaximum 65536",
      { mqtt: { protocolVersion: 5, properties: { receiveMaximum: 65_536 } } },
      "mqtt.properties.receiveMaximum",
    ],
    [
      "maximumPacketSize 0",
      { mqtt: { protocolVersion: 5, properties: { maximumPacketSize: 0 } } },
      "mqtt.properties.maximumPacketSize",
    ],
    [
      "topicAliasMaximum -1",
      { mqtt: { protocolVersion: 5, properties: { topicAliasMaximum: -1 } } },
      "mqtt.properties.topicAliasMaximum",
    ],
  ])("%s → %s", (_, extra, field) => {
    const error = invalid(() => resolveOptions(withOptions(extra)));
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
    expect(error.code).toBe("INVALID_OPTIONS");
    // The endpoint carries a password in every case: it must not reach the message.
    expect(error.message).not.toContain(PASSWORD);
    expect(String(error.stack)).not.toContain(PASSWORD);
  });
});

describe("resolveOptions refuses unknown keys, naming them and the nearest known one", () => {
  it.each<[string, Record<string, unknown>, string, string | undefined]>([
    ["a retry typo", { retry: { baseSeconds: 5 } }, "retry", "retryBackoff"],
    ["retryBackof", { retryBackof: {} }, "retryBackof", "retryBackoff"],
    ["onAuthFaliure", { onAuthFaliure: () => ({}) }, "onAuthFaliure", "onAuthFailure"],
    ["something unrelated", { colour: "red" }, "colour", undefined],
    ["retryBackoff.base", { retryBackoff: { base: 1 } }, "retryBackoff.base", "baseSeconds"],
    [
      "retryBackoff.maxRetry",
      { retryBackoff: { maxRetry: 3 } },
      "retryBackoff.maxRetry",
      "maxRetries",
    ],
    ["timeouts.connect", { timeouts: { connect: 5 } }, "timeouts.connect", "connectSeconds"],
    [
      "timeouts.connectTimeout",
      { timeouts: { connectTimeout: 5 } },
      "timeouts.connectTimeout",
      undefined,
    ],
    [
      "offlineQueue.maxMessage",
      { offlineQueue: { maxMessage: 5 } },
      "offlineQueue.maxMessage",
      "maxMessages",
    ],
    [
      "refreshAhead.margin",
      { refreshAhead: { margin: 5 } },
      "refreshAhead.margin",
      "marginSeconds",
    ],
  ])("%s", (_, extra, field, guess) => {
    const error = invalid(() => resolveOptions(withOptions(extra)));
    expect(error.field).toBe(field);
    expect(error.message).toContain("unknown option");
    if (guess)
      expect(error.message).toContain(
        `did you mean ${field.includes(".") ? `${field.split(".")[0]}.` : ""}${guess}?`,
      );
    else expect(error.message).not.toContain("did you mean");
    expect(error.message).not.toContain(PASSWORD);
  });

  it("every documented option is known", () => {
    expect(() =>
      resolveOptions(
        withOptions({
          onAuthFailure: () => ({ password: "x" }),
          retryBackoff: {
            baseSeconds: 1,
            ceilSeconds: 2,
            jitter: "full",
            resetAfterSeconds: 3,
            maxRetries: 4,
          },
          refreshWaitSeconds: 1,
          timeouts: {
            connectSeconds: 1,
            restoreSeconds: 1,
            refreshSeconds: 1,
            closeSeconds: 1,
            probeSeconds: 1,
          },
          offlineQueue: {
            maxMessages: 1,
            maxBytes: 1,
            qos0: "reject",
            overflow: "dropOldest",
            afterDisconnect: "queue",
          },
          subscribeBatchSize: 5,
          inspect: () => {},
          mqtt: { keepalive: 30 },
          environment: false,
        }),
      ),
    ).not.toThrow();
  });
});

describe("error messages show what they were given", () => {
  it('port "1883" is refused as a string', () => {
    const error = invalid(() =>
      resolveOptions(withOptions({ endpoint: { ...endpoint, port: "1883" } })),
    );
    expect(error.field).toBe("endpoint.port");
    expect(error.message).toContain('got the string "1883"');
  });

  it("afterDisconnect must be reject or queue", () => {
    const error = invalid(() =>
      resolveOptions(withOptions({ offlineQueue: { afterDisconnect: "drop" } })),
    );
    expect(error.field).toBe("offlineQueue.afterDisconnect");
    expect(error.message).toContain('got the string "drop"');
  });
});

describe("the debug option and mqtt.js's logger", () => {
  it("every client shares one logger function: the redacting one with debug, a no-op without", () => {
    const a = resolveOptions(withOptions({}));
    const b = resolveOptions(withOptions({ debug: () => {} }));
    const c = resolveOptions(withOptions({}));
    expect(a.mqtt.log).not.toBe(mqttLog);
    expect(a.mqtt.log).toBe(c.mqtt.log);
    expect(typeof a.mqtt.log).toBe("function");
    expect(b.mqtt.log).toBe(mqttLog);
    expect(a.debug).toBeUndefined();
    expect(b.debug).toBeDefined();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["debug a string", { debug: "verbose" }, "debug"],
    ["mqtt.log set by the user", { mqtt: { log: console.log } }, "mqtt.log"],
  ])("%s → %s", (_, extra, field) => {
    expect(invalid(() => resolveOptions(withOptions(extra))).field).toBe(field);
  });
});

describe("refreshAhead", () => {
  const expiring = {
    host: "h",
    port: 1,
    username: "u",
    password: "p",
    expiresAt: Date.now() + 3_600_000,
  };
  /** The starting endpoint the machine gets: its refresh point drawn from the input's random source. */
  const started = (options: RealtimeClientOptions, random = Math.random) =>
    machineInput(resolveOptions(options), { random }).endpoints[0];
  it("is on by default with a 30 s margin and a 30 s jitter: the refresh point is drawn", () => {
    const resolved = resolveOptions({ endpoint: expiring });
    expect(resolved.refreshAhead).toEqual({ marginSeconds: 30, jitterSeconds: 30 });
    const lead = (expiring.expiresAt - (started({ endpoint: expiring })?.refreshAt ?? 0)) / 1000;
    expect(lead).toBeGreaterThanOrEqual(30);
    expect(lead).toBeLessThanOrEqual(60);
  });
  it("false: no refresh point, the expiry still known", () => {
    const resolved = resolveOptions({ endpoint: expiring, refreshAhead: false });
    expect(resolved.refreshAhead).toBe(false);
    const endpoint = started({ endpoint: expiring, refreshAhead: false });
    expect(endpoint?.refreshAt).toBeUndefined();
    expect(endpoint?.expiresAt).toBe(expiring.expiresAt);
  });
  it("takes its own margin and jitter", () => {
    const endpoint = started({
      endpoint: expiring,
      refreshAhead: { marginSeconds: 5, jitterSeconds: 0 },
    });
    expect(endpoint?.refreshAt).toBe(expiring.expiresAt - 5000);
  });
  it("draws the jitter from the machine input's random source", () => {
    const options = { endpoint: expiring, refreshAhead: { marginSeconds: 10, jitterSeconds: 20 } };
    expect(started(options, () => 0)?.refreshAt).toBe(expiring.expiresAt - 10_000);
    expect(started(options, () => 0.5)?.refreshAt).toBe(expiring.expiresAt - 20_000);
  });
});
