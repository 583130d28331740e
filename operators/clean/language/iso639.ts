// ISO 639-3 codes franc returns, mapped to ISO 639-1 where one exists. Individual languages map to
// their macrolanguage's two-letter code (arb -> ar, swh -> sw, pes/prs -> fa, cmn -> zh), as is usual
// for corpus language tags. Codes without a 639-1 code (sco, nds, ceb...) stay three letters.
import { data } from 'franc/data.js';
import { expressions } from 'franc/expressions.js';

const TO_639_1: Record<string, string> = {
  afr: 'af',
  als: 'sq',
  amh: 'am',
  arb: 'ar',
  ayr: 'ay',
  azj: 'az',
  bam: 'bm',
  bel: 'be',
  ben: 'bn',
  bod: 'bo',
  bos: 'bs',
  bul: 'bg',
  cat: 'ca',
  ces: 'cs',
  ckb: 'ku',
  cmn: 'zh',
  dan: 'da',
  deu: 'de',
  ekk: 'et',
  ell: 'el',
  eng: 'en',
  epo: 'eo',
  ewe: 'ee',
  fin: 'fi',
  fra: 'fr',
  fuf: 'ff',
  fuv: 'ff',
  glg: 'gl',
  guj: 'gu',
  hat: 'ht',
  hau: 'ha',
  heb: 'he',
  hin: 'hi',
  hrv: 'hr',
  hun: 'hu',
  hye: 'hy',
  ibo: 'ig',
  iii: 'ii',
  ind: 'id',
  ita: 'it',
  jav: 'jv',
  jpn: 'ja',
  kan: 'kn',
  kat: 'ka',
  kaz: 'kk',
  khk: 'mn',
  khm: 'km',
  kin: 'rw',
  kir: 'ky',
  knc: 'kr',
  kng: 'kg',
  kor: 'ko',
  lao: 'lo',
  lin: 'ln',
  lit: 'lt',
  lug: 'lg',
  lvs: 'lv',
  mal: 'ml',
  mar: 'mr',
  mkd: 'mk',
  mya: 'my',
  ndo: 'ng',
  nld: 'nl',
  nno: 'nn',
  nob: 'nb',
  npi: 'ne',
  nya: 'ny',
  pan: 'pa',
  pbu: 'ps',
  pes: 'fa',
  plt: 'mg',
  pol: 'pl',
  por: 'pt',
  prs: 'fa',
  qug: 'qu',
  quy: 'qu',
  quz: 'qu',
  ron: 'ro',
  run: 'rn',
  rus: 'ru',
  sag: 'sg',
  sin: 'si',
  slk: 'sk',
  slv: 'sl',
  sna: 'sn',
  som: 'so',
  sot: 'st',
  spa: 'es',
  src: 'sc',
  srp: 'sr',
  ssw: 'ss',
  sun: 'su',
  swe: 'sv',
  swh: 'sw',
  tam: 'ta',
  tat: 'tt',
  tel: 'te',
  tgk: 'tg',
  tgl: 'tl',
  tha: 'th',
  tir: 'ti',
  tsn: 'tn',
  tso: 'ts',
  tuk: 'tk',
  tur: 'tr',
  uig: 'ug',
  ukr: 'uk',
  urd: 'ur',
  uzn: 'uz',
  ven: 've',
  vie: 'vi',
  wol: 'wo',
  xho: 'xh',
  ydd: 'yi',
  yor: 'yo',
  zlm: 'ms',
  zul: 'zu',
  zyb: 'za',
};

/** The two-letter code for a franc code, or the code itself when there is none. */
export const toIso6391 = (code: string): string => TO_639_1[code] ?? code;

/** Every franc code whose tag (two-letter where possible) or own code is `code`. */
export function francCodesFor(code: string): string[] {
  const out = Object.entries(TO_639_1)
    .filter(([three, two]) => two === code || three === code)
    .map(([three]) => three);
  return out.length > 0 ? out : [code];
}

/** Every code franc can answer: the languages of its trigram profiles, and those it tells by script
 * alone (a script with one language, such as Thai or Korean). */
const FRANC_CODES = new Set([
  ...Object.values(data).flatMap((langs) => Object.keys(langs)),
  ...Object.keys(expressions).filter((script) => !(script in data)),
]);

/** Whether a config's language code names a language franc can identify: a 639-3 code franc knows, or
 * a 639-1 code one of them maps to. Any other code would silently match no document. */
export const isKnownLanguage = (code: string): boolean =>
  FRANC_CODES.has(code) || francCodesFor(code).some((three) => three !== code && FRANC_CODES.has(three));
