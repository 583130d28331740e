// `npm run bench -- unigram [source=embedded|moby] [vocab=8000] [threads=1] [chars=0] [nolineends]`:
// flowlm's Unigram trainer against spm_train on the same lines (bench/_unigram-vs-spm.ts).
import { unigramVsSpm } from './_unigram-vs-spm.ts';

export default async function (args: string[]) {
  const get = (name: string) => args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
  const num = (name: string, dflt: number) => {
    const v = Number(get(name) ?? dflt);
    if (!Number.isInteger(v) || v < 0) throw new Error(`bench unigram: ${name} must be a non-negative integer`);
    return v;
  };
  const source = get('source') ?? 'embedded';
  if (source !== 'embedded' && source !== 'moby') throw new Error('bench unigram: source must be embedded or moby');
  const result = await unigramVsSpm({
    source,
    vocabSize: num('vocab', 8000),
    spmThreads: num('threads', 1) || 1,
    maxChars: num('chars', 0),
    noLineEnds: args.includes('nolineends'),
  });
  for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(40)} ${v}`);
  return result;
}
