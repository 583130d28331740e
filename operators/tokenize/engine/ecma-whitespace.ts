// Which characters are whitespace to the pre-tokenizer. js-tiktoken runs the encodings' patterns as
// JavaScript regexes, whose `\s` is ECMAScript's WhiteSpace and LineTerminator: it has U+FEFF (BOM)
// and lacks U+0085 (NEL). OpenAI's tiktoken runs them in Rust, whose `\s` is Unicode White_Space: it
// has U+0085 and lacks U+FEFF. Text holding either character is split differently, so ids differ
// (`it's\u{FEFF}'s`: JS makes "\u{FEFF}" and "'s", Rust "\u{FEFF}'" and "s"). js-tiktoken is the
// reference (the flowlm engine's scanners split like it), so the tiktoken-wasm engine is given its
// encoding's pattern with `\s` and `\S` spelled out as JavaScript's class.

/** JavaScript's `\s` as code point ranges (checked against V8's in the tests). */
export const ECMA_SPACE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];

const hex = (c: number) => `\\x{${c.toString(16).toUpperCase()}}`;
/** The ranges as the inside of a Rust regex class. */
const CLASS_BODY = ECMA_SPACE_RANGES.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join('');

/** `pattern` (Rust regex syntax) with `\s` and `\S` meaning what they mean in JavaScript. */
export function withEcmaWhitespace(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1];
      i++;
      if (next === 's') out += inClass ? CLASS_BODY : `[${CLASS_BODY}]`;
      else if (next === 'S' && !inClass) out += `[^${CLASS_BODY}]`;
      // a \S inside a class has no spelled-out equivalent; no encoding's pattern has one
      else if (next === 'S')
        throw new Error(`withEcmaWhitespace: \\S inside a character class at ${i - 1} of ${pattern}`);
      else out += c + (next ?? '');
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    out += c;
  }
  return out;
}
