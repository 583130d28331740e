// Language identification: English addresses and chapters, hand-written sentences in other languages
// and scripts, and short or ambiguous text that must fall below the confidence threshold.
import { Dictionary, Float32 } from 'apache-arrow';
import { franc } from 'franc';
import { describe, expect, it } from 'vitest';
import { identifyLanguage, language } from '../../../operators/clean/language.ts';
import { toIso6391 } from '../../../operators/clean/language/iso639.ts';
import { mobyDick, runOp, sotu, textBatch } from './real-data.ts';

// one news-style sentence pair per language, written for this test
const SENTENCES: Record<string, string> = {
  fr: 'Le conseil municipal a décidé de rénover la bibliothèque du quartier. Les travaux commenceront au printemps et dureront environ six mois.',
  de: 'Der Gemeinderat hat beschlossen, die Bibliothek im Stadtviertel zu renovieren. Die Arbeiten beginnen im Frühjahr und dauern etwa sechs Monate.',
  es: 'El ayuntamiento ha decidido renovar la biblioteca del barrio. Las obras comenzarán en primavera y durarán unos seis meses.',
  it: 'Il consiglio comunale ha deciso di ristrutturare la biblioteca del quartiere. I lavori inizieranno in primavera e dureranno circa sei mesi.',
  nl: 'De gemeenteraad heeft besloten de bibliotheek in de wijk te renoveren. De werkzaamheden beginnen in het voorjaar en duren ongeveer zes maanden.',
  pl: 'Rada miejska postanowiła wyremontować bibliotekę w dzielnicy. Prace rozpoczną się wiosną i potrwają około sześciu miesięcy.',
  ru: 'Городской совет решил отремонтировать районную библиотеку. Работы начнутся весной и продлятся около шести месяцев.',
  el: 'Το δημοτικό συμβούλιο αποφάσισε να ανακαινίσει τη βιβλιοθήκη της γειτονιάς. Οι εργασίες θα ξεκινήσουν την άνοιξη.',
  ja: '市議会は地域の図書館を改修することを決めました。工事は春に始まり、約六か月続く予定です。',
  zh: '市议会决定翻修社区图书馆。工程将于春天开始，预计持续约六个月。',
  tr: 'Belediye meclisi mahalle kütüphanesini yenilemeye karar verdi. Çalışmalar ilkbaharda başlayacak ve yaklaşık altı ay sürecek.',
};
const AMBIGUOUS = ['Hello world', 'OK thanks', 'SELECT * FROM t WHERE x = 1', 'lol ok see you', 'Bonjour', 'Thanks!'];

