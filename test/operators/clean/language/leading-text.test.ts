// The operator decodes only the start of long texts: the prefix must give the same trimmed sample and
// the same "longer than the sample" answer as the whole text, in any script and with whitespace runs,
// and the operator's rows must equal identifyLanguage on the whole strings.
import { describe, expect, it } from 'vitest';
import { identifyLanguage, language } from '../../../../operators/clean/language.ts';
import { leadingText } from '../../../../operators/clean/language/leading-text.ts';
import { mobyDick, runOp, sotu, textBatch } from '../real-data.ts';
import { excerpts } from './excerpts.ts';

const long = () => {
  const ex = excerpts();
  const join = (l: string) => ex[l]!.map((e) => e.text).join('\n\n');
  return [
    ...sotu()
      .slice(0, 4)
      .map((d) => d.text),
    mobyDick()[10]!.text,
    join('ja'),
    join('zh_CN'),
    join('ko'),
    join('ru'),
    `${' \n\t\u3000'.repeat(3000)}${join('de')}`,
    `${join('fr').slice(0, 2040)}${' '.repeat(9000)}x`,
    `${join('fr').slice(0, 2040)}${' '.repeat(9000)}`,
    `${'😀'.repeat(3000)} ${join('uk')}`,
    `${'é'.repeat(2047)}${'ü'.repeat(3000)}`,
  ];
};

describe('leading text', () => {
  it('agrees with the whole text on trim().slice(0, n) and on trim().length > n', () => {
    for (const text of long())
      for (const n of [20, 300, 2048]) {
        const bytes = new TextEncoder().encode(text);
        const head = leadingText(bytes, 0, bytes.length, n);
        expect(head.length).toBeLessThanOrEqual(text.length);
        expect(head.trim().slice(0, n), text.slice(0, 30)).toBe(text.trim().slice(0, n));
        expect(head.trim().length > n).toBe(text.trim().length > n);
      }
  });

  it('reads less than the whole of a long address (the point of it)', () => {
    const text = sotu().reduce((a, d) => (d.text.length > a.length ? d.text : a), '');
    const bytes = new TextEncoder().encode(text);
    expect(text.length).toBeGreaterThan(10_000);
    expect(leadingText(bytes, 0, bytes.length, 2048).length).toBeLessThan(5000);
  });

  it('gives the operator the rows identifyLanguage gives on the whole strings', async () => {
    const texts = long();
    for (const config of [{}, { sampleChars: 300, minChars: 500 }]) {
      const { rows } = await runOp(language, { mode: 'annotate', ...config }, [textBatch(texts)]);
      const opts = { sampleChars: 2048, ...config };
      expect(rows.map((r) => [r.lang, r.lang_score])).toEqual(
        texts.map((t) => {
          const id = identifyLanguage(t, opts);
          return [id.lang, Math.fround(id.score)];
        }),
      );
    }
  });
});
