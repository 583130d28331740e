// Plain text from a roff manual page (man(7) macros), good enough to tell its language: the words a
// reader sees, without requests, comments, font changes and escapes. Not a typesetter: no tables laid
// out, no macro expansion, no hyphenation. Used to build the multilingual agreement set from Debian's
// translated manual pages (bench/_language-agreement.ts) and its committed excerpts (test/fixtures).

/** macros whose arguments are visible text (headings, font macros); other requests print nothing */
const TEXT_MACROS = new Set([
  'SH',
  'SS',
  'B',
  'I',
  'SM',
  'SB',
  'BR',
  'BI',
  'IB',
  'IR',
  'RB',
  'RI',
  'IP',
  'TP',
  'OP',
  'UR',
  'MT',
  'UE',
  'ME',
]);

/** named glyphs worth keeping as characters (others are dropped) */
const GLYPHS: Record<string, string> = {
  em: '—',
  en: '–',
  hy: '-',
  aq: "'",
  dq: '"',
  lq: '“',
  rq: '”',
  oq: '‘',
  cq: '’',
  Fo: '«',
  Fc: '»',
  bu: '•',
  co: '©',
  rg: '®',
  tm: '™',
  mi: '-',
  pl: '+',
  eq: '=',
  ti: '~',
  ha: '^',
  rs: '\\',
  sl: '/',
  ga: '`',
  aa: '´',
  lh: '☜',
  rh: '☞',
};

/** accents of groff's composite glyph names (\('e is é), as Unicode combining marks */
const ACCENTS: Record<string, string> = {
  "'": '\u0301',
  '`': '\u0300',
  '^': '\u0302',
  ':': '\u0308',
  '~': '\u0303',
  ',': '\u0327',
  o: '\u030a',
  v: '\u030c',
};
const LIGATURES: Record<string, string> = { ss: 'ß', ae: 'æ', AE: 'Æ', 'o/': 'ø', 'O/': 'Ø', oe: 'œ', OE: 'Œ' };

/** The character a groff glyph name stands for ('' for ones without text value here). */
export function glyph(name: string): string {
  const named = GLYPHS[name] ?? LIGATURES[name];
  if (named !== undefined) return named;
  if (name.length === 2 && ACCENTS[name[0]!] && /\p{L}/u.test(name[1]!))
    return (name[1]! + ACCENTS[name[0]!]).normalize('NFC');
  // \[u00E9], \[u0065_0301]
  if (/^u[0-9A-F]{4,6}(_[0-9A-F]{4,6})*$/.test(name))
    return String.fromCodePoint(
      ...name
        .slice(1)
        .split('_')
        .map((h) => Number.parseInt(h.replace(/^u/, ''), 16)),
    ).normalize('NFC');
  return '';
}

/** Strings every man page may use without defining them (DocBook's Aq, man's lq/rq, R, Tm). */
const STRINGS: Record<string, string> = { Aq: "'", lq: '“', rq: '”', R: '®', Tm: '™' };

/** One line of text with its escapes resolved (a `\"` comment ends it); `strings` are \*-names. */
export function roffEscapes(line: string, strings: Record<string, string> = STRINGS): string {
  let out = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = line[++i];
    if (e === undefined) break; // a trailing backslash joins lines: nothing to print
    if (e === '"' || e === '#') break;
    // a name after an escape: (xx, [long], or one character
    const name = (): string => {
      const n = line[i + 1];
      if (n === '(') {
        i += 3;
        return line.slice(i - 1, i + 1);
      }
      if (n === '[') {
        const end = line.indexOf(']', i + 2);
        const s = line.slice(i + 2, end < 0 ? line.length : end);
        i = end < 0 ? line.length : end;
        return s;
      }
      i++;
      return n ?? '';
    };
    switch (e) {
      case '-':
        out += '-';
        break;
      case 'e':
      case '\\':
        out += '\\';
        break;
      case ' ':
      case '~':
      case '0':
        out += ' ';
        break;
      case '(': {
        out += glyph(line.slice(i + 1, i + 3));
        i += 2;
        break;
      }
      case '[': {
        const end = line.indexOf(']', i + 1);
        const s = line.slice(i + 1, end < 0 ? line.length : end);
        i = end < 0 ? line.length : end;
        out += glyph(s);
        break;
      }
      case '*':
        out += strings[name()] ?? '';
        break;
      case 'f':
      case 'n':
      case 'F':
      case 'm':
      case 'g':
        name();
        break;
      case 's': {
        // \s+2, \s-1, \s0, \s(12, \s[12]
        const m = /^[+-]?(\d{1,2}|\(\d\d|\[[^\]]*\])/.exec(line.slice(i + 1));
        if (m) i += m[0].length;
        break;
      }
      case 'h':
      case 'v':
      case 'w':
      case 'o':
      case 'l':
      case 'L':
      case 'b':
      case 'D':
      case 'X':
      case 'Z':
      case 'k':
      case 'z': {
        // \h'...' and friends take a delimited argument, which is not text (\k and \z take one char)
        if (e === 'k' || e === 'z') {
          i++;
          break;
        }
        const d = line[i + 1];
        const end = d === undefined ? -1 : line.indexOf(d, i + 2);
        i = end < 0 ? line.length : end;
        break;
      }
      default:
        // \& \, \/ \^ \| \% \c \) \: and unknown escapes print nothing; any other printable char prints itself
        if (!'&,/^|%c):{}!'.includes(e)) out += e;
    }
  }
  return out;
}

