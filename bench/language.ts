// `npm run bench -- language [rounds=3] [per_lang=N] [langs=de,fr,ja]`: the fast language engine
// against franc on Debian's translated manual pages (bench/_language-agreement.ts): label agreement
// overall and per language, and both engines' MB/s single thread in the same run.
import { languageAgreement } from './_language-agreement.ts';

const arg = (args: string[], name: string) => args.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1);

export default async function language(args: string[]): Promise<Record<string, unknown>> {
  const rounds = Number(arg(args, 'rounds') ?? 3);
  const perLang = arg(args, 'per_lang');
  const langs = arg(args, 'langs');
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`bench language: rounds must be a positive integer`);
  const r = await languageAgreement({
    rounds,
    ...(perLang ? { maxPerLang: Number(perLang) } : {}),
    ...(langs ? { langs: langs.split(',') } : {}),
  });
  for (const [lang, e] of Object.entries(r.by_lang))
    console.log(
      `${lang.padEnd(6)} docs ${String(e.docs).padStart(5)}  agreement ${e.agreement.toFixed(4)}  franc=dir ` +
        `${e.franc_matches_dir.toFixed(3)}  ${JSON.stringify(e.disagreements)}`,
    );
  const worst = Object.entries(r.by_lang).sort((a, b) => a[1].agreement - b[1].agreement)[0];
  console.log(
    `${r.docs} documents (${r.mb} MB): agreement ${r.agreement}, identical scores ${r.same_score}; ` +
      `fast ${r.fast_mb_per_s} MB/s, franc ${r.franc_mb_per_s} MB/s (x${(r.fast_mb_per_s / r.franc_mb_per_s).toFixed(1)})`,
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
    speedup: Math.round((r.fast_mb_per_s / r.franc_mb_per_s) * 10) / 10,
  };
}
