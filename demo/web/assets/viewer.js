// The live statechart viewer's page (served by demo/web/server.ts). It inlines
// the generated diagram, whose state boxes are SVG groups with the state node's
// id (`connection.session.link.connected.live`), and lights the boxes of the
// states each demo client is in as its inspection stream reports them.
// `window.viewer` exposes what it showed, for the test (test/e2e/viewer.test.ts).

const PALETTE = ["#d9480f", "#1c7ed6", "#2b8a3e", "#9c36b5", "#c2255c", "#0b7285", "#5f3dc4"];
const LOG_LINES = 400;

const clients = new Map();
const chart = document.getElementById("chart");
const list = document.getElementById("clients");
const log = document.getElementById("log");
const status = document.getElementById("status");

/** What the page showed: every change of a client's deepest state, in order. */
window.viewer = { ready: false, history: [], messages: 0 };

/** Ids of the state nodes a state value makes active, outermost first. */
function activeIds(value, prefix = "connection") {
  if (typeof value === "string") return [`${prefix}.${value}`];
  return Object.entries(value).flatMap(([key, inner]) => [
    `${prefix}.${key}`,
    ...activeIds(inner, `${prefix}.${key}`),
  ]);
}

function clientNamed(name) {
  let client = clients.get(name);
  if (!client) {
    client = { name, colour: PALETTE[clients.size % PALETTE.length], ids: [], state: "idle" };
    clients.set(name, client);
  }
  return client;
}

const svgNS = "http://www.w3.org/2000/svg";

function render() {
  for (const group of chart.querySelectorAll("g.current, g.inside")) {
    group.classList.remove("current", "inside");
    group.removeAttribute("data-clients");
    group.style.removeProperty("--colour");
  }
  for (const label of chart.querySelectorAll("text.who")) label.remove();
  const here = new Map();
  for (const client of clients.values()) {
    const leaf = client.ids.at(-1);
    for (const id of client.ids) {
      const group = document.getElementById(id);
      if (!group) continue;
      if (id === leaf) {
        if (!here.has(id)) here.set(id, []);
        here.get(id).push(client);
      } else if (!group.classList.contains("current")) {
        group.classList.add("inside");
      }
    }
  }
  for (const [id, inside] of here) {
    const group = document.getElementById(id);
    const box = group.querySelector("rect");
    group.classList.remove("inside");
    group.classList.add("current");
    group.dataset.clients = inside.map((c) => c.name).join(" ");
    group.style.setProperty("--colour", inside[0].colour);
    let y = Number(box.getAttribute("y")) + 20;
    for (const client of inside) {
      const label = document.createElementNS(svgNS, "text");
      label.setAttribute("class", "who");
      label.setAttribute(
        "x",
        String(Number(box.getAttribute("x")) + Number(box.getAttribute("width")) + 6),
      );
      label.setAttribute("y", String(y));
      label.setAttribute("fill", client.colour);
      label.textContent = client.name;
      group.append(label);
      y += 24;
    }
  }
  list.replaceChildren(
    ...[...clients.values()].map((client) => {
      const item = document.createElement("li");
      item.style.setProperty("--colour", client.colour);
      item.append(`${client.name} `);
      const state = document.createElement("b");
      state.textContent = client.state;
      item.append(state);
      return item;
    }),
  );
}

function time(at) {
  return new Date(at).toISOString().slice(11, 23);
}

function addLine(at, who, parts) {
  const item = document.createElement("li");
  const stamp = document.createElement("time");
  stamp.textContent = `${time(at)} `;
  item.append(stamp);
  if (who) {
    const name = document.createElement("span");
    name.className = "who";
    const client = clients.get(who);
    if (client) name.style.setProperty("--colour", client.colour);
    name.textContent = `${who} `;
    item.append(name);
  }
  for (const [text, kind] of parts) {
    const span = document.createElement("span");
    if (kind) span.className = kind;
    span.textContent = text;
    item.append(span);
  }
  log.prepend(item);
  while (log.children.length > LOG_LINES) log.lastChild.remove();
  window.viewer.messages += 1;
}

/** A line for a demo event, in the terminal timeline's words. */
function demoLine(event) {
  switch (event.type) {
    case "demo.started":
      return [null, [[`demo started: ${event.viewers.length} viewers + publisher`]]];
    case "token.issued":
      return [
        "token",
        [[`${event.userId} token #${event.request} issued (${event.transport})`, "broker"]],
      ];
    case "broker.accepted":
      return [event.clientId, [["broker accepted the token", "broker"]]];
    case "broker.refused":
      return [
        event.clientId,
        [[`broker refused: CONNACK ${event.returnCode} (token ${event.reason})`, "broker"]],
      ];
    case "broker.kicked":
      return [event.clientId, [[`broker closed the connection (token ${event.reason})`, "broker"]]];
    case "client.restored":
      return [
        event.client,
        [
          [
            event.sessionPresent
              ? "restored: the broker kept the session"
              : `restored ${event.filters} filters in ${event.packets} SUBSCRIBE`,
          ],
        ],
      ];
    case "client.error":
      return [event.client, [[`${event.code}: ${event.message}`, "detail"]]];
    case "messages.resumed":
      return [
        event.client,
        [[`messages again after ${event.silentMs} ms (seq ${event.seq}, ${event.behind} queued)`]],
      ];
    case "demo.stopping":
      return [null, [["demo stopping: draining queued messages"]]];
    default:
      return [null, [[event.type]]];
  }
}

function receive(message) {
  if (message.kind === "state") {
    const client = clientNamed(message.client);
    const ids = activeIds(message.value);
    const before = client.ids.at(-1);
    client.ids = ids;
    const changedState = client.state !== message.state;
    client.state = message.state;
    if (ids.at(-1) !== before) {
      window.viewer.history.push({ client: client.name, id: ids.at(-1), at: message.at });
      render();
    }
    if (changedState)
      addLine(message.at, client.name, [
        [`→ ${message.state}`, "state"],
        [`  (${message.event})`, "detail"],
      ]);
  } else if (message.kind === "event") {
    clientNamed(message.client);
    addLine(message.at, message.client, [
      [message.type],
      [message.detail ? `  ${message.detail}` : "", "detail"],
    ]);
  } else if (message.kind === "demo") {
    const [who, parts] = demoLine(message.event);
    addLine(message.at, who, parts);
  }
}

async function start() {
  const response = await fetch("/connection.svg");
  chart.innerHTML = await response.text();
  const svg = chart.querySelector("svg");
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  const events = new EventSource("/events");
  events.onopen = () => {
    status.textContent = "live";
    window.viewer.ready = true;
  };
  events.onerror = () => {
    status.textContent = "disconnected from the demo (it may have ended); retrying…";
  };
  events.onmessage = (event) => receive(JSON.parse(event.data));
}

start();
