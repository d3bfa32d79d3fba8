/**
 * The initial file of mosquitto's dynamic-security plugin, written by the
 * test instead of `mosquitto_ctrl dynsec init`: an admin client allowed on
 * the plugin's control topic, the given users, and default ACLs that let
 * every authenticated client publish and subscribe anywhere (these tests are
 * about authentication, not authorisation).
 *
 * Passwords are stored as the plugin stores them: PBKDF2-SHA512 over the
 * decoded salt, 64 bytes, base64 (checked against `mosquitto_ctrl` output).
 */

import { pbkdf2Sync, randomBytes } from "node:crypto";

const ITERATIONS = 101;

function hashed(password: string): { password: string; salt: string; iterations: number } {
  const salt = randomBytes(12);
  return {
    password: pbkdf2Sync(password, salt, ITERATIONS, 64, "sha512").toString("base64"),
    salt: salt.toString("base64"),
    iterations: ITERATIONS,
  };
}

export function dynsecConfig(
  admin: string,
  adminPassword: string,
  users: Record<string, string>,
): unknown {
  const control = "$CONTROL/dynamic-security/#";
  return {
    clients: [
      { username: admin, ...hashed(adminPassword), roles: [{ rolename: "admin" }] },
      ...Object.entries(users).map(([username, password]) => ({
        username,
        ...hashed(password),
      })),
    ],
    roles: [
      {
        rolename: "admin",
        acls: [
          { acltype: "publishClientSend", topic: control, allow: true },
          { acltype: "publishClientReceive", topic: control, allow: true },
          { acltype: "subscribePattern", topic: control, allow: true },
        ],
      },
    ],
    defaultACLAccess: {
      publishClientSend: true,
      publishClientReceive: true,
      subscribe: true,
      unsubscribe: true,
    },
  };
}
