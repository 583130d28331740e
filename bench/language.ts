// `npm run bench -- language [rounds=3] [per_lang=N] [langs=de,fr,ja]`: the fast language engine
// against franc on Debian's translated manual pages (bench/_language-agreement.ts): label agreement
// overall and per language, and both engines' MB/s single thread in the same run; then the operator
// itself (fast engine, annotate mode, batches of 64 rows) on the same documents: its MB/s of text
// includes reading the Arrow column and writing lang and lang_score.
import { Utf8, type RecordBatch } from 'apache-arrow';
import { from, lastValueFrom, toArray } from 'rxjs';
import { OperatorStats } from '../src/core/stats.ts';
import { batchFromColumns, schemaOf } from '../src/schema/index.ts';
import { language as languageOp } from '../operators/clean/language.ts';
import { languageAgreement, manpageDocs, type ManDoc } from './_language-agreement.ts';

const arg = (args: string[], name: string) => args.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1);

export default async function language(args: string[]): Promise<Record<string, unknown>> {
  const rounds = Number(arg(args, 'rounds') ?? 3);
  const perLang = arg(args, 'per_lang');
  const langs = arg(args, 'langs');
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`bench language: rounds must be a positive integer`);
  const docs = manpageDocs({
    ...(perLang ? { maxPerLang: Number(perLang) } : {}),
    ...(langs ? { langs: langs.split(',') } : {}),
  });
  const r = await languageAgreement({ rounds, docs });
  const op = await operatorSpeed(docs, rounds);
  for (const [lang, e] of Object.entries(r.by_lang))
    console.log(
      `${lang.padEnd(6)} docs ${String(e.docs).padStart(5)}  agreement ${e.agreement.toFixed(4)}  franc=dir ` +
        `${e.franc_matches_dir.toFixed(3)}  ${JSON.stringify(e.disagreements)}`,
    );
  const worst = Object.entries(r.by_lang).sort((a, b) => a[1].agreement - b[1].agreement)[0];
  console.log(
    `${r.docs} documents (${r.mb} MB): agreement ${r.agreement}, identical scores ${r.same_score}; ` +
      `fast ${r.fast_mb_per_s} MB/s, franc ${r.franc_mb_per_s} MB/s (x${(r.fast_mb_per_s / r.franc_mb_per_s).toFixed(1)}); ` +
      `per CPU second ${r.fast_mb_per_cpu_s} and ${r.franc_mb_per_cpu_s}; the operator (fast) ${op.wall} MB/s, ${op.cpu} per CPU second`,
  );
  return {
    bench: 'language',
    docs: r.docs,
    mb: r.mb,
    agreement: r.agreement,
    same_score: r.same_score,
    worst_lang: worst ? { lang: worst[0], agreement: worst[1].agreement, docs: worst[1].docs } : null,
    fast_mb_per_s: r.fast_mb_per_s,
    franc_mb_per_s: r.franc_mb_per_s,
    fast_mb_per_cpu_s: r.fast_mb_per_cpu_s,
    franc_mb_per_cpu_s: r.franc_mb_per_cpu_s,
    operator_fast_mb_per_s: op.wall,
    operator_fast_mb_per_cpu_s: op.cpu,
    speedup: Math.round((r.fast_mb_per_s / r.franc_mb_per_s) * 10) / 10,
  };
}

/** MB/s of text through the clean/language operator (fast engine), wall and per CPU second, medians. */
async function operatorSpeed(docs: ManDoc[], rounds: number): Promise<{ wall: number; cpu: number }> {
  const schema = schemaOf<{ text: Utf8 }>({ text: { type: new Utf8() } });
  const batches: RecordBatch[] = [];
  for (let i = 0; i < docs.length; i += 64)
    batches.push(
      batchFromColumns(schema, { text: docs.slice(i, i + 64).map((d) => d.text) }) as unknown as RecordBatch,
    );
  const mb = docs.reduce((a, d) => a + Buffer.byteLength(d.text), 0) / 1e6;
  const times: number[] = [],
    cpus: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const op = (languageOp as unknown as (c: unknown, ctx: { stats: OperatorStats }) => (s: unknown) => never)(
      { mode: 'annotate' },
      { stats: new OperatorStats('language') },
    );
    const t0 = performance.now(),
      c0 = process.cpuUsage();
    await lastValueFrom((from(batches).pipe(op as never) as ReturnType<typeof from<RecordBatch[]>>).pipe(toArray()));
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  return { wall: Math.round((mb / med(times)) * 1e5) / 100, cpu: Math.round((mb / med(cpus)) * 1e5) / 100 };
}
