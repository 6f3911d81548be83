// The page of `dlrun board`: a table of the runs under the board's folder
// and the curves of the runs ticked in it, overlaid with uPlot. It polls
// api/runs every 2 s (a 304 when nothing changed), and fetches again the
// curves of a ticked run whose rev changed. No build step, no network
// beyond the board itself.
'use strict';
(function () {
  const POLL_MS = 2000;
  const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#db2777', '#65a30d', '#4f46e5', '#a16207'];
  const COLUMNS = [
    { key: 'select', label: '', nosort: true },
    { key: 'id', label: 'run' },
    { key: 'model', label: 'model' },
    { key: 'dataset', label: 'dataset' },
    { key: 'seed', label: 'seed', num: true },
    { key: 'done', label: 'progress', num: true },
    { key: 'status', label: 'status' },
    { key: 'metric', label: 'metric' },
    { key: 'final', label: 'final', num: true },
    { key: 'best', label: 'best', num: true },
    { key: 'samples_per_sec', label: 'samples/s', num: true },
    { key: 'wall_seconds', label: 'wall time', num: true },
  ];
  const METRIC_LABELS = { accuracy: 'accuracy', rmse: 'RMSE', bits_per_char: 'bits per character', return: 'mean return' };

  const state = {
    runs: [], byId: new Map(), etag: null, notes: [],
    selected: [], // ids, in the order ticked: the colours follow it
    sort: { key: 'id', dir: 1 },
    filter: { model: '', dataset: '', status: '', text: '' },
    xmode: 'step',
    curves: new Map(), // id -> {rev, c}
    charts: new Map(), // key -> {u, el, info}
    chartSig: { list: '', run: '' },
    view: 'list', runId: null, runRev: null,
    firstTable: null,
  };

  const $ = (sel) => document.querySelector(sel);
  // getJSON fetches url (no cache) and returns {status, ok, body}, body
  // its JSON; it throws an error naming the request for an answer that
  // is not JSON, or not the object wanted (has says whether it is).
  async function getJSON(url, has, headers) {
    const what = url.split('?')[0];
    const res = await fetch(url, { cache: 'no-store', headers: headers || {} });
    if (res.status === 304) return { status: 304, ok: true, res, body: null };
    let body;
    try {
      body = JSON.parse(await res.text());
    } catch (e) {
      throw new Error(`${what}: ${res.status}: the answer is not JSON (${e.message})`);
    }
    if (body === null || typeof body !== 'object') throw new Error(`${what}: ${res.status}: the answer is not a JSON object`);
    if (res.ok && has && !has(body)) throw new Error(`${what}: the answer lacks what the page needs`);
    return { status: res.status, ok: res.ok, res, body };
  }
  // failure names an answer that is JSON but an error.
  const failure = (url, a) => new Error(`${url.split('?')[0]}: ${a.status}${a.body.error ? ': ' + a.body.error : ''}`);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

  // Formatting.
  function fmtNum(v) {
    if (v === null || v === undefined) return '—';
    const a = Math.abs(v);
    if (a >= 1000) return Math.round(v).toLocaleString('en-US');
    if (a >= 100) return v.toFixed(1);
    if (a === 0) return '0';
    return Number(v.toPrecision(4)).toString();
  }
  function fmtDuration(s) {
    if (s === null || s === undefined) return '—';
    if (s < 59.95) return s.toFixed(1) + ' s';
    if (s < 3599.5) { const r = Math.round(s); return Math.floor(r / 60) + ' m ' + (r % 60) + ' s'; }
    const m = Math.round(s / 60);
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' m';
  }
  function progress(r) {
    const unit = r.unit === 'step' ? 'steps' : 'epochs';
    return r.planned ? `${r.done.toLocaleString('en-US')} / ${r.planned.toLocaleString('en-US')} ${unit}` : `${r.done.toLocaleString('en-US')} ${unit}`;
  }
  function metricLabel(m) { return METRIC_LABELS[m] || m.replace(/_/g, ' ') || '—'; }
  // label names a run: its ID, or for a board pointed at a run folder
  // itself, that.
  function label(id) { return id === '.' ? '(this folder)' : id; }
  function colorOf(id) {
    const i = state.selected.indexOf(id);
    return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
  }

  // The table.
  function renderHead() {
    const tr = $('#runs thead tr');
    tr.innerHTML = COLUMNS.map((c) => {
      if (c.key === 'select') return '<th class="nosort"><input type="checkbox" id="select-all" title="tick every run shown"></th>';
      const cls = [c.num ? 'num' : '', state.sort.key === c.key ? (state.sort.dir > 0 ? 'sorted-asc' : 'sorted-desc') : ''].join(' ');
      return `<th data-key="${c.key}" class="${cls}">${esc(c.label)}</th>`;
    }).join('');
  }

  function shown() {
    const f = state.filter, text = f.text.toLowerCase();
    const rows = state.runs.filter((r) =>
      (!f.model || r.model === f.model) && (!f.dataset || r.dataset === f.dataset) && (!f.status || r.status === f.status) &&
      (!text || [r.id, r.model, r.dataset, r.task, r.status, r.problem || ''].join(' ').toLowerCase().includes(text)));
    const { key, dir } = state.sort, num = COLUMNS.find((c) => c.key === key).num;
    rows.sort((a, b) => {
      const x = a[key], y = b[key];
      const xn = x === null || x === undefined || x === '', yn = y === null || y === undefined || y === '';
      if (xn || yn) return xn === yn ? a.id.localeCompare(b.id) : xn ? 1 : -1; // unknowns last
      const c = num ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
      return c !== 0 ? dir * c : a.id.localeCompare(b.id);
    });
    return rows;
  }

  // rowHTML returns the cells of run r's row; the row's selection is set
  // apart (renderTable), so that ticking a run rewrites no row.
  function rowHTML(r) {
    const problem = r.problem ? `<div class="problem">${esc(r.problem)}</div>` : '';
    return `<td><input type="checkbox" data-id="${esc(r.id)}" aria-label="select ${esc(r.id)}"></td>` +
      `<td class="run"><span class="swatch"></span><a href="#/run/${encodeURIComponent(r.id)}">${esc(label(r.id))}</a></td>` +
      `<td>${esc(r.model || '—')}</td><td>${esc(r.dataset || '—')}</td><td class="num">${r.seed || '—'}</td>` +
      `<td class="num">${progress(r)}</td>` +
      `<td><span class="status s-${r.status.replace(/ /g, '-')}">${esc(r.status)}</span>${problem}</td>` +
      `<td>${esc(metricLabel(r.metric))}</td><td class="num">${fmtNum(r.final)}</td><td class="num">${fmtNum(r.best)}</td>` +
      `<td class="num">${fmtNum(r.samples_per_sec)}</td><td class="num">${fmtDuration(r.wall_seconds)}</td>`;
  }

  // renderTable brings the table's rows in line with the runs shown,
  // keeping each row's elements while its run's cells stay the same: a
  // poll does not replace the checkbox under a click.
  const rowEls = new Map(); // id -> {tr, html}
  function renderTable() {
    const rows = shown();
    const sel = new Set(state.selected);
    const tbody = $('#runs tbody');
    const keep = new Set();
    let prev = null;
    for (const r of rows) {
      let e = rowEls.get(r.id);
      if (!e) {
        e = { tr: document.createElement('tr'), html: null };
        e.tr.dataset.id = r.id;
        rowEls.set(r.id, e);
      }
      const html = rowHTML(r);
      if (e.html !== html) { e.tr.innerHTML = html; e.html = html; }
      e.tr.dataset.status = r.status;
      const on = sel.has(r.id);
      e.tr.classList.toggle('selected', on);
      const box = e.tr.querySelector('input');
      if (box.checked !== on) box.checked = on;
      e.tr.querySelector('.swatch').style.background = on ? colorOf(r.id) : 'transparent';
      const at = prev ? prev.nextSibling : tbody.firstChild;
      if (at !== e.tr) tbody.insertBefore(e.tr, at);
      prev = e.tr;
      keep.add(r.id);
    }
    for (const [id, e] of rowEls) {
      if (keep.has(id)) continue;
      e.tr.remove();
      if (!state.byId.has(id)) rowEls.delete(id);
    }
    const all = $('#select-all');
    if (all) all.checked = rows.length > 0 && rows.every((r) => sel.has(r.id));
    $('#empty').hidden = rows.length > 0;
    $('#empty').textContent = state.runs.length ? 'No run matches the filters.' : 'No run folders here yet: the table fills as runs start.';
    $('#pick').hidden = state.selected.length > 0 || !state.runs.length;
    if (state.firstTable === null && state.etag !== null) {
      state.firstTable = performance.now();
      window.boardTimes.tableRendered = state.firstTable;
    }
  }

  function renderFilters() {
    for (const [id, key] of [['#f-model', 'model'], ['#f-dataset', 'dataset'], ['#f-status', 'status']]) {
      const el = $(id), cur = state.filter[key];
      const values = [...new Set(state.runs.map((r) => r[key]).filter(Boolean))].sort();
      if (cur && !values.includes(cur)) values.push(cur);
      const html = '<option value="">all</option>' + values.map((v) => `<option${v === cur ? ' selected' : ''}>${esc(v)}</option>`).join('');
      if (el.dataset.html !== html) { el.innerHTML = html; el.dataset.html = html; }
    }
  }

  // The curves.
  function chartSpecs(runs) {
    const specs = [];
    const epochs = runs.filter((r) => r.unit !== 'step'), agents = runs.filter((r) => r.unit === 'step');
    const x = (agent) => state.xmode === 'time' ? 'wall time (s)' : agent ? 'environment steps' : 'epoch';
    if (epochs.length) {
      specs.push({ key: 'train_loss', title: 'train loss', runs: epochs, series: () => 'train_loss', x: x(false) });
      specs.push({ key: 'test_loss', title: 'test loss', runs: epochs, series: () => 'test_loss', x: x(false) });
      for (const m of [...new Set(epochs.map((r) => r.metric).filter(Boolean))]) {
        specs.push({ key: 'metric:' + m, title: 'test ' + metricLabel(m), runs: epochs.filter((r) => r.metric === m), series: (r) => r.metric_series, x: x(false) });
      }
      specs.push({ key: 'learning_rate', title: 'learning rate', runs: epochs, series: () => 'learning_rate', x: x(false) });
    }
    if (agents.length) {
      specs.push({ key: 'agent:mean_return', title: 'mean return (training episodes)', runs: agents, series: () => 'mean_return', x: x(true) });
      specs.push({ key: 'agent:loss', title: 'agent loss', runs: agents, series: () => 'loss', x: x(true) });
    }
    return specs;
  }

  // alignedData joins the runs' curves on one x axis, as uPlot wants
  // them: the x values of every run, and each run's y (null where it has
  // no point at that x).
  function alignedData(spec) {
    const cols = spec.runs.map((r) => {
      const e = state.curves.get(r.id), c = e && e.c;
      const xs = c ? (state.xmode === 'time' ? c.time : c.step) : null;
      const ys = c ? c.series[spec.series(r)] : null;
      return xs && ys ? [xs, ys] : [[], []];
    });
    const set = new Set();
    for (const [xs] of cols) for (const v of xs) if (v !== null) set.add(v);
    const x = [...set].sort((a, b) => a - b);
    const at = new Map(x.map((v, i) => [v, i]));
    const data = [x];
    const info = [];
    spec.runs.forEach((r, k) => {
      const [xs, ys] = cols[k], y = new Array(x.length).fill(null);
      // points counts the points drawn: rows at the same x (wall times
      // that the seconds column's milliseconds do not tell apart) make
      // one, the last row's.
      let n = 0;
      for (let i = 0; i < xs.length; i++) {
        if (xs[i] !== null && ys[i] !== null) {
          const j = at.get(xs[i]);
          if (y[j] === null) n++;
          y[j] = ys[i];
        }
      }
      data.push(y);
      info.push({ id: r.id, points: n });
    });
    return { data, info };
  }

  function renderCharts(where, runs) {
    const box = where === 'run' ? $('#run-charts') : $('#charts');
    const specs = chartSpecs(runs);
    const sig = state.xmode + '|' + specs.map((s) => s.key + ':' + s.runs.map((r) => r.id + '@' + colorOf(r.id)).join(',')).join('|') + '|' + box.clientWidth;
    const built = specs.map((s) => ({ s, ...alignedData(s) }));
    if (sig === state.chartSig[where]) {
      for (const { s, data, info } of built) {
        const ch = state.charts.get(where + ':' + s.key);
        ch.u.setData(data);
        ch.info = info;
      }
      return;
    }
    destroyCharts(where);
    state.chartSig[where] = sig;
    for (const { s, data, info } of built) {
      const el = document.createElement('div');
      el.className = 'chart';
      el.dataset.key = s.key;
      box.appendChild(el);
      const width = Math.max(300, el.clientWidth - 10);
      const many = s.runs.length > 1 || data[0].length > 60;
      const u = new uPlot({
        title: s.title, width, height: 240,
        scales: { x: { time: false } },
        cursor: { sync: { key: 'board-' + where } },
        axes: [{ label: s.x, values: ticks, incrs: state.xmode === 'step' ? INT_INCRS : undefined }, { size: 64, values: ticks }],
        series: [{ label: s.x }].concat(s.runs.map((r) => ({
          label: label(r.id), stroke: colorOf(r.id), width: 1.5, spanGaps: true,
          points: { show: !many, size: 5 },
        }))),
      }, data, el);
      state.charts.set(where + ':' + s.key, { u, el, info, where, key: s.key, title: s.title });
    }
  }

  // ticks labels an axis's ticks with the decimals of their spacing,
  // incr: 0.075 and 0.1 when it is 0.025.
  function ticks(u, splits, axis, space, incr) {
    const d = decimals(incr);
    return splits.map((v) => v === null ? '' : d === 0 && Math.abs(v) >= 1e4 ? v.toLocaleString('en-US') : String(Number(v.toFixed(d))));
  }
  function decimals(x) {
    if (!x) return 3;
    const [m, e] = Number(x.toPrecision(10)).toExponential().split('e');
    const frac = (m.split('.')[1] || '').length;
    return Math.min(20, Math.max(0, frac - Number(e)));
  }
  // INT_INCRS are the tick spacings of an axis of epochs or steps.
  const INT_INCRS = [];
  for (let p = 1; p <= 1e9; p *= 10) INT_INCRS.push(p, 2 * p, 5 * p);

  function destroyCharts(where) {
    for (const [k, ch] of state.charts) {
      if (k.startsWith(where + ':')) { ch.u.destroy(); ch.el.remove(); state.charts.delete(k); }
    }
    state.chartSig[where] = '';
  }

  // MAX_CURVE_IDS is the most runs one request for curves may name: the
  // board's MaxCurveIDs.
  const MAX_CURVE_IDS = 100;

  // fetchCurves fetches the curves of those of ids whose rev changed since
  // they were last fetched, at most MAX_CURVE_IDS runs a request.
  async function fetchCurves(ids) {
    const stale = [...new Set(ids)].filter((id) => {
      const r = state.byId.get(id), e = state.curves.get(id);
      return r && (!e || e.rev !== r.rev);
    });
    if (!stale.length) return false;
    const revs = new Map(stale.map((id) => [id, state.byId.get(id).rev]));
    for (let i = 0; i < stale.length; i += MAX_CURVE_IDS) {
      const url = 'api/curves?' + stale.slice(i, i + MAX_CURVE_IDS).map((id) => 'id=' + encodeURIComponent(id)).join('&');
      const a = await getJSON(url, (b) => Array.isArray(b.curves) && b.curves.every((c) => c && typeof c.id === 'string' && Array.isArray(c.step) && c.series && typeof c.series === 'object'));
      if (!a.ok) throw failure(url, a);
      for (const c of a.body.curves) if (revs.has(c.id)) state.curves.set(c.id, { rev: revs.get(c.id), c });
    }
    return true;
  }

  async function refreshCharts() {
    if (state.view === 'list') {
      const runs = state.selected.map((id) => state.byId.get(id)).filter(Boolean);
      await fetchCurves(runs.map((r) => r.id));
      renderCharts('list', runs);
    } else if (state.byId.has(state.runId)) {
      await fetchCurves([state.runId]);
      renderCharts('run', [state.byId.get(state.runId)]);
    }
  }

  // A run's page.
  async function showRun(id) {
    const r = state.byId.get(id);
    $('#run-title').textContent = label(id);
    if (!r) {
      $('#run-status').textContent = 'No such run (yet): the page shows it when it appears.';
      return;
    }
    $('#run-status').innerHTML = `<span class="status s-${r.status.replace(/ /g, '-')}">${esc(r.status)}</span> · ${esc(r.model || '—')} on ${esc(r.dataset || '—')}, seed ${r.seed || '—'} · ${progress(r)} · ` +
      `${esc(metricLabel(r.metric))} ${fmtNum(r.final)} (best ${fmtNum(r.best)}) · ${fmtNum(r.samples_per_sec)} samples/s · ${fmtDuration(r.wall_seconds)}` +
      (r.problem ? `<div class="problem">${esc(r.problem)}</div>` : '');
    if (state.runRev === r.rev) return;
    const url = 'api/run?id=' + encodeURIComponent(id);
    const a = await getJSON(url), body = a.body;
    const show = (key) => body[key] !== undefined ? JSON.stringify(body[key], null, 2) : body[key + '_text'] !== undefined ? String(body[key + '_text']) : '(none)';
    if (a.ok && body.check) $('#run-status').insertAdjacentHTML('beforeend', `<div class="problem">${esc(body.check)}</div>`);
    $('#run-config').textContent = a.ok ? show('config') : failure(url, a).message;
    $('#run-summary').textContent = a.ok ? show('summary') : '';
    showExplanations(id, a.ok ? body : {});
    if (!a.ok) throw failure(url, a); // shown, and asked again at the next poll
    state.runRev = r.rev;
  }

  // showExplanations shows the explanations a run holds (dlrun explain
  // --board): each with what it explains, and its picture (a heat map, a
  // bar chart) or, for a text, its tokens coloured by attribution (red
  // for, blue against). Everything from the files is set as text.
  function showExplanations(id, body) {
    const section = $('#run-explanations'), list = $('#run-explanation-list');
    list.replaceChildren();
    const items = body.explanations && Array.isArray(body.explanations.explanations) ? body.explanations.explanations : null;
    section.hidden = !items && body.explanations_text === undefined;
    if (!items) {
      if (body.explanations_text !== undefined) list.textContent = String(body.explanations_text);
      return;
    }
    const el = (tag, text, cls) => {
      const e = document.createElement(tag);
      if (text !== undefined) e.textContent = text;
      if (cls) e.className = cls;
      return e;
    };
    for (const it of items) {
      if (!it || typeof it !== 'object') continue;
      const box = el('div', undefined, 'explanation');
      box.append(el('h4', String(it.input ?? '')));
      const how = it.method ? String(it.method).replace(/-/g, ' ') + (it.steps ? `, ${it.steps} steps` : '') : '';
      if (it.type === 'rating') {
        box.append(el('p', `user ${it.user_id}, ${it.movie && it.movie.title ? it.movie.title : 'movie ' + (it.movie && it.movie.movie_id)}: predicted ${fmtNum(it.predicted_rating)} (${fmtNum(it.base)} for an unknown user)`));
      } else if (it.type === 'text') {
        box.append(el('p', `next: ${JSON.stringify(String(it.next ?? ''))} · ${how}`));
      } else if (it.target !== undefined && it.prediction !== undefined) {
        box.append(el('p', `${it.target} predicted ${fmtNum(it.prediction)}${it.actual !== undefined ? ' (true value ' + fmtNum(it.actual) + ')' : ''} · ${how}`));
      } else {
        box.append(el('p', `${it.class_name ?? it.class}${it.label ? ' (true class ' + it.label + ')' : ''} · ${how}`));
      }
      if (it.type === 'text' && Array.isArray(it.tokens) && Array.isArray(it.values)) {
        const m = Math.max(1e-12, ...it.values.map((v) => Math.abs(+v) || 0));
        const pre = el('div', undefined, 'tokens');
        it.tokens.forEach((t, i) => {
          const v = (+it.values[i] || 0) / m, span = el('span', String(t));
          const a = Math.min(1, Math.abs(v)).toFixed(2);
          span.style.backgroundColor = v >= 0 ? `rgba(220, 50, 40, ${a})` : `rgba(40, 90, 220, ${a})`;
          span.title = fmtNum(+it.values[i]);
          pre.append(span);
        });
        box.append(pre);
      }
      for (const f of Array.isArray(it.files) ? it.files : []) {
        if (typeof f !== 'string' || !f.endsWith('.png')) continue;
        const img = el('img');
        img.alt = `explanation of ${it.input}`;
        img.src = 'api/explanation?id=' + encodeURIComponent(id) + '&file=' + encodeURIComponent(f);
        box.append(img);
      }
      list.append(box);
    }
  }

  // hashId returns the run ID of the hash #/run/<id>, or the text as it
  // is where it is not valid percent-encoding.
  function hashId(s) {
    try { return decodeURIComponent(s); } catch (e) { return s; }
  }

  function route() {
    const m = location.hash.match(/^#\/run\/(.+)$/);
    const view = m ? 'run' : 'list';
    if (view !== state.view || (m && hashId(m[1]) !== state.runId)) {
      destroyCharts('list');
      destroyCharts('run');
      state.runRev = null;
    }
    state.view = view;
    state.runId = m ? hashId(m[1]) : null;
    $('#list-view').hidden = view !== 'list';
    $('#run-view').hidden = view !== 'run';
    update();
  }

  // Polling.
  // update brings the charts (and a run's page) in line with the state;
  // called while it runs, it runs again when done.
  // A failure (an answer that is an error or not JSON) is kept in
  // failed: the next poll runs update again even when the table did not
  // change, and the live mark says what failed until it succeeds.
  let busy = false, again = false, failed = null;
  async function update() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      do {
        again = false;
        failed = null;
        try {
          if (state.view === 'run') await showRun(state.runId);
          await refreshCharts();
        } catch (e) {
          failed = e;
        }
      } while (again);
    } finally {
      busy = false;
    }
    if (failed) setLive(false, failed);
  }

  function applyRuns(body) {
    state.runs = body.runs;
    state.byId = new Map(body.runs.map((r) => [r.id, r]));
    state.notes = body.notes;
    state.selected = state.selected.filter((id) => state.byId.has(id));
    for (const id of state.curves.keys()) if (!state.byId.has(id)) state.curves.delete(id);
    const counts = {};
    for (const r of body.runs) counts[r.status] = (counts[r.status] || 0) + 1;
    $('#count').textContent = `${body.runs.length} run${body.runs.length === 1 ? '' : 's'}` +
      (Object.keys(counts).length ? ' · ' + Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ') : '');
    $('#notes').hidden = !body.notes.length;
    $('#notes').textContent = body.notes.join('; ');
    renderFilters();
    renderTable();
  }

  function setLive(ok, err) {
    const el = $('#live');
    el.className = 'live ' + (ok ? 'on' : 'off');
    el.textContent = ok ? 'live · ' + new Date().toLocaleTimeString() : 'not live, retrying: ' + (err && err.message || err);
  }

  async function poll() {
    try {
      const headers = state.etag ? { 'If-None-Match': state.etag } : {};
      const a = await getJSON('api/runs', (b) => Array.isArray(b.runs) && Array.isArray(b.notes) &&
        b.runs.every((r) => r && typeof r.id === 'string' && typeof r.status === 'string'), headers);
      if (!a.ok) throw failure('api/runs', a);
      if (a.status === 200) {
        state.etag = a.res.headers.get('ETag') || '';
        applyRuns(a.body);
      }
      if (a.status === 200 || failed) await update();
      if (failed) throw failed;
      setLive(true);
    } catch (e) {
      setLive(false, e);
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  // Events.
  function wire() {
    $('#runs thead').addEventListener('click', (e) => {
      const th = e.target.closest('th[data-key]');
      if (!th) return;
      const key = th.dataset.key;
      state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
      renderHead();
      renderTable();
    });
    $('#runs thead').addEventListener('change', (e) => {
      if (e.target.id !== 'select-all') return;
      const ids = shown().map((r) => r.id);
      if (e.target.checked) state.selected = state.selected.concat(ids.filter((id) => !state.selected.includes(id)));
      else state.selected = state.selected.filter((id) => !ids.includes(id));
      renderTable();
      update();
    });
    $('#runs tbody').addEventListener('change', (e) => {
      const id = e.target.dataset.id;
      if (id === undefined) return;
      if (e.target.checked) { if (!state.selected.includes(id)) state.selected.push(id); } else state.selected = state.selected.filter((x) => x !== id);
      renderTable();
      update();
    });
    for (const [id, key] of [['#f-model', 'model'], ['#f-dataset', 'dataset'], ['#f-status', 'status']]) {
      $(id).addEventListener('change', (e) => { state.filter[key] = e.target.value; renderTable(); });
    }
    $('#f-text').addEventListener('input', (e) => { state.filter.text = e.target.value; renderTable(); });
    for (const el of document.querySelectorAll('input[name=xmode]')) {
      el.addEventListener('change', (e) => { state.xmode = e.target.value; update(); });
    }
    $('#clear').addEventListener('click', () => { state.selected = []; renderTable(); update(); });
    window.addEventListener('hashchange', route);
    let resize = null;
    window.addEventListener('resize', () => { clearTimeout(resize); resize = setTimeout(() => { destroyCharts('list'); destroyCharts('run'); update(); }, 200); });
  }

  // For tests and measurements: what the page shows.
  window.boardTimes = {};
  window.boardState = () => ({
    view: state.view,
    rows: [...document.querySelectorAll('#runs tbody tr')].map((tr) => ({ id: tr.dataset.id, status: tr.dataset.status })),
    selected: state.selected.slice(),
    charts: [...state.charts.values()].map((ch) => ({
      where: ch.where, key: ch.key, title: ch.title, series: ch.info,
      legend: [...ch.el.querySelectorAll('.u-legend .u-series')].slice(1).map((tr) => tr.textContent.trim()),
    })),
  });

  renderHead();
  wire();
  route();
  poll();
})();
