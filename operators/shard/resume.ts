// What an earlier (possibly killed) run of writeShards left in the directory, and tidying it: the
// completion records of its shards, temporary files of writers that died, and shards beyond the end.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readRecord } from './completion-record.ts';
import { DoneRecord, MANIFEST, Manifest, extensionOf, sha256File, shardFile, type ShardKind } from './manifest.ts';

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const TEMP = /^\.flowlm-tmp-(\d+)-/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary files (AtomicFile's `.flowlm-tmp-<pid>-...`) whose writing process is gone. */
export function removeDeadTemps(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const m = TEMP.exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    rmSync(join(dir, name), { force: true });
    n++;
  }
  return n;
}

/** The shard indices present in `dir` as shard files or completion records of this prefix. */
function indicesIn(dir: string, prefix: string, kind: ShardKind): Map<number, string[]> {
  const re = new RegExp(`^${escapeRe(prefix)}-(\\d{5,})\\.(${extensionOf(kind)}|done\\.json)$`);
  const out = new Map<number, string[]>();
  for (const name of readdirSync(dir)) {
    const m = re.exec(name);
    if (!m) continue;
    const i = Number(m[1]);
    out.set(i, [...(out.get(i) ?? []), name]);
  }
  return out;
}

/** Completion records by shard index: the `.done.json` records, and for shards without one the
 * entries of a manifest (written only once every shard in it was complete). Unreadable records are
 * left out: their shards are written again. */
export function loadDone(dir: string, prefix: string, kind: ShardKind): Map<number, DoneRecord> {
  const out = new Map<number, DoneRecord>();
  for (const [i, names] of indicesIn(dir, prefix, kind)) {
    const name = names.find((n) => n.endsWith('.done.json'));
    if (!name) continue;
    // a record that does not parse is no record
    const rec = readRecord(join(dir, name), DoneRecord);
    if (typeof rec !== 'string' && rec.index === i) out.set(i, rec);
  }
  let manifest: Manifest | undefined;
  try {
    manifest = Manifest.parse(JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')));
  } catch {
    manifest = undefined;
  }
  manifest?.shards.forEach((s, i) => {
    if (!out.has(i) && manifest.kind === kind && s.file === shardFile(prefix, i, kind))
      out.set(i, { ...s, index: i, configHash: manifest.configHash });
  });
  return out;
}

/** Why an earlier run's shard cannot be taken as complete for this run, or null when it can. */
export async function whyNotDone(
  dir: string,
  rec: DoneRecord | undefined,
  configHash: string,
  firstRow: number,
): Promise<string | null> {
  if (!rec) return 'no completion record';
  if (rec.configHash !== configHash) return 'written with another configuration';
  if (rec.firstRow !== firstRow) return `it starts at input row ${rec.firstRow}, this run is at row ${firstRow}`;
  const path = join(dir, rec.file);
  if (!existsSync(path)) return 'its file is missing';
  if (statSync(path).size !== rec.bytes)
    return `its file has ${statSync(path).size} bytes, the record says ${rec.bytes}`;
  if ((await sha256File(path)) !== rec.sha256) return 'its sha256 differs from the record (damaged)';
  return null;
}

/** Removes shard files and records of index >= `from` (left by a run whose output was longer). */
export function removeShardsFrom(dir: string, prefix: string, kind: ShardKind, from: number): string[] {
  const removed: string[] = [];
  for (const [i, names] of indicesIn(dir, prefix, kind)) {
    if (i < from) continue;
    for (const n of names) {
      rmSync(join(dir, n), { force: true });
      removed.push(n);
    }
  }
  return removed.sort();
}
