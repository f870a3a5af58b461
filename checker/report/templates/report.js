(function () {
  'use strict';
  var started = (window.performance && performance.now) ? performance.now() : 0;
  var D = JSON.parse(document.getElementById('gt-data').textContent);
  var KINDS = ['read', 'write', 'update', 'delete', 'cas'];
  var OUTCOMES = ['ok', 'fail', 'info'];
  var KCOL = ['#2563eb', '#16a34a', '#d97706', '#64748b', '#9333ea'];
  var BAD = '#e11d48';
  var PAIR_COLORS = ['#2563eb', '#e11d48', '#16a34a', '#d97706', '#9333ea', '#0891b2', '#db2777',
    '#65a30d', '#7c3aed', '#ea580c', '#0f766e', '#b45309'];
  var O = D.ops;
  var N = O.i.length;
  var regions = D.regions;
  var SVGNS = 'http://www.w3.org/2000/svg';

  // ---------------------------------------------------------------- helpers
  // the page's copy of gtcheck.kernel.units.format_duration (the short form), so a time
  // drawn by the script reads as the same time written by the checker
  function fmtNs(ns) {
    if (ns === null || ns === undefined) { return '-'; }
    var a = Math.abs(ns);
    if (a >= 1e9) { return (ns / 1e9).toFixed(2) + ' s'; }
    if (a >= 1e6) { return sig(ns / 1e6) + ' ms'; }
    if (a >= 1e3) { return sig(ns / 1e3) + ' µs'; }
    return Math.trunc(ns) + ' ns';
  }
  function sig(x) {
    var a = Math.abs(x);
    return x.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2);
  }
  function fmtAt(rel) { return '+' + fmtNs(rel); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function svg(tag, attrs, parent) {
    var e = document.createElementNS(SVGNS, tag);
    if (attrs) { for (var k in attrs) { if (Object.prototype.hasOwnProperty.call(attrs, k)) { e.setAttribute(k, String(attrs[k])); } } }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function svgText(parent, x, y, text, attrs) {
    var t = svg('text', attrs || {}, parent);
    t.setAttribute('x', String(x));
    t.setAttribute('y', String(y));
    t.textContent = String(text);
    return t;
  }
  function niceStep(span, target) {
    var raw = Math.max(span / Math.max(target, 1), 1e-9);
    var exp = Math.pow(10, Math.floor(Math.log10(raw)));
    var ms = [1, 2, 5, 10];
    for (var i = 0; i < ms.length; i++) { if (ms[i] * exp >= raw) { return ms[i] * exp; } }
    return 10 * exp;
  }
  function tickLabel(t, step) {
    var big = Math.max(Math.abs(t), step);
    var div, unit;
    if (big >= 1e9) { div = 1e9; unit = ' s'; } else if (big >= 1e6) { div = 1e6; unit = ' ms'; } else if (big >= 1e3) { div = 1e3; unit = ' µs'; } else { div = 1; unit = ' ns'; }
    var digits = Math.max(0, Math.ceil(-Math.log10(step / div) - 1e-9));
    return (t / div).toFixed(Math.min(digits, 9)) + unit;
  }
  function clamp(x, lo, hi) { return x < lo ? lo : (x > hi ? hi : x); }
  function val(id) { return id >= 0 ? D.vals[id] : null; }

  // decode the compact columns: deltas -> values, durations -> completion times
  (function decode() {
    var i = 0, s = 0;
    O.e = new Array(N);
    for (var k = 0; k < N; k++) {
      i += O.i[k]; O.i[k] = i;
      s += O.s[k]; O.s[k] = s;
      O.e[k] = O.d[k] >= 0 ? s + O.d[k] : -1;
    }
  })();
  var posByIndex = {};
  for (var p0 = 0; p0 < N; p0++) { posByIndex[O.i[p0]] = p0; }
  var endOf = function (pos) { return O.e[pos] >= 0 ? O.e[pos] : O.s[pos]; };
  Object.keys(D.applied).forEach(function (pos) {
    var ref = endOf(Number(pos));
    D.applied[pos].forEach(function (m) { if (m[0] >= 0) { m[1] += ref; } });
  });
  function tsText(pos) {
    var off = O.ts[pos];
    if (D.tsBase === null || D.tsBase === undefined) { return String(off); }
    if (typeof BigInt === 'function') { return (BigInt(D.tsBase) + BigInt(off)).toString(); }
    return String(Number(D.tsBase) + off);
  }
  var hasTs = O.ts.length === N;
  var hasAnoms = O.a.length === N;
  function anomsOf(pos) { return hasAnoms ? O.a[pos] : []; }

  // ---------------------------------------------------------------- timeline
  var canvas = document.getElementById('tl-canvas');
  var wrap = document.getElementById('tl-wrap');
  var tooltip = document.getElementById('tooltip');
  var statusEl = document.getElementById('tl-status');
  var detailsEl = document.getElementById('op-details');
  var keyInput = document.getElementById('key-input');
  var onlyAnomBox = document.getElementById('only-anom');
  var ctx = canvas.getContext('2d');
  var GUT = 178, AX = 24, HEAD = 18, AGG = 16;
  var full = Math.max(D.t1, 1);
  var S = { v0: -full * 0.01, v1: full * 1.01, key: -1, onlyAnom: false, sel: -1, hi: {}, hover: -1, lin: null, lost: null };
  // every drawn lost write (rule 12) -> [the write it was lost to, the version that write was applied to]
  var lostAt = {};
  (D.lost || []).forEach(function (m) { lostAt[m[0]] = m; });
  var L = null; // layout
  var patterns = {};
  var barsDrawn = 0;

  function pattern(color) {
    if (patterns[color]) { return patterns[color]; }
    var c = document.createElement('canvas');
    c.width = 6; c.height = 6;
    var g = c.getContext('2d');
    g.fillStyle = 'rgba(255,255,255,0.9)';
    g.fillRect(0, 0, 6, 6);
    g.strokeStyle = color; g.lineWidth = 2;
    g.beginPath(); g.moveTo(-1, 7); g.lineTo(7, -1); g.moveTo(5, 7); g.lineTo(7, 5); g.moveTo(-1, 1); g.lineTo(1, -1); g.stroke();
    patterns[color] = ctx.createPattern(c, 'repeat');
    return patterns[color];
  }

  function keyVisible(k) {
    if (S.key >= 0) { return k === S.key; }
    if (S.onlyAnom) { return D.keyInfo[k][1] > 0; }
    return true;
  }

  function layout() {
    var laneOps = {};
    var visible = 0;
    for (var pos = 0; pos < N; pos++) {
      if (!keyVisible(O.k[pos])) { continue; }
      var ln = O.p[pos];
      (laneOps[ln] || (laneOps[ln] = [])).push(pos);
      visible++;
    }
    var perRegion = regions.map(function () { return []; });
    for (var ln2 = 0; ln2 < D.lanes.length; ln2++) {
      if (laneOps[ln2]) { perRegion[D.lanes[ln2][0]].push(ln2); }
    }
    var nProc = 0;
    perRegion.forEach(function (l) { nProc += l.length; });
    var showAgg = !!D.agg && S.key < 0 && !S.onlyAnom;
    var budget = 560 - regions.length * (HEAD + (showAgg ? AGG : 0));
    var rowH = clamp(Math.floor(budget / Math.max(nProc, 1)), 5, 18);
    var rows = [];
    var blocks = [];
    var y = AX;
    for (var r = 0; r < regions.length; r++) {
      var b = { r: r, y0: y };
      rows.push({ type: 'region', r: r, y0: y, y1: y + HEAD });
      y += HEAD;
      for (var j = 0; j < perRegion[r].length; j++) {
        var lane = perRegion[r][j];
        rows.push({ type: 'proc', lane: lane, r: r, y0: y, y1: y + rowH, ops: laneOps[lane] });
        y += rowH;
      }
      if (showAgg) { rows.push({ type: 'agg', r: r, y0: y, y1: y + AGG }); y += AGG; }
      b.y1 = y;
      blocks.push(b);
      y += 4;
    }
    var rowOf = {};
    rows.forEach(function (row, i) { if (row.type === 'proc') { rowOf[row.lane] = i; } });
    L = { rows: rows, blocks: blocks, H: y + 4, rowH: rowH, visible: visible, rowOf: rowOf };
  }

  function plotW() { return Math.max(canvas.clientWidth - GUT - 12, 50); }
  function xOf(t) { return GUT + (t - S.v0) * plotW() / (S.v1 - S.v0); }
  function tOf(x) { return S.v0 + (x - GUT) * (S.v1 - S.v0) / plotW(); }

  function draw() {
    if (!L) { layout(); }
    var dpr = window.devicePixelRatio || 1;
    var W = wrap.clientWidth;
    var H = L.H;
    if (canvas.width !== Math.round(W * dpr) || canvas.height !== Math.round(H * dpr)) {
      canvas.width = Math.round(W * dpr);
      canvas.height = Math.round(H * dpr);
      canvas.style.height = H + 'px';
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    var pw = plotW();
    var x0 = GUT, x1 = GUT + pw;
    // region blocks
    L.blocks.forEach(function (b, i) {
      ctx.fillStyle = i % 2 ? '#fafbfc' : '#f5f7fa';
      ctx.fillRect(0, b.y0, W, b.y1 - b.y0);
    });
    ctx.save();
    ctx.beginPath(); ctx.rect(x0, 0, pw, H); ctx.clip();
    // grid
    var step = niceStep(S.v1 - S.v0, pw / 110);
    ctx.strokeStyle = '#e9edf2'; ctx.lineWidth = 1;
    for (var t = Math.ceil(S.v0 / step) * step; t <= S.v1; t += step) {
      var gx = Math.round(xOf(t)) + 0.5;
      ctx.beginPath(); ctx.moveTo(gx, AX); ctx.lineTo(gx, H); ctx.stroke();
    }
    // history end / start
    ctx.fillStyle = 'rgba(0,0,0,0.035)';
    if (xOf(0) > x0) { ctx.fillRect(x0, AX, xOf(0) - x0, H - AX); }
    if (xOf(D.t1) < x1) { ctx.fillRect(xOf(D.t1), AX, x1 - xOf(D.t1), H - AX); }
    // fault windows
    D.faults.forEach(function (f) {
      var fx0 = xOf(f.s), fx1 = Math.max(xOf(f.e), fx0 + 2);
      var blocks = f.r ? f.r.map(function (r) { return L.blocks[r]; }) : L.blocks;
      blocks.forEach(function (b) {
        if (!b) { return; }
        if (f.f === 'partition') {
          ctx.fillStyle = 'rgba(225,29,72,0.10)';
          ctx.fillRect(fx0, b.y0, fx1 - fx0, b.y1 - b.y0);
          ctx.fillStyle = 'rgba(225,29,72,0.55)';
          ctx.fillRect(fx0, b.y0, fx1 - fx0, 2);
        } else {
          ctx.fillStyle = 'rgba(71,84,103,0.16)';
          ctx.fillRect(fx0, b.y0, fx1 - fx0, b.y1 - b.y0);
          ctx.strokeStyle = 'rgba(71,84,103,0.22)'; ctx.lineWidth = 1;
          ctx.beginPath();
          for (var hx = fx0 - (b.y1 - b.y0); hx < fx1; hx += 8) {
            ctx.moveTo(Math.max(hx, fx0), b.y1 - Math.max(0, fx0 - hx));
            ctx.lineTo(Math.min(hx + (b.y1 - b.y0), fx1), b.y0 + Math.max(0, hx + (b.y1 - b.y0) - fx1));
          }
          ctx.stroke();
        }
      });
    });
    // markers
    ctx.lineWidth = 1.5;
    D.marks.forEach(function (m) {
      var mx = Math.round(xOf(m.t)) + 0.5;
      ctx.strokeStyle = '#ea580c'; ctx.setLineDash([4, 3]);
      ctx.beginPath(); ctx.moveTo(mx, AX); ctx.lineTo(mx, H); ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = '#ea580c';
      ctx.beginPath(); ctx.moveTo(mx - 5, AX); ctx.lineTo(mx + 5, AX); ctx.lineTo(mx, AX + 7); ctx.fill();
    });
    if (D.settled !== null && D.settled !== undefined) {
      var sx = Math.round(xOf(D.settled)) + 0.5;
      ctx.strokeStyle = '#0f766e'; ctx.setLineDash([2, 3]); ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(sx, AX); ctx.lineTo(sx, H); ctx.stroke(); ctx.setLineDash([]);
    }
    // aggregated lanes
    if (D.agg) {
      L.rows.forEach(function (row) {
        if (row.type !== 'agg') { return; }
        var counts = D.agg.counts[row.r], nonok = D.agg.nonok[row.r];
        var mx = 1;
        for (var i = 0; i < counts.length; i++) { if (counts[i] > mx) { mx = counts[i]; } }
        var bw = D.agg.bucket;
        for (var j = 0; j < counts.length; j++) {
          if (!counts[j]) { continue; }
          var bx0 = xOf(j * bw), bx1 = xOf((j + 1) * bw);
          if (bx1 < x0 || bx0 > x1) { continue; }
          var hh = Math.max(2, (row.y1 - row.y0 - 3) * counts[j] / mx);
          ctx.fillStyle = 'rgba(100,116,139,0.55)';
          ctx.fillRect(bx0, row.y1 - 1 - hh, Math.max(bx1 - bx0 - 0.5, 1), hh);
          if (nonok[j]) {
            var h2 = Math.max(1, (row.y1 - row.y0 - 3) * nonok[j] / mx);
            ctx.fillStyle = 'rgba(225,29,72,0.7)';
            ctx.fillRect(bx0, row.y1 - 1 - h2, Math.max(bx1 - bx0 - 0.5, 1), h2);
          }
        }
      });
    }
    // operations
    barsDrawn = 0;
    var bh = Math.max(L.rowH - 4, 3);
    var tEnd = xOf(D.t1);
    var late = [];
    L.rows.forEach(function (row) {
      if (row.type !== 'proc') { return; }
      var yb = row.y0 + (L.rowH - bh) / 2;
      var ops = row.ops;
      for (var i = 0; i < ops.length; i++) {
        var pos = ops[i];
        var bx0 = xOf(O.s[pos]);
        var bx1 = xOf(endOf(pos));
        var info = O.o[pos] === 2;
        if (info && tEnd > bx1 && bx1 < x1 && tEnd > x0) {
          ctx.fillStyle = 'rgba(100,116,139,0.16)';
          ctx.fillRect(Math.max(bx1, x0 - 1), yb + bh * 0.35, Math.min(tEnd, x1 + 1) - Math.max(bx1, x0 - 1), bh * 0.3);
        }
        if (bx1 < x0 - 2 || bx0 > x1 + 2) { continue; }
        var w = Math.max(bx1 - bx0, 1.5);
        var color = KCOL[O.f[pos]];
        var o = O.o[pos];
        if (o === 0) {
          ctx.fillStyle = color; ctx.fillRect(bx0, yb, w, bh);
        } else if (o === 1) {
          ctx.fillStyle = '#ffffff'; ctx.fillRect(bx0, yb, w, bh);
          ctx.strokeStyle = color; ctx.lineWidth = 1.2; ctx.strokeRect(bx0 + 0.6, yb + 0.6, Math.max(w - 1.2, 0.5), bh - 1.2);
        } else {
          ctx.fillStyle = pattern(color); ctx.fillRect(bx0, yb, w, bh);
          ctx.strokeStyle = color; ctx.lineWidth = 1; ctx.strokeRect(bx0 + 0.5, yb + 0.5, Math.max(w - 1, 0.5), bh - 1);
        }
        barsDrawn++;
        if (anomsOf(pos).length || S.hi[pos] || pos === S.sel || lostAt[pos]) { late.push([pos, bx0, yb, w]); }
      }
    });
    late.forEach(function (l) {
      var pos = l[0], bx0 = l[1], yb = l[2], w = l[3];
      if (S.hi[pos]) {
        ctx.fillStyle = 'rgba(225,29,72,0.18)';
        ctx.fillRect(bx0 - 4, yb - 3, w + 8, bh + 6);
      }
      if (anomsOf(pos).length || S.hi[pos]) {
        if (S.hi[pos] || w >= 4) {
          ctx.strokeStyle = BAD; ctx.lineWidth = S.hi[pos] ? 2.5 : 1.6;
          ctx.strokeRect(bx0 - 1, yb - 1, w + 2, bh + 2);
        }
        ctx.fillStyle = BAD;
        var tx = bx0 + Math.min(w, 6) / 2;
        ctx.beginPath(); ctx.moveTo(tx - 3.5, yb - 4); ctx.lineTo(tx + 3.5, yb - 4); ctx.lineTo(tx, yb + 1); ctx.fill();
      }
      if (lostAt[pos]) {          // a lost write: struck through
        ctx.strokeStyle = BAD; ctx.lineWidth = 2;
        ctx.beginPath(); ctx.moveTo(bx0 - 2, yb + bh + 1); ctx.lineTo(bx0 + w + 2, yb - 1); ctx.stroke();
      }
      if (pos === S.sel) {
        ctx.strokeStyle = '#111827'; ctx.lineWidth = 2;
        ctx.strokeRect(bx0 - 2.5, yb - 2.5, w + 5, bh + 5);
      }
    });
    // fault labels in the region header rows
    ctx.font = '600 11px system-ui, sans-serif';
    D.faults.forEach(function (f) {
      var fx0 = Math.max(xOf(f.s), x0), fx1 = Math.min(xOf(f.e), x1);
      if (fx1 - fx0 < 40) { return; }
      var blocks = f.r ? f.r.map(function (r) { return L.blocks[r]; }) : L.blocks;
      var text = f.f === 'partition' ? 'partition' : 'region down';
      blocks.forEach(function (b) {
        if (!b) { return; }
        ctx.fillStyle = f.f === 'partition' ? '#be123c' : '#475467';
        ctx.fillText(text, fx0 + 4, b.y0 + 13);
      });
    });
    drawLinearization(bh);
    drawLost(bh);
    drawSelection(bh);
    ctx.restore();
    drawGutter();
    drawAxis(step);
    canvas.setAttribute('data-bars', String(barsDrawn));
    canvas.setAttribute('data-visible-ops', String(L.visible));
  }

  function opY(pos, bh) {
    var ri = L.rowOf[O.p[pos]];
    if (ri === undefined) { return null; }
    var row = L.rows[ri];
    return row.y0 + L.rowH / 2;
  }

  function drawSelection(bh) {
    var pos = S.sel;
    if (pos < 0 || !keyVisible(O.k[pos])) { return; }
    var f = O.f[pos];
    var color = KCOL[f];
    var ys = opY(pos, bh);
    // the write a read saw
    if (f === 0 && O.saw[pos] !== null && O.saw[pos] >= 0) {
      var wp = posByIndex[O.saw[pos]];
      if (wp !== undefined) {
        var wy = opY(wp, bh);
        if (wy !== null && ys !== null) {
          ctx.strokeStyle = '#111827'; ctx.setLineDash([5, 3]); ctx.lineWidth = 1.4;
          var ax = xOf(endOf(wp)), bx = xOf(O.s[pos]);
          ctx.beginPath(); ctx.moveTo(ax, wy); ctx.lineTo(bx, ys); ctx.stroke(); ctx.setLineDash([]);
          arrow(ax, wy, bx, ys);
          ctx.strokeStyle = KCOL[O.f[wp]]; ctx.lineWidth = 2.5;
          ctx.strokeRect(xOf(O.s[wp]) - 2.5, wy - bh / 2 - 2.5, Math.max(xOf(endOf(wp)) - xOf(O.s[wp]), 1.5) + 5, bh + 5);
        }
      }
    }
    // where a write was applied
    var marks = D.applied[pos];
    if (f !== 0 && marks) {
      var wEnd = endOf(pos);
      marks.forEach(function (m) {
        if (m[0] < 0) { return; }
        var b = L.blocks[m[0]];
        if (!b) { return; }
        var mx = xOf(m[1]);
        ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.setLineDash([3, 3]);
        ctx.beginPath(); ctx.moveTo(mx, b.y0 + 4); ctx.lineTo(mx, b.y1); ctx.stroke(); ctx.setLineDash([]);
        var cy = b.y0 + HEAD / 2;
        ctx.beginPath(); ctx.moveTo(mx, cy - 6); ctx.lineTo(mx + 6, cy); ctx.lineTo(mx, cy + 6); ctx.lineTo(mx - 6, cy); ctx.closePath();
        if (m[2] === 0) { ctx.fillStyle = color; ctx.fill(); } else { ctx.fillStyle = '#fff'; ctx.fill(); ctx.lineWidth = 2; ctx.stroke(); }
        if (ys !== null) {
          ctx.strokeStyle = 'rgba(17,24,39,0.35)'; ctx.lineWidth = 1;
          ctx.beginPath(); ctx.moveTo(xOf(wEnd), ys); ctx.lineTo(mx, cy); ctx.stroke();
        }
        var label = (m[2] === 0 ? 'applied ' : 'had it by ') + (m[1] >= wEnd ? '+' : '−') + fmtNs(Math.abs(m[1] - wEnd));
        ctx.font = '600 11px system-ui, sans-serif';
        var tw = ctx.measureText(label).width;
        ctx.fillStyle = 'rgba(255,255,255,0.9)'; ctx.fillRect(mx + 9, cy - 7, tw + 6, 14);
        ctx.fillStyle = '#111827'; ctx.fillText(label, mx + 12, cy + 4);
      });
    }
  }

  // a not-linearizable anomaly: its longest linearizable prefix as numbered points joined in
  // linearization order (each point inside its operation, never before the previous one),
  // and the operation that cannot be placed after it, marked
  function drawLinearization(bh) {
    var lin = S.lin;
    if (!lin) { return; }
    var t = -Infinity, prev = null, n = lin.lin.length;
    var first = Math.max(0, n - 60);
    var total = typeof lin.linN === 'number' ? lin.linN : n;   // the page keeps the last 200
    ctx.font = '600 10px system-ui, sans-serif';
    for (var i = 0; i < n; i++) {
      var p = lin.lin[i];
      var e = O.e[p] >= 0 ? O.e[p] : D.t1;
      t = Math.min(Math.max(O.s[p], t), e);
      if (!keyVisible(O.k[p])) { continue; }
      var y = opY(p, bh);
      if (y === null) { continue; }
      var x = xOf(t);
      if (prev) {
        ctx.strokeStyle = 'rgba(22,101,52,0.7)'; ctx.lineWidth = 1.5;
        ctx.beginPath(); ctx.moveTo(prev[0], prev[1]); ctx.lineTo(x, y); ctx.stroke();
      }
      ctx.fillStyle = '#166534';
      ctx.beginPath(); ctx.arc(x, y, 4, 0, 2 * Math.PI); ctx.fill();
      if (i >= first) { ctx.fillText(String(total - n + i + 1), x + 5, y - 5); }
      prev = [x, y];
    }
    var s = lin.stuck;
    if (s >= 0 && keyVisible(O.k[s])) {
      var sy = opY(s, bh);
      if (sy !== null) {
        var sx0 = xOf(O.s[s]), sx1 = xOf(endOf(s));
        ctx.strokeStyle = BAD; ctx.lineWidth = 2; ctx.setLineDash([4, 3]);
        ctx.strokeRect(sx0 - 4, sy - bh / 2 - 4, Math.max(sx1 - sx0, 1.5) + 8, bh + 8);
        ctx.setLineDash([]);
        ctx.fillStyle = BAD;
        ctx.fillText('cannot be placed after ' + total + ' linearized', sx0, sy + bh / 2 + 14);
      }
    }
  }

  // a lost-write anomaly: an arrow from the lost write to the write it was lost to, and
  // one from the version that write was applied to
  function drawLost(bh) {
    var m = S.lost;
    if (!m) { return; }
    var w = m[0], to = m[1], base = m[2];
    if (to < 0 || !keyVisible(O.k[to])) { return; }
    var ty = opY(to, bh);
    if (ty === null) { return; }
    var tx = xOf(O.s[to]);
    ctx.font = '600 11px system-ui, sans-serif';
    [[w, BAD, 'lost to #' + O.i[to]], [base, '#475467', 'applied to this version']].forEach(function (e) {
      var p = e[0];
      if (p < 0 || !keyVisible(O.k[p])) { return; }
      var y = opY(p, bh);
      if (y === null) { return; }
      var x = xOf(endOf(p));
      ctx.strokeStyle = e[1]; ctx.lineWidth = 1.6; ctx.setLineDash([5, 3]);
      ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(tx, ty); ctx.stroke(); ctx.setLineDash([]);
      arrow(x, y, tx, ty);
      ctx.fillStyle = e[1];
      ctx.fillText(e[2], x + 6, y - bh / 2 - 4);
    });
  }

  function arrow(ax, ay, bx, by) {
    var ang = Math.atan2(by - ay, bx - ax);
    ctx.fillStyle = '#111827';
    ctx.beginPath();
    ctx.moveTo(bx, by);
    ctx.lineTo(bx - 8 * Math.cos(ang - 0.4), by - 8 * Math.sin(ang - 0.4));
    ctx.lineTo(bx - 8 * Math.cos(ang + 0.4), by - 8 * Math.sin(ang + 0.4));
    ctx.fill();
  }

  function drawGutter() {
    var W = GUT - 6;
    ctx.save();
    ctx.beginPath(); ctx.rect(0, 0, W, L.H); ctx.clip();
    L.rows.forEach(function (row) {
      if (row.type === 'region') {
        ctx.fillStyle = '#111827'; ctx.font = '700 12px system-ui, sans-serif';
        ctx.fillText(regions[row.r], 8, row.y0 + 13);
      } else if (row.type === 'proc') {
        if (L.rowH >= 9) {
          ctx.fillStyle = '#475467'; ctx.font = Math.min(11, L.rowH - 1) + 'px ui-monospace, Menlo, Consolas, monospace';
          ctx.fillText('process ' + D.lanes[row.lane][1], 20, row.y1 - (L.rowH - Math.min(11, L.rowH - 1)) / 2 - 1);
        }
      } else if (row.type === 'agg') {
        ctx.fillStyle = '#667085'; ctx.font = 'italic 11px system-ui, sans-serif';
        ctx.fillText('other keys: ops / ' + fmtNs(D.agg.bucket), 20, row.y1 - 4);
      }
    });
    ctx.restore();
    ctx.strokeStyle = '#d0d5dd'; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(GUT - 0.5, AX); ctx.lineTo(GUT - 0.5, L.H); ctx.stroke();
  }

  function drawAxis(step) {
    var top = wrap.scrollTop;
    var W = canvas.clientWidth;
    ctx.fillStyle = 'rgba(255,255,255,0.97)';
    ctx.fillRect(0, top, W, AX);
    ctx.strokeStyle = '#d0d5dd'; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(0, top + AX - 0.5); ctx.lineTo(W, top + AX - 0.5); ctx.stroke();
    ctx.fillStyle = '#475467'; ctx.font = '11px system-ui, sans-serif';
    ctx.save(); ctx.beginPath(); ctx.rect(GUT, top, plotW(), AX); ctx.clip();
    for (var t = Math.ceil(S.v0 / step) * step; t <= S.v1; t += step) {
      var x = Math.round(xOf(t)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, top + AX - 6); ctx.lineTo(x, top + AX); ctx.stroke();
      var label = tickLabel(t, step);
      if (x + 3 + ctx.measureText(label).width <= GUT + plotW()) { ctx.fillText(label, x + 3, top + 14); }
    }
    // fault labels on the axis
    D.marks.forEach(function (m) {
      ctx.fillStyle = '#ea580c'; ctx.beginPath();
      var mx = xOf(m.t); ctx.moveTo(mx - 4, top + AX - 7); ctx.lineTo(mx + 4, top + AX - 7); ctx.lineTo(mx, top + AX); ctx.fill();
    });
    ctx.restore();
    ctx.fillStyle = '#667085'; ctx.font = '11px system-ui, sans-serif';
    ctx.fillText('time since first event', 8, top + 15);
  }

  // ------------------------------------------------------------ interaction
  function redraw() { draw(); }
  function relayout() { layout(); draw(); }
  function setView(v0, v1) {
    var span = Math.max(v1 - v0, 1000);
    span = Math.min(span, full * 1.5);
    var mid = (v0 + v1) / 2;
    mid = clamp(mid, -full * 0.25, full * 1.25);
    S.v0 = mid - span / 2; S.v1 = mid + span / 2;
    redraw();
    statusEl.textContent = 'Showing ' + fmtAt(Math.max(S.v0, 0)) + ' to ' + fmtAt(Math.min(S.v1, D.t1)) +
      ' (' + fmtNs(S.v1 - S.v0) + ' wide), ' + barsDrawn.toLocaleString() + ' of ' + L.visible.toLocaleString() +
      ' operations in view. Drag to pan, wheel to zoom (Shift+wheel pans), click an operation for details.';
  }
  function zoom(factor, atX) {
    var t = atX === undefined ? (S.v0 + S.v1) / 2 : tOf(atX);
    setView(t - (t - S.v0) * factor, t + (S.v1 - t) * factor);
  }
  function pan(frac) {
    var d = (S.v1 - S.v0) * frac;
    setView(S.v0 + d, S.v1 + d);
  }
  function fit() {
    if (S.key >= 0) {
      var lo = Infinity, hi = -Infinity;
      for (var pos = 0; pos < N; pos++) {
        if (O.k[pos] !== S.key) { continue; }
        lo = Math.min(lo, O.s[pos]); hi = Math.max(hi, endOf(pos));
      }
      if (lo <= hi) { var pad = Math.max((hi - lo) * 0.05, 1e6); setView(lo - pad, hi + pad); return; }
    }
    setView(-full * 0.01, full * 1.01);
  }

  function hit(mx, my) {
    if (!L) { return null; }
    for (var i = 0; i < L.rows.length; i++) {
      var row = L.rows[i];
      if (my < row.y0 || my >= row.y1) { continue; }
      if (mx < GUT) { return { row: row }; }
      if (row.type === 'proc') {
        var best = -1, bestD = 6;
        for (var j = 0; j < row.ops.length; j++) {
          var pos = row.ops[j];
          var a = xOf(O.s[pos]), b = Math.max(xOf(endOf(pos)), a + 1.5);
          var d = mx < a ? a - mx : (mx > b ? mx - b : 0);
          if (d < bestD || (d === 0 && bestD === 0 && O.s[pos] > O.s[best])) { bestD = d; best = pos; }
        }
        if (best >= 0) { return { row: row, pos: best }; }
      }
      var t = tOf(mx);
      if (row.type === 'agg') { return { row: row, t: t }; }
      var faults = D.faults.filter(function (f) { return t >= f.s && t <= f.e && (!f.r || f.r.indexOf(row.r) >= 0); });
      var marks = D.marks.filter(function (m) { return Math.abs(xOf(m.t) - mx) < 5; });
      return { row: row, t: t, faults: faults, marks: marks };
    }
    return null;
  }

  function ttRow(box, k, v, cls) {
    var r = el('div', 'tt-row');
    r.appendChild(el('span', 'tt-k', k));
    r.appendChild(el('span', 'tt-v' + (cls ? ' ' + cls : ''), v));
    box.appendChild(r);
  }

  function opFields(pos) {
    var f = KINDS[O.f[pos]], o = OUTCOMES[O.o[pos]];
    var rows = [];
    rows.push(['key', D.keys[O.k[pos]]]);
    var lane = D.lanes[O.p[pos]];
    rows.push(['region', regions[lane[0]] + ' · process ' + lane[1]]);
    if (f === 'update') { rows.push(['change', val(O.iv[pos])]); }
    if (f === 'cas') {
      var iv = val(O.iv[pos]);
      rows.push(['expected → new', iv]);
    }
    if (f !== 'delete') {
      var v = val(O.v[pos]);
      var vlabel = f === 'read' ? 'returned' : (f === 'update' ? 'item after' : 'value');
      if (v !== null) { rows.push([vlabel, f === 'read' && v === 'null' ? 'null (no such item)' : v]); } else if (f === 'read' && o !== 'ok') { rows.push([vlabel, '(nothing: the read did not complete)']); } else if (f === 'update') { rows.push([vlabel, '(unknown)']); }
    }
    rows.push(['invoked', fmtAt(O.s[pos])]);
    if (o === 'info') {
      rows.push(['completed', O.e[pos] >= 0 ? fmtAt(O.e[pos]) + ' as info: unknown outcome, may take effect later' : 'never: unknown outcome']);
    } else {
      rows.push(['completed', fmtAt(O.e[pos]) + ' (took ' + fmtNs(O.e[pos] - O.s[pos]) + ')']);
    }
    if (hasTs && O.ts[pos] !== null) { rows.push(['ts / origin', tsText(pos) + ' / ' + (O.or[pos] >= 0 ? regions[O.or[pos]] : '?')]); }
    if (f === 'read') {
      if (O.c[pos]) { rows.push(['consistent', 'strongly consistent read']); }
      if (O.st[pos] !== null && O.st[pos] !== undefined) { rows.push(['staleness', O.st[pos] === 0 ? '0 (current)' : fmtNs(O.st[pos])]); }
      if (O.saw[pos] !== null && O.saw[pos] !== undefined) { rows.push(['saw', O.saw[pos] >= 0 ? 'write #' + O.saw[pos] : 'the initial state / a delete']); }
    }
    return rows;
  }

  function showTooltip(h, mx, my) {
    tooltip.textContent = '';
    if (h.pos !== undefined) {
      var pos = h.pos;
      tooltip.appendChild(el('div', 'tt-head', '#' + O.i[pos] + ' ' + KINDS[O.f[pos]] + ' ' + OUTCOMES[O.o[pos]]));
      opFields(pos).forEach(function (r) { ttRow(tooltip, r[0], r[1]); });
      anomsOf(pos).forEach(function (a) {
        var an = D.anomalies[a];
        if (an) { ttRow(tooltip, 'anomaly', an.name + ' (' + an.property.replace(/_/g, '-') + ')', 'tt-bad'); }
      });
    } else if (h.row && h.row.type === 'agg' && D.agg) {
      var b = Math.floor(h.t / D.agg.bucket);
      var c = D.agg.counts[h.row.r][b] || 0, bad = D.agg.nonok[h.row.r][b] || 0;
      tooltip.appendChild(el('div', 'tt-head', 'other keys in ' + regions[h.row.r]));
      ttRow(tooltip, 'ops', String(c) + (bad ? ' (' + bad + ' fail/info)' : ''));
      ttRow(tooltip, 'from', fmtAt(b * D.agg.bucket) + ' for ' + fmtNs(D.agg.bucket));
    } else if (h.faults && (h.faults.length || h.marks.length)) {
      tooltip.appendChild(el('div', 'tt-head', 'faults'));
      h.faults.forEach(function (f) { ttRow(tooltip, fmtAt(f.s), f.label); });
      h.marks.forEach(function (m) { ttRow(tooltip, fmtAt(m.t), m.label); });
    } else {
      tooltip.hidden = true;
      return;
    }
    tooltip.hidden = false;
    var tw = tooltip.offsetWidth, th = tooltip.offsetHeight;
    var left = mx + 14, top = my + 14;
    if (left + tw > wrap.clientWidth - 4) { left = Math.max(4, mx - tw - 14); }
    if (top + th > wrap.scrollTop + wrap.clientHeight - 4) { top = Math.max(wrap.scrollTop + 4, my - th - 10); }
    tooltip.style.left = left + 'px';
    tooltip.style.top = top + 'px';
  }

  function detailRow(grid, k, v) {
    var r = el('div', 'd-row');
    r.appendChild(el('span', 'd-k', k));
    r.appendChild(el('span', 'd-v', v));
    grid.appendChild(r);
    return r;
  }

  function showDetails(pos) {
    detailsEl.textContent = '';
    if (pos < 0) {
      detailsEl.appendChild(el('p', 'muted', 'Select an operation on the timeline to see its fields.'));
      return;
    }
    detailsEl.appendChild(el('div', 'd-title', 'Operation #' + O.i[pos] + ': ' + KINDS[O.f[pos]] + ' ' + OUTCOMES[O.o[pos]]));
    var grid = el('div', 'd-grid');
    opFields(pos).forEach(function (r) { detailRow(grid, r[0], r[1]); });
    detailsEl.appendChild(grid);
    if (O.f[pos] === 0 && O.saw[pos] !== null && O.saw[pos] >= 0 && posByIndex[O.saw[pos]] !== undefined) {
      var p = el('p');
      p.appendChild(document.createTextNode('This read returned the version of '));
      var a = el('a', 'opref', 'write #' + O.saw[pos]);
      a.href = '#timeline';
      a.addEventListener('click', function (e) { e.preventDefault(); jumpTo([posByIndex[O.saw[pos]]], -1, false); });
      p.appendChild(a);
      p.appendChild(document.createTextNode(' (the dashed arrow).'));
      detailsEl.appendChild(p);
    }
    var marks = D.applied[pos];
    if (O.f[pos] !== 0 && marks) {
      var src = D.appliedSource === 'truth' ? 'Applied in each region (ground truth from the simulator):' :
        'Known to be in each region by (upper bounds inferred from reads; the write\'s own region at its completion):';
      detailsEl.appendChild(el('p', null, src));
      var ul = el('ul', 'd-list');
      var wEnd = endOf(pos);
      var seen = {};
      marks.forEach(function (m) {
        if (m[0] < 0) { ul.appendChild(el('li', null, 'the simulator says this write never took effect')); return; }
        seen[m[0]] = 1;
        ul.appendChild(el('li', null, regions[m[0]] + ': ' + fmtAt(m[1]) + ' (' + (m[1] >= wEnd ? '+' : '−') + fmtNs(Math.abs(m[1] - wEnd)) + ' after completion)'));
      });
      regions.forEach(function (r, i) { if (!seen[i] && D.appliedSource === 'truth') { ul.appendChild(el('li', null, r + ': never applied')); } });
      detailsEl.appendChild(ul);
    }
    var an = anomsOf(pos);
    if (an.length) {
      var ul2 = el('ul', 'd-list');
      an.forEach(function (ai) {
        var a = D.anomalies[ai];
        if (!a) { return; }
        var li = el('li');
        var link = el('a', null, a.name + ' (' + a.property.replace(/_/g, '-') + ')');
        link.href = '#anomaly-' + ai;
        li.appendChild(document.createTextNode('cited by anomaly '));
        li.appendChild(link);
        ul2.appendChild(li);
      });
      detailsEl.appendChild(ul2);
    }
  }

  function select(pos) {
    S.sel = pos;
    showDetails(pos);
    redraw();
  }

  function setKey(k) {
    S.key = k;
    keyInput.value = k >= 0 ? D.keys[k] : '';
    relayout();
  }

  function jumpTo(positions, keyIdx, fromAnomaly, anomaly) {
    positions = positions.filter(function (p) { return p >= 0 && p < N; });
    if (!positions.length) { return; }
    S.lin = (anomaly && anomaly.lin) ? anomaly : null;
    S.lost = (anomaly && anomaly.lost) ? anomaly.lost : null;
    var k = keyIdx >= 0 ? keyIdx : O.k[positions[0]];
    if (S.key !== k) { S.key = k; keyInput.value = D.keys[k]; }
    if (S.onlyAnom && D.keyInfo[k][1] === 0) { S.onlyAnom = false; onlyAnomBox.checked = false; }
    layout();
    var lo = Infinity, hi = -Infinity;
    positions.forEach(function (p) {
      lo = Math.min(lo, O.s[p]); hi = Math.max(hi, O.e[p] >= 0 ? O.e[p] : O.s[p] + 1e6);
      // a write: also show where it was applied; a read: also the write it saw
      (D.applied[p] || []).forEach(function (m) { if (m[0] >= 0) { lo = Math.min(lo, m[1]); hi = Math.max(hi, m[1]); } });
      if (O.f[p] === 0 && O.saw[p] !== null && O.saw[p] >= 0 && positions.length === 1) {
        var wp = posByIndex[O.saw[p]];
        if (wp !== undefined) { lo = Math.min(lo, O.s[wp]); }
      }
    });
    var pad = Math.max((hi - lo) * 0.15, 2e6);
    S.hi = {};
    if (fromAnomaly) { positions.forEach(function (p) { S.hi[p] = 1; }); }
    S.sel = positions[0];
    setView(lo - pad, hi + pad);
    showDetails(S.sel);
    document.getElementById('timeline').scrollIntoView({ block: 'start' });
    var ri = L.rowOf[O.p[S.sel]];
    if (ri !== undefined) {
      var row = L.rows[ri];
      if (row.y0 < wrap.scrollTop + AX || row.y1 > wrap.scrollTop + wrap.clientHeight) { wrap.scrollTop = Math.max(0, row.y0 - 80); }
    }
  }

  // pointer: drag to pan, click to select, hover for tooltips
  var drag = null;
  function local(e) {
    var r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }
  canvas.addEventListener('pointerdown', function (e) {
    if (e.button !== 0) { return; }
    var p = local(e);
    drag = { x: p[0], v0: S.v0, v1: S.v1, moved: false, id: e.pointerId };
    try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* not supported */ }
  });
  canvas.addEventListener('pointermove', function (e) {
    var p = local(e);
    if (drag) {
      var dx = p[0] - drag.x;
      if (Math.abs(dx) > 3) { drag.moved = true; canvas.classList.add('dragging'); }
      if (drag.moved) {
        var dt = dx * (drag.v1 - drag.v0) / plotW();
        setView(drag.v0 - dt, drag.v1 - dt);
        tooltip.hidden = true;
        return;
      }
    }
    var h = hit(p[0], p[1]);
    if (h) { showTooltip(h, p[0], p[1]); } else { tooltip.hidden = true; }
    canvas.style.cursor = h && h.pos !== undefined ? 'pointer' : '';
  });
  function endDrag(e) {
    if (!drag) { return; }
    var wasClick = !drag.moved;
    drag = null;
    canvas.classList.remove('dragging');
    if (wasClick && e.type === 'pointerup') {
      var p = local(e);
      var h = hit(p[0], p[1]);
      if (h && h.pos !== undefined) { S.hi = {}; select(h.pos); } else if (h && h.row && h.row.type !== 'agg') { select(-1); }
    }
  }
  canvas.addEventListener('pointerup', endDrag);
  canvas.addEventListener('pointercancel', endDrag);
  canvas.addEventListener('pointerleave', function () { tooltip.hidden = true; });
  canvas.addEventListener('wheel', function (e) {
    e.preventDefault();
    var p = local(e);
    if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      pan((e.shiftKey ? e.deltaY : e.deltaX) / plotW());
    } else {
      zoom(Math.exp(clamp(e.deltaY, -300, 300) * 0.0015), p[0]);
    }
  }, { passive: false });
  canvas.addEventListener('dblclick', function (e) { zoom(0.5, local(e)[0]); });
  wrap.addEventListener('scroll', function () { redraw(); });
  document.getElementById('zoom-in').addEventListener('click', function () { zoom(0.5); });
  document.getElementById('zoom-out').addEventListener('click', function () { zoom(2); });
  document.getElementById('pan-left').addEventListener('click', function () { pan(-0.25); });
  document.getElementById('pan-right').addEventListener('click', function () { pan(0.25); });
  document.getElementById('zoom-fit').addEventListener('click', function () { fit(); });
  document.getElementById('key-clear').addEventListener('click', function () { S.hi = {}; setKey(-1); fit(); });
  onlyAnomBox.addEventListener('change', function () { S.onlyAnom = onlyAnomBox.checked; relayout(); setView(S.v0, S.v1); });
  var keyIndex = {};
  D.keys.forEach(function (k, i) { keyIndex[k] = i; });
  function applyKeyInput() {
    var v = keyInput.value;
    if (v === '') { if (S.key !== -1) { setKey(-1); fit(); } return; }
    if (Object.prototype.hasOwnProperty.call(keyIndex, v) && keyIndex[v] !== S.key) { S.hi = {}; setKey(keyIndex[v]); fit(); }
  }
  keyInput.addEventListener('input', applyKeyInput);
  keyInput.addEventListener('change', applyKeyInput);
  (function fillKeys() {
    var list = document.getElementById('key-list');
    var frag = document.createDocumentFragment();
    D.keys.forEach(function (k, i) {
      var o = document.createElement('option');
      o.value = k;
      var info = D.keyInfo[i];
      o.label = info[0] + ' ops' + (info[1] ? ', ' + info[1] + (info[1] === 1 ? ' anomaly' : ' anomalies') : '');
      frag.appendChild(o);
    });
    list.appendChild(frag);
  })();
  window.addEventListener('resize', function () { redraw(); });

  // ------------------------------------------------------------ anomalies list
  var list = document.getElementById('anom-list');
  if (list) {
    list.addEventListener('click', function (e) {
      var t = e.target;
      while (t && t !== list && !(t.classList && (t.classList.contains('show') || t.classList.contains('opref')))) { t = t.parentNode; }
      if (!t || t === list) { return; }
      e.preventDefault();
      var li = t.closest('li.anom');
      var prev = list.querySelector('li.anom.active');
      if (prev) { prev.classList.remove('active'); }
      if (li) { li.classList.add('active'); }
      if (t.classList.contains('show')) {
        var a = D.anomalies[Number(t.getAttribute('data-anomaly'))];
        if (a && a.pos.length) { jumpTo(a.pos, a.key, true, a); } else { statusEl.textContent = 'This anomaly cites no operation drawn on the timeline.'; }
      } else {
        var pos = Number(t.getAttribute('data-pos'));
        var an = li ? D.anomalies[Number(li.getAttribute('data-anomaly'))] : null;
        if (pos >= 0) { jumpTo(an ? an.pos.concat([]).sort(function (x, y) { return x === pos ? -1 : (y === pos ? 1 : 0); }) : [pos], O.k[pos], true, an); }
      }
    });
    var filter = document.getElementById('anom-filter');
    if (filter) {
      filter.addEventListener('change', function () {
        var want = filter.value;
        Array.prototype.forEach.call(list.children, function (li) { li.hidden = !!want && li.getAttribute('data-prop') !== want; });
      });
    }
    Array.prototype.forEach.call(document.querySelectorAll('.card-anoms'), function (a) {
      a.addEventListener('click', function () {
        if (filter) { filter.value = a.getAttribute('data-prop'); filter.dispatchEvent(new Event('change')); }
      });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll('#convergence .opref, #lost-writes .opref'), function (a) {
    a.addEventListener('click', function (e) {
      var pos = Number(a.getAttribute('data-pos'));
      e.preventDefault();
      if (pos >= 0) { jumpTo([pos], O.k[pos], false); }
    });
  });

  // ------------------------------------------------------------ staleness charts
  function pairColor(i) { return PAIR_COLORS[i % PAIR_COLORS.length]; }
  Array.prototype.forEach.call(document.querySelectorAll('.pair-sw'), function (s) {
    s.style.background = pairColor(Number(s.getAttribute('data-pair')));
  });

  function axisTicks(g, scale, lo, hi, n, horizontal, x0, y0, len, fmt) {
    var step = niceStep(hi - lo, n);
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      var p = scale(v);
      if (horizontal) {
        svg('line', { x1: p, x2: p, y1: y0 - len, y2: y0, 'class': 'grid' }, g);
        svgText(g, p, y0 + 14, fmt(v, step), { 'text-anchor': 'middle' });
      } else {
        svg('line', { x1: x0, x2: x0 + len, y1: p, y2: p, 'class': 'grid' }, g);
        svgText(g, x0 - 6, p + 4, fmt(v, step), { 'text-anchor': 'end' });
      }
    }
  }

  function cdfChart() {
    var host = document.getElementById('cdf-chart');
    if (!host) { return; }
    var pairs = D.staleness.pairs.filter(function (p) { return p.q.length; });
    if (!pairs.length) { host.appendChild(el('p', 'note', 'No read had a staleness figure.')); return; }
    var W = 640, H = 250, ml = 52, mr = 14, mt = 10, mb = 40;
    var mx = 0;
    pairs.forEach(function (p) { mx = Math.max(mx, p.q[p.q.length - 1]); });
    if (D.staleness.bound !== null && D.staleness.bound !== undefined) { mx = Math.max(mx, D.staleness.bound); }
    if (mx === 0) { host.appendChild(el('p', 'note', 'Every read returned the current version (staleness 0).')); return; }
    mx *= 1.04;
    var root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'staleness CDF per region pair' }, host);
    var X = function (v) { return ml + v / mx * (W - ml - mr); };
    var Y = function (q) { return H - mb - q * (H - mt - mb); };
    var g = svg('g', null, root);
    axisTicks(g, X, 0, mx, 6, true, 0, H - mb, H - mt - mb, function (v, s) { return tickLabel(v, s); });
    axisTicks(g, Y, 0, 1, 4, false, ml, 0, W - ml - mr, function (v) { return Math.round(v * 100) + '%'; });
    svg('line', { x1: ml, x2: W - mr, y1: H - mb, y2: H - mb, 'class': 'axis' }, g);
    svg('line', { x1: ml, x2: ml, y1: mt, y2: H - mb, 'class': 'axis' }, g);
    svgText(g, (ml + W - mr) / 2, H - 6, 'staleness', { 'text-anchor': 'middle' });
    svgText(g, 12, (mt + H - mb) / 2, 'reads ≤ x', { 'text-anchor': 'middle', transform: 'rotate(-90 12 ' + (mt + H - mb) / 2 + ')' });
    if (D.staleness.bound !== null && D.staleness.bound !== undefined) {
      var bx = X(D.staleness.bound);
      svg('line', { x1: bx, x2: bx, y1: mt, y2: H - mb, stroke: BAD, 'stroke-dasharray': '5 4', 'stroke-width': 1.5 }, g);
      svgText(g, bx - 4, mt + 10, 'bound ' + fmtNs(D.staleness.bound), { 'text-anchor': 'end', fill: BAD });
    }
    D.staleness.pairs.forEach(function (p, i) {
      if (!p.q.length) { return; }
      var q = p.q, n = q.length - 1;
      var d = 'M' + X(0).toFixed(1) + ' ' + Y(0).toFixed(1);
      var prevY = 0;
      for (var j = 0; j <= n; j++) {
        var frac = n ? j / n : 1;
        d += ' L' + X(q[j]).toFixed(1) + ' ' + Y(prevY).toFixed(1) + ' L' + X(q[j]).toFixed(1) + ' ' + Y(frac).toFixed(1);
        prevY = frac;
      }
      d += ' L' + X(mx).toFixed(1) + ' ' + Y(1).toFixed(1);
      var path = svg('path', { d: d, fill: 'none', stroke: pairColor(i), 'stroke-width': 2, 'stroke-linejoin': 'round', 'data-pair': i }, g);
      var title = svg('title', null, path);
      title.textContent = p.name + ': ' + p.n + ' reads, p50 ' + fmtNs(p.p50) + ', p99 ' + fmtNs(p.p99) + ', max ' + fmtNs(p.max);
    });
    // the table above is the legend: hovering a row highlights its curve
    var paths = g.querySelectorAll('path');
    Array.prototype.forEach.call(document.querySelectorAll('table.pairs tbody tr'), function (tr, i) {
      tr.addEventListener('mouseenter', function () {
        Array.prototype.forEach.call(paths, function (p) {
          var mine = Number(p.getAttribute('data-pair')) === i;
          p.setAttribute('stroke-opacity', mine ? '1' : '0.15');
          p.setAttribute('stroke-width', mine ? '3' : '2');
        });
      });
      tr.addEventListener('mouseleave', function () {
        Array.prototype.forEach.call(paths, function (p) { p.setAttribute('stroke-opacity', '1'); p.setAttribute('stroke-width', '2'); });
      });
    });
  }

  function timeChart() {
    var host = document.getElementById('time-chart');
    if (!host) { return; }
    var pts = D.staleness.points;
    var W = 640, H = 230, ml = 52, mr = 14, mt = 12, mb = 36;
    var mx = 0;
    for (var i = 0; i < pts.length; i++) { if (pts[i][1] > mx) { mx = pts[i][1]; } }
    var bound = D.staleness.bound;
    if (bound !== null && bound !== undefined) { mx = Math.max(mx, bound); }
    if (mx === 0) { mx = 1e6; }
    mx *= 1.06;
    var root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'staleness of each read over time' }, host);
    var X = function (t) { return ml + t / full * (W - ml - mr); };
    var Y = function (v) { return H - mb - v / mx * (H - mt - mb); };
    var g = svg('g', null, root);
    D.faults.forEach(function (f) {
      var r = svg('rect', { x: X(f.s), y: mt, width: Math.max(X(f.e) - X(f.s), 1.5), height: H - mt - mb,
        fill: f.f === 'partition' ? 'rgba(225,29,72,0.10)' : 'rgba(71,84,103,0.15)' }, g);
      svg('title', null, r).textContent = f.label;
    });
    D.marks.forEach(function (m) {
      var l = svg('line', { x1: X(m.t), x2: X(m.t), y1: mt, y2: H - mb, stroke: '#ea580c', 'stroke-dasharray': '4 3', 'stroke-width': 1.2 }, g);
      svg('title', null, l).textContent = m.label;
    });
    axisTicks(g, X, 0, full, 7, true, 0, H - mb, H - mt - mb, function (v, s) { return tickLabel(v, s); });
    axisTicks(g, Y, 0, mx, 4, false, ml, 0, W - ml - mr, function (v, s) { return tickLabel(v, s); });
    svg('line', { x1: ml, x2: W - mr, y1: H - mb, y2: H - mb, 'class': 'axis' }, g);
    svg('line', { x1: ml, x2: ml, y1: mt, y2: H - mb, 'class': 'axis' }, g);
    svgText(g, (ml + W - mr) / 2, H - 4, 'time of the read (since the first event)', { 'text-anchor': 'middle' });
    if (bound !== null && bound !== undefined) {
      svg('line', { x1: ml, x2: W - mr, y1: Y(bound), y2: Y(bound), stroke: BAD, 'stroke-dasharray': '5 4', 'stroke-width': 1.5 }, g);
      svgText(g, W - mr - 4, Y(bound) - 4, 'bound ' + fmtNs(bound), { 'text-anchor': 'end', fill: BAD });
    }
    if (D.settled !== null && D.settled !== undefined) {
      svg('line', { x1: X(D.settled), x2: X(D.settled), y1: mt, y2: H - mb, stroke: '#0f766e', 'stroke-dasharray': '2 3' }, g);
    }
    var pg = svg('g', null, root);
    for (var j = 0; j < pts.length; j++) {
      var pt = pts[j];
      var c = svg('circle', { cx: X(pt[0]).toFixed(1), cy: Y(pt[1]).toFixed(1), r: pt[1] > 0 ? 2.4 : 1.6,
        fill: pairColor(pt[2]), 'fill-opacity': pt[1] > 0 ? 0.75 : 0.3, 'class': 'pt', 'data-read': pt[3] }, pg);
      var pair = D.staleness.pairs[pt[2]];
      svg('title', null, c).textContent = 'read #' + pt[3] + (pt[4] >= 0 ? ' of ' + D.keys[pt[4]] : '') + ' at ' + fmtAt(pt[0]) +
        ': staleness ' + fmtNs(pt[1]) + ' (' + (pair ? pair.name : '?') + ')';
    }
    pg.addEventListener('click', function (e) {
      var idx = Number(e.target.getAttribute && e.target.getAttribute('data-read'));
      var pos = posByIndex[idx];
      if (pos !== undefined) { jumpTo([pos], O.k[pos], false); } else { statusEl.textContent = 'Read #' + idx + ' belongs to a key that is summarised, not drawn in detail.'; }
    });
  }

  // ------------------------------------------------------------ start
  function start() {
    layout();
    setView(S.v0, S.v1);
    showDetails(-1);
    try { cdfChart(); } catch (err) { window.__gtRecordError && window.__gtRecordError('staleness CDF: ' + err.message); }
    try { timeChart(); } catch (err) { window.__gtRecordError && window.__gtRecordError('staleness chart: ' + err.message); }
    var m = /^#anomaly-(\d+)$/.exec(location.hash);
    if (m && D.anomalies[Number(m[1])]) { var a = D.anomalies[Number(m[1])]; if (a.pos.length) { jumpTo(a.pos, a.key, true, a); } }
    var root = document.documentElement;
    root.setAttribute('data-bars', String(barsDrawn));
    root.setAttribute('data-ops', String(N));
    root.setAttribute('data-render-ms', String(Math.round(((window.performance && performance.now) ? performance.now() : 0) - started)));
    root.setAttribute('data-ready', '1');
    // a small handle for tests and for the curious (devtools)
    window.gtReport = {
      data: D, state: S,
      select: function (index) { var p = posByIndex[index]; if (p !== undefined) { jumpTo([p], O.k[p], false); } return p; },
      showAnomaly: function (i) { var a = D.anomalies[i]; if (a && a.pos.length) { jumpTo(a.pos, a.key, true, a); } },
      setKey: function (key) { var k = D.keys.indexOf(key); setKey(k); fit(); return k; },
      zoom: zoom, pan: pan, fit: fit,
      bars: function () { return barsDrawn; }
    };
  }
  start();
})();
