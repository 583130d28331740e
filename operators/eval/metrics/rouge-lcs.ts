// Longest common subsequences for ROUGE-L and ROUGE-Lsum, as rouge-score's rouge_scorer.py computes
// them. The backtrack's tie-breaking (move left only when the left cell is strictly larger) decides
// WHICH longest subsequence is read out, and so the union LCS of rougeLsum: it must stay as it is.

/** The (|ref|+1) x (|can|+1) table; cell [i][j] = LCS length of ref[:i] and can[:j]. */
export function lcsTable<T>(ref: readonly T[], can: readonly T[]): Int32Array[] {
  const cols = can.length;
  const table: Int32Array[] = [new Int32Array(cols + 1)];
  for (let i = 1; i <= ref.length; i++) {
    const prev = table[i - 1] as Int32Array;
    const row = new Int32Array(cols + 1);
    const r = ref[i - 1];
    for (let j = 1; j <= cols; j++) {
      if (r === can[j - 1]) row[j] = (prev[j - 1] as number) + 1;
      else row[j] = Math.max(prev[j] as number, row[j - 1] as number);
    }
    table.push(row);
  }
  return table;
}

/** LCS length only, in one row of memory. */
export function lcsLength<T>(ref: readonly T[], can: readonly T[]): number {
  const cols = can.length;
  const row = new Int32Array(cols + 1);
  for (const r of ref) {
    let diag = 0;
    for (let j = 1; j <= cols; j++) {
      const above = row[j] as number;
      row[j] = r === can[j - 1] ? diag + 1 : Math.max(above, row[j - 1] as number);
      diag = above;
    }
  }
  return row[cols] as number;
}

/** rouge_scorer._backtrack_norec: the indices into `ref` of one LCS, ascending. */
export function backtrackLcs<T>(table: readonly Int32Array[], ref: readonly T[], can: readonly T[]): number[] {
  let i = ref.length;
  let j = can.length;
  const lcs: number[] = [];
  while (i > 0 && j > 0) {
    if (ref[i - 1] === can[j - 1]) {
      lcs.push(i - 1);
      i--;
      j--;
    } else if (((table[i] as Int32Array)[j - 1] as number) > ((table[i - 1] as Int32Array)[j] as number)) {
      j--;
    } else {
      i--;
    }
  }
  return lcs.reverse();
}

/** rouge_scorer.lcs_ind: indices into `ref` of one longest common subsequence with `can`. */
export function lcsIndices<T>(ref: readonly T[], can: readonly T[]): number[] {
  return backtrackLcs(lcsTable(ref, can), ref, can);
}

/** rouge_scorer._find_union: the sorted union of index lists. */
export function findUnion(lcsList: readonly (readonly number[])[]): number[] {
  const all = new Set<number>();
  for (const lcs of lcsList) for (const i of lcs) all.add(i);
  return [...all].sort((a, b) => a - b);
}

/**
 * Small integer ids for the tokens of `sentences`, equal exactly when the tokens are ===, so the union
 * LCS compares numbers. NaN is never === itself, so each NaN gets an id of its own.
 */
export function tokenIds<T>(sentences: readonly (readonly T[])[], ids: Map<T, number> = new Map()): Int32Array[] {
  return sentences.map((s) => {
    const out = new Int32Array(s.length);
    s.forEach((t, k) => {
      let id = t === t ? ids.get(t) : undefined;
      if (id === undefined) {
        id = ids.size;
        ids.set(t === t ? t : (Symbol() as T), id);
      }
      out[k] = id;
    });
    return out;
  });
}

/**
 * unionLcs over id-coded sentences: the ascending indices into `ref` of the union of its LCS with each
 * candidate. Same table and same backtrack as lcsIndices, but in one flat buffer reused for every
 * candidate (rougeLsum over 1000 x 1000 sentences allocated a million tables), and candidates sharing
 * no token with `ref` skipped (their LCS is empty).
 */
export function unionLcsIds(ref: Int32Array, candidates: readonly Int32Array[]): number[] {
  const rows = ref.length;
  if (rows === 0) return [];
  let maxCols = 0;
  for (const c of candidates) maxCols = Math.max(maxCols, c.length);
  const table = new Int32Array((rows + 1) * (maxCols + 1));
  const inRef = new Set<number>(ref);
  const inUnion = new Uint8Array(rows);
  for (const can of candidates) {
    const cols = can.length;
    if (!can.some((t) => inRef.has(t))) continue;
    const w = cols + 1;
    // The buffer holds the previous candidate's table: row 0 and column 0 are zeroed here.
    table.fill(0, 0, w);
    for (let i = 1; i <= rows; i++) {
      const r = ref[i - 1];
      const at = i * w;
      const above = at - w;
      table[at] = 0;
      for (let j = 1; j <= cols; j++) {
        if (r === can[j - 1]) table[at + j] = (table[above + j - 1] as number) + 1;
        else {
          const up = table[above + j] as number;
          const left = table[at + j - 1] as number;
          table[at + j] = up > left ? up : left;
        }
      }
    }
    let i = rows;
    let j = cols;
    while (i > 0 && j > 0) {
      if (ref[i - 1] === can[j - 1]) {
        inUnion[i - 1] = 1;
        i--;
        j--;
      } else if ((table[i * w + j - 1] as number) > (table[(i - 1) * w + j] as number)) j--;
      else i--;
    }
  }
  const union: number[] = [];
  for (let k = 0; k < rows; k++) if (inUnion[k] === 1) union.push(k);
  return union;
}

/** rouge_scorer._union_lcs: the tokens of `ref` in the union of its LCS with each candidate sentence. */
export function unionLcs<T>(ref: readonly T[], candidates: readonly (readonly T[])[]): T[] {
  const ids = new Map<T, number>();
  const [refIds] = tokenIds([ref], ids);
  return unionLcsIds(refIds as Int32Array, tokenIds(candidates, ids)).map((i) => ref[i] as T);
}
