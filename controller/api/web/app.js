// The daemon's read-only web view: polls the API (the same origin, so the same client
// certificate) every two seconds and redraws. Plain DOM, no framework, no build step.

const pollMs = 2000;
const svgNs = "http://www.w3.org/2000/svg";
/** The previous counters, for packets per second. */
let previous = { time: 0, packets: new Map() };

async function get(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function yesNo(value) {
  return cell(value ? "yes" : "no", value ? "yes" : "no");
}

function hexVsid(vsid) {
  return `0x${vsid.toString(16).toUpperCase().padStart(6, "0")}`;
}

function stateOf(sw) {
  if (!sw?.connected) return "bad";
  return sw.primary && sw.pipelineCurrent && sw.drift === 0 ? "ok" : "warn";
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

/** Switches on a circle, NVEs outside it; links from fabric ports' peers and NVE attachments. */
function drawMap(document_, statusBySwitch) {
  const svg = document.getElementById("map");
  const switches = document_?.switches ?? [];
  const nves = document_?.nves ?? [];
  const cx = 400;
  const cy = 160;
  const place = new Map();
  switches.forEach((sw, i) => {
    const angle = Math.PI + (2 * Math.PI * i) / Math.max(switches.length, 1);
    const r = switches.length > 1 ? 90 : 0;
    place.set(sw.name, { x: cx + 2.2 * r * Math.cos(angle), y: cy + r * Math.sin(angle) });
  });
  nves.forEach((nve, i) => {
    const at = place.get(nve.attachment?.switch) ?? { x: cx, y: cy };
    const dx = at.x >= cx ? 1 : -1;
    place.set(`nve:${nve.name}`, { x: at.x + dx * 150, y: Math.min(300, at.y + 40 + 30 * i) });
  });
  const nodes = [];
  const seen = new Set();
  for (const sw of switches) {
    for (const port of sw.ports ?? []) {
      const peer = port.peer;
      if (!peer) continue;
      const key = [sw.name, peer.switch].sort().join("|");
      if (seen.has(key) || !place.has(peer.switch)) continue;
      seen.add(key);
      nodes.push(
        line(
          place.get(sw.name),
          place.get(peer.switch),
          "link",
          `${sw.name}:${port.port} – ${peer.switch}:${peer.port}`,
        ),
      );
    }
  }
  for (const nve of nves) {
    const from = place.get(nve.attachment?.switch);
    if (from)
      nodes.push(
        line(
          from,
          place.get(`nve:${nve.name}`),
          "nve-link",
          `${nve.name} on ${nve.attachment.switch}:${nve.attachment.port}`,
        ),
      );
  }
  for (const sw of switches) {
    nodes.push(
      node(place.get(sw.name), 22, stateOf(statusBySwitch.get(sw.name)), sw.name, "switch"),
    );
  }
  for (const nve of nves) {
    nodes.push(node(place.get(`nve:${nve.name}`), 14, "nve", nve.name, "nve"));
  }
  svg.replaceChildren(...nodes);
}

function line(a, b, className, title) {
  const l = document.createElementNS(svgNs, "line");
  for (const [k, v] of Object.entries({ x1: a.x, y1: a.y, x2: b.x, y2: b.y })) l.setAttribute(k, v);
  l.setAttribute("class", className);
  const t = document.createElementNS(svgNs, "title");
  t.textContent = title;
  l.append(t);
  return l;
}

function node(at, radius, className, name, kind) {
  const g = document.createElementNS(svgNs, "g");
  g.dataset[kind] = name;
  const c = document.createElementNS(svgNs, "circle");
  c.setAttribute("cx", at.x);
  c.setAttribute("cy", at.y);
  c.setAttribute("r", radius);
  c.setAttribute("class", className);
  const label = document.createElementNS(svgNs, "text");
  label.setAttribute("x", at.x);
  label.setAttribute("y", at.y + radius + 16);
  label.textContent = name;
  g.append(c, label);
  return g;
}

function drawSwitches(status) {
  fill(
    document.querySelector("#switches tbody"),
    status.switches.map((sw) => {
      const tr = document.createElement("tr");
      tr.dataset.switch = sw.name;
      tr.append(
        cell(sw.name),
        cell(sw.address),
        yesNo(sw.connected),
        yesNo(sw.primary),
        yesNo(stateOf(sw) === "ok"),
        cell(sw.drift === undefined ? "–" : String(sw.drift), "num"),
        cell(sw.lastReconcile ? `${sw.lastReconcile.time} ${sw.lastReconcile.trigger}` : "–"),
      );
      return tr;
    }),
  );
}

function drawCounters(counters) {
  const now = Date.now();
  const seconds = previous.time ? (now - previous.time) / 1000 : 0;
  const packets = new Map();
  fill(
    document.querySelector("#counters tbody"),
    counters.rows.map((row) => {
      const key = `${row.switch}/${row.vsid}`;
      const total =
        Number(row.encap.packets) + Number(row.decap.packets) + Number(row.flood.packets);
      packets.set(key, total);
      const before = previous.packets.get(key);
      const rate =
        seconds > 0 && before !== undefined ? ((total - before) / seconds).toFixed(1) : "–";
      const tr = document.createElement("tr");
      tr.dataset.switch = row.switch;
      tr.dataset.vsid = hexVsid(row.vsid);
      tr.dataset.packets = String(total);
      tr.append(
        cell(row.switch),
        cell(hexVsid(row.vsid)),
        cell(row.name),
        cell(row.encap.packets, "num"),
        cell(row.encap.bytes, "num"),
        cell(row.decap.packets, "num"),
        cell(row.decap.bytes, "num"),
        cell(row.flood.packets, "num"),
        cell(row.flood.bytes, "num"),
        cell(rate, "num"),
      );
      return tr;
    }),
  );
  previous = { time: now, packets };
}

function drawDrops(drops) {
  fill(
    document.querySelector("#drops tbody"),
    drops.rows.map((row) => {
      const tr = document.createElement("tr");
      tr.dataset.switch = row.switch;
      tr.dataset.reason = row.name;
      tr.append(
        cell(row.switch),
        cell(row.stage),
        cell(row.name),
        cell(row.packets, "num"),
        cell(row.bytes, "num"),
        cell(row.description),
      );
      return tr;
    }),
  );
}

function drawEvents(events) {
  const items = events.events
    .slice()
    .reverse()
    .map((event) => {
      const li = document.createElement("li");
      li.className = event.level;
      li.textContent = `${event.time} ${event.kind}${event.switch ? ` ${event.switch}` : ""}: ${event.message}`;
      return li;
    });
  document.getElementById("events").replaceChildren(...items);
}

async function refresh() {
  try {
    const [status, intent, events] = await Promise.all([
      get("/v1/status"),
      get("/v1/intent"),
      get("/v1/events?last=25"),
    ]);
    const bySwitch = new Map(status.switches.map((sw) => [sw.name, sw]));
    document.getElementById("fabric-name").textContent = intent.document?.name ?? "";
    const inSync = status.switches.filter((sw) => stateOf(sw) === "ok").length;
    // A cluster's leader, once the daemon reports one.
    const leader = status.cluster?.leader ? `, leader ${status.cluster.leader}` : "";
    document.getElementById("summary").textContent =
      `intent revision ${status.daemon.intentRevision}, ${inSync} of ${status.switches.length} switches in sync${leader}, daemon ${status.daemon.version} (pid ${status.daemon.pid})`;
    drawMap(intent.document, bySwitch);
    drawSwitches(status);
    drawEvents(events);
    if (intent.document) {
      const [counters, drops] = await Promise.all([get("/v1/counters"), get("/v1/drops")]);
      drawCounters(counters);
      drawDrops(drops);
    }
    document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    document.getElementById("updated").textContent = `update failed: ${error.message}`;
  }
}

refresh();
setInterval(refresh, pollMs);
