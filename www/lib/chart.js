// Charts in inline SVG: items/s per suite (or keyring), encrypt and decrypt,
// as horizontal bars; and the AWS calls of a throughput run against the items
// it has sealed and opened, as step lines.

const NS = "http://www.w3.org/2000/svg";
const COLORS = { encrypt: "#0f766e", decrypt: "#4f46e5" };

function el(name, attrs, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** `results`: [{ suite, label, encrypt, decrypt, keyring? }] with items/s; `suite` names the row. */
export function throughputChart(results) {
  const labelWidth = 150;
  const barMax = 360;
  const rowHeight = 22;
  const groupGap = 14;
  const width = labelWidth + barMax + 110;
  const height = results.length * (2 * rowHeight + groupGap) + 28;
  const max = Math.max(...results.flatMap((r) => [r.encrypt, r.decrypt]), 1);
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", class: "chart" });
  svg.append(el("title", {}, "Items per second for each row (algorithm suite or keyring), encrypt and decrypt"));
  let y = 4;
  for (const r of results) {
    svg.append(el("text", { x: 0, y: y + rowHeight + 4, class: "chart-suite" }, r.suite));
    svg.append(el("text", { x: 0, y: y + rowHeight + 18, class: "chart-note" }, r.label));
    for (const op of ["encrypt", "decrypt"]) {
      const w = Math.max(2, (r[op] / max) * barMax);
      const bar = el("rect", { x: labelWidth, y, width: w.toFixed(1), height: rowHeight - 6, rx: 3, fill: COLORS[op], "data-suite": r.suite, "data-op": op });
      if (r.keyring) bar.setAttribute("data-keyring", r.keyring);
      bar.append(el("title", {}, `${r.suite} ${op}: ${Math.round(r[op]).toLocaleString("en-US")} items/s`));
      svg.append(bar);
      svg.append(el("text", { x: labelWidth + w + 6, y: y + rowHeight - 10, class: "chart-value" }, `${op} ${Math.round(r[op]).toLocaleString("en-US")}/s`));
      y += rowHeight;
    }
    y += groupGap;
  }
  let x = labelWidth;
  for (const op of ["encrypt", "decrypt"]) {
    svg.append(el("rect", { x, y: y + 2, width: 10, height: 10, rx: 2, fill: COLORS[op] }));
    svg.append(el("text", { x: x + 14, y: y + 11, class: "chart-note" }, `${op} (items/s)`));
    x += 150;
  }
  return svg;
}

const CALL_COLORS = { kms: "#0f766e", getItem: "#4f46e5" };
const CALL_NAMES = { kms: "KMS calls", getItem: "key store GetItem" };

/**
 * `phases`: [{ label, samples: [{ items, kms, getItem }] }], each sample
 * cumulative within its phase, the phases run one after the other. Plots,
 * one strip per kind of call, the calls made so far (all phases) against the
 * items processed so far: a flat line is a run that stopped calling.
 */
export function callsChart(phases) {
  const left = 128;
  const plotWidth = 360;
  const stripHeight = 44;
  const stripGap = 22;
  const top = 18;
  const kinds = Object.keys(CALL_COLORS);
  const points = Object.fromEntries(kinds.map((k) => [k, []]));
  const bounds = [];
  let offset = 0;
  const carried = Object.fromEntries(kinds.map((k) => [k, 0]));
  for (const phase of phases) {
    for (const s of phase.samples) {
      for (const k of kinds) points[k].push([offset + s.items, carried[k] + s[k]]);
    }
    const last = phase.samples.at(-1);
    offset += last.items;
    for (const k of kinds) carried[k] += last[k];
    bounds.push({ label: phase.label, end: offset });
  }
  const maxX = Math.max(offset, 1);
  const maxY = Math.max(2, ...kinds.map((k) => carried[k]));
  const plotsHeight = kinds.length * (stripHeight + stripGap);
  const width = left + plotWidth + 16;
  const height = top + plotsHeight + 20;
  const x = (v) => left + (v / maxX) * plotWidth;
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", class: "chart calls-chart" });
  svg.append(el("title", {}, "KMS calls and key store GetItem calls so far, against the items sealed and opened so far"));
  kinds.forEach((k, row) => {
    const base = top + row * (stripHeight + stripGap) + stripHeight;
    const y = (v) => base - (v / maxY) * stripHeight;
    svg.append(el("text", { x: 0, y: base - stripHeight / 2 + 4, class: "chart-note" }, CALL_NAMES[k]));
    for (const v of [0, maxY]) {
      svg.append(el("line", { x1: left, x2: left + plotWidth, y1: y(v), y2: y(v), class: "chart-grid" }));
      svg.append(el("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "chart-note" }, String(v)));
    }
    // A step line: a count holds until the sample where it changed.
    let d = "";
    points[k].forEach(([px, py], i) => {
      d += i === 0 ? `M${x(px).toFixed(1)},${y(py).toFixed(1)}` : `H${x(px).toFixed(1)}V${y(py).toFixed(1)}`;
    });
    svg.append(el("path", { d, fill: "none", stroke: CALL_COLORS[k], "stroke-width": 2.5, "data-series": k }));
    svg.append(el("text", { x: left + plotWidth, y: y(carried[k]) - 5, "text-anchor": "end", class: "chart-value" }, `${carried[k]} in all`));
  });
  let start = 0;
  for (const b of bounds) {
    svg.append(el("text", { x: (x(start) + x(b.end)) / 2, y: top + plotsHeight + 8, "text-anchor": "middle", class: "chart-note" }, `${b.label} ${(b.end - start).toLocaleString("en-US")} items`));
    if (b.end < maxX) svg.append(el("line", { x1: x(b.end), x2: x(b.end), y1: top, y2: top + plotsHeight - stripGap, class: "chart-divider" }));
    start = b.end;
  }
  return svg;
}
