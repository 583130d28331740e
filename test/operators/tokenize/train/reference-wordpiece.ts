// Simple WordPiece references: a trainer that recounts pairs and symbols over every word before each
// merge, and BERT's greedy longest-match-first encoder of a word.

/** The vocabulary after merges, specials and sorted alphabet first (the trainer's layout). */
export function referenceWordPiece(
  words: Array<[string, number]>,
  vocabSize: number,
  specials: string[],
  minFrequency = 2,
): string[] {
  let seqs = words.map(([w, n]) => ({ syms: [...w].map((c, k) => (k === 0 ? c : `##${c}`)), n }));
  const alphabet = [...new Set(seqs.flatMap((s) => s.syms))].sort();
  const vocab = [...specials, ...alphabet];
  while (vocab.length < vocabSize) {
    const sym = new Map<string, number>();
    const pair = new Map<string, number>();
    for (const { syms, n } of seqs) {
      for (const s of syms) sym.set(s, (sym.get(s) ?? 0) + n);
      for (let k = 0; k + 1 < syms.length; k++) {
        const key = `${syms[k]}\u0000${syms[k + 1]}`;
        pair.set(key, (pair.get(key) ?? 0) + n);
      }
    }
    let best: string | undefined;
    let bestScore = -1;
    for (const [key, count] of pair) {
      if (count < minFrequency) continue;
      const [a, b] = key.split('\u0000') as [string, string];
      const score = count / (sym.get(a)! * sym.get(b)!);
      if (score > bestScore || (score === bestScore && best !== undefined && lessPair(key, best))) {
        best = key;
        bestScore = score;
      }
    }
    if (best === undefined) break;
    const [a, b] = best.split('\u0000') as [string, string];
    const merged = a + b.replace(/^##/, '');
    if (!vocab.includes(merged)) vocab.push(merged);
    seqs = seqs.map(({ syms, n }) => {
      const out: string[] = [];
      for (let k = 0; k < syms.length; )
        if (k + 1 < syms.length && syms[k] === a && syms[k + 1] === b) {
          out.push(merged);
          k += 2;
        } else out.push(syms[k++]!);
      return { syms: out, n };
    });
  }
  return vocab;
}

function lessPair(x: string, y: string): boolean {
  const [xa, xb] = x.split('\u0000') as [string, string];
  const [ya, yb] = y.split('\u0000') as [string, string];
  return xa !== ya ? xa < ya : xb < yb;
}

/** BERT's WordPiece encoding of one word: longest prefix in the vocabulary, then '##' pieces. */
export function greedyWordPiece(word: string, vocab: Set<string>, unk: string, maxChars = 100): string[] {
  const chars = [...word];
  if (chars.length > maxChars) return [unk];
  const out: string[] = [];
  for (let start = 0; start < chars.length; ) {
    let end = chars.length;
    let found: string | undefined;
    while (start < end) {
      const sub = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
      if (vocab.has(sub)) {
        found = sub;
        break;
      }
      end--;
    }
    if (found === undefined) return [unk];
    out.push(found);
    start = end;
  }
  return out;
}
