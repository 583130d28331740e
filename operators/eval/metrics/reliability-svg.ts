// A reliability diagram (DeGroot & Fienberg 1983; as drawn by Guo et al. 2017) of a `calibration()` result,
// as one standalone SVG string: a bar per non-empty bin at the height of its accuracy, the gap to the bin's mean
// confidence shaded, the diagonal of perfect calibration, axes with ticks, and the ECE in the title.
// Deterministic: the same result and title give the same bytes (coordinates rounded to 0.01 px), so a diagram
// can be committed next to the numbers it shows and diffed.
import type { Calibration } from './calibration.ts';

export interface ReliabilitySvgOptions {
  /** the heading, e.g. the task and model; the ECE and n are appended */
  title: string;
}

// geometry in px: a square plot with room for the heading, tick labels and axis names
const PLOT = 360;
const LEFT = 60;
const TOP = 50;
const WIDTH = LEFT + PLOT + 20;
const HEIGHT = TOP + PLOT + 50;
const TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1];

/** px to a short fixed string: 2 decimals, no trailing zeros, no "-0" */
const px = (v: number): string => {
  const s = Number(v.toFixed(2)).toString();
  return s === '-0' ? '0' : s;
};
const xOf = (v: number) => LEFT + v * PLOT;
const yOf = (v: number) => TOP + PLOT - v * PLOT;

/** Text safe inside XML elements and double-quoted attributes. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

function rect(cls: string, x0: number, y0: number, x1: number, y1: number, attrs: string, tip?: string): string {
  const open =
    `<rect class="${cls}" x="${px(x0)}" y="${px(y0)}" width="${px(x1 - x0)}" height="${px(y1 - y0)}" ` + `${attrs}`;
  return tip === undefined ? `${open}/>` : `${open}><title>${escapeXml(tip)}</title></rect>`;
}

function axes(): string[] {
  const out: string[] = [];
  const bottom = yOf(0);
  out.push(
    `<line class="axis" x1="${px(LEFT)}" y1="${px(bottom)}" x2="${px(xOf(1))}" y2="${px(bottom)}" stroke="#333"/>`,
  );
  out.push(`<line class="axis" x1="${px(LEFT)}" y1="${px(TOP)}" x2="${px(LEFT)}" y2="${px(bottom)}" stroke="#333"/>`);
  for (const t of TICKS) {
    const label = t.toFixed(1);
    const x = xOf(t);
    const y = yOf(t);
    out.push(
      `<line class="tick" x1="${px(x)}" y1="${px(bottom)}" x2="${px(x)}" y2="${px(bottom + 5)}" stroke="#333"/>`,
    );
    out.push(`<text class="tick-label" x="${px(x)}" y="${px(bottom + 18)}" text-anchor="middle">${label}</text>`);
    out.push(`<line class="tick" x1="${px(LEFT - 5)}" y1="${px(y)}" x2="${px(LEFT)}" y2="${px(y)}" stroke="#333"/>`);
    out.push(`<text class="tick-label" x="${px(LEFT - 8)}" y="${px(y + 4)}" text-anchor="end">${label}</text>`);
  }
  out.push(`<text class="axis-name" x="${px(xOf(0.5))}" y="${px(bottom + 38)}" text-anchor="middle">confidence</text>`);
  const ay = yOf(0.5);
  out.push(
    `<text class="axis-name" x="${px(LEFT - 40)}" y="${px(ay)}" text-anchor="middle" transform="rotate(-90 ` +
      `${px(LEFT - 40)} ${px(ay)})">accuracy</text>`,
  );
  return out;
}

/** The reliability diagram of `result` as a standalone SVG document. */
export function reliabilitySvg(result: Calibration, { title }: ReliabilitySvgOptions): string {
  if (result.bins.length === 0) throw new RangeError('reliabilitySvg: the result has no bins; pass calibration()');
  const heading = `${title} — ECE ${result.ece.toFixed(4)} (n = ${result.n})`;
  const body: string[] = [];
  body.push(`<title>${escapeXml(heading)}</title>`);
  body.push(
    `<text class="heading" x="${px(WIDTH / 2)}" y="24" text-anchor="middle" ` +
      `font-size="14">${escapeXml(heading)}</text>`,
  );
  body.push(rect('frame', xOf(0), yOf(1), xOf(1), yOf(0), 'fill="none" stroke="#ccc"'));
  result.bins.forEach((b, i) => {
    if (b.count === 0) return; // an empty bin has no accuracy to draw
    const tip =
      `bin ${i}: [${b.lower.toFixed(3)}, ${b.upper.toFixed(3)}), n = ${b.count}, accuracy ` +
      `${b.accuracy.toFixed(3)}, mean confidence ${b.confidence.toFixed(3)}`;
    body.push(rect('bar', xOf(b.lower), yOf(b.accuracy), xOf(b.upper), yOf(0), 'fill="#4c78a8" stroke="#fff"', tip));
  });
  // gaps after bars so they shade over them where confidence is below accuracy
  result.bins.forEach((b) => {
    if (b.count === 0) return;
    const hi = Math.max(b.accuracy, b.confidence);
    const lo = Math.min(b.accuracy, b.confidence);
    body.push(rect('gap', xOf(b.lower), yOf(hi), xOf(b.upper), yOf(lo), 'fill="#e45756" fill-opacity="0.4"'));
  });
  body.push(
    `<line class="diagonal" x1="${px(xOf(0))}" y1="${px(yOf(0))}" x2="${px(xOf(1))}" y2="${px(yOf(1))}" ` +
      `stroke="#555" stroke-dasharray="4 4"/>`,
  );
  body.push(...axes());
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
      `font-family="sans-serif" font-size="12">`,
    ...body.map((l) => `  ${l}`),
    '</svg>',
    '',
  ].join('\n');
}

/** The plot's size in px (bars are accuracy * PLOT_SIZE tall), for readers of the SVG. */
export const PLOT_SIZE = PLOT;
