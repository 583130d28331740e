// The begin and end tokens a tokenizer.json's post-processor adds to a single sequence:
// TemplateProcessing (Llama: "<s> $A"), BertProcessing/RobertaProcessing ([CLS] $A [SEP]), or a
// Sequence holding one of them. With none, the end token is the first of the usual names the file
// has as a special token.
import { type Json, obj } from './json.ts';

const EOS_NAMES = ['</s>', '<|endoftext|>', '<|end_of_text|>', '<eos>', '[SEP]', '<|im_end|>'];

export function templateSpecials(
  root: Json,
  specials: ReadonlyMap<string, number>,
  source: string,
): { bos?: string; eos?: string } {
  const found = fromProcessor(root.post_processor, source);
  return {
    bos: found.bos,
    eos: found.eos ?? EOS_NAMES.find((n) => specials.has(n)),
  };
}

function fromProcessor(json: unknown, source: string): { bos?: string; eos?: string } {
  if (json === null || json === undefined) return {};
  const p = obj(json, `${source}: post_processor`);
  if (p.type === 'Sequence' && Array.isArray(p.processors)) {
    for (const q of p.processors) {
      const got = fromProcessor(q, source);
      if (got.bos || got.eos) return got;
    }
    return {};
  }
  if (p.type === 'BertProcessing' || p.type === 'RobertaProcessing') {
    const cls = Array.isArray(p.cls) ? p.cls[0] : undefined;
    const sep = Array.isArray(p.sep) ? p.sep[0] : undefined;
    return { bos: typeof cls === 'string' ? cls : undefined, eos: typeof sep === 'string' ? sep : undefined };
  }
  if (p.type === 'TemplateProcessing' && Array.isArray(p.single)) {
    const items = p.single as Json[];
    const special = (x: Json | undefined) => {
      const s = x?.SpecialToken as Json | undefined;
      return typeof s?.id === 'string' ? s.id : undefined;
    };
    const seq = items.findIndex((x) => x.Sequence !== undefined);
    return {
      bos: seq > 0 ? special(items[0]) : undefined,
      eos: seq >= 0 && seq < items.length - 1 ? special(items[items.length - 1]) : undefined,
    };
  }
  return {};
}
