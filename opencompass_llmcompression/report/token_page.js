// The token-loss page's script (report/token_page.py puts it inline): draws the chosen
// document, shaded by model A's bits per character or by B's minus A's, with the legend, the
// list of documents and the tooltip (mouse or arrow keys). No network, no library.
'use strict';
const DATA = JSON.parse(document.getElementById('data').textContent);
const $ = (id) => document.getElementById(id);
const SEQ = 9, DIV = 11;  // classes s0..s8 and d0..d10 (the page's style)
const BLOCK = 2000;
const state = {a: DATA.models[0], b: DATA.models[1] || '', doc: null, active: -1, chars: [], scale: 1};

function option(select, value, label) {
  const o = document.createElement('option');
  o.value = value; o.textContent = label; select.appendChild(o);
}
DATA.models.forEach((m) => option($('model-a'), m, m));
option($('model-b'), '', '(none: A alone)');
DATA.models.forEach((m) => option($('model-b'), m, m));
$('model-a').value = state.a; $('model-b').value = state.b;

function shown() {  // the documents both chosen models kept
  return DATA.documents.filter((d) => state.a in d.models && (!state.b || state.b in d.models));
}
function percentile(values, q) {
  if (!values.length) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
function values(doc) {  // per character: A's bits, or B's minus A's
  const a = doc.models[state.a].bits;
  if (!state.b) return a;
  const b = doc.models[state.b].bits;
  return a.map((x, i) => b[i] - x);
}
function setScale() {  // the 98th percentile over the shown documents, so one spike does not wash out the rest
  const all = [];
  shown().forEach((d) => values(d).forEach((v) => all.push(Math.abs(v))));
  const p = percentile(all, 0.98);
  state.scale = Math.max(state.b ? 0.5 : 1, Math.ceil(p * 2) / 2);
}
function classOf(v) {
  if (!state.b) return 's' + Math.min(SEQ - 1, Math.max(0, Math.floor((v / state.scale) * SEQ)));
  const k = Math.round((v / state.scale) * 5);  // B spends more bits: orange (left), fewer: purple
  return 'd' + Math.min(DIV - 1, Math.max(0, 5 - k));
}
function legend() {
  const el = $('legend');
  el.textContent = '';
  const bar = document.createElement('span');
  bar.className = 'bar';
  const n = state.b ? DIV : SEQ;
  for (let i = 0; i < n; i++) {
    const sw = document.createElement('i');
    sw.className = (state.b ? 'd' : 's') + i;
    bar.appendChild(sw);
  }
  const left = document.createElement('span'), right = document.createElement('span');
  if (state.b) {
    left.textContent = `B − A, bits per character: B +${state.scale} (A better)`;
    right.textContent = `0 … −${state.scale} (B better)`;
  } else {
    left.textContent = `${state.a}, bits per character: 0`;
    right.textContent = `≥ ${state.scale}`;
  }
  el.append(left, bar, right);
}
function escape(c) {
  return c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c;
}
function groups() {  // [title, documents, measure] for the list, in its order
  const docs = shown();
  if (state.b) {
    const delta = (d) => d.models[state.b].bpc - d.models[state.a].bpc;
    const sorted = docs.slice().sort((x, y) => delta(x) - delta(y));
    return [
      ['Largest gain of B over A (BPC)', sorted.filter((d) => delta(d) < 0), delta],
      ['Largest loss of B against A (BPC)', sorted.filter((d) => delta(d) >= 0).reverse(), delta],
    ];
  }
  const bpc = (d) => d.models[state.a].bpc;
  return [['Documents, lowest BPC first', docs.slice().sort((x, y) => bpc(x) - bpc(y)), bpc]];
}
function navigation() {
  const nav = $('docs');
  nav.textContent = '';
  for (const [title, list, measure] of groups()) {
    const h = document.createElement('h2');
    h.textContent = `${title} (${list.length})`;
    const ol = document.createElement('ol');
    list.forEach((d) => {
      const li = document.createElement('li'), a = document.createElement('a');
      a.href = '#doc-' + d.index;
      const v = measure(d);
      a.textContent = `document ${d.index}: ${state.b && v > 0 ? '+' : ''}${v.toFixed(4)}`;
      if (state.doc && d.index === state.doc.index) a.setAttribute('aria-current', 'page');
      li.append(a, ` (${d.chars} chars)`);
      ol.appendChild(li);
    });
    nav.append(h, ol);
  }
}
function render(doc) {
  const t0 = performance.now();
  state.doc = doc; state.active = -1; hideTip();
  state.chars = Array.from(doc.text);  // code points, as the page's spans count them
  // blocks of whole lines, about BLOCK characters each, laid out only when scrolled into view
  const v = values(doc), parts = ['<div class="blk">'];
  let size = 0;
  for (let i = 0; i < state.chars.length; i++) {
    parts.push(`<span data-i="${i}" class="${classOf(v[i])}">${escape(state.chars[i])}</span>`);
    if (++size >= BLOCK && state.chars[i] === '\n') { parts.push('</div><div class="blk">'); size = 0; }
  }
  parts.push('</div>');
  $('text').innerHTML = parts.join('');
  state.spans = $('text').getElementsByTagName('span');
  const a = doc.models[state.a];
  let line = `Document ${doc.index}, ${doc.chars} characters. A (${state.a}): ${a.bpc.toFixed(4)} BPC`;
  if (state.b) {
    const b = doc.models[state.b];
    line += `; B (${state.b}): ${b.bpc.toFixed(4)} BPC; B − A: ${(b.bpc - a.bpc).toFixed(4)}`;
  }
  $('summary').textContent = line;
  navigation();
  document.body.dataset.renderMs = (performance.now() - t0).toFixed(1);
}
function covering(tokens, i) {  // tokens [start, end, bits] whose characters include i
  let lo = 0, hi = tokens.length;
  while (lo < hi) {  // first token ending after i (ends never decrease)
    const mid = (lo + hi) >> 1;
    if (tokens[mid][1] > i) hi = mid; else lo = mid + 1;
  }
  const found = [];
  for (let k = lo; k < tokens.length && tokens[k][0] <= i; k++) found.push(tokens[k]);
  return found;
}
function visible(text) {
  return text.replace(/\n/g, '⏎').replace(/\t/g, '⇥').replace(/ /g, '␣');
}
function rowsFor(model, label, i) {
  const m = state.doc.models[model];
  const rows = [`<tr><td><b>${label}</b> ${escapeAll(model)}</td><td>${m.bits[i].toFixed(3)} bits here</td></tr>`];
  covering(m.tokens, i).forEach(([s, e, bits]) => {
    const text = escapeAll(visible(state.chars.slice(s, e).join('')));
    const shared = m.tokens.filter((t) => t[0] === s && t[1] === e).length > 1 ? ' (part of a character)' : '';
    rows.push(`<tr><td>token <code>${text}</code>${shared}</td><td>${bits.toFixed(3)} bits</td></tr>`);
  });
  return rows.join('');
}
function escapeAll(text) {
  return Array.from(text, escape).join('').replace(/"/g, '&quot;');
}
function showTip(span) {
  const i = +span.dataset.i;
  let body = `<div>character ${i}: <code>${escapeAll(visible(state.chars[i]))}</code></div><table>`;
  body += rowsFor(state.a, 'A', i);
  if (state.b) {
    body += rowsFor(state.b, 'B', i);
    const d = state.doc.models[state.b].bits[i] - state.doc.models[state.a].bits[i];
    body += `<tr><td><b>B − A</b></td><td>${d > 0 ? '+' : ''}${d.toFixed(3)} bits</td></tr>`;
  }
  const tip = $('tip');
  tip.innerHTML = body + '</table>';
  tip.style.display = 'block';
  const r = span.getBoundingClientRect(), w = tip.offsetWidth, h = tip.offsetHeight;
  tip.style.left = Math.max(4, Math.min(window.innerWidth - w - 4, r.left)) + 'px';
  tip.style.top = (r.bottom + 6 + h < window.innerHeight ? r.bottom + 6 : Math.max(4, r.top - h - 6)) + 'px';
  $('live').textContent = tip.textContent;
}
function hideTip() { $('tip').style.display = 'none'; }
function activate(i) {
  const spans = state.spans || [];
  if (!spans.length) return;
  i = Math.max(0, Math.min(spans.length - 1, i));
  if (state.active >= 0 && spans[state.active]) spans[state.active].classList.remove('on');
  state.active = i;
  spans[i].classList.add('on');
  spans[i].scrollIntoView({block: 'nearest'});
  showTip(spans[i]);
}
$('text').addEventListener('mouseover', (e) => { if (e.target.dataset.i !== undefined) showTip(e.target); });
$('text').addEventListener('mouseleave', () => { if (document.activeElement !== $('text')) hideTip(); });
$('text').addEventListener('focus', () => activate(state.active >= 0 ? state.active : 0));
$('text').addEventListener('blur', hideTip);
$('text').addEventListener('keydown', (e) => {
  const step = {ArrowRight: 1, ArrowLeft: -1, ArrowDown: 40, ArrowUp: -40, PageDown: 400, PageUp: -400}[e.key];
  if (step) { activate(state.active + step); e.preventDefault(); }
  else if (e.key === 'Home') { activate(0); e.preventDefault(); }
  else if (e.key === 'End') { activate(state.chars.length - 1); e.preventDefault(); }
  else if (e.key === 'Escape') hideTip();
});
function open() {
  const docs = shown();
  const wanted = +(location.hash.match(/^#doc-(\d+)$/) || [])[1];
  const first = groups().map((g) => g[1][0]).find((d) => d);
  const doc = docs.find((d) => d.index === wanted) || (state.doc && docs.find((d) => d.index === state.doc.index)) || first;
  if (doc) { render(doc); } else {
    $('text').textContent = ''; $('summary').textContent = 'No document was kept by both models.'; navigation();
  }
}
function choose() {
  state.a = $('model-a').value; state.b = $('model-b').value === state.a ? '' : $('model-b').value;
  setScale(); legend(); open();
}
$('model-a').addEventListener('change', choose);
$('model-b').addEventListener('change', choose);
window.addEventListener('hashchange', open);
choose();
