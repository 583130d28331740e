// defineOperator / defineSource / defineSink: one definition gives both a plain RxJS factory
// (`src$.pipe(op(config))`) and the registry entry a pipeline spec refers to by id.
import './detach-early.ts';
import type { RecordBatch, Schema, TypeMap } from 'apache-arrow';
import { Observable, catchError, tap, throwError, type OperatorFunction } from 'rxjs';
import { z } from 'zod';
import { makeContext, type OperatorContext } from './context.ts';
import { FlowError } from './errors.ts';
import { countInput, countOutput } from './count.ts';
import { pullSource } from './pull-source.ts';
import type { Placement } from './resource.ts';
import { sinkOperator, type Sink, type SinkResult } from './sink.ts';
import { safeParseKnown } from './unknown-keys.ts';
import type { Budget } from './tickets.ts';

export type ConfigSchema = z.ZodType;
/** The output row type for an input with columns T: operators pass columns they do not touch through. */
export type Through<T extends TypeMap, O extends TypeMap, P extends boolean> = P extends true
  ? Omit<T, keyof O> & O
  : O;

interface CommonDef<C extends ConfigSchema> {
  /** registry id, also the path under operators/ (e.g. "clean/normalize") */
  id: string;
  description: string;
  config: C;
  /** file URL of the defining module (import.meta.url): lets worker threads load the operator */
  module?: string;
  /** where it may run in a run of several ranks (default: 'workers' for a parallel transform, else 'any') */
  placement?: Placement;
  /** a cap on the credits of the batches it issues (a source, or a transform that opens its own credit
   * scope): e.g. one optimizer step in flight for the training chain, whatever the spec's budget */
  credits?: Partial<Budget>;
}

export interface TransformDef<C extends ConfigSchema, I extends TypeMap, O extends TypeMap, P extends boolean>
  extends CommonDef<C> {
  kind?: 'transform';
  /** columns the operator reads; upstream may carry more */
  input: () => Schema<I>;
  /** true when input columns not in `output` flow through unchanged */
  passthrough: P;
  /** the columns it produces (added to or replacing the input's when passthrough) */
  output: (config: z.output<C>) => Schema<O>;
  /** with passthrough: input columns the operator leaves out of its output (e.g. tokenize drops text) */
  removes?: (config: z.output<C>) => string[];
  /** a pure batch function: marks the operator parallel (it may run on the worker pool) */
  kernel?: (config: z.output<C>) => (batch: RecordBatch<I>) => RecordBatch<O>;
  make(config: z.output<C>, ctx: OperatorContext): OperatorFunction<RecordBatch<I>, RecordBatch<O>>;
}

export interface SourceDef<C extends ConfigSchema, O extends TypeMap> extends CommonDef<C> {
  kind: 'source';
  output: (config: z.output<C>) => Schema<O>;
  make(config: z.output<C>, ctx: OperatorContext): AsyncIterable<RecordBatch<O>>;
}

export interface SinkDef<C extends ConfigSchema, I extends TypeMap> extends CommonDef<C> {
  kind: 'sink';
  input: () => Schema<I>;
  make(config: z.output<C>, ctx: OperatorContext): Sink<I>;
}

export type AnyOperatorDef =
  | TransformDef<ConfigSchema, TypeMap, TypeMap, boolean>
  | SourceDef<ConfigSchema, TypeMap>
  | SinkDef<ConfigSchema, TypeMap>;

/** Parse a config, turning zod issues into an error that names the operator and each path. */
export function parseConfig<C extends ConfigSchema>(def: CommonDef<C>, config: unknown, nodeId = def.id): z.output<C> {
  const r = safeParseKnown(def.config, config ?? {});
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `${['config', ...i.path.map(String)].join('.')}: ${i.message}`);
  throw new FlowError(nodeId, `invalid config for operator ${def.id}:\n  ${lines.join('\n  ')}`);
}

export type TransformFactory<C extends ConfigSchema, I extends TypeMap, O extends TypeMap, P extends boolean> = {
  (
    config?: z.input<C>,
    ctx?: Partial<OperatorContext>,
  ): <T extends I>(source: Observable<RecordBatch<T>>) => Observable<RecordBatch<Through<T, O, P>>>;
  readonly def: TransformDef<C, I, O, P>;
};

