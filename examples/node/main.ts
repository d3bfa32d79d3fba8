/**
 * The Node.js example: a token from the demo's endpoint, `await using` for
 * the client, and `for await` over the messages of a filter, for a while,
 * through token expiries. `npm run example -- node` runs it against the demo
 * stack; `tsx examples/node/main.ts <token URL> [seconds]` against your own.
 */

import { pathToFileURL } from "node:url";
import { AbortError, RealtimeClient, RemoteCredentials } from "@armaanjain/courier-web-sdk";

interface TokenResponse {
  broker: { host: string; port: number };
  userId: string;
  jwt: string;
}

export interface NodeExampleResult {
  /** Messages read. */
  readonly received: number;
  /** The last `seq` read, or null. */
  readonly lastSeq: number | null;
  /** Every state the client went through. */
  readonly states: string[];
}

export async function runNodeExample(
  tokenUrl: string | URL,
  seconds: number,
  log: (line: string) => void = console.log,
): Promise<NodeExampleResult> {
  const credentials = new RemoteCredentials(tokenUrl, (response: TokenResponse) => ({
    host: response.broker.host,
    port: response.broker.port,
    username: response.userId,
    password: response.jwt,
    scheme: "mqtt",
  }));
  // Disconnected when this function returns, however it returns.
  await using client = new RealtimeClient({
    endpoint: await credentials.getCredentials(),
    onAuthFailure: credentials,
  });
  const states: string[] = [];
  client.on("stateChange", ({ previous, state, durationMs }) => {
    states.push(state);
    log(`${previous} → ${state} (after ${durationMs} ms)`);
  });
  client.on("error", (error) => log(`error ${error.code}: ${error.message}`));

  await client.connect({ signal: AbortSignal.timeout(15_000) });
  let received = 0;
  let lastSeq: number | null = null;
  try {
    // Ends with an AbortError after `seconds`; leaving the loop unsubscribes.
    const until = AbortSignal.timeout(seconds * 1000);
    for await (const message of client.messages("demo/ticks/#", { qos: 1, signal: until })) {
      received += 1;
      lastSeq = (JSON.parse(new TextDecoder().decode(message.payload)) as { seq: number }).seq;
      if (received % 10 === 0) log(`${received} messages, latest seq ${lastSeq}`);
    }
  } catch (error) {
    if (!(error instanceof AbortError)) throw error;
  }
  log(`done: ${received} messages, latest seq ${lastSeq ?? "none"}`);
  return { received, lastSeq, states };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [tokenUrl, seconds = "30"] = process.argv.slice(2);
  if (!tokenUrl) {
    console.error("usage: tsx examples/node/main.ts <token URL> [seconds]");
    process.exit(2);
  }
  const result = await runNodeExample(tokenUrl, Number(seconds));
  process.exit(result.received > 0 ? 0 : 1);
}
