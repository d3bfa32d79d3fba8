// A provider given a client the page made: the provider must neither connect it nor
// disconnect it; its hooks still share one subscription. In StrictMode (a development build).
import { RealtimeClient, RemoteCredentials } from "@armaanjain/courier-web-sdk";
import {
  CourierProvider,
  useConnectionState,
  useMessages,
} from "@armaanjain/courier-web-sdk/react";
import { StrictMode, useState } from "react";
import { createRoot } from "react-dom/client";

interface TokenResponse {
  broker: { host: string; port: number };
  userId: string;
  jwt: string;
}

declare global {
  interface Window {
    given: {
      client: RealtimeClient;
      setMounted(mounted: boolean): void;
    };
  }
}

const tokenUrl = new URLSearchParams(location.search).get("token") ?? "";
const credentials = new RemoteCredentials(tokenUrl, (r: TokenResponse) => ({
  host: r.broker.host,
  port: r.broker.port,
  username: r.userId,
  password: r.jwt,
  scheme: "ws",
  path: "/mqtt",
}));
const client = new RealtimeClient({
  endpoint: await credentials.getCredentials(),
  onAuthFailure: credentials,
});

function Probe({ name }: { name: string }) {
  const state = useConnectionState();
  const { status, messages } = useMessages("demo/ticks/#", { qos: 1, limit: 3 });
  return (
    <p>
      <span data-testid={`${name}-state`}>{state}</span>{" "}
      <span data-testid={`${name}-status`}>{status}</span>{" "}
      <span data-testid={`${name}-count`}>{messages.length}</span>
    </p>
  );
}

let setMountedFromTest: (mounted: boolean) => void = () => {};
function Root() {
  const [mounted, setMounted] = useState(true);
  setMountedFromTest = setMounted;
  if (!mounted) return <p data-testid="unmounted">unmounted</p>;
  return (
    <CourierProvider client={client}>
      <Probe name="one" />
      <Probe name="two" />
    </CourierProvider>
  );
}

window.given = { client, setMounted: (mounted) => setMountedFromTest(mounted) };
const root = document.getElementById("root");
if (root)
  createRoot(root).render(
    <StrictMode>
      <Root />
    </StrictMode>,
  );
