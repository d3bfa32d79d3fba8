/** Refresh cycles and recovery times from a client's transitions. */

import { expect, test } from "vitest";
import { RecoveryTracker } from "../../demo/scenario/recovery.js";

test("recovery runs from the auth failure to restored, less the 2 s wait; offline from the loss", () => {
  const tracker = new RecoveryTracker(2000);
  tracker.state("connecting", "idle", 0);
  tracker.state("restoring", "connecting", 10);
  expect(tracker.restored(12)).toEqual({});
  tracker.state("connected", "restoring", 12);

  tracker.state("backoff", "connected", 10_000);
  tracker.state("reconnecting", "backoff", 11_000);
  tracker.state("authFailed", "reconnecting", 11_005);
  tracker.state("refreshing", "authFailed", 11_006);
  tracker.state("waiting", "refreshing", 11_106);
  tracker.state("reconnecting", "waiting", 13_106);
  tracker.state("restoring", "reconnecting", 13_110);
  expect(tracker.restored(13_115)).toEqual({ recoveryMs: 110, offlineMs: 3115 });
  expect(tracker).toMatchObject({ refreshes: 1, authFailures: 1, recoveries: 1 });
});

test("a second refusal in the same outage keeps the first failure's time; the worst is kept", () => {
  const tracker = new RecoveryTracker(2000);
  tracker.state("backoff", "connected", 0);
  tracker.state("authFailed", "reconnecting", 1000);
  tracker.state("refreshing", "authFailed", 1001);
  tracker.state("authFailed", "reconnecting", 3100);
  tracker.state("authBackoff", "authFailed", 3101);
  tracker.state("refreshing", "authBackoff", 4101);
  expect(tracker.restored(6200).recoveryMs).toBe(3200);
  tracker.state("backoff", "connected", 7000);
  tracker.state("authFailed", "reconnecting", 8000);
  expect(tracker.restored(10_050).recoveryMs).toBe(50);
  expect(tracker.worstRecoveryMs).toBe(3200);
  expect(tracker).toMatchObject({ refreshes: 2, authFailures: 3 });
});

test("a network loss without an auth failure has an offline time but no recovery", () => {
  const tracker = new RecoveryTracker(2000);
  tracker.state("backoff", "connected", 0);
  tracker.state("reconnecting", "backoff", 1000);
  expect(tracker.restored(1010)).toEqual({ offlineMs: 1010 });
  expect(tracker.recoveries).toBe(0);
});

test("closed at the known expiry: the page's flow starts at refreshing, which counts as the auth failure", () => {
  const tracker = new RecoveryTracker(2000);
  tracker.state("connecting", "idle", 0);
  tracker.state("connected", "restoring", 10);
  tracker.state("refreshing", "connected", 5000);
  tracker.state("waiting", "refreshing", 5050);
  tracker.state("reconnecting", "waiting", 7050);
  tracker.state("restoring", "reconnecting", 7055);
  expect(tracker.restored(7060)).toEqual({ recoveryMs: 60, offlineMs: 2060 });
  expect(tracker).toMatchObject({ refreshes: 1, authFailures: 1, recoveries: 1 });
});
