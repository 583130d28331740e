// C4 rules: line removal and page drops, on real prose mixed with the web boilerplate C4 targets, and
// on real pages of the PostgreSQL manual (code with curly braces, short headings without periods).
import { describe, expect, it } from 'vitest';
import { QUALITY_RULES, qualityAssessor, quality } from '../../../operators/clean/quality.ts';
import { pgPages, runOp, sotu, textBatch } from './real-data.ts';
import { extractHtml, extractMainText } from '../../../operators/clean/extract-html.ts';

const c4Only = (extra: Record<string, unknown> = {}) =>
  qualityAssessor({ disable: QUALITY_RULES.filter((r) => !r.startsWith('c4.')), ...extra });
// real sentences: one per line, from an address
const sentences = sotu()[150]!
  .text.split(/(?<=[.!?])\s+/)
  .filter((s) => s.split(' ').length >= 3)
  .slice(0, 12);

describe('C4 rules', () => {
  it('keeps lines of real prose and removes the boilerplate lines, counting each reason', () => {
    const noise = [
      'Home | About | Contact', // no terminal punctuation
      'Read more.', // fewer than 3 words
      'Please enable JavaScript to view the comments.', // javascript
      'This site uses cookies to improve your experience.', // policy
      'By using this site you agree to our Terms of Use.', // policy
      `A ${'x'.repeat(1200)} word that is far too long.`, // word over 1000 characters
      'And so the story goes on...', // ellipsis
      'Lincoln said this [1] and more [citation needed].', // citations removed, line kept
    ];
    const text = [...sentences.slice(0, 6), ...noise, ...sentences.slice(6)].join('\n');
    const r = c4Only()(text);
    expect(r.reason).toBeNull();
    // TFDS removes citation marks without closing the gap they leave
    expect(r.text.split('\n')).toEqual([
      ...sentences.slice(0, 6),
      'Lincoln said this  and more .',
      ...sentences.slice(6),
    ]);
    expect(r.removed).toEqual({
      'c4.line.terminal_punct': 2,
      'c4.line.min_words': 1,
      'c4.line.javascript': 1,
      'c4.line.policy': 2,
      'c4.line.long_word': 1,
    });
  });

  it('drops the page for lorem ipsum or a curly brace, but only on lines that survive the line rules', () => {
    const prose = sentences.join('\n');
    expect(c4Only()(`${prose}\nLorem ipsum dolor sit amet, consectetur adipiscing elit.`).reason).toBe(
      'c4.lorem_ipsum',
    );
    expect(c4Only()(`${prose}\nLorem ipsum dolor sit amet`).reason).toBeNull(); // line removed first (no period)
    expect(c4Only()(`${prose}\nThe function returns { a: 1 } to the caller.`).reason).toBe('c4.curly_brace');
    expect(c4Only()(`${prose}\nfunction f() {`).reason).toBeNull();
    expect(
      c4Only({ disable: ['c4.curly_brace', ...QUALITY_RULES.filter((r) => !r.startsWith('c4.'))] })(
        `${prose}\nThe function returns { a: 1 } to the caller.`,
      ).reason,
    ).toBeNull();
  });

  it('drops pages with fewer than 5 sentences left', () => {
    expect(c4Only()(sentences.slice(0, 4).join('\n')).reason).toBe('c4.too_few_sentences');
    expect(c4Only()(sentences.slice(0, 5).join('\n')).reason).toBeNull();
    expect(c4Only()(sentences.slice(0, 4).join(' ')).reason).toBe('c4.too_few_sentences');
    expect(c4Only()(sentences.slice(0, 5).join(' ')).reason).toBeNull();
    expect(c4Only()('Home | About\nMenu').reason).toBe('c4.no_lines');
  });

  it('a bad-words list drops pages that use one of its words as a word', () => {
    const text = sentences.join('\n');
    const word = sentences[3]!.split(' ')[2]!.replace(/\W/g, '');
    expect(c4Only({ c4: { badWords: [word] } })(text).reason).toBe('c4.bad_words');
    expect(c4Only({ c4: { badWords: [`${word}zz`] } })(text).reason).toBeNull();
  });

  it('on the PostgreSQL manual: code and headings go, prose stays, pages with braces in prose lines drop', () => {
    const cfg = extractHtml.def.config.parse({}) as Parameters<typeof extractMainText>[1];
    // every 25th page, and three pages whose prose mentions braces ({1,2,3} arrays, JSON, notation)
    const names = pgPages()
      .filter((_, i) => i % 25 === 0)
      .map((p) => p.name)
      .concat(['arrays.html', 'datatype-json.html', 'notation.html']);
    const pages = pgPages(names).flatMap((p) => {
      const x = extractMainText(p.html, cfg);
      return 'drop' in x ? [] : [x.text];
    });
    const assess = c4Only();
    const proseBrace = (text: string) =>
      text
        .split('\n')
        .map((l) => l.trim())
        .some(
          (l) =>
            l.includes('{') &&
            /[.!?"]$/.test(l) &&
            !l.endsWith('...') &&
            l.split(/\s+/).length >= 3 &&
            !/javascript/i.test(l),
        );
    let kept = 0,
      braces = 0;
    for (const text of pages) {
      const r = assess(text);
      expect(r.reason === 'c4.curly_brace').toBe(proseBrace(text));
      if (r.reason) {
        if (r.reason === 'c4.curly_brace') braces++;
        continue;
      }
      kept++;
      for (const line of r.text.split('\n')) {
        expect(line).toMatch(/[.!?"]$/);
        expect(line.split(/\s+/).length).toBeGreaterThanOrEqual(3);
      }
      expect(r.text.length).toBeLessThan(text.length);
    }
    expect(kept).toBeGreaterThan(10);
    expect(braces).toBeGreaterThanOrEqual(3);
  });

  it('as an operator in drop mode: text replaced by the kept lines, line removals counted', async () => {
    const text = [...sentences, 'Share this page', 'Accept our cookie policy to continue.'].join('\n');
    const { rows, stats } = await runOp(quality, { disable: ['gopher.*'] }, [textBatch([text, 'Menu'])]);
    expect(rows.map((r) => r.text)).toEqual([sentences.join('\n')]);
    expect(stats.dropReasons).toEqual({ 'c4.no_lines': 1 });
    // removals are counted for the documents kept ("Menu" was dropped whole)
    expect(stats.counters).toEqual({ 'c4.line.terminal_punct': 1, 'c4.line.policy': 1 });
  });
});
