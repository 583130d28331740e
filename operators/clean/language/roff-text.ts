// Plain text from a roff manual page (man(7) macros), good enough to tell its language: the words a
// reader sees, without requests, comments, font changes and escapes. Not a typesetter: no tables laid
// out, no macro expansion, no hyphenation. Used to build the multilingual agreement set from Debian's
// translated manual pages (bench/_language-agreement.ts) and its committed excerpts (test/fixtures).

/** macros whose arguments are visible text (headings, font macros); other requests print nothing */
const TEXT_MACROS = new Set(['SH', 'SS', 'B', 'I', 'SM', 'SB', 'BR', 'BI', 'IB', 'IR', 'RB', 'RI', 'IP', 'TP', 'OP']);

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

/** One line of text with its escapes resolved (a `\"` comment ends it). */
export function roffEscapes(line: string): string {
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
        out += GLYPHS[line.slice(i + 1, i + 3)] ?? '';
        i += 2;
        break;
      }
      case '[': {
        const end = line.indexOf(']', i + 1);
        const s = line.slice(i + 1, end < 0 ? line.length : end);
        i = end < 0 ? line.length : end;
        out += GLYPHS[s] ?? (/^u[0-9A-F]{4,6}$/.test(s) ? String.fromCodePoint(Number.parseInt(s.slice(1), 16)) : '');
        break;
      }
      case 'f':
      case '*':
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

/** The visible text of a roff manual page, one output line per text line. */
export function roffToText(source: string): string {
  const lines = source.split(/\r?\n/);
  const out: string[] = [];
  let skipUntil: string | null = null;
  for (const line of lines) {
    if (skipUntil !== null) {
      if (line.trim() === skipUntil) skipUntil = null;
      continue;
    }
    if (line.startsWith('.') || line.startsWith("'")) {
      const m = /^[.'][ \t]*([A-Za-z]{1,3}|\\"|\\#)?[ \t]*(.*)$/.exec(line);
      const req = m?.[1] ?? '';
      // macro definitions and ignored blocks run to their terminator
      if (req === 'de' || req === 'am' || req === 'ig') {
        skipUntil = '..';
        continue;
      }
      if (!TEXT_MACROS.has(req)) continue;
      const args = (m?.[2] ?? '').replace(/"/g, '');
      const text = roffEscapes(args).trim();
      if (text) out.push(text);
      continue;
    }
    out.push(roffEscapes(line));
  }
  return out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
