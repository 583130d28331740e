// The Porter stemmer exactly as NLTK's nltk.stem.porter.PorterStemmer does it, in its three modes.
// rouge-score (rouge/tokenizers.py DefaultTokenizer) builds `porter.PorterStemmer()`, i.e. the default
// NLTK_EXTENSIONS mode, so that is the default here too. Rule order, the first-matching-suffix-wins
// rule lists and NLTK's quirks (its 'logi' and 'll' conditions look at the whole word) are kept as they
// are, because rouge scores with stemming depend on every one of them.

export type PorterMode = 'NLTK_EXTENSIONS' | 'MARTIN_EXTENSIONS' | 'ORIGINAL_ALGORITHM';

// NLTK_EXTENSIONS' table of irregular forms: form -> stem.
const IRREGULAR: ReadonlyMap<string, string> = new Map(
  Object.entries({
    sky: ['sky', 'skies'],
    die: ['dying'],
    lie: ['lying'],
    tie: ['tying'],
    news: ['news'],
    inning: ['innings', 'inning'],
    outing: ['outings', 'outing'],
    canning: ['cannings', 'canning'],
    howe: ['howe'],
    proceed: ['proceed'],
    exceed: ['exceed'],
    succeed: ['succeed'],
  }).flatMap(([stem, forms]) => forms.map((form) => [form, stem] as [string, string])),
);

const VOWELS = new Set(['a', 'e', 'i', 'o', 'u']);

/** A rule: suffix ('*d' = any double consonant), replacement, and a condition on the stem left. */
type Rule = readonly [suffix: string, replacement: string, condition: ((stem: string) => boolean) | null];

function isConsonant(word: string, i: number): boolean {
  const c = word[i] as string;
  if (VOWELS.has(c)) return false;
  // y is a vowel after a consonant, a consonant at the start or after a vowel.
  if (c === 'y') return i === 0 ? true : !isConsonant(word, i - 1);
  return true;
}

/** m in [C](VC){m}[V]: the number of vowel->consonant transitions. */
function measure(stem: string): number {
  let m = 0;
  let prevVowel = false;
  for (let i = 0; i < stem.length; i++) {
    const consonant = isConsonant(stem, i);
    if (consonant && prevVowel) m++;
    prevVowel = !consonant;
  }
  return m;
}

const positiveMeasure = (stem: string) => measure(stem) > 0;
const measureGt1 = (stem: string) => measure(stem) > 1;

function containsVowel(stem: string): boolean {
  for (let i = 0; i < stem.length; i++) if (!isConsonant(stem, i)) return true;
  return false;
}

function endsDoubleConsonant(word: string): boolean {
  return word.length >= 2 && word[word.length - 1] === word[word.length - 2] && isConsonant(word, word.length - 1);
}

/** The first rule whose suffix matches decides: its stem + replacement if the condition holds, else the word. */
function applyRules(word: string, rules: readonly Rule[]): string {
  for (const [suffix, replacement, condition] of rules) {
    if (suffix === '*d' && endsDoubleConsonant(word)) {
      const stem = word.slice(0, -2);
      return condition === null || condition(stem) ? stem + replacement : word;
    }
    if (word.endsWith(suffix)) {
      const stem = suffix === '' ? word : word.slice(0, -suffix.length);
      return condition === null || condition(stem) ? stem + replacement : word;
    }
  }
  return word;
}

export class PorterStemmer {
  readonly mode: PorterMode;
  private readonly nltk: boolean;

  constructor(mode: PorterMode = 'NLTK_EXTENSIONS') {
    if (mode !== 'NLTK_EXTENSIONS' && mode !== 'MARTIN_EXTENSIONS' && mode !== 'ORIGINAL_ALGORITHM') {
      throw new Error(
        `PorterStemmer: unknown mode ${JSON.stringify(mode)}; use NLTK_EXTENSIONS, MARTIN_EXTENSIONS or ` +
          `ORIGINAL_ALGORITHM`,
      );
    }
    this.mode = mode;
    this.nltk = mode === 'NLTK_EXTENSIONS';
  }

  /** The stem of `word` (lowercased first, as NLTK's stem(word, to_lowercase=True)). */
  stem(word: string): string {
    let stem = word.toLowerCase();
    // NLTK looks the word up before lowercasing but returns the entry of the lowercased word.
    if (this.nltk && IRREGULAR.has(word)) return IRREGULAR.get(stem) as string;
    // Python's len() counts code points.
    if (this.mode !== 'ORIGINAL_ALGORITHM' && [...word].length <= 2) return stem;
    stem = this.step1a(stem);
    stem = this.step1b(stem);
    stem = this.step1c(stem);
    stem = this.step2(stem);
    stem = this.step3(stem);
    stem = this.step4(stem);
    stem = this.step5a(stem);
    return this.step5b(stem);
  }

  private endsCvc(word: string): boolean {
    const n = word.length;
    if (
      n >= 3 &&
      isConsonant(word, n - 3) &&
      !isConsonant(word, n - 2) &&
      isConsonant(word, n - 1) &&
      !'wxy'.includes(word[n - 1] as string)
    ) {
      return true;
    }
    return this.nltk && n === 2 && !isConsonant(word, 0) && isConsonant(word, 1);
  }

