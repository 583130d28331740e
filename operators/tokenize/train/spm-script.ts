// Which pieces SentencePiece's trainer may create (its IsValidSentencePiece with default flags): not
// longer than max_piece_length, ▁ only as the first character, no unknown-character placeholder, and
// one Unicode script per piece (Hiragana and Katakana count as Han, combining marks take the script of
// what precedes them, Common characters such as digits and punctuation form their own script). The
// script names are the ones spm's table knows; code points of other scripts are Common there too.
import { SPM_SPACE } from './spm-normalize.ts';

const SCRIPTS = (
  'Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak Bengali ' +
  'Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian Caucasian_Albanian Chakma ' +
  'Cham Cherokee Coptic Cuneiform Cypriot Cyrillic Deseret Devanagari Duployan Egyptian_Hieroglyphs ' +
  'Elbasan Ethiopic Georgian Glagolitic Gothic Grantha Greek Gujarati Gurmukhi Han Hangul Hanunoo Hatran ' +
  'Hebrew Hiragana Imperial_Aramaic Inherited Inscriptional_Pahlavi Inscriptional_Parthian Javanese ' +
  'Kaithi Kannada Katakana Kayah_Li Kharoshthi Khmer Khojki Khudawadi Lao Latin Lepcha Limbu Linear_A ' +
  'Linear_B Lisu Lycian Lydian Mahajani Malayalam Mandaic Manichaean Marchen Meetei_Mayek Mende_Kikakui ' +
  'Meroitic_Cursive Meroitic_Hieroglyphs Miao Modi Mongolian Mro Multani Myanmar Nabataean New_Tai_Lue ' +
  'Newa Nko Ogham Ol_Chiki Old_Hungarian Old_Italic Old_North_Arabian Old_Permic Old_Persian ' +
  'Old_South_Arabian Old_Turkic Oriya Osage Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa ' +
  'Phoenician Psalter_Pahlavi Rejang Runic Samaritan Saurashtra Sharada Shavian Siddham SignWriting ' +
  'Sinhala Sora_Sompeng Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Takri ' +
  'Tamil Tangut Telugu Thaana Thai Tibetan Tifinagh Tirhuta Ugaritic Vai Warang_Citi Yi'
).split(' ');

/** Script ids: COMMON and INHERITED are special; the rest index SCRIPTS. */
export const COMMON = -1;
export const INHERITED = -2;
const HAN = SCRIPTS.indexOf('Han');
const regexes = SCRIPTS.map((name) => new RegExp(`^\\p{Script=${name}}$`, 'u'));
const cache = new Map<number, number>();

/** The script of a code point as the trainer groups them (Hiragana/Katakana/U+30FC as Han). */
export function scriptOf(cp: number): number {
  const hit = cache.get(cp);
  if (hit !== undefined) return hit;
  let script = COMMON;
  if (cp === 0x30fc) script = HAN;
  else {
    const ch = String.fromCodePoint(cp);
    for (let i = 0; i < regexes.length; i++) {
      if (regexes[i]!.test(ch)) {
        const name = SCRIPTS[i];
        script = name === 'Inherited' ? INHERITED : name === 'Hiragana' || name === 'Katakana' ? HAN : i;
        break;
      }
    }
  }
  cache.set(cp, script);
  return script;
}

export const SPACE_CP = SPM_SPACE.codePointAt(0)!;
/** The placeholder spm's trainer puts in place of characters outside the required alphabet. */
export const UNK_CP = 0x2585;

/**
 * Whether code points cps[from..to) may form a piece. Callers enumerate substrings from each start with
 * growing length, so `scriptRunEnd` gives the furthest end from `from` at once: every shorter end is
 * valid too (the rules only forbid things that stay forbidden when a piece grows).
 */
export function validPieceEnd(cps: ArrayLike<number>, from: number, to: number, maxLength: number): number {
  const limit = Math.min(to, from + maxLength);
  let prev = COMMON;
  let anyScript = true;
  let end = from;
  for (let i = from; i < limit; i++) {
    const c = cps[i]!;
    if (c === UNK_CP || c === 0 || c === 0x20) break;
    if (c === SPACE_CP) {
      if (i > from) break;
    } else {
      const s = scriptOf(c);
      // A combining mark continues the script before it (and leaves a piece's start open).
      if (s !== INHERITED) {
        // Common (digits, punctuation) is a script of its own here: "a," is not a piece.
        if (!anyScript && s !== prev) break;
        prev = s;
        anyScript = false;
      }
    }
    end = i + 1;
  }
  return end;
}
