// Plain-text files (globs allowed) as documents: one document per file, or per blank-line-separated
// paragraph. Files are read one at a time, so memory is bounded by one file plus one batch.
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { defineSource } from '../../src/core/operator.ts';
import { FlowError } from '../../src/core/errors.ts';
import { batchFromColumns, docSchema, type Doc } from '../../src/schema/index.ts';
import { expandGlobs, stableId } from '../../src/runtime/files.ts';

const Config = z.object({
  paths: z.array(z.string().min(1)).min(1).describe('files or glob patterns'),
  unit: z.enum(['file', 'paragraph']).default('file'),
  source: z.string().default('text').describe('value of the source column'),
  batchRows: z.number().int().min(1).default(256),
  /** documents shorter than this (after trimming) are skipped */
  minChars: z.number().int().min(0).default(1),
});

const decoder = new TextDecoder('utf-8', { fatal: true });

export const readText = defineSource({
  id: 'ingest/read-text',
  description: 'read UTF-8 text files as documents (per file or per paragraph)',
  config: Config,
  output: () => docSchema(),
  async *make(cfg, ctx): AsyncGenerator<RecordBatch<Doc>> {
    const files = await expandGlobs(cfg.paths);
    const schema = docSchema();
    let ids: string[] = [], texts: string[] = [], urls: (string | null)[] = [], sources: string[] = [];
    const flush = () => {
      const b = batchFromColumns(schema, { id: ids, text: texts, url: urls, source: sources });
      ids = []; texts = []; urls = []; sources = [];
      return b;
    };
    for (const file of files) {
      const bytes = await readFile(file);
      let text: string;
      try { text = decoder.decode(bytes); } catch {
        const at = firstInvalidUtf8(bytes);
        throw new FlowError(ctx.nodeId, 'invalid UTF-8; convert the file to UTF-8 or remove it from paths', { file, offset: at });
      }
      const name = relative(process.cwd(), file);
      const parts = cfg.unit === 'file' ? [{ text, offset: 0 }] : paragraphs(text);
      for (const p of parts) {
        const t = p.text.trim();
        if (t.length < cfg.minChars) { ctx.stats.drop('too short'); continue; }
        ids.push(stableId(`${name}:${p.offset}`)); texts.push(t); urls.push(null); sources.push(cfg.source);
        if (ids.length >= cfg.batchRows) yield flush();
      }
    }
    if (ids.length > 0) yield flush();
  },
});

function paragraphs(text: string): Array<{ text: string; offset: number }> {
  const out: Array<{ text: string; offset: number }> = [];
  const re = /\n\s*\n/g;
  let start = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) { out.push({ text: text.slice(start, m.index), offset: start }); start = m.index + m[0].length; }
  out.push({ text: text.slice(start), offset: start });
  return out;
}

/** Byte offset of the first invalid UTF-8 sequence (for the error message). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let lo = 0, hi = bytes.length;
  // binary search on prefixes: the longest prefix that decodes (allowing a cut multi-byte tail)
  const ok = (n: number) => { try { new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, n), { stream: true }); return true; } catch { return false; } };
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (ok(mid)) lo = mid; else hi = mid - 1; }
  return lo;
}
