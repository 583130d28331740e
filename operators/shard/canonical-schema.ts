// The schema shards are written with: the input's fields with dictionary ids renumbered 0, 1, 2... in
// field order and the schema-level metadata left out. Arrow hands out dictionary ids from a process-wide
// counter and operators put per-batch notes in schema metadata; both would otherwise make the bytes of
// a shard depend on what else the process did, and a re-run could never reproduce them.
import { DataType, Dictionary, Field, FixedSizeList, List, Schema, Struct } from 'apache-arrow';

export function canonicalSchema(schema: Schema): Schema {
  let next = 0;
  const mapType = (t: DataType): DataType => {
    if (DataType.isDictionary(t)) return new Dictionary(mapType(t.dictionary), t.indices, next++, t.isOrdered);
    if (DataType.isList(t)) return new List(mapField(t.children[0]!));
    if (DataType.isFixedSizeList(t)) return new FixedSizeList(t.listSize, mapField(t.children[0]!));
    if (DataType.isStruct(t)) return new Struct(t.children.map(mapField));
    return t;
  };
  const mapField = (f: Field): Field => new Field(f.name, mapType(f.type), f.nullable, f.metadata);
  return new Schema(schema.fields.map(mapField));
}
