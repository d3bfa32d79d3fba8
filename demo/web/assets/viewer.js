// The live statechart viewer's page (served by demo/web/server.ts). It inlines
// one of the generated diagrams (the overview, or every state), whose state
// boxes are SVG groups with the state node's id
// (`connection.session.link.connected.live`), and lights, for each demo client,
// the deepest of its active states that the diagram shows (in the overview,
// `live` is shown as `connected`). The log is written by the server in the
// user's words; each line opens onto its raw inspection event.
// `window.viewer` exposes what it showed, for the test (test/e2e/viewer.test.ts).

const PALETTE = ["#d9480f", "#1c7ed6", "#2b8a3e", "#9c36b5", "#c2255c", "#0b7285", "#5f3dc4"];
const LOG_LINES = 400;

const clients = new Map();
const chart = document.getElementById("chart");
const list = document.getElementById("clients");
const log = document.getElementById("log");
const status = document.getElementById("status");
const diagrams = new Map();

/** What the page showed: every change of a client's deepest state, in order, and every log line. */
window.viewer = { ready: false, view: "overview", history: [], messages: 0, lines: [] };

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

/** The state box a client is shown in: its deepest active state that this diagram draws. */
function shownId(client) {
  return client.ids.findLast((id) => chart.querySelector(`g[id="${CSS.escape(id)}"]`));
}

function render() {
  for (const group of chart.querySelectorAll("g.current, g.inside")) {
    group.classList.remove("current", "inside");
    group.removeAttribute("data-clients");
    group.style.removeProperty("--colour");
  }
  for (const badge of chart.querySelectorAll(".who")) badge.remove();
  const here = new Map();
  for (const client of clients.values()) {
    const leaf = shownId(client);
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
    // One badge per client on the box's top edge (the header names them by colour): names
    // beside the box would cover its neighbours.
    const right = Number(box.getAttribute("x")) + Number(box.getAttribute("width")) - 12;
    const top = Number(box.getAttribute("y"));
    inside.forEach((client, i) => {
      const badge = document.createElementNS(svgNS, "circle");
      badge.setAttribute("class", "who");
      badge.setAttribute("cx", String(right - i * 17));
      badge.setAttribute("cy", String(top));
      badge.setAttribute("r", "7");
      badge.setAttribute("fill", client.colour);
      const title = document.createElementNS(svgNS, "title");
      title.textContent = client.name;
      badge.append(title);
      group.append(badge);
    });
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

/** One line of the log: what happened (a summary), its raw event a click away. */
function addLine(line) {
  const item = document.createElement("li");
  item.className = `tone-${line.tone}`;
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  const stamp = document.createElement("time");
  stamp.textContent = time(line.at);
  summary.append(stamp, " ");
  if (line.client) {
    const name = document.createElement("span");
    name.className = "who";
    const client = clients.get(line.client);
    if (client) name.style.setProperty("--colour", client.colour);
    name.textContent = line.client;
    summary.append(name, " ");
  }
  const text = document.createElement("span");
  text.className = "what";
  text.textContent = line.text;
  summary.append(text);
  if (line.state) {
    const state = document.createElement("span");
    state.className = "state";
    state.textContent = ` → ${line.state}${line.detail ? ` · ${line.detail}` : ""}`;
    if (line.about) state.title = line.about;
    summary.append(state);
  }
  const raw = document.createElement("pre");
  try {
    raw.textContent = JSON.stringify(JSON.parse(line.raw), null, 2);
  } catch {
    raw.textContent = line.raw;
  }
  details.append(summary, raw);
  item.append(details);
  log.prepend(item);
  while (log.children.length > LOG_LINES) log.lastChild.remove();
  window.viewer.messages += 1;
  window.viewer.lines.push({
    client: line.client,
    text: line.text,
    state: line.state,
    tone: line.tone,
  });
}

function receive(message) {
  if (message.kind === "state") {
    const client = clientNamed(message.client);
    const ids = activeIds(message.value);
    const before = client.ids.at(-1);
    client.ids = ids;
    client.state = message.state;
    if (ids.at(-1) !== before) {
      window.viewer.history.push({ client: client.name, id: ids.at(-1), at: message.at });
    }
    render();
  } else if (message.kind === "line") {
    if (message.client) clientNamed(message.client);
    addLine(message);
  }
}

async function show(view) {
  chart.innerHTML = diagrams.get(view);
  const svg = chart.querySelector("svg");
  // At its own size (1 px per unit): its text is as large as it was drawn. The pane scrolls.
  svg.setAttribute("role", "img");
  window.viewer.view = view;
  for (const button of document.querySelectorAll("#views button")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === view));
  }
  render();
  // A diagram larger than the pane opens where the clients are.
  const lit = chart.querySelector("g.current");
  if (lit) {
    const box = lit.getBoundingClientRect();
    const pane = chart.getBoundingClientRect();
    chart.scrollLeft += box.left + box.width / 2 - (pane.left + pane.width / 2);
    chart.scrollTop += box.top + box.height / 2 - (pane.top + pane.height / 2);
  }
}

async function start() {
  for (const view of ["overview", "connection"]) {
    const response = await fetch(`/${view}.svg`);
    diagrams.set(view, await response.text());
  }
  for (const button of document.querySelectorAll("#views button")) {
    button.addEventListener("click", () => show(button.dataset.view));
  }
  await show("overview");
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
