// normalize on real text: SpamAssassin mail (CR LF line ends, stray control characters), Moby-Dick
// (curly quotes, em dashes) and the State of the Union addresses (already clean: words must survive).
import { describe, expect, it } from 'vitest';
import { normalize, normalizeText } from '../../../operators/clean/normalize.ts';
import { emails, mobyDickWhole, runOp, sotu, textBatch } from './real-data.ts';

const defaults = { form: 'NFC', whitespace: true, controls: true } as const;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

describe('clean/normalize', () => {
  it('cleans real mail: no CR, no control characters, no space runs, and the words stay', () => {
    const mails = [...emails('spam-1'), ...emails('spam-2'), ...emails('hard-ham-1')];
    const dirty = mails.filter((m) => m.text.includes('\r') || CONTROL.test(m.text));
    expect(dirty.length).toBeGreaterThan(10);
    for (const m of dirty) {
      const out = normalizeText(m.text, defaults);
      expect(out).not.toMatch(/\r/);
      expect(out).not.toMatch(CONTROL);
      expect(out).not.toMatch(/[ \t]{2,}|[ \t]\n|\n{3}/);
      // every word that had no control character in it is still there, in order
      const words = (s: string) => s.split(/\s+/).filter((w) => w && !CONTROL.test(w) && !w.includes('\r'));
      const kept = words(out).join(' ');
      expect(kept).toContain(words(m.text).slice(0, 40).join(' ').replace(CONTROL, ''));
    }
  });

  it('changes only whitespace in already clean prose', () => {
    for (const d of sotu().slice(0, 60)) {
      const out = normalizeText(d.text, defaults);
      expect(out.split(/\s+/)).toEqual(d.text.trim().split(/\s+/));
    }
  });

  it('optionally straightens quotes and dashes (Moby-Dick) and leaves them by default', () => {
    const text = mobyDickWhole();
    const curly = /[\u2018\u2019\u201C\u201D]/g,
      dash = /[\u2013\u2014]/g;
    expect(text.match(curly)!.length).toBeGreaterThan(1000);
    expect(text.match(dash)!.length).toBeGreaterThan(1000);
    expect(normalizeText(text, defaults).match(curly)!.length).toBe(text.match(curly)!.length);
    const fixed = normalizeText(text, { ...defaults, quotes: true, dashes: true });
    expect(fixed).not.toMatch(curly);
    expect(fixed).not.toMatch(dash);
    // one replacement per character: the straight quotes gained exactly what the curly ones lost
    const count = (s: string, re: RegExp) => s.match(re)?.length ?? 0;
    expect(count(fixed, /["']/g) - count(text, /["']/g)).toBe(count(text, curly));
  });

  it('NFKC folds compatibility forms; invisible characters go only when asked', () => {
    expect(normalizeText('ﬁne ｆｕｌｌ①', { ...defaults, form: 'NFKC' })).toBe('fine full1');
    expect(normalizeText('ﬁne', defaults)).toBe('ﬁne');
    const s = 'zero\u200Bwidth soft\u00ADhyphen word\u2060joiner bom\uFEFFin \u200Djoiner';
    expect(normalizeText(s, defaults)).toBe(s);
    expect(normalizeText(s, { ...defaults, invisible: true })).toBe(
      'zerowidth softhyphen wordjoiner bomin \u200Djoiner',
    );
    expect(normalizeText('a\u2003\u3000b\u2028c', defaults)).toBe('a b\nc');
  });

  it('as an operator: replaces the text column, and drops emptied rows with a reason when asked', async () => {
    const texts = ['  Call me\r\nIshmael.  ', '\u0007\u0000 \t', 'Some years ago'];
    const kept = await runOp(normalize, {}, [textBatch(texts)]);
    expect(kept.rows.map((r) => r.text)).toEqual(['Call me\nIshmael.', '', 'Some years ago']);
    const dropped = await runOp(normalize, { dropEmpty: true }, [textBatch(texts)]);
    expect(dropped.rows.map((r) => r.n)).toEqual(['0', '2']);
    expect(dropped.stats.dropReasons).toEqual({ 'normalize.empty': 1 });
  });
});