describe('clean/language', () => {
  it('finds English in every State of the Union address and Moby-Dick chapter, confidently', async () => {
    const docs = [...sotu(), ...mobyDick().filter((_, i) => i % 3 === 0)];
    const { rows, stats } = await runOp(language, { allowed: ['en'] }, [textBatch(docs.map((d) => d.text))]);
    expect(stats.dropReasons).toEqual({});
    expect(new Set(rows.map((r) => r.lang))).toEqual(new Set(['en']));
    expect(Math.min(...rows.map((r) => r.lang_score as number))).toBeGreaterThan(0.9);
  });

  it('identifies hand-written sentences in eleven other languages and four scripts', async () => {
    const langs = Object.keys(SENTENCES);
    const { rows, batches } = await runOp(language, {}, [textBatch(langs.map((l) => SENTENCES[l]!))]);
    expect(rows.map((r) => r.lang)).toEqual(langs);
    for (const r of rows) expect(r.lang_score as number).toBeGreaterThanOrEqual(0.5);
    const schema = batches[0]!.schema;
    expect(schema.fields.find((f) => f.name === 'lang')!.type).toBeInstanceOf(Dictionary);
    expect(schema.fields.find((f) => f.name === 'lang_score')!.type).toBeInstanceOf(Float32);
    const three = await runOp(language, { codes: '639-3' }, [textBatch([SENTENCES.fr!, SENTENCES.zh!])]);
    expect(three.rows.map((r) => r.lang)).toEqual(['fra', 'cmn']);
  });

  it('drops short and ambiguous text below the threshold, each with its reason', async () => {
    const texts = [...AMBIGUOUS, 'too short', '12345 67890 12345 67890', SENTENCES.fr!];
    const { rows, stats } = await runOp(language, { minChars: 10 }, [textBatch(texts)]);
    expect(rows.map((r) => r.lang)).toEqual(['fr']);
    expect(stats.dropReasons).toEqual({
      'language.too_short': 4,
      'language.low_confidence': 3,
      'language.undetermined': 1,
    });
    for (const t of AMBIGUOUS.filter((a) => a.length >= 10)) expect(identifyLanguage(t).score).toBeLessThan(0.5);
  });

  it('confidence grows with the evidence: longer excerpts of the same addresses score higher', () => {
    const docs = sotu().filter((_, i) => i % 4 === 0);
    const mean = (n: number) => docs.reduce((a, d) => a + identifyLanguage(d.text.slice(0, n)).score, 0) / docs.length;
    const [m40, m100, m400] = [mean(40), mean(100), mean(400)];
    expect(m40).toBeLessThan(m100);
    expect(m100).toBeLessThan(m400);
    expect(m400).toBeGreaterThan(0.95);
  });

  it('keeps only allowed languages (639-1 or 639-3 codes), or annotates without dropping', async () => {
    const texts = [SENTENCES.fr!, SENTENCES.de!, sotu()[0]!.text, SENTENCES.es!];
    const kept = await runOp(language, { allowed: ['en', 'deu'] }, [textBatch(texts)]);
    expect(kept.rows.map((r) => r.lang)).toEqual(['de', 'en']);
    expect(kept.stats.dropReasons).toEqual({ 'language.not_allowed': 2 });
    const annotated = await runOp(language, { allowed: ['en'], mode: 'annotate' }, [
      textBatch([...texts, 'OK thanks']),
    ]);
    expect(annotated.rows.map((r) => r.lang)).toEqual(['fr', 'de', 'en', 'es', 'und']);
    expect(annotated.stats.dropped).toBe(0);
    expect(annotated.stats.counters).toEqual({
      'would_drop.language.not_allowed': 3,
      'would_drop.language.too_short': 1,
    });
  });

  it('restricting candidates with `only` settles confusable languages', () => {
    expect(identifyLanguage(SENTENCES.it!, { only: ['ita', 'spa', 'por', 'fra'] }).lang).toBe('it');
    // Scots is ignored by default; allowed back, franc prefers it for this short English line
    expect(identifyLanguage('I think that this is a good idea and we should do it.').lang).toBe('en');
    expect(identifyLanguage('I think that this is a good idea and we should do it.', { ignore: [] }).lang).toBe('sco');
  });

  it('minConfidence sets the threshold: at 0 text with no evidence is kept, at 0.999 two-sentence texts drop', async () => {
    const texts = ['Hello world', 'OK thanks', SENTENCES.fr!, SENTENCES.de!];
    const lenient = await runOp(language, { minConfidence: 0, minChars: 5 }, [textBatch(texts)]);
    expect(lenient.rows).toHaveLength(4);
    expect(lenient.stats.dropReasons).toEqual({});
    const strict = await runOp(language, { minConfidence: 0.999 }, [textBatch([...texts, sotu()[0]!.text])]);
    expect(strict.rows.map((r) => r.lang)).toEqual(['en']);
    expect(strict.stats.dropReasons['language.low_confidence']).toBeGreaterThanOrEqual(2);
  });

  it('names short texts by script where the script has one language (as franc does), others are too short', async () => {
    // under minChars (20): Greek, Hangul, kana, Thai, Georgian and Armenian each name one language;
    // Hebrew script is shared by Hebrew and Yiddish, Latin by many, so those stay too short to tell
    const byScript = [
      'Γειά σου κόσμε',
      '안녕하세요 여러분',
      'ありがとうございます',
      'สวัสดีครับ',
      'გამარჯობა',
      'Բարև ձեզ',
    ];
    const tooShort = ['שלום עולם', 'Bonjour à tous', 'Guten Tag'];
    const { rows, stats } = await runOp(language, {}, [textBatch([...byScript, ...tooShort])]);
    expect(rows.map((r) => r.lang)).toEqual(byScript.map((t) => toIso6391(franc(t, { minLength: 1 }))));
    expect(rows.map((r) => r.lang)).toEqual(['el', 'ko', 'ja', 'th', 'ka', 'hy']);
    expect(stats.dropReasons).toEqual({ 'language.too_short': 3 });
    // two Greek letters name Greek too, but are too little evidence for the default threshold (0.5)
    expect(identifyLanguage('Να')).toMatchObject({ lang: 'el', byScript: true });
    const two = await runOp(language, {}, [textBatch(['Να', 'Καλά'])]);
    expect(two.rows.map((r) => r.lang)).toEqual(['el']);
    expect(two.stats.dropReasons).toEqual({ 'language.low_confidence': 1 });
  });
});
