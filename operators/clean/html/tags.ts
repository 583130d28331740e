// Tag classes for the fast extractor's tree model: how elements break text, which are never text,
// which have no end tag, and the HTML standard's implied end tags (a block start closes an open <p>,
// <li> closes the previous <li>, a row or cell closes the previous one) with the scopes that bound them.

const set = (s: string) => new Set(s.split(' '));

/** a blank line before and after */
export const PARAGRAPH = set(
  'p div section article main h1 h2 h3 h4 h5 h6 pre blockquote table ul ol dl figure form address fieldset ' +
    'details header footer aside nav hr center menu dir listing hgroup search dialog',
);
/** a line of its own */
export const LINE = set('li tr dt dd caption figcaption summary option legend tbody thead tfoot');
export const CELL = set('td th');
/** never text: code, styling, embedded objects, form widgets, the head */
export const NEVER_TEXT = set(
  'script style noscript template svg math iframe object embed canvas head title select button textarea datalist',
);
/** no end tag, no content */
export const VOID = set(
  'area base br col embed hr img input link meta param source track wbr keygen frame basefont bgsound image',
);
/** what may stay inside <head>; anything else starts the body */
export const HEAD_OK = set('meta link title style script base noscript template basefont bgsound');
/** starting one of these closes an open <p> */
export const CLOSES_P = set(
  'address article aside blockquote center details dialog dir div dl fieldset figcaption figure footer form ' +
    'h1 h2 h3 h4 h5 h6 header hgroup hr main menu nav ol p pre section summary table ul li dd dt listing search',
);
export const HEADINGS = set('h1 h2 h3 h4 h5 h6');
/** the standard's scope boundaries: an end tag searching for its element stops at these */
export const SCOPE = set('html table td th caption template object marquee applet button');
/** blocks checked for link density when they close */
export const LINK_BLOCKS = set('div ul ol table section menu');
/** foreign content: a self-closing tag inside ends itself */
export const FOREIGN = set('svg math');
/** phrasing elements: never navigation by their class or id (only blocks are checked) */
export const INLINE = set(
  'a span code em strong b i u tt kbd var samp abbr acronym sub sup small big cite q dfn mark s strike font time ' +
    'label img br wbr',
);

// Tag names interned to small ids with their classes as bit flags: one Map lookup per tag instead of
// a Set lookup per class. Names past MAX_TAGS (a page inventing tags by the thousand) share id 0.
export const F = {
  PARAGRAPH: 1,
  LINE: 2,
  CELL: 4,
  NEVER_TEXT: 8,
  VOID: 16,
  HEAD_OK: 32,
  CLOSES_P: 64,
  HEADING: 128,
  SCOPE: 256,
  LINK_BLOCK: 512,
  FOREIGN: 1024,
  INLINE: 2048,
  PRE: 4096,
  /** content is raw text or RCDATA: the scanner finds the end tag by name */
  RAW: 8192,
} as const;
/** elements whose content is not markup */
export const RAW_TEXT = set('script style title textarea xmp iframe noembed noframes noscript plaintext');
const MAX_TAGS = 4096;
/** longer names are not interned (they share id 0): the table's memory stays a few hundred KB */
const MAX_NAME = 64;
const ids = new Map<string, number>([['', 0]]);
/** flags by id */
export const FLAGS: number[] = [0];
/** names by id ('' for the shared id 0) */
export const NAMES: string[] = [''];

function flagsOf(name: string): number {
  const has = (s: Set<string>, f: number) => (s.has(name) ? f : 0);
  return (
    has(PARAGRAPH, F.PARAGRAPH) |
    has(LINE, F.LINE) |
    has(CELL, F.CELL) |
    has(NEVER_TEXT, F.NEVER_TEXT) |
    has(VOID, F.VOID) |
    has(HEAD_OK, F.HEAD_OK) |
    has(CLOSES_P, F.CLOSES_P) |
    has(HEADINGS, F.HEADING) |
    has(SCOPE, F.SCOPE) |
    has(LINK_BLOCKS, F.LINK_BLOCK) |
    has(FOREIGN, F.FOREIGN) |
    has(INLINE, F.INLINE) |
    has(RAW_TEXT, F.RAW) |
    (name === 'pre' || name === 'listing' ? F.PRE : 0)
  );
}

export function tagId(name: string): number {
  let id = ids.get(name);
  if (id === undefined) {
    if (ids.size >= MAX_TAGS || name.length > MAX_NAME) return 0;
    id = FLAGS.length;
    ids.set(name, id);
    FLAGS.push(flagsOf(name));
    NAMES.push(name);
  }
  return id;
}

// An open-addressed table from the hash of a name's lower-cased characters to its id: the scanner
// finds a tag's id in the input itself, with no slice, no lower-casing and no Map hashing.
const SLOTS = 8192; // twice MAX_TAGS: probes stay short
const slots = new Int32Array(SLOTS); // id + 1; 0: empty
const lower = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c);

/** The id of the tag name s[start, end), compared without case. */
export function tagIdAt(s: string, start: number, end: number): number {
  if (end - start > MAX_NAME) return 0;
  let h = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128) return tagId(s.slice(start, end).toLowerCase()); // rare: not cached
    h = (Math.imul(h, 31) + lower(c)) | 0;
  }
  const len = end - start;
  let k = h & (SLOTS - 1);
  for (let e = slots[k]!; e !== 0; k = (k + 1) & (SLOTS - 1), e = slots[k]!) {
    const name = NAMES[e - 1]!;
    if (name.length !== len) continue;
    let i = 0;
    while (i < len && lower(s.charCodeAt(start + i)) === name.charCodeAt(i)) i++;
    if (i === len) return e - 1;
  }
  const id = tagId(s.slice(start, end).toLowerCase());
  if (id !== 0) slots[k] = id + 1; // k: the empty slot the probe ended on
  return id;
}

// every name with a class gets its id now, so that a page inventing thousands of tags (which then
// share id 0) cannot take the ids of elements met later
for (const s of [
  PARAGRAPH,
  LINE,
  CELL,
  NEVER_TEXT,
  VOID,
  HEAD_OK,
  CLOSES_P,
  SCOPE,
  LINK_BLOCKS,
  FOREIGN,
  INLINE,
  RAW_TEXT,
])
  for (const name of s) tagId(name);
for (const name of 'pre listing html head body optgroup dl ul ol'.split(' ')) tagId(name);
