// Contamination of training data already written as token shards (shard/write-shards): the ids are
// decoded with the manifest's encoding (js-tiktoken) and scanned as eval/decontaminate scans documents.
//
// Packed rows (kind 'ipc') cut documents, but the writer stores them in stream order and consecutive
// rows overlap by one token, so the token stream is put back together (each row after the first
// without its first token) and cut into documents at <|endoftext|>, which flowlm prep puts after each
// document: nothing is missed at row boundaries. What is missed: the tokens after the last full row
// (the packer drops them), n-grams across shard sets written by separate runs, and, in a stream
// without end-of-text tokens, n-grams across the cuts made every MAX_DOC_TOKENS tokens. Documents are
// named by where they start: "FILE:ROW". Token tables (kind 'parquet') hold one document per row.
import type { RecordBatch } from 'apache-arrow';
import { getEncoding } from 'js-tiktoken';
import { loadTasks } from '../../src/eval/registry.ts';
import { tiktokenName } from '../../src/nn/checkpoint/load-model.ts';
import { loadShard } from '../shard/load-shard.ts';
import { readManifest } from '../shard/manifest.ts';
import { ContaminationTally, indexTasks, type ContaminationReport } from './contamination-report.ts';

const OP = 'eval/shard-contamination';
/** without end-of-text tokens, the stream is scanned in pieces of this many tokens */
const MAX_DOC_TOKENS = 1 << 20;

type Row = { toArray(): Int32Array } | null;

/** Scans every document in `shardDir` for the word n-grams of `tasks` (names or task files). */
export async function contaminationOfShards(
  shardDir: string,
  tasks: readonly string[],
  n = 13,
  options: { minWords?: number } = {},
): Promise<ContaminationReport> {
  const manifest = readManifest(shardDir, OP);
  if (!manifest.encoding || !manifest.tokenColumn)
    throw new Error(`${shardDir}: the manifest records no encoding or token column; only token shards can be decoded`);
  const enc = getEncoding(tiktokenName(manifest.encoding));
  const eos = enc.encode('<|endoftext|>', 'all')[0]!;
  const evalIndex = await indexTasks(await loadTasks(tasks), { n, minWords: options.minWords ?? 8 });
  const tally = new ContaminationTally(evalIndex);

  let doc: number[] = [];
  let docName = '';
  const flush = () => {
    if (doc.length > 0) tally.check(enc.decode(doc), docName);
    doc = [];
  };
  const take = (ids: ArrayLike<number>, from: number, where: string) => {
    for (let i = from; i < ids.length; i++) {
      if (doc.length === 0) docName = where;
      const id = ids[i]!;
      if (id === eos) flush();
      else {
        doc.push(id);
        if (doc.length >= MAX_DOC_TOKENS) flush();
      }
    }
  };

  for (let s = 0; s < manifest.shards.length; s++) {
    const entry = manifest.shards[s]!;
    const shard = await loadShard(OP, shardDir, s, entry, manifest.kind, true);
    let row = 0;
    for (const batch of shard.batches as RecordBatch[]) {
      const col = batch.getChild(manifest.tokenColumn);
      if (!col) throw new Error(`${entry.file}: no column ${manifest.tokenColumn} (the manifest's token column)`);
      for (let r = 0; r < batch.numRows; r++, row++) {
        const ids = (col.get(r) as Row)?.toArray();
        if (!ids) continue;
        const where = `${entry.file}:${row}`;
        if (manifest.kind === 'ipc') take(ids, s === 0 && row === 0 ? 0 : 1, where);
        else {
          take(ids, 0, where);
          flush(); // a token table's row is a whole document
        }
      }
    }
  }
  flush();
  return tally.report('report');
}
