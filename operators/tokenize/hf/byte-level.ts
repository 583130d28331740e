// GPT-2's byte alphabet (bytes_to_unicode): printable Latin-1 bytes stand for themselves, the other
// 68 bytes for U+0100.. in order, so a byte-level vocabulary is plain strings in tokenizer.json.

const BYTE_CHAR: string[] = [];
const CHAR_BYTE = new Map<number, number>();
{
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    const cp = printable ? b : 256 + extra++;
    BYTE_CHAR.push(String.fromCharCode(cp));
    CHAR_BYTE.set(cp, b);
  }
}

const utf8 = new TextEncoder();

/** The byte-level form of s: one alphabet character per UTF-8 byte. */
export function byteLevel(s: string): string {
  return byteLevelOf(utf8.encode(s));
}

/** The byte-level form of raw bytes. */
export function byteLevelOf(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += BYTE_CHAR[b];
  return out;
}

/** The bytes a byte-level token stands for, or undefined if it has a character outside the alphabet. */
export function tokenBytes(token: string): Uint8Array | undefined {
  const out = new Uint8Array(token.length);
  for (let k = 0; k < token.length; k++) {
    const b = CHAR_BYTE.get(token.charCodeAt(k));
    if (b === undefined) return undefined;
    out[k] = b;
  }
  return out;
}

export const BYTE_ALPHABET: readonly string[] = BYTE_CHAR;
