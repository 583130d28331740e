// A Hugging Face tokenizer.json as an encoder: normalizer, pre-tokenizer, model (BPE, WordPiece,
// Unigram), with the ids HF's tokenizers give for ordinary text (tests compare line by line). Special
// added tokens are not matched in document text (tokenize.ts: documents cannot forge special tokens),
// other added tokens are (added-tokens.ts); the post-processor's template gives the begin and end tokens. GPT-2-style byte-level BPE runs on the
// flowlm engine (fast-path.ts).
import type { IdBuffer } from '../engine/id-buffer.ts';
import { type LoadedTokenizer, WordCache } from '../load/loaded-tokenizer.ts';
import { addedTokenSplitters } from './added-tokens.ts';
import { bpeModel, type EncodeWord } from './bpe-model.ts';
import { byteLevelFastPath } from './fast-path.ts';
import { type Json, list, obj } from './json.ts';
import { normalizer } from './normalizers.ts';
import { preTokenizer } from './pre-tokenizers.ts';
import { templateSpecials } from './post-processor.ts';
import { unigramModel } from './unigram-model.ts';
import { wordPieceModel } from './wordpiece-model.ts';

const META = '\u2581';

export function hfTokenizer(json: unknown, source: string, opts: { cacheEntries?: number } = {}): LoadedTokenizer {
  const root = obj(json, source);
  const model = obj(root.model, `${source}: model`);
  const specials = new Map<string, number>();
  const added = root.added_tokens === undefined ? [] : list(root, 'added_tokens', source);
  added.forEach((t, k) => {
    const a = obj(t, `${source}: added_tokens[${k}]`);
    if (a.special === true && typeof a.content === 'string' && typeof a.id === 'number') specials.set(a.content, a.id);
  });
  const skip = new Set(specials.keys());
  const splitAdded = addedTokenSplitters(added, `${source}: added_tokens`);
  const type = model.type ?? (model.merges ? 'BPE' : Array.isArray(model.vocab) ? 'Unigram' : 'WordPiece');
  let encodeWord: EncodeWord;
  let vocab: Map<string, number>;
  if (type === 'Unigram') ({ encode: encodeWord, vocab } = unigramModel(model, skip, `${source}: model`));
  else {
    vocab = new Map(Object.entries(obj(model.vocab, `${source}: model.vocab`)) as [string, number][]);
    if (type === 'BPE') {
      const plain = !splitAdded.raw && !splitAdded.normalized;
      const fast = plain ? byteLevelFastPath(root, model, vocab, skip, opts.cacheEntries) : undefined;
      const { bos, eos } = templateSpecials(root, specials, source);
      if (fast)
        return {
          source,
          kind: 'tokenizer.json BPE byte-level (flowlm engine)',
          specials,
          bos,
          eos,
          addsBos: bos !== undefined,
          encode: (text, out) => fast.encode(text, out),
        };
      encodeWord = bpeModel(model, vocab, `${source}: model`);
    } else if (type === 'WordPiece') encodeWord = wordPieceModel(model, vocab, `${source}: model`);
    else throw new Error(`${source}: model type ${JSON.stringify(type)} is not supported (BPE, WordPiece, Unigram)`);
  }
  const { bos, eos } = templateSpecials(root, specials, source);
  const normalize = normalizer(root.normalizer, `${source}: normalizer`);
  const pre = preTokenizer(root.pre_tokenizer, `${source}: pre_tokenizer`);
  // a piece splits before each "▁" that follows another character when no token has one there: no
  // token then spans the split, and words repeat, so they are cached (Llama's files have no
  // pre-tokenizer: the whole text would be one piece). BPE only: WordPiece's greedy match and "##"
  // would see other words, and a Unigram path score's rounding depends on where it starts (near-ties
  // flip); and "▁" must be a token, or unknown runs around it would fuse differently.
  const inner = /[^\u2581]\u2581/;
  const splittable = type === 'BPE' && vocab.has(META) && ![...vocab.keys()].some((t) => inner.test(t));
  const cache = new WordCache();
  const word = (w: string, out: IdBuffer) => {
    // words are cached; a long piece (a line with no pre-tokenizer) is not worth the memory
    if (w.length > 64) {
      out.pushAll(encodeWord(w));
      return;
    }
    let ids = cache.get(w);
    if (!ids) {
      ids = Int32Array.from(encodeWord(w));
      cache.set(w, ids);
    }
    out.pushAll(ids);
  };
  const encodeSection = (t: string, first: boolean, out: IdBuffer) => {
    const pieces = pre ? pre(t, first) : [t];
    for (const p of pieces) {
      if (!splittable) {
        word(p, out);
        continue;
      }
      for (let i = 0; i < p.length; ) {
        let j = i + 1;
        while (j < p.length && !(p.charCodeAt(j) === 0x2581 && p.charCodeAt(j - 1) !== 0x2581)) j++;
        word(p.slice(i, j), out);
        i = j;
      }
    }
  };
  return {
    source,
    kind: `tokenizer.json ${type}`,
    specials,
    bos,
    eos,
    addsBos: bos !== undefined,
    encode: (text, out) => {
      // non-special added tokens split the text first (raw ones), then each normalized section
      const raws = splitAdded.raw ? splitAdded.raw(text) : [{ text, id: -1 }];
      raws.forEach((raw, k) => {
        if (raw.id >= 0) {
          out.push(raw.id);
          return;
        }
        const t = normalize ? normalize(raw.text) : raw.text;
        const secs = splitAdded.normalized ? splitAdded.normalized(t) : [{ text: t, id: -1 }];
        // a section is "first" (Metaspace's prepend_scheme) where the text starts
        secs.forEach((sec, m) => {
          if (sec.id >= 0) out.push(sec.id);
          else if (sec.text.length > 0) encodeSection(sec.text, k === 0 && m === 0, out);
        });
      });
    },
  };
}

export { META };
