// Flotilla's live dashboard. DashboardServer (io.flotilla.internal.dashboard) serves this file from
// the jar at /assets/, the page at /, a snapshot of the fleet as JSON at /api/fleet and the same
// snapshot every second as Server-Sent Events at /api/events ("event: fleet").
//
//   api/events ──fetch()+reader──▶ SSE parser ──"fleet" frame──▶ render(snapshot)
//        ▲                                                          │
//        └── reconnect with back-off when the stream ends, stalls   ├─ overview cards + sparkline
//            or fails; on 401 ask once for a token (sessionStorage) ├─ task stream (canvas)
//                                                                   ├─ jobs, workers, failures tables
//                                                                   └─ #status
//
// Why fetch() and not EventSource: beyond loopback every api/ path needs an Authorization header,
// and EventSource cannot send one. So the page parses SSE frames itself.
//
// Everything the server sends is untrusted text (error messages, tracebacks, host names): it goes
// into the page through textContent only, never innerHTML. The page is read-only.
//
// Each snapshot is drawn once when it arrives: no animation loop, so an idle tab costs nothing.
// Hooks for the browser test: #workers tbody tr[data-worker-id][data-state],
// #jobs tbody tr[data-job-id] .progress[data-percent], #task-stream[data-spans], #status[data-state].
'use strict';

