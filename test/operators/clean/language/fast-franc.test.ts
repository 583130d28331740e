// The fast engine against franc itself: francAll's whole output (every language, every score, in
// order) must be identical on real text of many kinds and lengths, mixed scripts, edge cases of its
// text cleaning (case mappings that depend on context, astral letters, a surrogate pair cut at 2048),
// and with its options.
import { francAll } from 'franc';
import { describe, expect, it } from 'vitest';
import { fastFrancAll, type FrancOptions } from '../../../../operators/clean/language/fast-franc.ts';
import { emails, mobyDick, sotu } from '../real-data.ts';
import { excerpts } from './excerpts.ts';

const same = (texts: string[], opts?: FrancOptions) => {
  for (const t of texts) {
    const franc = francAll(t, opts ? { ...opts, only: [...(opts.only ?? [])], ignore: [...(opts.ignore ?? [])] } : {});
    expect(fastFrancAll(t, opts), JSON.stringify(t.slice(0, 80))).toEqual(franc);
  }
};

// slices of every length class: below franc's minLength, sentences, paragraphs, whole documents
const slices = (texts: string[], step: number) =>
  texts
    .filter((_, i) => i % step === 0)
    .flatMap((t) => [t.slice(0, 9), t.slice(40, 100), t.slice(200, 500), t.slice(1000, 1600), t]);

describe('fast franc', () => {
  it('equals francAll on State of the Union addresses, Moby-Dick chapters and SpamAssassin e-mails', () => {
    same(
      slices(
        sotu().map((d) => d.text),
        12,
      ),
    );
    same(
      slices(
        mobyDick().map((d) => d.text),
        16,
      ),
    );
    same(
      slices(
        [...emails('easy-ham-1', 15), ...emails('spam-2', 15)].map((d) => d.text),
        1,
      ),
    );
  });

  it("equals francAll on Debian's manual pages in 25 languages and 6 scripts, whole and cut short", () => {
    const texts = Object.values(excerpts()).flatMap((l) => l.map((e) => e.text));
    expect(texts.length).toBeGreaterThan(100);
    same(texts.flatMap((t) => [t, t.slice(0, 30), t.slice(100, 160)]));
  });

  it('equals francAll on mixed scripts, case mappings with context, astral letters and edge cases', () => {
    const [de, ja, ru, ko] = ['de', 'ja', 'ru', 'ko'].map((l) => excerpts()[l]![0]!.text);
    same([
      `${de!.slice(0, 300)} ${ja!.slice(0, 300)}`,
      `${ru!.slice(0, 200)} ${ko!.slice(0, 200)} ${de!.slice(0, 200)}`,
      'ΟΔΟΣ ΣΟΦΟΚΛΕΟΥΣ. ΑΣ.Β the CAPITAL SIGMA ΣΑΣ text',
      'İSTANBUL İZMİR ŞİRKET ÇALIŞMA İÇİN BÜYÜK HARFLER',
      '𐐀𐐁𐐂 Deseret 𐐨𐐩 letters in an English sentence for good measure',
      `${'a'.repeat(2047)}😀 and more`,
      `${'x '.repeat(1023)}𝔘𝔫𝔦𝔠𝔬𝔡𝔢`,
      '\uD800 lone surrogates \uDC00 in text that is mostly English words',
      '',
      '          ',
      '12345 67890 12345',
      '!!!??? ... ---',
      'KOMMT ALLE HER UND SEHT',
      'x\u0000y\u0001z control characters between letters',
      'Ⅻ ﬁ ﬂ ǅ ǈ ǋ Å K special letters',
      'Ελληνικά και English μαζί',
    ]);
  });

  it('equals francAll with its options: only, ignore, minLength, and a script filtered out', () => {
    const texts = [
      ...sotu()
        .slice(0, 3)
        .map((d) => d.text.slice(0, 400)),
      ...['fr', 'es', 'ja', 'uk'].map((l) => excerpts()[l]![1]!.text),
    ];
    same(texts, { only: ['fra', 'spa', 'eng'] });
    same(texts, { ignore: ['eng', 'sco', 'jpn'] });
    same(texts, { only: ['jpn'] });
    same(texts, { only: ['rus'], ignore: ['rus'] });
    same(texts, { minLength: 500 });
    same(['short one', 'Γειά'], { minLength: 0 });
  });
});
