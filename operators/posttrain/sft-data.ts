// The column maps of supervised fine-tuning data: prompt/response records (what the readers and the
// spam-sft source give, Doc-like: id and source kept through tokenizing) and their tokens with a
// per-token loss mask (what sft-tokenize gives and sft-pack reads).
import { Field, Int32, List, Schema, Uint8, Utf8, type Dictionary } from 'apache-arrow';
import { dictUtf8, schemaOf } from '../../src/schema/index.ts';

export type SftRecord = { id: Utf8; prompt: Utf8; response: Utf8; source: Dictionary<Utf8, Int32> };
export type SftTokens = { tokens: List<Int32>; loss_mask: List<Uint8> };

export const sftRecordSchema = (): Schema<SftRecord> =>
  schemaOf<SftRecord>({
    id: { type: new Utf8() },
    prompt: { type: new Utf8() },
    response: { type: new Utf8() },
    source: { type: dictUtf8() },
  });

/** What sft-tokenize reads: the two text columns (nullable, so any reader's strings fit; a null is a drop). */
export const sftTextSchema = () =>
  new Schema<{ prompt: Utf8; response: Utf8 }>([
    new Field('prompt', new Utf8(), true),
    new Field('response', new Utf8(), true),
  ]);

export const lossMaskType = () => new List(new Field('item', new Uint8(), false));

/** What sft-pack reads: each example's ids and, token for token, 1 where the token is a target. */
export const sftTokensSchema = () =>
  new Schema<SftTokens>([
    new Field('tokens', new List(new Field('item', new Int32(), false)), false),
    new Field('loss_mask', lossMaskType(), false),
  ]);
