// GPT-2's byte-to-unicode alphabet: every byte as one printable character, so byte-level tokens can be
// written as strings in tokenizer.json (the space byte is 'Ġ', newline 'Ċ'). Its order (printable bytes
// first, then the rest) is also the order of GPT-2's first 256 ids and of tiktoken's gpt2 ranks 0..255,
// so a trained byte-level BPE starts from the same 256 ids.

/** The 256 bytes in GPT-2's order: id k of the initial vocabulary is byte BYTE_ORDER[k]. */
export const BYTE_ORDER: readonly number[] = (() => {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const rest: number[] = [];
  for (let b = 0; b < 256; b++) if (!printable.includes(b)) rest.push(b);
  return [...printable, ...rest];
})();

/** The character standing for each byte. */
export const BYTE_CHAR: readonly string[] = (() => {
  const out = new Array<string>(256);
  let n = 0;
  for (const b of BYTE_ORDER) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    out[b] = String.fromCharCode(printable ? b : 256 + n++);
  }
  return out;
})();

/** The initial id of each byte (the inverse of BYTE_ORDER). */
export const BYTE_ID: Int32Array = (() => {
  const out = new Int32Array(256);
  BYTE_ORDER.forEach((b, k) => {
    out[b] = k;
  });
  return out;
})();

/** A byte string in the byte-level alphabet (how tokenizer.json spells a byte-level token). */
export function byteLevelString(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += BYTE_CHAR[b];
  return s;
}

const CHAR_BYTE = new Map(BYTE_CHAR.map((c, b) => [c, b]));

/** The bytes of a byte-level string; throws on a character outside the alphabet. */
export function byteLevelBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let k = 0; k < s.length; k++) {
    const b = CHAR_BYTE.get(s[k]!);
    if (b === undefined) throw new Error(`byte-level string "${s}": character ${k} is not in GPT-2's byte alphabet`);
    out[k] = b;
  }
  return out;
}

/** Byte-wise comparison (shorter prefix first): the order of the tie-breaking rule. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) if (a[k] !== b[k]) return a[k]! - b[k]!;
  return a.length - b.length;
}
