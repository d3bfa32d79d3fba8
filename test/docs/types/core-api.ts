/**
 * The typed event map and the core API stay exact: checked by `tsc` (the
 * root project and `test/docs/types/tsconfig.json`); every `@ts-expect-error`
 * must be an error, or tsc fails on the unused directive.
 */

import {
  AbortError,
  type ClientEvents,
  type ConnectionState,
  type CourierError,
  type Message,
  type MessageStream,
  type RealtimeClient,
  type Renewal,
  type RestoreResult,
  type StateChange,
} from "@armaanjain/courier-web-sdk";

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const exact = <T extends true>(_proof?: T) => {};

export async function coreApiTypes(client: RealtimeClient) {
  exact<Equal<Awaited<ReturnType<typeof client.once<"stateChange">>>, StateChange>>();
  exact<Equal<Awaited<ReturnType<typeof client.once<"message">>>, Message>>();
  exact<Equal<Awaited<ReturnType<typeof client.once<"error">>>, CourierError>>();
  exact<Equal<Awaited<ReturnType<typeof client.once<"restored">>>, RestoreResult>>();
  exact<Equal<Awaited<ReturnType<typeof client.once<"renewal">>>, Renewal>>();
  exact<Equal<keyof ClientEvents, "stateChange" | "message" | "error" | "restored" | "renewal">>();

  const change = await client.once("stateChange", { filter: (c) => c.state === "connected" });
  const state: ConnectionState = change.state;
  // @ts-expect-error: not an event of the client
  await client.once("connected");
  // @ts-expect-error: the filter gets a StateChange, which has no `topic`
  await client.once("stateChange", { filter: (c) => c.topic === "x" });

  const stream: MessageStream = client.messages("rooms/#", { qos: 1, overflow: "dropNewest" });
  for await (const message of stream) {
    const topic: string = message.topic;
    void topic;
  }
  // @ts-expect-error: not an overflow policy
  client.messages("rooms/#", { overflow: "block" });
  // @ts-expect-error: QoS is 0, 1 or 2
  client.messages("rooms/#", { qos: 3 });

  await client.connect({ signal: AbortSignal.timeout(1000) });
  await client.subscribe("a", () => {}, { signal: new AbortController().signal });
  await client.publish("a", "b", { qos: 1, signal: new AbortController().signal });
  // @ts-expect-error: a signal is an AbortSignal
  await client.publish("a", "b", { signal: true });

  const disposed: Promise<void> = client[Symbol.asyncDispose]();
  const error: unknown = null;
  if (error instanceof AbortError) {
    const code: "ABORTED" | string = error.code;
    void code;
  }
  return { state, disposed };
}