/** A conditional request's condition: whether it holds (nroff's view: `n` true, `t` false; groff's
 * `\n(.g` true; 'a'b' compares strings) and the rest of the line after it. */
function condition(arg: string): [boolean, string] {
  let neg = false;
  let i = 0;
  if (arg[i] === '!') {
    neg = true;
    i++;
  }
  let value: boolean;
  const c = arg[i];
  if (c !== undefined && 'ntoe'.includes(c) && /[\s\\]/.test(arg[i + 1] ?? ' ')) {
    value = c === 'n' || c === 'o';
    i++;
  } else if (c !== undefined && /['"|]/.test(c)) {
    const b = arg.indexOf(c, i + 1),
      e = arg.indexOf(c, b + 1);
    value = b > 0 && e > 0 && arg.slice(i + 1, b) === arg.slice(b + 1, e);
    i = e > 0 ? e + 1 : arg.length;
  } else {
    const tok = /^\S+/.exec(arg.slice(i))?.[0] ?? '';
    value = tok.includes('.g') || Number(tok) > 0;
    i += tok.length;
  }
  return [value !== neg, arg.slice(i).trimStart()];
}

/** The visible text of a roff manual page, one output line per text line. */
export function roffToText(source: string): string {
  const out: string[] = [];
  const strings = { ...STRINGS };
  let skipping = false; // inside .de/.am/.ig
  let blockDepth = 0; // inside a \{ ... \} block whose condition failed
  let lastIe = true;
  const line = (l: string): void => {
    if (!(l.startsWith('.') || l.startsWith("'"))) {
      out.push(roffEscapes(l, strings));
      return;
    }
    const m = /^[.'][ \t]*([A-Za-z]{1,3}|\\"|\\#)?[ \t]*(.*)$/.exec(l);
    const req = m?.[1] ?? '',
      arg = m?.[2] ?? '';
    if (req === 'if' || req === 'ie' || req === 'el') {
      const [holds, rest] = req === 'el' ? [!lastIe, arg] : condition(arg);
      if (req === 'ie') lastIe = holds;
      const block = rest.startsWith('\\{');
      const body = block ? rest.replace(/^\\\{\\?/, '').trimStart() : rest;
      if (holds) {
        if (body) line(body);
      } else if (block) blockDepth = 1 + count(body, '\\{') - count(body, '\\}');
      return;
    }
    // macro definitions and ignored blocks run to their terminator
    if (req === 'de' || req === 'am' || req === 'ig') {
      skipping = true;
      return;
    }
    if (req === 'ds') {
      // .ds name value: a string \*(name prints (a leading " keeps leading spaces)
      const d = /^(\S+)\s*"?(.*)$/.exec(arg);
      if (d) strings[d[1]!] = roffEscapes(d[2]!, strings);
      return;
    }
    if (!TEXT_MACROS.has(req)) return;
    const text = roffEscapes(arg.replace(/"/g, ''), strings).trim();
    if (text) out.push(text);
  };
  for (const l of source.split(/\r?\n/)) {
    if (skipping) {
      // the terminator is '..', or '.  .' inside an indented block
      if (/^\.[ \t]*\.[ \t]*$/.test(l)) skipping = false;
    } else if (blockDepth > 0) blockDepth += count(l, '\\{') - count(l, '\\}');
    else line(l);
  }
  return out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const count = (s: string, sub: string): number => s.split(sub).length - 1;