export function defineOperator<C extends ConfigSchema, I extends TypeMap, O extends TypeMap, P extends boolean>(
  def: TransformDef<C, I, O, P>,
): TransformFactory<C, I, O, P> {
  const factory = (config?: z.input<C>, partial?: Partial<OperatorContext>) => {
    const cfg = parseConfig(def, config, partial?.nodeId);
    const op = instantiateTransform(def, cfg, makeContext(partial?.nodeId ?? def.id, partial));
    return op as unknown as <T extends I>(
      source: Observable<RecordBatch<T>>,
    ) => Observable<RecordBatch<Through<T, O, P>>>;
  };
  return Object.assign(factory, { def: { kind: 'transform' as const, ...def } });
}

export type SourceFactory<C extends ConfigSchema, O extends TypeMap> = {
  (config?: z.input<C>, ctx?: Partial<OperatorContext>): Observable<RecordBatch<O>>;
  readonly def: SourceDef<C, O>;
};

export function defineSource<C extends ConfigSchema, O extends TypeMap>(
  def: Omit<SourceDef<C, O>, 'kind'>,
): SourceFactory<C, O> {
  const full: SourceDef<C, O> = { kind: 'source', ...def };
  const factory = (config?: z.input<C>, partial?: Partial<OperatorContext>) =>
    instantiateSource(
      full,
      parseConfig(full, config, partial?.nodeId),
      makeContext(partial?.nodeId ?? def.id, partial),
    );
  return Object.assign(factory, { def: full });
}

export type SinkFactory<C extends ConfigSchema, I extends TypeMap> = {
  (
    config?: z.input<C>,
    ctx?: Partial<OperatorContext>,
  ): <T extends I>(source: Observable<RecordBatch<T>>) => Observable<SinkResult>;
  readonly def: SinkDef<C, I>;
};

export function defineSink<C extends ConfigSchema, I extends TypeMap>(
  def: Omit<SinkDef<C, I>, 'kind'>,
): SinkFactory<C, I> {
  const full: SinkDef<C, I> = { kind: 'sink', ...def };
  const factory = (config?: z.input<C>, partial?: Partial<OperatorContext>) => {
    const op = instantiateSink(
      full,
      parseConfig(full, config, partial?.nodeId),
      makeContext(partial?.nodeId ?? def.id, partial),
    );
    return op as <T extends I>(source: Observable<RecordBatch<T>>) => Observable<SinkResult>;
  };
  return Object.assign(factory, { def: full });
}

/** Any factory made above, as the registry and specs hold it (its def's types erased). */
export interface AnyFactory {
  readonly def: { readonly id: string; readonly kind?: 'source' | 'transform' | 'sink'; readonly description: string };
}

/** Where an operator runs (its declared placement, or the default for its kind). */
export function placementOf(def: AnyOperatorDef): Placement {
  if (def.placement) return def.placement;
  return (def.kind ?? 'transform') === 'transform' && 'kernel' in def && def.kernel ? 'workers' : 'any';
}

/** The definition behind a factory, with its types erased to the common shape. */
export const defOf = (f: AnyFactory): AnyOperatorDef => f.def as unknown as AnyOperatorDef;

// Instantiation from an already parsed config: shared by the factories and the pipeline compiler.

export function instantiateTransform<I extends TypeMap, O extends TypeMap>(
  def: TransformDef<ConfigSchema, I, O, boolean>,
  config: unknown,
  ctx: OperatorContext,
): OperatorFunction<RecordBatch<I>, RecordBatch<O>> {
  const inner = def.make(config, ctx);
  return (source) => {
    // errors the operator raises itself get its name (a foreign RxJS operator inside throws plain
    // errors); errors from upstream pass through unchanged
    const upstream = new WeakSet<object>();
    const mark = (err: unknown) => {
      if (typeof err === 'object' && err !== null) upstream.add(err);
    };
    return source.pipe(
      countInput(ctx.stats),
      tap({ error: mark }),
      inner,
      countOutput(ctx.stats),
      catchError((err: unknown) =>
        throwError(() =>
          typeof err === 'object' && err !== null && upstream.has(err) ? err : FlowError.wrap(ctx.nodeId, err),
        ),
      ),
    );
  };
}

export function instantiateSource<O extends TypeMap>(
  def: SourceDef<ConfigSchema, O>,
  config: unknown,
  ctx: OperatorContext,
): Observable<RecordBatch<O>> {
  return pullSource(() => def.make(config, ctx), ctx).pipe(countOutput(ctx.stats));
}

export function instantiateSink<I extends TypeMap>(
  def: SinkDef<ConfigSchema, I>,
  config: unknown,
  ctx: OperatorContext,
): OperatorFunction<RecordBatch<I>, SinkResult> {
  return (source) =>
    source.pipe(
      countInput(ctx.stats),
      sinkOperator(() => def.make(config, ctx), ctx),
    );
}
