// HTML character references: every numeric form (decimal, hex, the Windows-1252 remapping of
// 0x80-0x9F, U+FFFD for zero, surrogates and out-of-range values) and 330 named ones: all of HTML 4
// (Latin-1, symbols, Greek, punctuation), &apos; and the common HTML5 additions for ASCII
// punctuation, spaces and arrows. Left out: the rest of HTML5's 2,231 names (mathematical
// operators, rare arrows and letter variants such as &NotNestedGreaterGreater;), which stay as
// literal text. Names without ';' are decoded only for the legacy set browsers accept that way.

// name:codepoint in base 36, built from the `entities` package's table (tested against it)
const PACKED =
  'quot:y amp:12 apos:13 lt:1o gt:1q nbsp:4g iexcl:4h cent:4i pound:4j curren:4k yen:4l brvbar:4m sect:4n ' +
  'uml:4o copy:4p ordf:4q laquo:4r not:4s shy:4t reg:4u macr:4v deg:4w plusmn:4x sup2:4y sup3:4z acute:50 ' +
  'micro:51 para:52 middot:53 cedil:54 sup1:55 ordm:56 raquo:57 frac14:58 frac12:59 frac34:5a iquest:5b ' +
  'Agrave:5c Aacute:5d Acirc:5e Atilde:5f Auml:5g Aring:5h AElig:5i Ccedil:5j Egrave:5k Eacute:5l Ecirc:5m ' +
  'Euml:5n Igrave:5o Iacute:5p Icirc:5q Iuml:5r ETH:5s Ntilde:5t Ograve:5u Oacute:5v Ocirc:5w Otilde:5x ' +
  'Ouml:5y times:5z Oslash:60 Ugrave:61 Uacute:62 Ucirc:63 Uuml:64 Yacute:65 THORN:66 szlig:67 agrave:68 ' +
  'aacute:69 acirc:6a atilde:6b auml:6c aring:6d aelig:6e ccedil:6f egrave:6g eacute:6h ecirc:6i euml:6j ' +
  'igrave:6k iacute:6l icirc:6m iuml:6n eth:6o ntilde:6p ograve:6q oacute:6r ocirc:6s otilde:6t ouml:6u ' +
  'divide:6v oslash:6w ugrave:6x uacute:6y ucirc:6z uuml:70 yacute:71 thorn:72 yuml:73 OElig:9e oelig:9f ' +
  'Scaron:9s scaron:9t Yuml:ag circ:jq tilde:kc ensp:6bm emsp:6bn thinsp:6bt zwnj:6bw zwj:6bx lrm:6by ' +
  'rlm:6bz ndash:6c3 mdash:6c4 lsquo:6c8 rsquo:6c9 sbquo:6ca ldquo:6cc rdquo:6cd bdquo:6ce dagger:6cg ' +
  'Dagger:6ch permil:6cw lsaquo:6d5 rsaquo:6d6 euro:6gc fnof:b6 Alpha:pd Beta:pe Gamma:pf Delta:pg ' +
  'Epsilon:ph Zeta:pi Eta:pj Theta:pk Iota:pl Kappa:pm Lambda:pn Mu:po Nu:pp Xi:pq Omicron:pr Pi:ps Rho:pt ' +
  'Sigma:pv Tau:pw Upsilon:px Phi:py Chi:pz Psi:q0 Omega:q1 alpha:q9 beta:qa gamma:qb delta:qc epsilon:qd ' +
  'zeta:qe eta:qf theta:qg iota:qh kappa:qi lambda:qj mu:qk nu:ql xi:qm omicron:qn pi:qo rho:qp sigmaf:qq ' +
  'sigma:qr tau:qs upsilon:qt phi:qu chi:qv psi:qw omega:qx thetasym:r5 upsih:r6 piv:ra bull:6ci hellip:6cm ' +
  'prime:6cy Prime:6cz oline:6da frasl:6dg weierp:6jc image:6j5 real:6jg trade:6jm alefsym:6k5 larr:6mo ' +
  'uarr:6mp rarr:6mq darr:6mr harr:6ms crarr:6np lArr:6og uArr:6oh rArr:6oi dArr:6oj hArr:6ok forall:6ps ' +
  'part:6pu exist:6pv empty:6px nabla:6pz isin:6q0 notin:6q1 ni:6q3 prod:6q7 sum:6q9 minus:6qa lowast:6qf ' +
  'radic:6qi prop:6ql infin:6qm ang:6qo and:6qv or:6qw cap:6qx cup:6qy int:6qz there4:6r8 sim:6rg cong:6rp ' +
  'asymp:6rs ne:6sg equiv:6sh le:6sk ge:6sl sub:6te sup:6tf nsub:6tg sube:6ti supe:6tj oplus:6tx otimes:6tz ' +
  'perp:6ud sdot:6v9 lceil:6x4 rceil:6x5 lfloor:6x6 rfloor:6x7 lang:7vs rang:7vt loz:7gq spades:7kw ' +
  'clubs:7kz hearts:7l1 diams:7l2 Tab:9 NewLine:a excl:x num:z dollar:10 percnt:11 lpar:14 rpar:15 ast:16 ' +
  'plus:17 comma:18 period:1a sol:1b colon:1m semi:1n equals:1p quest:1r commat:1s lsqb:2j lbrack:2j ' +
  'bsol:2k rsqb:2l rbrack:2l Hat:2m lowbar:2n grave:2o lcub:3f lbrace:3f verbar:3g vert:3g rcub:3h ' +
  'rbrace:3h hyphen:6c0 dash:6c0 horbar:6c5 ldquor:6ce rdquor:6cd lsquor:6ca rsquor:6c9 check:7pv cross:7pz ' +
  'star:7ie starf:7id bullet:6ci ThinSpace:6bt hairsp:6bu MediumSpace:6e7 NoBreak:6e8 ZeroWidthSpace:6bv ' +
  'InvisibleTimes:6ea af:6e9 TRADE:6jm COPY:4p REG:4u AMP:12 LT:1o GT:1q QUOT:y half:59 frac13:6kz ' +
  'frac23:6l0 frac15:6l1 frac18:6l7 leftarrow:6mo rightarrow:6mq uparrow:6mp downarrow:6mr ' +
  'leftrightarrow:6ms Rightarrow:6oi Leftarrow:6og centerdot:53 numsp:6br puncsp:6bs emsp13:6bo emsp14:6bp ' +
  'dot:k9 die:4o Dot:4o ' +
  '';

