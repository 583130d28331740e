// Tokenizer engines by name. Every engine encodes text as ordinary text (tiktoken's encode_ordinary,
// `disallowed_special=()`): a special-token string in the text is tokenized like any other text, so
// documents cannot inject control tokens. Special tokens are added by the operator, not read from text.
//   flowlm          the fast default (scanner + piece cache + BPE), see flowlm-engine.ts
//   js-tiktoken     the reference: OpenAI's tiktoken ported to JS
//   tiktoken-wasm   OpenAI's Rust tiktoken compiled to WebAssembly
import { createRequire } from 'node:module';
import type { Tiktoken as JsTiktoken } from 'js-tiktoken/lite';
import type { Tiktoken as WasmTiktoken } from 'tiktoken';
import { withEcmaWhitespace } from './ecma-whitespace.ts';
import { ENCODING, ranksData, type EncodingName } from './encodings.ts';
import { FlowlmEngine, type FlowlmEngineOptions } from './flowlm-engine.ts';
import type { IdBuffer } from './id-buffer.ts';

export const ENGINES = ['flowlm', 'js-tiktoken', 'tiktoken-wasm'] as const;
export type EngineName = (typeof ENGINES)[number];

export interface TokenEngine {
  readonly engine: EngineName;
  readonly encoding: EncodingName;
  /** Appends the ids of `text`, encoded as ordinary text, to `out`. */
  encode(text: string, out: IdBuffer): void;
  /** The text of `ids`; special tokens come out as their strings. */
  decode(ids: ArrayLike<number>): string;
  /** Frees what the engine holds (the WASM encoder's memory). */
  dispose(): void;
}

export type EngineOptions = FlowlmEngineOptions;

export function createEngine(engine: EngineName, encoding: EncodingName, opts: EngineOptions = {}): TokenEngine {
  switch (engine) {
    case 'flowlm':
      return new FlowlmEngine(encoding, opts);
    case 'js-tiktoken':
      return jsTiktoken(encoding);
    case 'tiktoken-wasm':
      return tiktokenWasm(encoding);
    default:
      throw new Error(`unknown tokenizer engine "${String(engine)}" (known: ${ENGINES.join(', ')})`);
  }
}

function jsTiktoken(encoding: EncodingName): TokenEngine {
  // the reference engine loads when it is asked for, not with flowlm's own
  const { Tiktoken } = require('js-tiktoken/lite') as { Tiktoken: typeof JsTiktoken };
  const enc = new Tiktoken(ranksData(encoding));
  const none: string[] = [];
  return {
    engine: 'js-tiktoken',
    encoding,
    encode: (text, out) => out.pushAll(enc.encode(text, none, none)),
    decode: (ids) => enc.decode(Array.from(ids)),
    dispose: () => {},
  };
}

const require = createRequire(import.meta.url);

function tiktokenWasm(encoding: EncodingName): TokenEngine {
  // the CommonJS build instantiates the WASM module synchronously, as a kernel must be built
  const { Tiktoken } = require('tiktoken') as {
    Tiktoken: new (ranks: string, special: Record<string, number>, pattern: string) => WasmTiktoken;
  };
  const data = require(`tiktoken/encoders/${ENCODING[encoding].tiktoken}.json`) as {
    bpe_ranks: string;
    special_tokens: Record<string, number>;
    pat_str: string;
  };
  // tiktoken's own ranks, with its pattern's \s made JavaScript's: the ids are js-tiktoken's also
  // where the two regex engines disagree (U+FEFF, U+0085; see ecma-whitespace.ts)
  let enc: WasmTiktoken | undefined = new Tiktoken(
    data.bpe_ranks,
    data.special_tokens,
    withEcmaWhitespace(data.pat_str),
  );
  const live = () => {
    if (!enc) throw new Error(`tiktoken-wasm engine (${encoding}) used after dispose()`);
    return enc;
  };
  const utf8 = new TextDecoder();
  return {
    engine: 'tiktoken-wasm',
    encoding,
    encode: (text, out) => out.pushAll(live().encode_ordinary(text)),
    decode: (ids) => utf8.decode(live().decode(Uint32Array.from(ids))),
    dispose: () => {
      enc?.free();
      enc = undefined;
    },
  };
}
