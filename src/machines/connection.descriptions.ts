/**
 * What each state of the connection statechart is for, by state id: read by
 * the diagram generator (docs/statecharts) and exported with the machine
 * (`@armaanjain/courier-web-sdk/machine`) for diagrams and tools of your own.
 * Kept apart from the machine so that the client an app ships carries none
 * of this text. A state added to the machine gets its line here (a test
 * checks that every state has one, and only those).
 */

export const STATE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  "connection.idle": "Not connected and not trying; connect() starts.",
  "connection.session":
    "Started by connect(); ends with disconnect() or an error retrying cannot fix.",
  "connection.session.link":
    "One connection attempt is alive: it owns the socket until this state is left.",
  "connection.session.link.connecting": "Opening the first connection; waiting for CONNACK.",
  "connection.session.link.reconnecting":
    "Opening a new connection after a refresh or a backoff; waiting for CONNACK.",
  "connection.session.link.restoring":
    "Accepted by the broker; re-subscribing every tracked filter before reporting connected.",
  "connection.session.link.connected":
    "Live: publishes go out, queued ones flushed in order, messages come in.",
  "connection.session.link.connected.live":
    "Nothing in doubt; credentials with a known expiry are renewed ahead of it.",
  "connection.session.link.connected.live.scheduled": "Waiting for the credentials' refresh point.",
  "connection.session.link.connected.live.unscheduled":
    "No refresh point (no provider, expiry unknown or refreshAhead off): no timer until new credentials bring one.",
  "connection.session.link.connected.live.renewing":
    "Asking for fresh credentials ahead of the expiry (told `expiring`), while the connection stays up.",
  "connection.session.link.connected.live.reauthenticating":
    "Presenting the fresh credentials on the live connection (MQTT 5 AUTH 0x19); publishes keep flowing.",
  "connection.session.link.connected.live.renewBackoff":
    "A refresh ahead failed; waiting the auth backoff to try again, while the credentials last.",
  "connection.session.link.connected.live.lapsed":
    "No fresh credentials came before the expiry: when the broker closes, the page's flow takes over.",
  "connection.session.link.connected.probing":
    "The page is visible again after its timers may have been throttled: the broker must answer a ping.",
  "connection.session.link.authFailed":
    "The broker rejected the credentials; force-closing the session before refreshing.",
  "connection.session.link.closing":
    "disconnect() was called: sending DISCONNECT and closing the socket.",
  "connection.session.refreshing":
    "Asking onAuthFailure for fresh credentials (one call, however many failures).",
  "connection.session.waiting":
    "The page's step 4: waiting 2 s after the refresh before reconnecting.",
  "connection.session.authBackoff":
    "A refresh failed or its credentials were refused again; waiting to refresh again.",
  "connection.session.backoff":
    "The connection was lost or refused for a network reason; waiting to reconnect.",
  "connection.failed": "Stopped after an error that retrying cannot fix; connect() starts again.",
};
