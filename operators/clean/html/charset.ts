// HTML that arrives as bytes: the encoding from a byte-order mark, else from a <meta charset> or
// <meta http-equiv="Content-Type" content="...; charset=..."> in the first 1024 bytes (the HTML
// standard's prescan window), else UTF-8. A label TextDecoder does not know, or a UTF-16 label in a
// <meta> (which the standard reads as UTF-8, the bytes being ASCII-compatible), falls back to UTF-8;
// bytes invalid in the chosen encoding become U+FFFD. Never throws. Node 20's TextDecoder reads
// windows-1252 (the WHATWG name for latin1, iso-8859-1 and ascii too) as ISO-8859-1, 0x80-0x9F as C1
// controls: those are mapped to the characters Windows-1252 has there (curly quotes, dashes, euro).
import { C1 } from './entities.ts';

export interface Decoded {
  text: string;
  /** the encoding used (a WHATWG name, e.g. 'utf-8', 'windows-1252', 'shift_jis') */
  encoding: string;
  /** where it came from */
  source: 'bom' | 'meta' | 'default';
  /** a declared label that could not be used (unknown, or UTF-16 in a <meta>) */
  badLabel: string | null;
}

const META = /<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)/i;

function bom(b: Uint8Array): string | null {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return 'utf-8';
  if (b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  if (b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  return null;
}

const C1_RANGE = /[\x80-\x9f]/g;
function decode(d: InstanceType<typeof TextDecoder>, b: Uint8Array): string {
  const text = d.decode(b);
  if (d.encoding !== 'windows-1252' || !C1_RANGE.test(text)) return text;
  C1_RANGE.lastIndex = 0;
  return text.replace(C1_RANGE, (c) => {
    const m = C1[c.charCodeAt(0) - 0x80]!;
    return m ? String.fromCharCode(m) : c;
  });
}

function decoder(label: string): InstanceType<typeof TextDecoder> | null {
  try {
    return new TextDecoder(label);
  } catch {
    return null; // RangeError: not an encoding label TextDecoder knows
  }
}

/** The <meta> charset label in the first 1024 bytes, read as Latin-1 (every byte one character). */
export function metaCharset(b: Uint8Array): string | null {
  const head = new TextDecoder('latin1').decode(b.subarray(0, 1024));
  return META.exec(head)?.[1] ?? null;
}

export function decodeHtmlBytes(b: Uint8Array): Decoded {
  const fromBom = bom(b);
  if (fromBom) return { text: decoder(fromBom)!.decode(b), encoding: fromBom, source: 'bom', badLabel: null };
  const label = metaCharset(b);
  if (label) {
    const d = decoder(label);
    if (d && !d.encoding.startsWith('utf-16'))
      return { text: decode(d, b), encoding: d.encoding, source: 'meta', badLabel: null };
    return { text: new TextDecoder().decode(b), encoding: 'utf-8', source: 'default', badLabel: label };
  }
  return { text: new TextDecoder().decode(b), encoding: 'utf-8', source: 'default', badLabel: null };
}
