// roff to plain text against groff itself (Debian's groff-base, with man-db on every Debian system):
// on translated manual pages (manpages-de, -fr, -ja, ... installed by test/setup), the words of the
// converter's text must be groff's words (precision) and cover nearly all of them (recall: groff also
// prints link targets and some macro output, which the converter leaves out).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { glyph, roffEscapes, roffToText } from '../../../../operators/clean/language/roff-text.ts';

const MAN = '/usr/share/man';
const LANGS = ['de', 'fr', 'ja', 'ru', 'ko', 'pl', 'es', 'uk'];

function pages(lang: string, n: number): string[] {
  const dir = join(MAN, lang, 'man1');
  if (!existsSync(dir))
    throw new Error(`${dir} is missing: install Debian's manpages-${lang} (test/setup/install-debian-docs.sh)`);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.gz'))
    .sort();
  // spread over the alphabet, not the first few
  return Array.from({ length: n }, (_, i) => join(dir, files[Math.floor((i * files.length) / n)]!));
}

const counts = (text: string) => {
  const m = new Map<string, number>();
  for (const w of text.match(/\p{L}+/gu) ?? []) m.set(w, (m.get(w) ?? 0) + 1);
  return m;
};
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe('roff to text', () => {
  it("gives groff's words on manual pages in eight languages", () => {
    for (const lang of LANGS)
      for (const path of pages(lang, 3)) {
        const src = gunzipSync(readFileSync(path)).toString('utf8');
        const groff = execFileSync('groff', ['-K', 'utf8', '-man', '-Tutf8', '-P-cbou', '-rHY=0', '-rLL=200n'], {
          input: src,
          stdio: ['pipe', 'pipe', 'ignore'],
        }).toString('utf8');
        // groff's first and last lines are the page header and footer (from .TH), not page text
        const lines = groff.split('\n').filter((l) => l.trim());
        const mine = counts(roffToText(src)),
          ref = counts(lines.slice(1, -1).join('\n'));
        let common = 0;
        for (const [w, n] of mine) common += Math.min(n, ref.get(w) ?? 0);
        expect(common / total(mine), `${path} precision`).toBeGreaterThanOrEqual(0.98);
        expect(common / total(ref), `${path} recall`).toBeGreaterThanOrEqual(0.9);
      }
  });

  it('resolves escapes, glyphs, strings and drops requests and comments', () => {
    expect(
      roffEscapes("\\fBls\\fP \\-\\-all \\(Fo\\ x\\(Fc chiffr\\('e \\['e] l\\*(Aqun \\[u00E9] \\e\\& \\\" comment"),
    ).toBe("ls --all « x» chiffré é l'un é \\ ");
    expect(glyph(':u') + glyph('ss') + glyph('xx')).toBe('üß');
    const text = roffToText(
      '.\\" comment\n.TH LS 1\n.SH NAME\nls \\- list\n.de XX\nhidden\n..\n.ds Yy yes\n.B bold\nsay \\*(Yy\n' +
        ".if !'po4a'hide' .B shown\n.if t .B hidden\n.ie n .ds Zz tty\n.el .ds Zz print\n\\*(Zz\n" +
        '.if t \\{\\\nhidden block\n.\\}\n.if n \\{\\\nshown block\n.\\}\n',
    );
    expect(text).toBe('NAME\nls - list\nbold\nsay yes\nshown\ntty\nshown block');
  });
});
