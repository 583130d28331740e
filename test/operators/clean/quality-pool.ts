// A pool of real documents of very different quality for the rule tests: State of the Union
// addresses and Moby-Dick chapters (good prose), SpamAssassin message bodies (spam, ham, HTML
// newsletters), and text extracted from the PostgreSQL manual (reference pages full of code).
import { extractHtml, extractMainText } from '../../../operators/clean/extract-html.ts';
import { emails, mobyDick, pgPages, sotu } from './real-data.ts';

export interface PoolDoc {
  src: string;
  text: string;
}

let cached: PoolDoc[] | undefined;

export function qualityPool(): PoolDoc[] {
  if (cached) return cached;
  const body = (mail: string) => mail.slice(mail.indexOf('\n\n') + 2);
  const cfg = extractHtml.def.config.parse({}) as Parameters<typeof extractMainText>[1];
  cached = [
    ...sotu().map((d) => ({ src: `sotu/${d.name}`, text: d.text })),
    ...mobyDick().map((d) => ({ src: `moby/${d.name}`, text: d.text })),
    ...['spam-1', 'spam-2', 'easy-ham-1', 'hard-ham-1'].flatMap((g) =>
      emails(g, 250).map((e) => ({ src: `${g}/${e.name}`, text: body(e.text) })),
    ),
    ...pgPages()
      .filter((_, i) => i % 10 === 0)
      .flatMap((p) => {
        const x = extractMainText(p.html, cfg);
        return 'drop' in x ? [] : [{ src: `pg/${p.name}`, text: x.text }];
      }),
  ];
  return cached;
}

/** Words as the Gopher rules define them, computed with Unicode regexes (an independent oracle). */
export const oracleWords = (text: string): string[] =>
  text
    .split(/\s+/)
    .map((t) => t.replace(/^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu, ''))
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());

export const oracleLines = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