const NAMED = new Map<string, string>();
for (const pair of PACKED.split(' ')) {
  const at = pair.indexOf(':');
  if (at > 0) NAMED.set(pair.slice(0, at), String.fromCodePoint(Number.parseInt(pair.slice(at + 1), 36)));
}

/** The names the table has (for tests against the standard's full table). */
export const entityNames = (): string[] => [...NAMED.keys()];

/** Names a browser decodes without the ';' (HTML4 Latin-1 and a few upper-case aliases). */
const LEGACY = new Set(
  (
    'quot amp lt gt nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn ' +
    'sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc ' +
    'Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute ' +
    'Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml ' +
    'aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ' +
    'ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml COPY REG AMP LT GT QUOT'
  ).split(' '),
);

// what browsers show for &#128; to &#159; (the C1 range read as Windows-1252); 0: keep the code
export const C1 = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0, 0,
  0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
];

const isAlnum = (c: number) => (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122);

function fromCode(n: number): string {
  if (n === 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return '\ufffd';
  if (n >= 0x80 && n <= 0x9f && C1[n - 0x80]) return String.fromCharCode(C1[n - 0x80]!);
  return String.fromCodePoint(n);
}

/** `s` with its character references decoded (text content rules). Linear; never throws. */
export function decodeEntities(s: string): string {
  let amp = s.indexOf('&');
  if (amp < 0) return s;
  let out = '';
  let from = 0;
  const n = s.length;
  while (amp >= 0) {
    let i = amp + 1;
    let value: string | null = null;
    if (s.charCodeAt(i) === 35 /* # */) {
      i++;
      const hex = (s.charCodeAt(i) | 32) === 120; /* x */
      if (hex) i++;
      const digitsAt = i;
      let code = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        const d = c >= 48 && c <= 57 ? c - 48 : hex && (c | 32) >= 97 && (c | 32) <= 102 ? (c | 32) - 87 : -1;
        if (d < 0) break;
        // saturate rather than overflow: a thousand digits must still give U+FFFD, in linear time
        code = code > 0x10ffff ? code : code * (hex ? 16 : 10) + d;
      }
      if (i > digitsAt) {
        value = fromCode(code);
        if (s.charCodeAt(i) === 59) i++;
      }
    } else {
      let j = i;
      while (j < n && j - i < 32 && isAlnum(s.charCodeAt(j))) j++;
      if (j > i) {
        if (s.charCodeAt(j) === 59) {
          const v = NAMED.get(s.slice(i, j));
          if (v !== undefined) {
            value = v;
            i = j + 1;
          }
        }
        // "&copy2024", "&amp" at the end: the longest legacy name that prefixes the run
        for (let k = Math.min(j, i + 6); value === null && k >= i + 2; k--) {
          const name = s.slice(i, k);
          if (LEGACY.has(name)) {
            value = NAMED.get(name)!;
            i = k;
          }
        }
      }
    }
    if (value !== null) {
      out += s.slice(from, amp) + value;
      from = i;
    }
    amp = s.indexOf('&', Math.max(i, amp + 1));
  }
  return out + s.slice(from);
}
