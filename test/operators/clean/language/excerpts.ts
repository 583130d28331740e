// Plain-text excerpts of Debian's translated manual pages, committed (test/fixtures/manpage-excerpts,
// made by its make.ts from the manpages-* packages): a few KB per language in 25 languages.
import { readFileSync } from 'node:fs';

export type Excerpts = Record<string, Array<{ page: string; text: string }>>;

export const excerpts = (): Excerpts =>
  JSON.parse(
    readFileSync(new URL('../../../fixtures/manpage-excerpts/manpage-excerpts.json', import.meta.url), 'utf8'),
  ) as Excerpts;
