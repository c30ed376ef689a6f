// The live dashboard: the graph from /graph, then one EventSource on /events/stream from the id
// that snapshot is as of (as_of_event_id), so that no change is missed or counted twice between
// the fetch and the stream; a force layout drawn in SVG. No framework, no build step, nothing
// from a CDN.
(() => {
  "use strict";

  const STREAM_URL = "events/stream";
  const GRAPH_URL = "graph";
  const EVENT_TYPES = ["connected", "graph_synced", "edge_created", "edge_updated", "workflow_executed", "metrics_updated", "heartbeat", "events_lost"];
  const MAX_LOG = 200;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const WIDTH = 1000;
  const HEIGHT = 640;

  const $ = (id) => document.getElementById(id);
  const status = $("connection-status");
  const svg = $("graph");
  const edgeLayer = $("edges");
  const nodeLayer = $("nodes");

  /** id → { id, name, community, pagerank, x, y, vx, vy, el } */
  const nodes = new Map();
  /** "from\u0000to" → { from, to, confidence, el } */
  const edges = new Map();

  let source = null;
  let lastEventId = null;
  let failures = 0;
  let reconnectTimer = null;
  let loading = false;
  let loadFailures = 0;
  let refetchTimer = null;
  let refetchInFlight = false;
  let refetchAgain = false;
  let alpha = 1;

  $("origin").textContent = location.origin;

  // ---- connection --------------------------------------------------------------------------

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function connect() {
    reconnectTimer = null;
    // The browser sends Last-Event-ID only on its own automatic reconnects; a recreated
    // EventSource must carry the position in the URL.
    const url = lastEventId === null ? STREAM_URL : `${STREAM_URL}?last_event_id=${encodeURIComponent(lastEventId)}`;
    source = new EventSource(url);
    source.onopen = () => {
      failures = 0;
      setStatus("connected", "connected");
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // A 503 (subscriber limit), any non-200 answer or a wrong content type: EventSource
        // gives up for good, so recreate it, with exponential backoff and jitter so that many
        // dashboards do not come back in step.
        source.close();
        scheduleReconnect();
      } else {
        // CONNECTING: the browser retries by itself (after the server's retry: interval) and
        // sends Last-Event-ID; the server replays what we missed.
        setStatus("reconnecting", "reconnecting…");
      }
    };
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (message) => onMessage(type, message));
    }
  }

  function scheduleReconnect() {
    if (reconnectTimer !== null) return;
    failures += 1;
    const base = Math.min(500 * 2 ** (failures - 1), 15000);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    setStatus("reconnecting", `reconnecting in ${(delay / 1000).toFixed(1)} s…`);
    reconnectTimer = setTimeout(connect, delay);
  }

  function onMessage(type, message) {
    if (message.lastEventId) {
      lastEventId = message.lastEventId;
      $("last-event-id").textContent = lastEventId;
    }

    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }

    log(type, data);
    switch (type) {
      case "connected":
        setStatus("connected", "connected");
        failures = 0;
        $("connected-clients").textContent = data.connected_clients;
        break;
      case "heartbeat":
        $("connected-clients").textContent = data.connected_clients;
        break;
      case "events_lost":
        // The server could not replay the gap (its log no longer holds it, or our id is another
        // log's: a new database, another server). The snapshot is the truth again: load it and
        // stream from the id it is as of.
        load();
        break;
      case "graph_synced":
        load();
        break;
      case "edge_created":
        upsertEdge(data.from_tool_id, data.to_tool_id, data.confidence_score, 1, true);
        break;
      case "edge_updated":
        upsertEdge(data.from_tool_id, data.to_tool_id, data.new_confidence, data.observed_count, true);
        break;
      case "metrics_updated":
        showMetrics(data.node_count, data.edge_count, data.density, data.communities_count, data.pagerank_top_10);
        // Events carry no per-tool community or PageRank: refetch the snapshot for colours and
        // sizes, at most once a second however fast metrics arrive.
        refetchGraph(1000);
        break;
      default:
        break;
    }
  }

  // ---- snapshot ----------------------------------------------------------------------------

  // Load, then stream: the snapshot reflects every event up to as_of_event_id and none after, so
  // streaming from that id applies every later change exactly once. Used at start and whenever
  // the stream says it could not replay (events_lost) or the graph was reloaded (graph_synced).
  async function load() {
    if (loading) return;
    loading = true;
    if (source !== null) {
      source.close();
      source = null;
    }
    if (reconnectTimer !== null) {
      clearTimeout(reconnectTimer);
      reconnectTimer = null;
    }
    setStatus("reconnecting", "loading the graph…");
    try {
      const response = await fetch(GRAPH_URL, { cache: "no-store" });
      if (!response.ok) throw new Error(`GET /graph answered ${response.status}`);
      const graph = await response.json();
      applySnapshot(graph, true);
      lastEventId = graph.as_of_event_id ?? null;
      $("last-event-id").textContent = lastEventId ?? "—";
      loadFailures = 0;
      loading = false;
      connect();
    } catch {
      // The server is away: try again with backoff and jitter, as the stream does.
      loading = false;
      loadFailures += 1;
      const delay = Math.round(Math.min(500 * 2 ** (loadFailures - 1), 15000) * (0.8 + Math.random() * 0.4));
      setStatus("reconnecting", `reconnecting in ${(delay / 1000).toFixed(1)} s…`);
      reconnectTimer = setTimeout(load, delay);
    }
  }

  // Colours and sizes: events carry no per-tool community or PageRank, so they come from a newer
  // snapshot; its edges are left to the stream, which is exact, where a snapshot fetched in
  // between may be older or newer than the events already applied.
  function refetchGraph(delay) {
    if (refetchTimer !== null) {
      // A fetch already under way may carry a snapshot older than the event that asks for this
      // one (an edge created while the response was on its way would vanish when it is applied):
      // fetch once more when it is done. A fetch still waiting to start will see the change.
      if (refetchInFlight) refetchAgain = true;
      return;
    }
    refetchTimer = setTimeout(async () => {
      refetchInFlight = true;
      try {
        const response = await fetch(GRAPH_URL, { cache: "no-store" });
        if (response.ok) applySnapshot(await response.json(), false);
      } catch {
        // The server is away; the next event or reconnect refetches.
      } finally {
        refetchInFlight = false;
        refetchTimer = null;
        if (refetchAgain) {
          refetchAgain = false;
          refetchGraph(0);
        }
      }
    }, delay);
  }

  function applySnapshot(graph, full) {
    const seen = new Set();
    for (const n of graph.nodes) {
      seen.add(n.id);
      const node = ensureNode(n.id);
      node.name = n.name || n.id;
      node.community = n.community;
      node.pagerank = n.pagerank;
    }
    if (!full) {
      restyle();
      return;
    }
    for (const [id, node] of nodes) {
      if (!seen.has(id)) {
        node.el.remove();
        nodes.delete(id);
      }
    }
    const seenEdges = new Set();
    for (const e of graph.edges) {
      seenEdges.add(edgeKey(e.from, e.to));
      upsertEdge(e.from, e.to, e.confidence, e.observed_count, false);
    }
    for (const [key, edge] of edges) {
      if (!seenEdges.has(key)) {
        edge.el.remove();
        edges.delete(key);
      }
    }
    const m = graph.metrics;
    showMetrics(m.node_count, m.edge_count, m.density, m.communities_count, m.pagerank_top_10);
    restyle();
    kick(0.5);
  }

  // ---- model -------------------------------------------------------------------------------

  function edgeKey(from, to) {
    return `${from}\u0000${to}`;
  }

  function ensureNode(id) {
    let node = nodes.get(id);
    if (node) return node;
    const angle = Math.random() * Math.PI * 2;
    const radius = 120 + Math.random() * 160;
    node = {
      id, name: id, community: 0, pagerank: 0,
      x: WIDTH / 2 + Math.cos(angle) * radius, y: HEIGHT / 2 + Math.sin(angle) * radius, vx: 0, vy: 0,
    };
    const g = document.createElementNS(SVG_NS, "g");
    g.setAttribute("class", "node");
    g.dataset.toolId = id;
    const circle = document.createElementNS(SVG_NS, "circle");
    const title = document.createElementNS(SVG_NS, "title");
    title.textContent = id;
    circle.appendChild(title);
    const label = document.createElementNS(SVG_NS, "text");
    label.setAttribute("dx", "9");
    label.setAttribute("dy", "3");
    label.textContent = id;
    g.append(circle, label);
    nodeLayer.appendChild(g);
    node.el = g;
    nodes.set(id, node);
    return node;
  }

  function upsertEdge(from, to, confidence, observedCount, fresh) {
    ensureNode(from);
    ensureNode(to);
    const key = edgeKey(from, to);
    let edge = edges.get(key);
    if (!edge) {
      const line = document.createElementNS(SVG_NS, "line");
      line.setAttribute("class", "edge");
      line.setAttribute("marker-end", "url(#arrow)");
      line.dataset.from = from;
      line.dataset.to = to;
      edgeLayer.appendChild(line);
      edge = { from, to, confidence, el: line };
      edges.set(key, edge);
      kick(0.6);
    }
    edge.confidence = confidence;
    edge.el.dataset.confidence = String(confidence);
    edge.el.dataset.observedCount = String(observedCount);
    edge.el.setAttribute("stroke-width", (0.6 + confidence * 4).toFixed(2));
    if (fresh) flash(edge.el, nodes.get(from).el, nodes.get(to).el);
    svg.dataset.nodeCount = String(nodes.size);
    svg.dataset.edgeCount = String(edges.size);
  }

  function flash(...elements) {
    for (const el of elements) {
      el.classList.add("fresh");
      clearTimeout(el.freshTimer);
      el.freshTimer = setTimeout(() => el.classList.remove("fresh"), 1500);
    }
  }

  function colour(community) {
    // Golden-angle hues: neighbouring community numbers get clearly different colours.
    return `hsl(${Math.round((community * 137.508) % 360)}, 65%, 58%)`;
  }

  function restyle() {
    const maxRank = Math.max(1e-9, ...Array.from(nodes.values(), (n) => n.pagerank));
    for (const node of nodes.values()) {
      const circle = node.el.firstChild;
      circle.setAttribute("r", (4 + 10 * Math.sqrt(node.pagerank / maxRank)).toFixed(1));
      circle.setAttribute("fill", colour(node.community));
      node.el.dataset.community = String(node.community);
      node.el.lastChild.textContent = node.name;
    }
    svg.dataset.nodeCount = String(nodes.size);
    svg.dataset.edgeCount = String(edges.size);
  }

  function showMetrics(nodeCount, edgeCount, density, communities, top) {
    $("metric-nodes").textContent = nodeCount;
    $("metric-edges").textContent = edgeCount;
    $("metric-density").textContent = Number(density).toFixed(4);
    $("metric-communities").textContent = communities;
    const list = $("pagerank-list");
    list.replaceChildren(...(top || []).map((entry) => {
      const li = document.createElement("li");
      li.dataset.toolId = entry.tool_id;
      const name = document.createElement("span");
      name.textContent = entry.tool_id;
      const score = document.createElement("span");
      score.className = "score";
      score.textContent = Number(entry.score).toFixed(4);
      li.append(name, score);
      return li;
    }));
  }

  // ---- event log ---------------------------------------------------------------------------

  function summary(type, d) {
    switch (type) {
      case "connected": return `client ${d.client_id.slice(0, 8)} · ${d.connected_clients} connected`;
      case "graph_synced": return `${d.node_count} nodes, ${d.edge_count} edges in ${Number(d.sync_duration_ms).toFixed(1)} ms`;
      case "edge_created": return `${d.from_tool_id} → ${d.to_tool_id} (${d.confidence_score.toFixed(2)})`;
      case "edge_updated": return `${d.from_tool_id} → ${d.to_tool_id} ${d.old_confidence.toFixed(2)}→${d.new_confidence.toFixed(2)} ×${d.observed_count}`;
      case "workflow_executed": return `${d.workflow_id} ${d.success ? "✓" : "✗"} ${d.tool_ids.join(" → ")}`;
      case "metrics_updated": return `${d.node_count} nodes, ${d.edge_count} edges, ${d.communities_count} communities`;
      case "heartbeat": return `${d.connected_clients} connected · up ${d.uptime_seconds} s`;
      case "events_lost": return `${d.reason}${d.lost_count == null ? "" : ` (${d.lost_count})`} · refetching the graph`;
      default: return "";
    }
  }

  function log(type, data) {
    const li = document.createElement("li");
    li.dataset.eventType = type;
    const time = new Date(data.timestamp || Date.now()).toLocaleTimeString();
    const typeEl = document.createElement("span");
    typeEl.className = "type";
    typeEl.textContent = type;
    li.append(`${time} `, typeEl, summary(type, data));
    li.title = JSON.stringify(data);
    const logEl = $("event-log");
    logEl.prepend(li);
    while (logEl.childElementCount > MAX_LOG) logEl.lastElementChild.remove();
  }

  // ---- force layout ------------------------------------------------------------------------

  function kick(value) {
    alpha = Math.max(alpha, value);
  }

  function step() {
    const list = Array.from(nodes.values());
    if (alpha > 0.005 && list.length > 0) {
      // Repulsion between every pair (fine for the few hundred tools a dashboard shows).
      for (let i = 0; i < list.length; i++) {
        const a = list[i];
        for (let j = i + 1; j < list.length; j++) {
          const b = list[j];
          let dx = a.x - b.x;
          let dy = a.y - b.y;
          let d2 = dx * dx + dy * dy;
          if (d2 < 1) { dx = Math.random() - 0.5; dy = Math.random() - 0.5; d2 = 1; }
          const force = (4200 / d2) * alpha;
          const d = Math.sqrt(d2);
          a.vx += (dx / d) * force; a.vy += (dy / d) * force;
          b.vx -= (dx / d) * force; b.vy -= (dy / d) * force;
        }
      }
      // Springs along edges, stronger for confident ones.
      for (const e of edges.values()) {
        const a = nodes.get(e.from);
        const b = nodes.get(e.to);
        if (!a || !b) continue;
        const dx = b.x - a.x;
        const dy = b.y - a.y;
        const d = Math.max(1, Math.sqrt(dx * dx + dy * dy));
        const force = (d - 95) * 0.02 * (0.5 + e.confidence) * alpha;
        a.vx += (dx / d) * force; a.vy += (dy / d) * force;
        b.vx -= (dx / d) * force; b.vy -= (dy / d) * force;
      }
      for (const n of list) {
        n.vx += (WIDTH / 2 - n.x) * 0.0025 * alpha;
        n.vy += (HEIGHT / 2 - n.y) * 0.004 * alpha;
        n.vx *= 0.6; n.vy *= 0.6;
        n.x = Math.min(WIDTH - 20, Math.max(20, n.x + n.vx));
        n.y = Math.min(HEIGHT - 14, Math.max(14, n.y + n.vy));
      }
      alpha *= 0.98;
      draw();
    }
    // A hook for screenshots and tests: the drawing has stopped moving.
    const settled = String(alpha <= 0.005);
    if (svg.dataset.settled !== settled) svg.dataset.settled = settled;
    requestAnimationFrame(step);
  }

  function draw() {
    for (const n of nodes.values()) n.el.setAttribute("transform", `translate(${n.x.toFixed(1)},${n.y.toFixed(1)})`);
    for (const e of edges.values()) {
      const a = nodes.get(e.from);
      const b = nodes.get(e.to);
      if (!a || !b) continue;
      // Stop the line at the target's rim so the arrow head shows.
      const dx = b.x - a.x;
      const dy = b.y - a.y;
      const d = Math.max(1, Math.sqrt(dx * dx + dy * dy));
      const r = Number(b.el.firstChild.getAttribute("r") || 6) + 2;
      e.el.setAttribute("x1", a.x.toFixed(1));
      e.el.setAttribute("y1", a.y.toFixed(1));
      e.el.setAttribute("x2", (b.x - (dx / d) * r).toFixed(1));
      e.el.setAttribute("y2", (b.y - (dy / d) * r).toFixed(1));
    }
  }

  requestAnimationFrame(step);
  load();
})();
