// The part of a document the language operator needs, decoded from its UTF-8 bytes. Language ID reads
// the first 2048 characters of the trimmed text, so decoding a 100 KB document whole (the Arrow
// column's get) costs more than identifying it. A prefix suffices when, after trimStart, it has a
// non-whitespace character past the characters wanted: then the whole text's trim() starts with the
// same `chars` characters and is longer than `chars`. Otherwise (short text, a long run of whitespace,
// text whose characters take many bytes) a longer prefix is tried, and at the end the whole text.

const decoder = new TextDecoder(); // as Arrow decodes Utf8 (replacement characters, a BOM dropped)

/** The text of bytes[start, end), or a prefix of it that agrees with it on trim().slice(0, chars) and on
 * whether trim().length exceeds `chars`. */
export function leadingText(bytes: Uint8Array, start: number, end: number, chars: number): string {
  // a UTF-16 unit takes 1 to 3 bytes: twice the units covers Latin, Cyrillic, Greek...; CJK needs more
  for (let limit = 2 * chars + 64; limit < end - start; limit *= 2) {
    const t = decoder.decode(bytes.subarray(start, start + limit)).trimStart();
    // (the last character may be a sequence cut in half, so it is not the evidence)
    if (t.length > chars + 1 && /\S/.test(t.slice(chars, t.length - 1))) return t;
  }
  return decoder.decode(bytes.subarray(start, end));
}
