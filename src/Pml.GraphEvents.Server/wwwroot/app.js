// The live dashboard: the graph from /graph, then one EventSource on /events/stream from the id
// that snapshot is as of (as_of_event_id), so that no change is missed or counted twice between
// the fetch and the stream; a force layout drawn in SVG. Explorable: click a tool for its details
// and the tools that follow and precede it, pick two for their likely chains, search, and small
// charts of the metrics over the last minutes. No framework, no build step, nothing from a CDN.
(() => {
  "use strict";

  const STREAM_URL = "events/stream";
  const GRAPH_URL = "graph";
  const EVENT_TYPES = ["connected", "graph_synced", "edge_created", "edge_updated", "workflow_executed", "metrics_updated", "heartbeat", "events_lost"];
  const MAX_LOG = 200;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const WIDTH = 1000;
  const HEIGHT = 640;
  const NEXT_URL = "graph/next";
  const PREVIOUS_URL = "graph/previous";
  const PATHS_URL = "graph/paths";
  const SHOWN_TRANSITIONS = 8;
  const SERVER_K = 5;
  const PATHS_K = 3;
  // Charts keep the last five minutes.
  const CHART_WINDOW_MS = 5 * 60 * 1000;

  const $ = (id) => document.getElementById(id);
  const status = $("connection-status");
  const svg = $("graph");
  const edgeLayer = $("edges");
  const nodeLayer = $("nodes");

  /** id → { id, name, server, community, pagerank, x, y, vx, vy, el } */
  const nodes = new Map();
  /** "from\u0000to" → { from, to, confidence, observedCount, el } */
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
    if (type !== "heartbeat" && type !== "connected") eventsThisSecond += 1;
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
        recordMetrics(data.edge_count, data.density, data.communities_count);
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
      node.server = n.server_id ?? null;
      node.community = n.community;
      node.pagerank = n.pagerank;
    }
    if (!full) {
      restyle();
      graphChanged(false);
      return;
    }
    for (const [id, node] of nodes) {
      if (!seen.has(id)) {
        node.el.remove();
        nodes.delete(id);
        nodesVersion += 1;
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
    recordMetrics(m.edge_count, m.density, m.communities_count);
    restyle();
    kick(0.5);
    // A new snapshot may have dropped the selected tools (another database): re-check them, and
    // ask the server again for what it knows now.
    graphChanged(true);
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
      id, name: id, server: null, community: 0, pagerank: 0,
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
    nodesVersion += 1;
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
      edge = { from, to, confidence, observedCount, el: line };
      edges.set(key, edge);
      kick(0.6);
    }
    edge.confidence = confidence;
    edge.observedCount = observedCount;
    edge.el.dataset.confidence = String(confidence);
    edge.el.dataset.observedCount = String(observedCount);
    edge.el.setAttribute("stroke-width", (0.6 + confidence * 4).toFixed(2));
    if (fresh) flash(edge.el, nodes.get(from).el, nodes.get(to).el);
    svg.dataset.nodeCount = String(nodes.size);
    svg.dataset.edgeCount = String(edges.size);
    if (fresh) graphChanged(false);
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
      li.className = "tool-link";
      li.tabIndex = 0;
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

  // ---- exploring: the selected tool -------------------------------------------------------

  let selected = null;
  let nodesVersion = 0;
  let renderScheduled = false;
  let serverTimer = null;
  let serverSeq = 0;
  let eventsThisSecond = 0;

  // Every change of the graph (an edge event, a snapshot) re-renders what depends on it, once a
  // frame at most, and asks the server again after a quiet moment rather than on every event.
  function graphChanged(reloaded) {
    if (!renderScheduled) {
      renderScheduled = true;
      requestAnimationFrame(() => {
        renderScheduled = false;
        syncPickers();
        renderPanel();
        highlight();
        if (searchInput.value.trim() !== "") runSearch(false);
      });
    }
    scheduleServerAnswers(reloaded ? 0 : 600);
    schedulePaths(reloaded ? 0 : 800);
  }

  function outgoingTotals() {
    const totals = new Map();
    for (const e of edges.values()) totals.set(e.from, (totals.get(e.from) || 0) + e.confidence);
    return totals;
  }

  // DESIGN §9: the probability of the step A→B is confidence(A→B) over the sum of the confidences
  // of every edge out of A; computed here from the edges the stream keeps exact, so it moves with
  // every edge event, and checked against the server's answer below it.
  function transitions(id) {
    const totals = outgoingTotals();
    const next = [];
    const previous = [];
    for (const e of edges.values()) {
      if (e.from === id) next.push({ tool: e.to, probability: e.confidence / totals.get(e.from), edge: e });
      if (e.to === id) previous.push({ tool: e.from, probability: e.confidence / totals.get(e.from), edge: e });
    }
    const order = (a, b) => b.probability - a.probability || (a.tool < b.tool ? -1 : a.tool > b.tool ? 1 : 0);
    return { next: next.sort(order), previous: previous.sort(order) };
  }

  function percent(p) {
    return `${(p * 100).toFixed(1)} %`;
  }

  function select(id) {
    if (!nodes.has(id)) return;
    selected = id;
    $("tool-panel").hidden = false;
    renderPanel();
    highlight();
    scheduleServerAnswers(0);
  }

  function deselect() {
    selected = null;
    $("tool-panel").hidden = true;
    $("tool-panel").dataset.toolId = "";
    highlight();
  }

  function renderPanel() {
    if (selected === null) return;
    const panel = $("tool-panel");
    const node = nodes.get(selected);
    panel.dataset.toolId = selected;
    $("tool-id").textContent = selected;
    $("tool-missing").hidden = node !== undefined;
    $("tool-name").textContent = node ? node.name : "—";
    $("tool-server").textContent = node?.server ?? "—";
    $("tool-pagerank").textContent = node ? Number(node.pagerank).toFixed(4) : "—";
    $("tool-community").textContent = node ? String(node.community) : "—";
    const { next, previous } = transitions(selected);
    fillTransitions($("tool-next"), next, "no tool has followed it yet");
    fillTransitions($("tool-previous"), previous, "no tool has preceded it yet");
  }

  function fillTransitions(list, items, empty) {
    if (items.length === 0) {
      const li = document.createElement("li");
      li.className = "empty muted";
      li.textContent = empty;
      list.replaceChildren(li);
      return;
    }
    list.replaceChildren(...items.slice(0, SHOWN_TRANSITIONS).map((t) => {
      const li = document.createElement("li");
      li.className = "tool-link";
      li.tabIndex = 0;
      li.dataset.toolId = t.tool;
      li.dataset.probability = String(t.probability);
      li.title = `confidence ${t.edge.confidence.toFixed(3)} · observed ${t.edge.observedCount}×`;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = t.tool;
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.setProperty("--p", String(t.probability));
      const value = document.createElement("span");
      value.className = "score";
      value.textContent = percent(t.probability);
      li.append(name, bar, value);
      return li;
    }));
  }

  // The server's own answer (GET /graph/next and /graph/previous), fetched after the graph has
  // been quiet for a moment. Only tools the loaded graph has are asked about, so the page causes
  // no 400 in normal use; any failure is shown quietly, never thrown.
  function scheduleServerAnswers(delay) {
    if (selected === null) return;
    // A throttle, not a debounce: under steady ingest (the simulator) events never stop for long,
    // and a timer reset by each of them would never fire. A new question (delay 0) goes at once.
    if (serverTimer !== null && delay > 0) return;
    clearTimeout(serverTimer);
    serverTimer = setTimeout(fetchServerAnswers, delay);
  }

  async function fetchServerAnswers() {
    serverTimer = null;
    const id = selected;
    if (id === null || !nodes.has(id)) return;
    const seq = ++serverSeq;
    const query = `?tool=${encodeURIComponent(id)}&k=${SERVER_K}`;
    const [next, previous] = await Promise.all([getJson(NEXT_URL + query), getJson(PREVIOUS_URL + query)]);
    if (seq !== serverSeq || id !== selected) return; // a newer question is on its way
    showServerAnswer($("tool-next-server"), next, next?.next);
    showServerAnswer($("tool-previous-server"), previous, previous?.previous);
  }

  async function getJson(url) {
    try {
      const response = await fetch(url, { cache: "no-store" });
      if (!response.ok) return null;
      return await response.json();
    } catch {
      return null;
    }
  }

  function showServerAnswer(el, body, items) {
    if (!body || !Array.isArray(items)) {
      el.dataset.state = "unavailable";
      el.textContent = "unavailable";
      return;
    }
    el.dataset.state = "ok";
    el.dataset.asOf = body.as_of_event_id ?? "";
    if (items.length === 0) {
      el.textContent = "none";
    } else {
      el.replaceChildren(...items.map((t, i) => {
        const span = document.createElement("span");
        span.className = "tool-link answer";
        span.tabIndex = 0;
        span.dataset.toolId = t.tool_id;
        span.dataset.probability = String(t.probability);
        span.textContent = `${i > 0 ? " · " : ""}${t.tool_id} ${percent(t.probability)}`;
        return span;
      }));
    }
    el.title = `as of event ${body.as_of_event_id ?? "?"}`;
  }

  // ---- exploring: chains between two tools --------------------------------------------------

  const pathFrom = $("path-from");
  const pathTo = $("path-to");
  let pickersVersion = -1;
  let paths = [];
  let pathIndex = 0;
  let pathsTimer = null;
  let pathsSeq = 0;

  // The selectors list the graph's tools; rebuilt only when the set of tools changes.
  function syncPickers() {
    if (pickersVersion === nodesVersion) return;
    pickersVersion = nodesVersion;
    const ids = Array.from(nodes.keys()).sort();
    for (const picker of [pathFrom, pathTo]) {
      const value = picker.value;
      const blank = document.createElement("option");
      blank.value = "";
      blank.textContent = "—";
      picker.replaceChildren(blank, ...ids.map((id) => {
        const option = document.createElement("option");
        option.value = id;
        option.textContent = id;
        return option;
      }));
      picker.value = nodes.has(value) ? value : "";
    }
  }

  function pickPath(from, to) {
    syncPickers();
    if (from !== undefined) pathFrom.value = nodes.has(from) ? from : "";
    if (to !== undefined) pathTo.value = nodes.has(to) ? to : "";
    pathIndex = 0;
    schedulePaths(0);
  }

  function schedulePaths(delay) {
    if (pathsTimer !== null && delay > 0) return; // a throttle, as for the server's answers above
    clearTimeout(pathsTimer);
    pathsTimer = setTimeout(fetchPaths, delay);
  }

  function setPathsStatus(state, text) {
    const el = $("paths-status");
    el.dataset.state = state;
    el.textContent = text;
  }

  async function fetchPaths() {
    pathsTimer = null;
    const from = pathFrom.value;
    const to = pathTo.value;
    const seq = ++pathsSeq;
    if (!from || !to || !nodes.has(from) || !nodes.has(to)) {
      paths = [];
      $("paths-list").replaceChildren();
      setPathsStatus("idle", "Pick two tools (or shift-click a second one on the drawing).");
      highlight();
      return;
    }
    if (from === to) {
      paths = [];
      $("paths-list").replaceChildren();
      setPathsStatus("idle", "Pick two different tools.");
      highlight();
      return;
    }
    if (paths.length === 0) setPathsStatus("loading", "asking the server…");
    const body = await getJson(`${PATHS_URL}?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&k=${PATHS_K}`);
    if (seq !== pathsSeq) return;
    if (!body || !Array.isArray(body.paths)) {
      paths = [];
      $("paths-list").replaceChildren();
      setPathsStatus("unavailable", "chains unavailable right now");
    } else if (body.paths.length === 0) {
      paths = [];
      $("paths-list").replaceChildren();
      setPathsStatus("none", `no chain from ${from} to ${to}`);
    } else {
      paths = body.paths;
      if (pathIndex >= paths.length) pathIndex = 0;
      setPathsStatus("ok", `${paths.length} most likely chain${paths.length > 1 ? "s" : ""} · as of ${body.as_of_event_id ?? "?"}`);
      renderPaths();
    }
    highlight();
  }

  function renderPaths() {
    $("paths-list").replaceChildren(...paths.map((path, i) => {
      const li = document.createElement("li");
      li.dataset.index = String(i);
      li.dataset.probability = String(path.probability);
      li.dataset.toolIds = path.tool_ids.join(" ");
      li.tabIndex = 0;
      if (i === pathIndex) li.classList.add("best");
      const chain = document.createElement("span");
      chain.className = "chain";
      chain.textContent = path.tool_ids.join(" → ");
      const value = document.createElement("span");
      value.className = "score";
      value.textContent = percent(path.probability);
      li.append(chain, value);
      return li;
    }));
  }

  // ---- exploring: highlighting on the drawing ------------------------------------------------

  function highlight() {
    const chain = paths[pathIndex]?.tool_ids ?? null;
    const onChain = new Set(chain ?? []);
    const chainEdges = new Set();
    if (chain) for (let i = 0; i + 1 < chain.length; i++) chainEdges.add(edgeKey(chain[i], chain[i + 1]));
    svg.classList.toggle("has-path", chain !== null);
    svg.dataset.pathNodes = chain ? chain.join(" ") : "";
    for (const node of nodes.values()) {
      node.el.classList.toggle("selected", node.id === selected);
      node.el.classList.toggle("on-path", onChain.has(node.id));
      node.el.classList.toggle("path-end", chain !== null && (node.id === chain[0] || node.id === chain[chain.length - 1]));
    }
    for (const [key, e] of edges) {
      e.el.classList.toggle("on-path", chainEdges.has(key));
      e.el.classList.toggle("adjacent", selected !== null && (e.from === selected || e.to === selected));
    }
  }

  // ---- exploring: search -------------------------------------------------------------------

  const searchInput = $("search");
  let matches = [];

  function runSearch(showList) {
    const query = searchInput.value.trim().toLowerCase();
    matches = [];
    if (query !== "") {
      for (const node of nodes.values()) {
        const id = node.id.toLowerCase();
        const name = String(node.name).toLowerCase();
        if (id.includes(query) || name.includes(query)) matches.push(node);
      }
      // Ids that start with the query first, then by PageRank: Enter picks the likeliest meant.
      const starts = (n) => (n.id.toLowerCase().startsWith(query) ? 0 : 1);
      matches.sort((a, b) => starts(a) - starts(b) || b.pagerank - a.pagerank || (a.id < b.id ? -1 : 1));
    }
    const ids = new Set(matches.map((n) => n.id));
    svg.classList.toggle("searching", query !== "");
    for (const node of nodes.values()) node.el.classList.toggle("match", ids.has(node.id));
    searchInput.dataset.matchCount = String(matches.length);
    $("search-count").textContent = query === "" ? "" : `${matches.length} match${matches.length === 1 ? "" : "es"}`;
    const results = $("search-results");
    if (showList !== false || results.childElementCount > 0) {
      results.replaceChildren(...matches.slice(0, 8).map((n) => {
        const li = document.createElement("li");
        li.className = "tool-link";
        li.tabIndex = 0;
        li.dataset.toolId = n.id;
        li.textContent = n.name && n.name !== n.id ? `${n.id} · ${n.name}` : n.id;
        return li;
      }));
    }
  }

  searchInput.addEventListener("input", () => runSearch(true));
  searchInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      runSearch(true);
      if (matches.length > 0) select(matches[0].id);
      event.preventDefault();
    } else if (event.key === "Escape") {
      searchInput.value = "";
      runSearch(true);
    }
  });

  // ---- exploring: clicks -------------------------------------------------------------------

  // One handler for the drawing: a click selects, a shift-click picks the chain from the selected
  // tool to this one.
  nodeLayer.addEventListener("click", (event) => {
    const g = event.target.closest("g.node");
    if (!g) return;
    const id = g.dataset.toolId;
    if (event.shiftKey && selected !== null && selected !== id) {
      pickPath(selected, id);
    } else {
      select(id);
    }
  });

  // One handler for every list that names tools (search results, PageRank, follow/precede).
  function onToolLink(event) {
    const item = event.target.closest(".tool-link");
    if (!item || !item.dataset.toolId) return false;
    if (event.shiftKey && selected !== null && selected !== item.dataset.toolId) {
      pickPath(selected, item.dataset.toolId);
    } else {
      select(item.dataset.toolId);
    }
    return true;
  }
  document.addEventListener("click", (event) => {
    if (event.target.closest("#graph")) return;
    onToolLink(event);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.target === searchInput) return;
    if (onToolLink(event)) return;
    const item = event.target.closest("#paths-list li");
    if (item) choosePath(Number(item.dataset.index));
  });
  // Pointing at a tool in a list rings it on the drawing, so the lists and the picture connect.
  let hovered = null;
  document.addEventListener("mouseover", (event) => {
    const item = event.target.closest?.(".tool-link");
    const node = item ? nodes.get(item.dataset.toolId) : undefined;
    const el = node ? node.el : null;
    if (el === hovered) return;
    hovered?.classList.remove("hovered");
    hovered = el;
    hovered?.classList.add("hovered");
  });
  $("paths-list").addEventListener("click", (event) => {
    const item = event.target.closest("li");
    if (item) choosePath(Number(item.dataset.index));
  });

  function choosePath(index) {
    if (!(index >= 0 && index < paths.length)) return;
    pathIndex = index;
    renderPaths();
    highlight();
  }

  $("tool-close").addEventListener("click", deselect);
  $("chain-from-here").addEventListener("click", () => pickPath(selected, undefined));
  $("chain-to-here").addEventListener("click", () => pickPath(undefined, selected));
  $("path-clear").addEventListener("click", () => pickPath("", ""));
  pathFrom.addEventListener("change", () => pickPath(undefined, undefined));
  pathTo.addEventListener("change", () => pickPath(undefined, undefined));

  // ---- charts ------------------------------------------------------------------------------

  const pageOpened = Date.now();
  /** name → { el, points: [[time, value]], format } */
  const charts = new Map([
    ["edges", { el: $("chart-edges"), points: [], format: (v) => String(Math.round(v)) }],
    ["density", { el: $("chart-density"), points: [], format: (v) => v.toFixed(4) }],
    ["communities", { el: $("chart-communities"), points: [], format: (v) => String(Math.round(v)) }],
    ["rate", { el: $("chart-rate"), points: [], format: (v) => String(v) }],
  ]);

  function record(name, value) {
    const v = Number(value);
    if (!Number.isFinite(v)) return;
    const chart = charts.get(name);
    chart.points.push([Date.now(), v]);
    // Drop what left the window, but keep one older point: the line starts at the window's edge.
    const cutoff = Date.now() - CHART_WINDOW_MS;
    while (chart.points.length > 2 && chart.points[1][0] < cutoff) chart.points.shift();
    chart.el.dataset.points = String(chart.points.length);
    chart.el.dataset.last = String(v);
  }

  function recordMetrics(edgeCount, density, communities) {
    record("edges", edgeCount);
    record("density", density);
    record("communities", communities);
    drawCharts();
  }

  // Step lines over the last five minutes (or since the page opened, at least 30 s, so a young
  // page fills its charts), from zero to the window's largest value, each in its tile's own SVG.
  function drawCharts() {
    const now = Date.now();
    const span = Math.min(CHART_WINDOW_MS, Math.max(30000, now - pageOpened));
    const start = now - span;
    for (const chart of charts.values()) {
      const pts = chart.points;
      if (pts.length === 0) continue;
      const max = Math.max(...pts.map((p) => p[1]));
      const top = max > 0 ? max : 1;
      const x = (t) => (Math.max(0, t - start) / span) * 200;
      const y = (v) => 34 - (v / top) * 30;
      let d = `M ${x(pts[0][0]).toFixed(1)} ${y(pts[0][1]).toFixed(1)}`;
      for (let i = 1; i < pts.length; i++) d += ` H ${x(pts[i][0]).toFixed(1)} V ${y(pts[i][1]).toFixed(1)}`;
      d += ` H 200`;
      let line = chart.el.querySelector("path.line");
      let area = chart.el.querySelector("path.area");
      if (!line) {
        area = document.createElementNS(SVG_NS, "path");
        area.setAttribute("class", "area");
        line = document.createElementNS(SVG_NS, "path");
        line.setAttribute("class", "line");
        line.setAttribute("vector-effect", "non-scaling-stroke");
        chart.el.append(area, line);
      }
      line.setAttribute("d", d);
      area.setAttribute("d", `${d} V 36 H ${x(pts[0][0]).toFixed(1)} Z`);
      chart.el.dataset.max = String(max);
      chart.el.setAttribute("aria-label", `${chart.el.getAttribute("aria-label").split(" · ")[0]} · max ${chart.format(max)}`);
    }
  }

  // Events per second: counted as they arrive (heartbeats and greetings aside), one point a second.
  setInterval(() => {
    const rate = eventsThisSecond;
    eventsThisSecond = 0;
    record("rate", rate);
    $("metric-rate").textContent = String(rate);
    drawCharts();
  }, 1000);

  requestAnimationFrame(step);
  load();
})();
