// The React example: one provider owning one client, a connection badge, two tickers on the
// same filter (they share one subscription), and alerts that can be switched off.
import type { Endpoint, Message, RemoteCredentials } from "@armaanjain/courier-web-sdk";
import {
  CourierProvider,
  useConnectionState,
  useMessages,
  useSubscription,
} from "@armaanjain/courier-web-sdk/react";
import { useState } from "react";

/** What the demo's token endpoint answers. */
export interface TokenResponse {
  broker: { host: string; port: number };
  userId: string;
  jwt: string;
}

const text = (message: Message) => new TextDecoder().decode(message.payload);

/**
 * The provider makes the client from these options and owns it: connected while mounted,
 * disconnected when unmounted (signing out). StrictMode's double mount keeps one connection.
 */
export function App({
  endpoint,
  credentials,
}: {
  endpoint: Endpoint;
  credentials: RemoteCredentials<TokenResponse>;
}) {
  const [signedIn, setSignedIn] = useState(true);
  if (!signedIn) {
    return (
      <main>
        <p data-testid="signed-out">Signed out: the client disconnected.</p>
        <button type="button" onClick={() => setSignedIn(true)}>
          Sign in
        </button>
      </main>
    );
  }
  return (
    <CourierProvider options={{ endpoint, onAuthFailure: credentials }}>
      <Dashboard onSignOut={() => setSignedIn(false)} />
    </CourierProvider>
  );
}

function Dashboard({ onSignOut }: { onSignOut: () => void }) {
  const [showA, setShowA] = useState(true);
  const [showB, setShowB] = useState(false);
  const [alertsOn, setAlertsOn] = useState(true);
  return (
    <main>
      <h1>
        courier-web-sdk · <ConnectionBadge />
      </h1>
      <button type="button" onClick={onSignOut}>
        Sign out
      </button>
      <label>
        <input type="checkbox" checked={showA} onChange={(e) => setShowA(e.target.checked)} />
        Ticker A
      </label>
      <label>
        <input type="checkbox" checked={showB} onChange={(e) => setShowB(e.target.checked)} />
        Ticker B
      </label>
      <label>
        <input type="checkbox" checked={alertsOn} onChange={(e) => setAlertsOn(e.target.checked)} />
        Alerts
      </label>
      {showA && <Ticker name="A" />}
      {showB && <Ticker name="B" />}
      <Alerts enabled={alertsOn} />
    </main>
  );
}

function ConnectionBadge() {
  const state = useConnectionState();
  return <output data-testid="state">{state}</output>;
}

/** The latest ticks; two tickers share one subscription to demo/ticks/#. */
function Ticker({ name }: { name: string }) {
  const { messages, status } = useMessages("demo/ticks/#", { qos: 1, limit: 5 });
  const last = messages.at(-1);
  const seq = last ? (JSON.parse(text(last)) as { seq: number }).seq : null;
  return (
    <section data-testid={`ticker-${name}`}>
      <h2>Ticker {name}</h2>
      <p>
        subscription <span data-testid={`ticker-${name}-status`}>{status}</span>, latest seq{" "}
        <span data-testid={`ticker-${name}-seq`}>{seq ?? "–"}</span>
      </p>
      <ol>
        {messages.map((m, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: plain text rows of a sliding window, no state.
          <li key={i}>
            {m.topic}: {text(m)}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** A conditional subscription: `enabled: false` holds none. */
function Alerts({ enabled }: { enabled: boolean }) {
  const [alerts, setAlerts] = useState<string[]>([]);
  const { status } = useSubscription(
    "demo/alerts",
    (message) => setAlerts((list) => [...list, text(message)]),
    { qos: 1, enabled },
  );
  return (
    <section>
      <h2>
        Alerts (<span data-testid="alerts-status">{status}</span>)
      </h2>
      <ul data-testid="alerts">
        {alerts.map((alert, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: alerts are only ever appended.
          <li key={i}>{alert}</li>
        ))}
      </ul>
    </section>
  );
}