  private step1a(word: string): string {
    if (this.nltk && word.endsWith('ies') && word.length === 4) return `${word.slice(0, -3)}ie`;
    return applyRules(word, [
      ['sses', 'ss', null],
      ['ies', 'i', null],
      ['ss', 'ss', null],
      ['s', '', null],
    ]);
  }

  private step1b(word: string): string {
    if (this.nltk && word.endsWith('ied')) return word.slice(0, -3) + (word.length === 4 ? 'ie' : 'i');
    if (word.endsWith('eed')) {
      const stem = word.slice(0, -3);
      return measure(stem) > 0 ? `${stem}ee` : word;
    }
    let intermediate: string | null = null;
    for (const suffix of ['ed', 'ing']) {
      if (word.endsWith(suffix)) {
        const stem = word.slice(0, -suffix.length);
        if (containsVowel(stem)) {
          intermediate = stem;
          break;
        }
      }
    }
    if (intermediate === null) return word;
    const last = intermediate[intermediate.length - 1] as string;
    return applyRules(intermediate, [
      ['at', 'ate', null],
      ['bl', 'ble', null],
      ['iz', 'ize', null],
      ['*d', last, () => !'lsz'.includes(last)],
      ['', 'e', (stem) => measure(stem) === 1 && this.endsCvc(stem)],
    ]);
  }

  private step1c(word: string): string {
    const condition = this.nltk
      ? (stem: string) => stem.length > 1 && isConsonant(stem, stem.length - 1)
      : containsVowel;
    return applyRules(word, [['y', 'i', condition]]);
  }

  private step2(word: string): string {
    if (this.nltk && word.endsWith('alli') && positiveMeasure(word.slice(0, -4))) {
      return this.step2(`${word.slice(0, -4)}al`);
    }
    const rules: Rule[] = [
      ['ational', 'ate', positiveMeasure],
      ['tional', 'tion', positiveMeasure],
      ['enci', 'ence', positiveMeasure],
      ['anci', 'ance', positiveMeasure],
      ['izer', 'ize', positiveMeasure],
      this.mode === 'ORIGINAL_ALGORITHM' ? ['abli', 'able', positiveMeasure] : ['bli', 'ble', positiveMeasure],
      ['alli', 'al', positiveMeasure],
      ['entli', 'ent', positiveMeasure],
      ['eli', 'e', positiveMeasure],
      ['ousli', 'ous', positiveMeasure],
      ['ization', 'ize', positiveMeasure],
      ['ation', 'ate', positiveMeasure],
      ['ator', 'ate', positiveMeasure],
      ['alism', 'al', positiveMeasure],
      ['iveness', 'ive', positiveMeasure],
      ['fulness', 'ful', positiveMeasure],
      ['ousness', 'ous', positiveMeasure],
      ['aliti', 'al', positiveMeasure],
      ['iviti', 'ive', positiveMeasure],
      ['biliti', 'ble', positiveMeasure],
    ];
    if (this.nltk) {
      rules.push(['fulli', 'ful', positiveMeasure]);
      // NLTK's condition measures the word less 'ogi', not the stem less 'logi'.
      rules.push(['logi', 'log', () => positiveMeasure(word.slice(0, -3))]);
    }
    if (this.mode === 'MARTIN_EXTENSIONS') rules.push(['logi', 'log', positiveMeasure]);
    return applyRules(word, rules);
  }

  private step3(word: string): string {
    return applyRules(word, [
      ['icate', 'ic', positiveMeasure],
      ['ative', '', positiveMeasure],
      ['alize', 'al', positiveMeasure],
      ['iciti', 'ic', positiveMeasure],
      ['ical', 'ic', positiveMeasure],
      ['ful', '', positiveMeasure],
      ['ness', '', positiveMeasure],
    ]);
  }

  private step4(word: string): string {
    return applyRules(word, [
      ['al', '', measureGt1],
      ['ance', '', measureGt1],
      ['ence', '', measureGt1],
      ['er', '', measureGt1],
      ['ic', '', measureGt1],
      ['able', '', measureGt1],
      ['ible', '', measureGt1],
      ['ant', '', measureGt1],
      ['ement', '', measureGt1],
      ['ment', '', measureGt1],
      ['ent', '', measureGt1],
      ['ion', '', (stem) => measure(stem) > 1 && (stem.endsWith('s') || stem.endsWith('t'))],
      ['ou', '', measureGt1],
      ['ism', '', measureGt1],
      ['ate', '', measureGt1],
      ['iti', '', measureGt1],
      ['ous', '', measureGt1],
      ['ive', '', measureGt1],
      ['ize', '', measureGt1],
    ]);
  }

  private step5a(word: string): string {
    if (!word.endsWith('e')) return word;
    const stem = word.slice(0, -1);
    const m = measure(stem);
    if (m > 1 || (m === 1 && !this.endsCvc(stem))) return stem;
    return word;
  }

  private step5b(word: string): string {
    // NLTK measures the word less one 'l', not the stem less 'll'.
    return applyRules(word, [['ll', 'l', () => measure(word.slice(0, -1)) > 1]]);
  }
}