(function () {
  const TOKEN_KEY = 'flotilla.dashboard.token';
  /** The server sends a frame every second; this long without one and the stream is deemed dead. */
  const STALL_MS = 5000;
  /** Reconnect back-off: first wait, and the ceiling it doubles up to. */
  const RETRY_FIRST_MS = 500;
  const RETRY_MAX_MS = 10000;
  /** The task stream's geometry, in CSS pixels. */
  const LABEL_W = 170;
  const AXIS_H = 20;
  const LANE_H = 14;
  const BAR_H = 10;
  const WORKER_GAP = 6;
  /** More lanes than this are not drawn (the snapshot caps workers at 200, not their threads). */
  const MAX_LANES = 256;

  const $ = (id) => document.getElementById(id);

  let token = sessionStorage.getItem(TOKEN_KEY);
  let snapshot = null;
  let lastUpdate = null; // Date the last snapshot arrived
  let connection = { state: 'connecting', detail: '' };
  let hits = []; // the task stream's bars as last drawn, for the tooltip

  // ======================================================================================
  // Formatting
  // ======================================================================================

  const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
  const twoDecimals = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 });

  function num(v) {
    return v == null ? '–' : intFormat.format(v);
  }

  function rate(v) {
    if (v == null) return '–';
    return v < 10 ? oneDecimal.format(v) : intFormat.format(v);
  }

  function bytes(v) {
    if (v == null) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return (i === 0 || v >= 100 ? intFormat.format(v) : oneDecimal.format(v)) + ' ' + units[i];
  }

  /** A duration in seconds as "0.4 s", "12 s", "3 min 5 s", "2 h 10 min". */
  function duration(s) {
    if (s == null || !isFinite(s)) return '–';
    if (s < 10) return oneDecimal.format(Math.max(0, s)) + ' s';
    if (s < 60) return Math.round(s) + ' s';
    if (s < 3600) {
      const m = Math.floor(s / 60);
      const rest = Math.round(s - m * 60);
      return rest ? m + ' min ' + rest + ' s' : m + ' min';
    }
    const h = Math.floor(s / 3600);
    const m = Math.round((s - h * 3600) / 60);
    return m ? h + ' h ' + m + ' min' : h + ' h';
  }

  function clock(ms) {
    if (ms == null) return '–';
    const d = new Date(ms);
    const p = (n) => String(n).padStart(2, '0');
    return p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
  }

  // ======================================================================================
  // DOM helpers: every string goes in as text
  // ======================================================================================

  /** An element with a class and text (as textContent), or child nodes. */
  function el(tag, cls, content) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (content == null) return e;
    if (Array.isArray(content)) {
      for (const c of content) if (c != null) e.append(c);
    } else if (content instanceof Node) {
      e.append(content);
    } else {
      e.textContent = String(content);
    }
    return e;
  }

  function setText(id, text) {
    const e = $(id);
    if (e.textContent !== text) e.textContent = text;
  }

  function emptyRow(tbody, columns, text) {
    const td = el('td', 'empty', text);
    td.colSpan = columns;
    tbody.append(el('tr', null, td));
  }

  function stateBadge(state, text) {
    const s = el('span', 'state ' + String(state), text == null ? state : text);
    return s;
  }

  // ======================================================================================
  // Colours: one per job, stable across snapshots and reloads
  // ======================================================================================

  const PALETTE = [
    '#5b9cf6', '#3fb27f', '#e0a33a', '#b57bee', '#2fbfc9', '#f08a5d',
    '#9ccc65', '#f06292', '#7986cb', '#d4c44a', '#4db6ac', '#ba68c8',
  ];

  function jobColour(id) {
    const s = String(id);
    if (/^\d+$/.test(s)) return PALETTE[Number(s.slice(-6)) % PALETTE.length];
    let h = 2166136261; // FNV-1a
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 16777619);
    }
    return PALETTE[(h >>> 0) % PALETTE.length];
  }

  // ======================================================================================
  // Rendering
  // ======================================================================================

  function render(snap) {
    snapshot = snap;
    lastUpdate = new Date();
    document.title = (snap.name ? snap.name + ' · ' : '') + 'Flotilla';
    setText('cluster-name', [snap.name, snap.source].filter(Boolean).join(' · '));
    setText('footer-source', 'Flotilla ' + (snap.version || '?') + (snap.api !== 1 ? ' · unknown API version ' + snap.api : ''));
    renderOverview(snap);
    drawStream(snap);
    renderJobs(snap);
    renderWorkers(snap);
    renderFailures(snap);
    renderStatus();
  }

  function renderOverview(snap) {
    const o = snap.overview || {};
    const workers = snap.workers || [];
    setText('ov-workers', num(o.workers));
    const lost = workers.filter((w) => w.state === 'lost').length;
    const troubled = workers.filter((w) => w.state === 'unreachable' || w.state === 'retiring').length;
    const sub = [];
    if (troubled) sub.push(troubled + ' unreachable or retiring');
    if (lost) sub.push(lost + ' recently lost');
    setText('ov-workers-sub', sub.join(' · '));
    setText('ov-threads', num(o.busy) + ' / ' + num(o.threads));
    $('ov-threads-meter').style.width = (o.threads ? Math.min(100, (100 * (o.busy || 0)) / o.threads) : 0) + '%';
    setText('ov-rate', rate(o.items_per_s));
    setText('ov-queue', num(o.queue_chunks));
    setText('ov-done', num(o.items_completed));
    setText('ov-failed', num(o.items_failed));
    $('ov-failed').classList.toggle('nonzero', (o.items_failed || 0) > 0);
    setText('ov-clients', num(o.clients));
    drawSparkline($('rate-spark'), o.rate || [], snap.now_ms, 300000);
  }

  /** Sizes a canvas's backing store to its CSS box at the device's pixel ratio; returns its context. */
  function fit(canvas, cssHeight) {
    const dpr = window.devicePixelRatio || 1;
    if (cssHeight != null) canvas.style.height = cssHeight + 'px';
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, canvas.clientWidth, canvas.clientHeight);
    return ctx;
  }

  function drawSparkline(canvas, points, now, spanMs) {
    const ctx = fit(canvas);
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    const t0 = now - spanMs;
    const pts = points.filter((p) => p[0] >= t0);
    if (pts.length < 2) return;
    let max = 0;
    for (const p of pts) max = Math.max(max, p[1]);
    if (max <= 0) max = 1;
    const x = (t) => ((t - t0) / spanMs) * (w - 2) + 1;
    const y = (v) => h - 2 - (v / max) * (h - 8);
    ctx.beginPath();
    ctx.moveTo(x(pts[0][0]), h);
    for (const p of pts) ctx.lineTo(x(p[0]), y(p[1]));
    ctx.lineTo(x(pts[pts.length - 1][0]), h);
    ctx.closePath();
    const grad = ctx.createLinearGradient(0, 0, 0, h);
    grad.addColorStop(0, 'rgba(91,156,246,0.45)');
    grad.addColorStop(1, 'rgba(91,156,246,0.02)');
    ctx.fillStyle = grad;
    ctx.fill();
    ctx.beginPath();
    pts.forEach((p, i) => (i ? ctx.lineTo(x(p[0]), y(p[1])) : ctx.moveTo(x(p[0]), y(p[1]))));
    ctx.strokeStyle = '#5b9cf6';
    ctx.lineWidth = 1.5;
    ctx.stroke();
    ctx.fillStyle = '#8a92a0';
    ctx.font = '10px system-ui, sans-serif';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'top';
    ctx.fillText('max ' + rate(max), w - 2, 0);
  }

  // ---- task stream ---------------------------------------------------------------------

  const patterns = new Map();

  /** Diagonal hatching in a colour, over transparency, cached per colour and ratio. */
  function hatch(ctx, colour, dir) {
    const dpr = window.devicePixelRatio || 1;
    const key = colour + dir + dpr;
    let p = patterns.get(key);
    if (p) return p;
    const size = Math.round(6 * dpr);
    const c = document.createElement('canvas');
    c.width = c.height = size;
    const g = c.getContext('2d');
    g.strokeStyle = colour;
    g.lineWidth = 1.6 * dpr;
    g.beginPath();
    if (dir > 0) {
      g.moveTo(0, size);
      g.lineTo(size, 0);
      g.moveTo(-size / 2, size / 2);
      g.lineTo(size / 2, -size / 2);
      g.moveTo(size / 2, size * 1.5);
      g.lineTo(size * 1.5, size / 2);
    } else {
      g.moveTo(0, 0);
      g.lineTo(size, size);
      g.moveTo(-size / 2, size / 2);
      g.lineTo(size / 2, size * 1.5);
      g.moveTo(size / 2, -size / 2);
      g.lineTo(size * 1.5, size / 2);
    }
    g.stroke();
    p = ctx.createPattern(c, 'repeat');
    p.setTransform(new DOMMatrix().scale(1 / dpr));
    patterns.set(key, p);
    return p;
  }

  /** The lanes to draw: one per (worker, lane), grouped by worker in the snapshot's order. */
  function lanesOf(snap, spans) {
    const byWorker = new Map();
    for (const w of snap.workers || []) {
      byWorker.set(w.id, { id: w.id, worker: w, lanes: w.state === 'lost' ? 0 : w.threads || 0 });
    }
    for (const s of spans) {
      let g = byWorker.get(s.worker);
      if (!g) {
        g = { id: s.worker, worker: null, lanes: 0 };
        byWorker.set(s.worker, g);
      }
      g.lanes = Math.max(g.lanes, (s.lane || 0) + 1);
    }
    const groups = [];
    let total = 0;
    for (const g of byWorker.values()) {
      if (g.lanes <= 0) continue;
      g.lanes = Math.min(g.lanes, MAX_LANES - total);
      if (g.lanes <= 0) break;
      total += g.lanes;
      groups.push(g);
    }
    return groups;
  }

  function drawStream(snap) {
    const canvas = $('task-stream');
    const tasks = snap.tasks || {};
    const windowMs = tasks.window_ms || 60000;
    const now = snap.now_ms;
    const t0 = now - windowMs;
    const spans = (tasks.spans || []).filter((s) => (s.end_ms == null ? now : s.end_ms) >= t0 && s.start_ms <= now);
    const groups = lanesOf(snap, spans);

    // Layout: y of each (worker, lane).
    const laneY = new Map();
    let y = AXIS_H + 4;
    for (const g of groups) {
      g.y = y;
      for (let l = 0; l < g.lanes; l++) laneY.set(g.id + '\u0000' + l, y + l * LANE_H);
      y += g.lanes * LANE_H + WORKER_GAP;
    }
    const height = Math.max(y + 2, 64);
    const ctx = fit(canvas, height);
    const w = canvas.clientWidth;
    const plotW = Math.max(10, w - LABEL_W - 8);
    const xOf = (t) => LABEL_W + ((Math.max(t0, Math.min(now, t)) - t0) / windowMs) * plotW;

    // Lane backgrounds, so idle gaps show as gaps.
    for (const g of groups) {
      for (let l = 0; l < g.lanes; l++) {
        ctx.fillStyle = l % 2 ? '#1a1e24' : '#1e232a';
        ctx.fillRect(LABEL_W, g.y + l * LANE_H, plotW, LANE_H - 1);
      }
    }

    // Time axis: ticks at round seconds before now.
    const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
    const stepS = steps.find((s) => (windowMs / 1000) / s <= 8) || 3600;
    ctx.font = '10px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'center';
    for (let s = 0; s * 1000 <= windowMs; s += stepS) {
      const x = xOf(now - s * 1000);
      ctx.fillStyle = 'rgba(255,255,255,0.06)';
      ctx.fillRect(Math.round(x), AXIS_H, 1, height - AXIS_H);
      ctx.fillStyle = '#8a92a0';
      const label = s === 0 ? 'now' : '−' + (s >= 60 && s % 60 === 0 ? s / 60 + ' min' : s + ' s');
      ctx.textAlign = s === 0 ? 'right' : x - LABEL_W < 20 ? 'left' : 'center';
      ctx.fillText(label, x, AXIS_H / 2);
    }

    // Worker labels.
    ctx.textAlign = 'left';
    for (const g of groups) {
      const lost = g.worker ? g.worker.state === 'lost' : true;
      const host = g.worker ? g.worker.host : '?';
      const label = host + (g.worker && g.worker.pid != null ? ':' + g.worker.pid : '');
      const troubled = g.worker && (g.worker.state === 'unreachable' || g.worker.state === 'retiring');
      ctx.fillStyle = lost ? '#6b7280' : troubled ? '#e0a33a' : '#d8dce3';
      ctx.font = '11px system-ui, sans-serif';
      const mid = g.y + Math.min(g.lanes * LANE_H, LANE_H * 2) / 2;
      ctx.fillText(ellipsize(ctx, label, LABEL_W - 12), 4, g.lanes > 1 ? mid - 5 : mid);
      if (g.lanes > 1 || lost || troubled) {
        ctx.fillStyle = '#6b7280';
        ctx.font = '10px system-ui, sans-serif';
        const sub = lost
          ? 'lost' + (g.worker && g.worker.cause ? ' · ' + g.worker.cause : '')
          : troubled
            ? g.worker.state
            : g.lanes + ' threads';
        if (g.lanes > 1) ctx.fillText(sub, 4, mid + 6);
        else ctx.fillText(sub, LABEL_W - 4 - ctx.measureText(sub).width, mid);
      }
      // Bracket joining the worker's lanes.
      ctx.fillStyle = lost ? '#3a3f48' : '#2f3541';
      ctx.fillRect(LABEL_W - 4, g.y, 2, g.lanes * LANE_H - 1);
    }

    // Bars.
    hits = [];
    let drawn = 0;
    for (const s of spans) {
      const ly = laneY.get(s.worker + '\u0000' + (s.lane || 0));
      if (ly == null) continue;
      const running = s.end_ms == null || s.outcome === 'running';
      const end = running ? now : s.end_ms;
      const x0 = xOf(s.start_ms);
      const x1 = Math.max(x0 + 1, xOf(end));
      const by = ly + (LANE_H - 1 - BAR_H) / 2;
      const bw = x1 - x0;
      const colour = jobColour(s.job);
      drawBar(ctx, s.outcome, running, colour, x0, by, bw, BAR_H);
      hits.push({ x0, x1, y0: ly, y1: ly + LANE_H, span: s });
      drawn++;
    }
    canvas.dataset.spans = String(drawn);
    canvas.dataset.lanes = String(laneY.size);
    setText(
      'stream-caption',
      'last ' + duration(windowMs / 1000) + ' · ' + num(drawn) + ' spans on ' + num(laneY.size) + ' lanes'
    );
    renderLegend(spans);

    if (groups.length === 0) {
      ctx.fillStyle = '#8a92a0';
      ctx.font = '12px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.fillText('no workers', LABEL_W + plotW / 2, AXIS_H + 20);
    }
  }

  function drawBar(ctx, outcome, running, colour, x, y, w, h) {
    switch (outcome) {
      case 'failed':
        ctx.fillStyle = '#5b2222';
        ctx.fillRect(x, y, w, h);
        ctx.fillStyle = hatch(ctx, '#f05b5b', 1);
        ctx.fillRect(x, y, w, h);
        ctx.strokeStyle = '#f05b5b';
        ctx.lineWidth = 1.5;
        ctx.strokeRect(x + 0.75, y + 0.75, Math.max(0, w - 1.5), h - 1.5);
        break;
      case 'lost': // the worker died under it: black, outlined red
        ctx.fillStyle = '#000';
        ctx.fillRect(x, y - 1, w, h + 2);
        ctx.strokeStyle = '#f05b5b';
        ctx.lineWidth = 2;
        ctx.strokeRect(x + 1, y, Math.max(0, w - 2), h);
        break;
      case 'requeued': // handed back to run elsewhere
        ctx.fillStyle = hatch(ctx, colour, -1);
        ctx.fillRect(x, y, w, h);
        ctx.setLineDash([3, 2]);
        ctx.strokeStyle = '#d8dce3';
        ctx.lineWidth = 1;
        ctx.strokeRect(x + 0.5, y + 0.5, Math.max(0, w - 1), h - 1);
        ctx.setLineDash([]);
        break;
      case 'cancelled':
        ctx.fillStyle = '#4a505c';
        ctx.fillRect(x, y, w, h);
        break;
      default:
        ctx.fillStyle = colour;
        ctx.globalAlpha = running ? 0.8 : 1;
        ctx.fillRect(x, y, w, h);
        ctx.globalAlpha = 1;
        if (running) {
          ctx.fillStyle = '#fff';
          ctx.fillRect(x + w - 2, y, 2, h);
        } else if (w > 4) {
          // A hairline between back-to-back chunks of one job.
          ctx.fillStyle = 'rgba(0,0,0,0.35)';
          ctx.fillRect(x + w - 1, y, 1, h);
        }
    }
  }

  function ellipsize(ctx, text, max) {
    if (ctx.measureText(text).width <= max) return text;
    let t = text;
    while (t.length > 1 && ctx.measureText(t + '…').width > max) t = t.slice(0, -1);
    return t + '…';
  }

  function renderLegend(spans) {
    const legend = $('stream-legend');
    const jobs = [];
    const seen = new Set();
    for (const s of spans) {
      if (!seen.has(s.job)) {
        seen.add(s.job);
        jobs.push(s.job);
      }
    }
    const functions = new Map((snapshot.jobs || []).map((j) => [j.id, j.function]));
    const items = [];
    for (const j of jobs.slice(0, 8)) {
      const sw = el('span', 'swatch');
      sw.style.background = jobColour(j);
      const item = el('span', 'item', [sw, 'job ' + j]);
      if (functions.has(j)) item.title = functions.get(j);
      items.push(item);
    }
    if (jobs.length > 8) items.push(el('span', 'item', '+' + (jobs.length - 8) + ' more'));
    if (items.length) items.push(el('span', 'sep'));
    for (const [cls, text] of [
      ['running', 'running'],
      ['failed', 'failed'],
      ['lost', 'lost (worker died)'],
      ['requeued', 'requeued'],
    ]) {
      items.push(el('span', 'item', [el('span', 'swatch ' + cls), text]));
    }
    legend.replaceChildren(...items);
  }

  // ---- tables ----------------------------------------------------------------------------

  function renderJobs(snap) {
    const tbody = $('jobs').tBodies[0];
    const jobs = snap.jobs || [];
    const rows = [];
    for (const j of jobs) {
      const tr = el('tr');
      tr.dataset.jobId = String(j.id);
      tr.dataset.state = String(j.state);
      const sw = el('span', 'swatch');
      sw.style.background = jobColour(j.id);
      tr.append(
        el('td', 'mono', [sw, String(j.id)]),
        el('td', null, j.client),
        el('td', 'fn', [j.kind ? el('span', 'kind', j.kind) : null, el('span', 'mono', j.function)]),
        el('td', null, progress(j)),
        el('td', 'num', j.state === 'running' ? rate(j.items_per_s) : '–'),
        el('td', 'num', eta(j)),
        el('td', 'num' + (j.items_failed ? ' failed-count nonzero' : ''), num(j.items_failed)),
        el('td', null, stateBadge(j.state))
      );
      tr.cells[2].title = j.function || '';
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
    if (!jobs.length) emptyRow(tbody, 8, 'no jobs yet');
    const running = jobs.filter((j) => j.state === 'running').length;
    setText('jobs-caption', running + ' running · ' + (jobs.length - running) + ' ended');
  }

  function progress(j) {
    const done = j.items_done || 0;
    const failed = j.items_failed || 0;
    const box = el('div', 'progress');
    box.dataset.state = String(j.state);
    const total = j.items_total;
    if (total == null) {
      box.classList.add('indeterminate');
      box.append(el('span', 'label', num(done + failed) + ' items'));
      return box;
    }
    // Floor, so that 100 means every item is accounted for.
    const pct = total > 0 ? Math.min(100, Math.floor(((done + failed) * 100) / total)) : 100;
    box.dataset.percent = String(pct);
    const doneBar = el('div', 'bar done');
    doneBar.style.width = (total > 0 ? Math.min(100, (done * 100) / total) : 100) + '%';
    box.append(doneBar);
    if (failed > 0) {
      const failedBar = el('div', 'bar failed');
      failedBar.style.left = doneBar.style.width;
      failedBar.style.width = Math.min(100, (failed * 100) / total) + '%';
      box.append(failedBar);
    }
    box.append(el('span', 'label', num(done + failed) + ' / ' + num(total) + '  ·  ' + pct + '%'));
    return box;
  }

  function eta(j) {
    if (j.state === 'running') return j.eta_s == null ? '–' : duration(j.eta_s);
    if (j.ended_ms != null && j.started_ms != null) return 'took ' + duration((j.ended_ms - j.started_ms) / 1000);
    return '–';
  }

  function renderWorkers(snap) {
    const tbody = $('workers').tBodies[0];
    const workers = snap.workers || [];
    const rows = [];
    for (const w of workers) {
      const tr = el('tr');
      tr.dataset.workerId = String(w.id);
      tr.dataset.state = String(w.state);
      if (w.cause) tr.dataset.cause = String(w.cause);
      const heard = w.last_heard_ms == null ? null : (snap.now_ms - w.last_heard_ms) / 1000;
      tr.append(
        el('td', null, [el('span', 'host', w.host), el('span', 'wid mono', w.id)]),
        el('td', 'num mono', w.pid == null ? '–' : String(w.pid)),
        el('td', 'num', num(w.threads)),
        el('td', 'num', num(w.busy)),
        el('td', 'num', num(w.items_done)),
        el('td', 'num' + (w.losses ? ' failed-count nonzero' : ''), num(w.losses)),
        el('td', null, heap(w)),
        el('td', 'num', bytes(w.rss_bytes)),
        el('td', 'num', w.cpu == null ? '–' : twoDecimals.format(w.cpu)),
        el('td', 'mono', w.java || '–'),
        el('td', 'mono', w.version || '–'),
        el('td', 'num heard', heard == null ? '–' : duration(heard) + ' ago'),
        el('td', null, stateBadge(w.state, w.state === 'lost' && w.cause ? 'lost · ' + w.cause : w.state))
      );
      if (w.since_ms != null) tr.cells[0].title = 'attached at ' + clock(w.since_ms);
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
    if (!workers.length) emptyRow(tbody, 13, 'no workers attached');
    const live = workers.filter((w) => w.state !== 'lost').length;
    setText('workers-caption', live + ' attached' + (workers.length > live ? ' · ' + (workers.length - live) + ' recently lost' : ''));
  }

  function heap(w) {
    const box = el('div', 'heap');
    if (w.heap_used_bytes == null) {
      box.textContent = '–';
      return box;
    }
    const frac = w.heap_max_bytes ? w.heap_used_bytes / w.heap_max_bytes : null;
    if (frac != null) {
      const meter = el('div', 'heap-meter' + (frac > 0.85 ? ' high' : ''));
      const fill = el('div');
      fill.style.width = Math.min(100, frac * 100) + '%';
      meter.append(fill);
      box.append(meter);
    }
    box.append(el('span', null, bytes(w.heap_used_bytes) + ' / ' + bytes(w.heap_max_bytes)));
    return box;
  }

  function renderFailures(snap) {
    const tbody = $('failures').tBodies[0];
    const failures = snap.failures || [];
    const rows = [];
    const open = new Set();
    for (const d of tbody.querySelectorAll('details[open]')) open.add(d.dataset.key);
    for (const f of failures) {
      const tr = el('tr');
      tr.dataset.job = String(f.job);
      const errorCell = el('td', null, el('div', 'error mono', f.error || '(no message)'));
      if (f.traceback) {
        const details = el('details', null, [el('summary', null, 'traceback'), el('pre', null, f.traceback)]);
        details.dataset.key = f.time_ms + '|' + f.worker + '|' + f.job;
        if (open.has(details.dataset.key)) details.open = true;
        errorCell.append(details);
      }
      tr.append(
        el('td', 'mono', clock(f.time_ms)),
        el('td', 'mono', f.worker || '–'),
        el('td', null, f.host || '–'),
        el('td', 'mono', f.job == null ? '–' : String(f.job)),
        el('td', 'fn mono', f.function || '–'),
        errorCell
      );
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
    if (!failures.length) emptyRow(tbody, 6, 'no failures');
    setText('failures-caption', failures.length ? 'the last ' + failures.length : '');
  }

  // ---- status ----------------------------------------------------------------------------

  function renderStatus() {
    const s = $('status');
    s.dataset.state = connection.state;
    document.body.dataset.connection = connection.state;
    let text;
    switch (connection.state) {
      case 'connected':
        text = 'connected';
        break;
      case 'reconnecting':
        text = 'reconnecting' + (connection.detail ? ' (' + connection.detail + ')' : '');
        break;
      case 'auth':
        text = 'needs a token';
        break;
      default:
        text = 'connecting…';
    }
    if (lastUpdate) {
      const ago = (Date.now() - lastUpdate.getTime()) / 1000;
      text += ' · last update ' + clock(lastUpdate.getTime()) + (ago >= 2 ? ' (' + duration(ago) + ' ago)' : '');
    }
    if (s.textContent !== text) s.textContent = text;
  }

  function setConnection(state, detail) {
    connection = { state, detail: detail || '' };
    renderStatus();
  }

  // ======================================================================================
  // The event stream
  // ======================================================================================

  function headers() {
    const h = { Accept: 'text/event-stream' };
    if (token) h.Authorization = 'Bearer ' + token;
    return h;
  }

  /**
   * An SSE parser (the WHATWG event-stream format): feed it decoded text in any pieces; it calls
   * onEvent(type, data) at each blank line that ends an event with data.
   */
  function sseParser(onEvent) {
    let buffer = '';
    let type = '';
    let data = [];
    return function feed(text) {
      buffer += text;
      let start = 0;
      for (;;) {
        let i = start;
        while (i < buffer.length && buffer[i] !== '\n' && buffer[i] !== '\r') i++;
        if (i >= buffer.length) break;
        // A CR at the very end may be the first half of a CRLF: wait for more.
        if (buffer[i] === '\r' && i + 1 >= buffer.length) break;
        const line = buffer.slice(start, i);
        start = i + (buffer[i] === '\r' && buffer[i + 1] === '\n' ? 2 : 1);
        if (line === '') {
          if (data.length) onEvent(type || 'message', data.join('\n'));
          type = '';
          data = [];
        } else if (line[0] !== ':') {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value[0] === ' ') value = value.slice(1);
          if (field === 'event') type = value;
          else if (field === 'data') data.push(value);
        }
      }
      buffer = buffer.slice(start);
    };
  }

  class Unauthorized extends Error {}

  /** Reads the stream once, to its end; resolves when it ends, rejects on failure. */
  async function readStream(onFrame) {
    const abort = new AbortController();
    let watchdog = 0;
    const kick = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => abort.abort(), STALL_MS);
    };
    kick();
    try {
      const response = await fetch('api/events', { headers: headers(), cache: 'no-store', signal: abort.signal });
      if (response.status === 401) throw new Unauthorized();
      if (!response.ok || !response.body) throw new Error('HTTP ' + response.status);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const feed = sseParser((type, data) => {
        if (type === 'fleet' || type === 'message') onFrame(JSON.parse(data));
      });
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        kick();
        feed(decoder.decode(value, { stream: true }));
      }
    } catch (e) {
      if (e.name === 'AbortError') throw new Error('no data for ' + STALL_MS / 1000 + ' s');
      throw e;
    } finally {
      clearTimeout(watchdog);
      abort.abort();
    }
  }

  let running = false;

  async function run() {
    if (running) return;
    running = true;
    let delay = RETRY_FIRST_MS;
    try {
      for (;;) {
        let why = 'stream ended';
        try {
          await readStream((snap) => {
            if (connection.state !== 'connected') setConnection('connected');
            delay = RETRY_FIRST_MS;
            try {
              render(snap);
            } catch (e) {
              // A snapshot this page cannot draw: say so, keep the stream and draw the next one.
              console.error('cannot draw this snapshot', e, snap);
            }
          });
        } catch (e) {
          if (e instanceof Unauthorized) {
            askForToken();
            return;
          }
          why = e instanceof TypeError ? 'cannot reach the coordinator' : e.message;
        }
        const wait = delay * (0.8 + Math.random() * 0.4);
        setConnection('reconnecting', why + '; retrying in ' + duration(wait / 1000));
        await new Promise((r) => setTimeout(r, wait));
        delay = Math.min(RETRY_MAX_MS, delay * 2);
      }
    } finally {
      running = false;
    }
  }

  // ---- the token form: shown on a 401, once; it stays until a token is given ------------

  function askForToken() {
    const form = $('auth');
    setText(
      'auth-message',
      token
        ? 'The coordinator refused that token. Give the cluster secret or a client token.'
        : 'This coordinator asks for the cluster secret or a client token.'
    );
    if (token) sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    setConnection('auth');
    form.hidden = false;
    $('auth-token').focus();
  }

  $('auth').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = $('auth-token').value.trim();
    if (!value) return;
    token = value;
    sessionStorage.setItem(TOKEN_KEY, value);
    $('auth-token').value = '';
    $('auth').hidden = true;
    setConnection('connecting');
    run();
  });

  // ---- the task stream's tooltip ---------------------------------------------------------

  $('task-stream').addEventListener('mousemove', (e) => {
    const tip = $('stream-tip');
    const rect = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    let hit = null;
    for (let i = hits.length - 1; i >= 0; i--) {
      const h = hits[i];
      if (x >= h.x0 - 1 && x <= h.x1 + 1 && y >= h.y0 && y < h.y1) {
        hit = h;
        break;
      }
    }
    if (!hit || !snapshot) {
      tip.hidden = true;
      return;
    }
    const s = hit.span;
    const job = (snapshot.jobs || []).find((j) => j.id === s.job);
    const end = s.end_ms == null ? snapshot.now_ms : s.end_ms;
    tip.textContent =
      'job ' + s.job + (job ? '  ' + job.function : '') + '\n' +
      num(s.items) + ' items · ' + duration((end - s.start_ms) / 1000) + ' · ' + (s.outcome || 'running') + '\n' +
      'worker ' + s.worker + ' lane ' + s.lane + ' · ' + clock(s.start_ms) + (s.end_ms == null ? ' → now' : ' → ' + clock(s.end_ms));
    tip.hidden = false;
    const left = Math.min(x + 14, rect.width - tip.offsetWidth - 4);
    tip.style.left = Math.max(0, left) + 'px';
    tip.style.top = y + 14 + 'px';
  });
  $('task-stream').addEventListener('mouseleave', () => {
    $('stream-tip').hidden = true;
  });

  // Redraw the canvases on resize (once per frame at most), and age the status line.
  let resizeQueued = false;
  window.addEventListener('resize', () => {
    if (resizeQueued || !snapshot) return;
    resizeQueued = true;
    requestAnimationFrame(() => {
      resizeQueued = false;
      drawStream(snapshot);
      drawSparkline($('rate-spark'), (snapshot.overview || {}).rate || [], snapshot.now_ms, 300000);
    });
  });
  setInterval(renderStatus, 1000);

  run();
})();
