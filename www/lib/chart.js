// A horizontal bar chart in inline SVG: items/s per suite, encrypt and decrypt.

const NS = "http://www.w3.org/2000/svg";
const COLORS = { encrypt: "#0f766e", decrypt: "#4f46e5" };

function el(name, attrs, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** `results`: [{ suite, label, encrypt, decrypt }] with items/s. */
export function throughputChart(results) {
  const labelWidth = 150;
  const barMax = 360;
  const rowHeight = 22;
  const groupGap = 14;
  const width = labelWidth + barMax + 110;
  const height = results.length * (2 * rowHeight + groupGap) + 28;
  const max = Math.max(...results.flatMap((r) => [r.encrypt, r.decrypt]), 1);
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", class: "chart" });
  svg.append(el("title", {}, "Items per second for each algorithm suite, encrypt and decrypt"));
  let y = 4;
  for (const r of results) {
    svg.append(el("text", { x: 0, y: y + rowHeight + 4, class: "chart-suite" }, r.suite));
    svg.append(el("text", { x: 0, y: y + rowHeight + 18, class: "chart-note" }, r.label));
    for (const op of ["encrypt", "decrypt"]) {
      const w = Math.max(2, (r[op] / max) * barMax);
      const bar = el("rect", { x: labelWidth, y, width: w.toFixed(1), height: rowHeight - 6, rx: 3, fill: COLORS[op], "data-suite": r.suite, "data-op": op });
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
