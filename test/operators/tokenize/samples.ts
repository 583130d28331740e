// Text the tokenizer tests run on: samples of the real corpora (State of the Union, Moby-Dick, and
// SpamAssassin emails for messy text: headers, HTML, base64, mojibake), a multilingual passage for
// scripts the English corpora lack, and strings aimed at the pre-tokenizer's corner cases.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mobyDickChapters, sotuTexts, spamAssassinDir } from '../../../operators/ingest/embedded-corpus.ts';

const filesIn = (glob: string) => {
  const dir = dirname(glob);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => join(dir, f));
};

/** Documents of `files` taken every `step` files from `first`, until `maxChars` characters. */
function take(files: string[], maxChars: number, step: number, first = 0): string[] {
  const out: string[] = [];
  let chars = 0;
  for (let i = first; i < files.length && chars < maxChars; i += step) {
    const text = readFileSync(files[i]!, 'utf8');
    out.push(text);
    chars += text.length;
  }
  return out;
}

/** Speeches and chapters, about `maxChars` characters of each; `offset` picks other documents. */
export function proseSample(maxChars: number, offset = 0): string[] {
  return [
    ...take(filesIn(sotuTexts()), maxChars, 17, offset % 17),
    ...take(filesIn(mobyDickChapters()), maxChars, 11, offset % 11),
  ];
}

/** SpamAssassin emails: every one with non-ASCII characters first, then others, about `maxChars`. */
export function spamSample(maxChars: number, offset = 0): string[] {
  const list = JSON.parse(readFileSync(join(spamAssassinDir(), 'file_list.json'), 'utf8')) as string[];
  const files = list.map((f) => join(spamAssassinDir(), f));
  const texts: string[] = [];
  let chars = 0;
  for (let i = offset % 7; i < files.length && chars < maxChars; i += 7) {
    const t = readFileSync(files[i]!, 'utf8');
    if (/[^\x00-\x7f]/.test(t) || texts.length % 4 === 0) {
      texts.push(t);
      chars += t.length;
    }
  }
  return texts;
}

export const MULTILINGUAL = [
  "Größere Änderungen überraschen niemanden: Straße, Maß und Fuß. Ça va? L'été dernier, où étiez-vous?",
  'Ελληνικά: Η γρήγορη καφέ αλεπού πηδά πάνω από το σκυλί. Русский: Съешь же ещё этих мягких французских булок!',
  '日本語のテキスト、カタカナとひらがな。中文：我们今天学习分词。한국어 문장도 있습니다.',
  'العربية: مرحبا بالعالم ١٢٣٤٥. עברית: שלום עולם. हिन्दी: नमस्ते दुनिया, क्षत्रिय। ไทย: สวัสดีครับ',
  'Emoji 😀😃 and flags 🇩🇪🇫🇷, families 👨‍👩‍👧, skin tones 👍🏽; math 𝐀𝐁𝐂 𝟙𝟚𝟛 𝓗𝓮𝓵𝓵𝓸; Gothic 𐌰𐌱𐌲.',
  "Decomposed: e\u0301 a\u0308 n\u0303; ligatures ﬁ ﬂ; full-width ＡＢＣ１２３; Roman Ⅻ; fractions ½ ¾; ǅungla Ǆ'S.",
  'Spaces:\u00a0nbsp\u2003em\u3000ideographic\u200bzero-width\ttab\r\nCRLF\r\rCR\u2028LS\u2029PS end',
];

/** Strings aimed at the pattern's alternatives: contractions, digits, whitespace runs, newlines. */
export const CORNER_CASES = [
  '',
  ' ',
  '  ',
  '\n',
  ' \n',
  '\n ',
  'a',
  "'",
  "''",
  "'s",
  "'S",
  "'re",
  "'RE",
  "'Ll",
  "'lL",
  "'x",
  "'sup",
  "I'm you're we've they'll he'd it's don't DON'T O'Neil rock'n'roll '90s 'tis",
  'x   y',
  'x \n y',
  'x\n\n\ny',
  'x \n\n  \n y',
  'x\t\ty',
  'x \t y',
  'trailing   ',
  '   leading',
  '\r\n\r\n',
  ' \r\n \r\n x',
  '1 12 123 1234 12345 1,234,567.89 3.14159 2024-01-01 x1y22z333 ١٢٣٤ ½¾ Ⅻ',
  'a.b,c!?... --- *** ... !!\n\n?? (x) [y] {z} <|endoftext|> <|fim_prefix|> path/to//file\n//x',
  '$$$ 100% @user #tag https://example.org/a?b=c&d=e mail@example.com',
  "CamelCaseWord HTTPServer iPhone McDONALD'S ALLCAPS'S lower's",
  '\ud800 lone \udc00 surrogates \ud83d',
  '😀abc 😀 abc 😀😀\n😀',
];
