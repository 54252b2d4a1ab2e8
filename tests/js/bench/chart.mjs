// docs/bench-chart.svg: round trips/s of each implementation, one group of
// horizontal bars per suite, written by hand as SVG so the benchmark needs no
// charting dependency. The x axis is logarithmic because the rows span three
// orders of magnitude (ESDK-JS to native Rust); each bar prints its value.

const WIDTH = 1000;
const LABEL_W = 400; // implementation names, left of the bars
const VALUE_W = 90; // printed values, right of the longest bar
const BAR_H = 22;
const BAR_GAP = 6;
const GROUP_GAP = 18;
const TOP = 56;
const AXIS_H = 34;
const COLORS = { "fieldseal|native": "#1b6ca8", "aws-db-esdk|native": "#8c8c8c", "fieldseal|wasm, Node": "#2e9e5b", "fieldseal|wasm, Chromium": "#7fbf3f", "ESDK-JS|": "#d9822b" };

const escape = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const color = (r) => Object.entries(COLORS).find(([k]) => { const [i, rt] = k.split("|"); return r.impl === i && r.runtime.startsWith(rt); })?.[1] ?? "#555";
const short = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));

/** Decades covering every value, at least one wide. */
function logDomain(values) {
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  return [lo, hi > lo ? hi : lo * 10];
}

/**
 * The SVG for `rows` (compareRows output: impl, runtime, suite, roundTripPerSec),
 * titled with `subtitle` (machine and date). No rows gives a chart that says so.
 */
export function roundTripChart(rows, subtitle) {
  const suites = [...new Set(rows.map((r) => r.suite))];
  const plotW = WIDTH - LABEL_W - VALUE_W;
  const bars = TOP + suites.reduce((h, s) => h + GROUP_GAP + 8 + rows.filter((r) => r.suite === s).length * (BAR_H + BAR_GAP), 0);
  const height = rows.length ? bars + AXIS_H : TOP + 60;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="600">Round trips per second (encrypt + decrypt of the reference item), log scale</text>`,
    `<text x="16" y="44" fill="#555">${escape(subtitle)}</text>`,
  ];
  if (!rows.length) {
    out.push(`<text x="16" y="90">No round-trip measurements in this run (see BENCHMARKS.md).</text>`, "</svg>");
    return `${out.join("\n")}\n`;
  }
  const [lo, hi] = logDomain(rows.map((r) => r.roundTripPerSec));
  const x = (v) => LABEL_W + (plotW * Math.log10(v / lo)) / Math.log10(hi / lo);
  const axisTop = TOP;
  const axisBottom = bars;
  for (let d = lo; d <= hi; d *= 10) {
    out.push(`<line x1="${x(d).toFixed(1)}" y1="${axisTop}" x2="${x(d).toFixed(1)}" y2="${axisBottom}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${x(d).toFixed(1)}" y="${axisBottom + 18}" text-anchor="middle" fill="#555">${short(d)}</text>`);
  }
  let y = TOP;
  for (const suite of suites) {
    y += GROUP_GAP;
    out.push(`<text x="16" y="${y}" font-weight="600">suite ${escape(suite)}</text>`);
    y += 8;
    for (const r of rows.filter((row) => row.suite === suite)) {
      const w = Math.max(1, x(r.roundTripPerSec) - LABEL_W);
      const mid = y + BAR_H / 2 + 4;
      out.push(`<text x="${LABEL_W - 8}" y="${mid}" text-anchor="end">${escape(`${r.impl} (${r.runtime})`)}</text>`);
      out.push(`<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${color(r)}"/>`);
      out.push(`<text x="${(LABEL_W + w + 6).toFixed(1)}" y="${mid}">${Math.round(r.roundTripPerSec).toLocaleString("en-US")}/s</text>`);
      y += BAR_H + BAR_GAP;
    }
  }
  out.push(`<line x1="${LABEL_W}" y1="${axisTop}" x2="${LABEL_W}" y2="${axisBottom}" stroke="#888"/>`, "</svg>");
  return `${out.join("\n")}\n`;
}
