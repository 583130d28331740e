import { describe, expect, it } from 'vitest';
import { calibration } from '../../operators/eval/metrics/calibration.ts';
import { escapeXml, PLOT_SIZE, reliabilitySvg } from '../../operators/eval/metrics/reliability-svg.ts';

interface Element {
  name: string;
  attrs: Record<string, string>;
  children: Element[];
  text: string;
}

// A small well-formedness check of the XML subset an SVG uses: one root element, balanced tags, quoted
// attributes without duplicates, '<' never in text, '&' only as an entity. Returns the tree or throws.
function parseXml(xml: string): Element {
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/y;
  const attr = /([\w:.-]+)="([^"<]*)"/g;
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  const stack: Element[] = [];
  let root: Element | undefined;
  let pos = 0;
  while (pos < xml.length) {
    const lt = xml.indexOf('<', pos);
    const text = xml.slice(pos, lt === -1 ? xml.length : lt);
    if (text.replace(entity, '').includes('&')) throw new Error(`bare '&' in text at ${pos}`);
    if (stack.length === 0 && text.trim() !== '') throw new Error(`text outside the root at ${pos}: ${text}`);
    const top = stack[stack.length - 1];
    if (top) top.text += text;
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    if (!m) throw new Error(`malformed tag at ${lt}: ${xml.slice(lt, lt + 40)}`);
    const [, close, name = '', attrText = '', selfClose] = m;
    pos = tag.lastIndex;
    if (close) {
      const open = stack.pop();
      if (open?.name !== name) throw new Error(`</${name}> at ${lt} closes <${open?.name}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const [, k = '', v = ''] of attrText.matchAll(attr)) {
      if (k in attrs) throw new Error(`duplicate attribute ${k} on <${name}>`);
      if (v.replace(entity, '').includes('&')) throw new Error(`bare '&' in attribute ${k}`);
      attrs[k] = v;
    }
    const el: Element = { name, attrs, children: [], text: '' };
    if (top) top.children.push(el);
    else if (root) throw new Error(`a second root element <${name}>`);
    else root = el;
    if (!selfClose) stack.push(el);
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.map((e) => e.name).join('>, <')}>`);
  if (!root) throw new Error('no root element');
  return root;
}

const all = (e: Element): Element[] => [e, ...e.children.flatMap(all)];
const byClass = (root: Element, cls: string) => all(root).filter((e) => e.attrs.class === cls);
const num = (e: Element | undefined, k: string) => Number(e?.attrs[k]);

describe('the XML check itself', () => {
  it('rejects what is not well-formed', () => {
    expect(parseXml('<svg><g/><text>a &amp; b</text></svg>').children).toHaveLength(2);
    expect(() => parseXml('<svg><g></svg>')).toThrow(/closes <g>/);
    expect(() => parseXml('<svg></svg><svg></svg>')).toThrow(/second root/);
    expect(() => parseXml('<svg><text>a & b</text></svg>')).toThrow(/bare '&'/);
    expect(() => parseXml('<svg><rect x=1/></svg>')).toThrow(/malformed tag/);
    expect(() => parseXml('<svg>')).toThrow(/unclosed <svg>/);
  });
});

describe('reliabilitySvg', () => {
  // 5 bins: 0.1 -> bin 0 (acc 0); 0.5, 0.55 -> bin 2 (acc 1/2, conf 0.525); 0.9, 0.95, 1 -> bin 4 (acc 2/3);
  // bins 1 and 3 are empty. ECE = (1*0.1 + 2*0.025 + 3*|2/3 - 0.95|) / 6 = (0.1 + 0.05 + 0.85) / 6 = 1/6
  const result = calibration([0.1, 0.5, 0.55, 0.9, 0.95, 1], [0, 1, 0, 1, 1, 0], 5);

  it('is one well-formed <svg> document', () => {
    const svg = reliabilitySvg(result, { title: 'toy' });
    const root = parseXml(svg);
    expect(root.name).toBe('svg');
    expect(root.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(svg.startsWith('<svg ')).toBe(true);
  });

  it('draws a bar per non-empty bin, as tall as its accuracy, as wide as its bin', () => {
    const root = parseXml(reliabilitySvg(result, { title: 'toy' }));
    const bars = byClass(root, 'bar');
    expect(bars).toHaveLength(3);
    const accuracies = [0, 1 / 2, 2 / 3];
    bars.forEach((b, i) => {
      expect(num(b, 'height') / PLOT_SIZE).toBeCloseTo(accuracies[i] as number, 4);
      expect(num(b, 'width')).toBeCloseTo(PLOT_SIZE / 5, 2);
    });
    // bars stand on the x axis: y + height is the same baseline for all
    const base = bars.map((b) => num(b, 'y') + num(b, 'height'));
    expect(new Set(base.map((v) => v.toFixed(2))).size).toBe(1);
    // left edges at 0, 0.4, 0.8 of the plot
    const x0 = num(bars[0], 'x');
    expect((num(bars[1], 'x') - x0) / PLOT_SIZE).toBeCloseTo(0.4, 4);
    expect((num(bars[2], 'x') - x0) / PLOT_SIZE).toBeCloseTo(0.8, 4);
    // each bar's tooltip states its numbers
    expect(bars[1]?.children[0]?.text).toContain('n = 2, accuracy 0.500, mean confidence 0.525');
  });

  it('shades the gap between accuracy and mean confidence', () => {
    const root = parseXml(reliabilitySvg(result, { title: 'toy' }));
    const gaps = byClass(root, 'gap');
    expect(gaps).toHaveLength(3);
    // bin 4: accuracy 2/3, confidence 0.95 -> a gap of 0.28333 of the plot, its top at confidence 0.95
    expect(num(gaps[2], 'height') / PLOT_SIZE).toBeCloseTo(0.95 - 2 / 3, 4);
    const bars = byClass(root, 'bar');
    const baseline = num(bars[0], 'y') + num(bars[0], 'height');
    expect((baseline - num(gaps[2], 'y')) / PLOT_SIZE).toBeCloseTo(0.95, 4);
  });

  it('has the diagonal, axes with ticks 0.0..1.0, and the ECE in the title', () => {
    const root = parseXml(reliabilitySvg(result, { title: 'toy' }));
    const [diag] = byClass(root, 'diagonal');
    // from (0,0) to (1,1): as far right as it goes up
    expect(num(diag, 'x2') - num(diag, 'x1')).toBeCloseTo(num(diag, 'y1') - num(diag, 'y2'), 6);
    expect(byClass(root, 'axis')).toHaveLength(2);
    const labels = byClass(root, 'tick-label').map((e) => e.text);
    expect(labels).toEqual(['0.0', '0.0', '0.2', '0.2', '0.4', '0.4', '0.6', '0.6', '0.8', '0.8', '1.0', '1.0']);
    const heading = byClass(root, 'heading')[0]?.text;
    expect(heading).toBe('toy — ECE 0.1667 (n = 6)');
    expect(root.children.find((e) => e.name === 'title')?.text).toBe(heading);
  });

  it('is deterministic and escapes the title', () => {
    const a = reliabilitySvg(result, { title: 'gpt <small> & "friends"' });
    expect(reliabilitySvg(result, { title: 'gpt <small> & "friends"' })).toBe(a);
    const root = parseXml(a);
    expect(byClass(root, 'heading')[0]?.text).toContain('gpt &lt;small&gt; &amp; &quot;friends&quot;');
    expect(escapeXml(`a'b`)).toBe('a&apos;b');
  });

  it('draws no bar for a result whose bins are all empty but one, and a zero-height bar for accuracy 0', () => {
    const root = parseXml(reliabilitySvg(calibration([0.3], [0]), { title: 'one' }));
    const bars = byClass(root, 'bar');
    expect(bars).toHaveLength(1);
    expect(num(bars[0], 'height')).toBe(0);
  });
});
