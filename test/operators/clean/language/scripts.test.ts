// The one-pass script table against franc's own regexes (franc/expressions.js): every code point of
// Unicode, and the top script of real and mixed texts against franc's getTopScript (copied below).
import { expressions } from 'franc/expressions.js';
import { describe, expect, it } from 'vitest';
import { SCRIPT_NAMES, scriptCounts, scriptsOf, topScript } from '../../../../operators/clean/language/scripts.ts';
import { sotu } from '../real-data.ts';
import { excerpts } from './excerpts.ts';

// franc 6.2's getTopScript and getOccurrence, verbatim but for types
function francTopScript(value: string): [string | undefined, number] {
  let topCount = -1;
  let topScriptName: string | undefined;
  for (const script in expressions) {
    const count = (value.match(expressions[script]!)?.length ?? 0) / value.length || 0;
    if (count > topCount) {
      topCount = count;
      topScriptName = script;
    }
  }
  return [topScriptName, topCount];
}

describe('script table', () => {
  it("matches exactly the code points each of franc's 30 regexes matches, over all of Unicode", () => {
    // every code point once, in order; surrogate code points as lone units (which nothing matches)
    let text = '';
    const unitToCp = new Int32Array(0x110000 + 0x100000);
    for (let cp = 0, unit = 0; cp <= 0x10ffff; cp++) {
      unitToCp[unit] = cp;
      unit += cp >= 0x10000 ? 2 : 1;
      if ((cp & 0xfff) === 0xfff)
        text += String.fromCodePoint(...Array.from({ length: 0x1000 }, (_, i) => cp - 0xfff + i));
    }
    const fromRegex = new Uint32Array(0x110000),
      fromTable = new Uint32Array(0x110000);
    const matches = SCRIPT_NAMES.map((name, s) => {
      let n = 0;
      for (const m of text.matchAll(expressions[name]!)) {
        fromRegex[unitToCp[m.index]!]! |= 1 << s;
        n++;
      }
      return n;
    });
    for (let cp = 0; cp <= 0x10ffff; cp++) for (const s of scriptsOf(cp)) fromTable[cp]! |= 1 << s;
    const differ: number[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) if (fromRegex[cp] !== fromTable[cp]) differ.push(cp);
    expect(differ).toEqual([]);
    expect(matches.every((n) => n > 0)).toBe(true);
    expect(scriptCounts(text)).toEqual(Int32Array.from(matches));
  });

  it("picks franc's top script on real text in 25 languages, mixed scripts and text with no script", () => {
    const texts = [
      ...sotu()
        .slice(0, 5)
        .map((d) => d.text.slice(0, 2048)),
      ...Object.values(excerpts()).flatMap((l) => l.map((e) => e.text)),
      `${excerpts().ja![0]!.text} ${excerpts().ko![0]!.text}`,
      '東京 とうきょう',
      '東京',
      '12345',
      '',
      '😀😀 a',
    ];
    for (const t of texts) {
      const [name, share] = francTopScript(t);
      const { script, count } = topScript(t);
      expect([SCRIPT_NAMES[script], t.length ? count / t.length : 0], t.slice(0, 40)).toEqual([name, share]);
    }
  });
});
