// Sentence splitting for rougeLsum's split_summaries option. rouge-score calls nltk.sent_tokenize (the
// Punkt model trained on English, with its learned abbreviation list); that model is data we do not
// ship, so this is a plain rule instead: a sentence ends at '.', '!' or '?' (plus any closing quotes or
// brackets) followed by whitespace, unless the word before the period is a common English abbreviation
// or a single-letter initial. It agrees with Punkt on ordinary prose, not on every text; callers that
// need Punkt's exact splits can pass their own splitter (rougeScorer's sentenceSplitter option).

// Abbreviations Punkt's English model treats as non-final (lowercase, without the period).
const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'sr',
  'jr',
  'st',
  'vs',
  'etc',
  'e.g',
  'i.e',
  'u.s',
  'inc',
  'co',
  'corp',
  'ltd',
  'no',
  'jan',
  'feb',
  'mar',
  'apr',
  'jun',
  'jul',
  'aug',
  'sep',
  'sept',
  'oct',
  'nov',
  'dec',
  'gen',
  'gov',
  'sen',
  'rep',
  'rev',
  'mt',
  'ft',
]);

const BOUNDARY = /[.!?]+['"’”)\]]*(?=\s+\S)/g;

/** The sentences of `text`, each trimmed, empty ones dropped. */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  let start = 0;
  for (const m of text.matchAll(BOUNDARY)) {
    const end = (m.index as number) + m[0].length;
    if (m[0].startsWith('.') && !m[0].startsWith('..')) {
      const word = /([A-Za-z.]+)$/.exec(text.slice(start, m.index))?.[1]?.toLowerCase() ?? '';
      if (ABBREVIATIONS.has(word) || /^[a-z]$/.test(word)) continue;
    }
    sentences.push(text.slice(start, end).trim());
    start = end;
  }
  sentences.push(text.slice(start).trim());
  return sentences.filter((s) => s.length > 0);
}
