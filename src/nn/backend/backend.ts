// Chooses the tfjs backend by what actually loads: node-gpu > node > wasm > cpu. The native bindings
// are optional dependencies whose install downloads libtensorflow, so on many machines they are
// simply absent; wasm (XNNPACK, SIMD) is then the fast choice and cpu (plain JS) the last resort.
// FLOWLM_BACKEND=node-gpu|node|wasm|cpu forces one (and fails loudly if it cannot load).
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { headHelperWanted, startHeadHelper } from '../head/head-helper.ts';
import { registerNativeMatmul } from './native/native-matmul.ts';
import { registerWasmKernels } from './wasm-kernels.ts';

export const BACKENDS = ['node-gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendChoice {
  name: BackendName;
  /** tfjs's own name for it: 'tensorflow' for both native bindings */
  tfName: string;
  /** e.g. 'simd, 1 thread' */
  detail: string;
  /** why each preferred backend was passed over, e.g. 'tfjs-node not installed' */
  skipped: string[];
  /** the one line printed to stderr */
  line: string;
}

const PACKAGES: Record<'node-gpu' | 'node', string> = {
  'node-gpu': '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
};

function describeFailure(pkg: string, err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
    return `${pkg.replace('@tensorflow/', '')} not installed`;
  const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return `${pkg.replace('@tensorflow/', '')} failed to load (${msg})`;
}

/** Loads one backend and makes it current; throws with the reason if it cannot. */
async function tryBackend(name: BackendName): Promise<{ tfName: string; detail: string }> {
  if (name === 'node-gpu' || name === 'node') {
    const pkg = PACKAGES[name];
    await import(pkg);
    // both bindings register the backend 'tensorflow' as a side effect of being imported
    if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but its backend did not initialise`);
    return { tfName: 'tensorflow', detail: name === 'node-gpu' ? 'CUDA' : 'libtensorflow CPU' };
  }
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dist = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
    // Node has no fetch of relative URLs: point the loader at the files in node_modules
    wasm.setWasmPaths({
      'tfjs-backend-wasm.wasm': join(dist, 'tfjs-backend-wasm.wasm'),
      'tfjs-backend-wasm-simd.wasm': join(dist, 'tfjs-backend-wasm-simd.wasm'),
      'tfjs-backend-wasm-threaded-simd.wasm': join(dist, 'tfjs-backend-wasm-threaded-simd.wasm'),
    });
    // Emscripten's Node glue adds process listeners that rethrow any uncaught error or unhandled rejection
    // from inside its minified module, so a failed run ended with a screen of that source; Node's own
    // handling (the error and its stack) is kept instead
    const before = { ex: process.listeners('uncaughtException'), rej: process.listeners('unhandledRejection') };
    const ok = await tf.setBackend('wasm');
    for (const l of process.listeners('uncaughtException'))
      if (!before.ex.includes(l)) process.off('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection'))
      if (!before.rej.includes(l)) process.off('unhandledRejection', l);
    if (!ok) throw new Error('tfjs-backend-wasm did not initialise');
    registerWasmKernels();
    // the optional native addon (native/): OpenBLAS sgemm on the wasm heap for every matmul
    const native = registerNativeMatmul();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    // tfjs-backend-wasm turns threads off under Node (its worker bootstrap needs blob: URLs)
    const threads = wasm.getThreadsCount();
    const detail = `${simd ? 'simd' : 'no simd'}, ${threads} thread${threads === 1 ? '' : 's'}`;
    return { tfName: 'wasm', detail: native ? `${detail}, ${native}` : detail };
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('tfjs cpu backend did not initialise');
  return { tfName: 'cpu', detail: 'plain JS' };
}

function parseOverride(value: string | undefined): BackendName | undefined {
  if (value === undefined || value === '') return undefined;
  if ((BACKENDS as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(
    `FLOWLM_BACKEND=${value} is not a backend; use one of ${BACKENDS.join(', ')} or unset it to choose automatically`,
  );
}

let chosen: Promise<BackendChoice> | undefined;

export interface InitBackendOptions {
  /** forces a backend; defaults to $FLOWLM_BACKEND */
  backend?: BackendName;
  /** where the one-line announcement goes; false for silence. Default: stderr. */
  announce?: ((line: string) => void) | false;
  /** start the head helper thread on wasm (head-helper.ts); default: with 2+ cores, unless
   * FLOWLM_HEAD_THREAD=0 */
  headThread?: boolean;
}

/** Chooses and initialises the backend once per process; later calls return the same choice. */
export function initBackend(opts: InitBackendOptions = {}): Promise<BackendChoice> {
  chosen ??= choose(opts);
  return chosen;
}

async function choose(opts: InitBackendOptions): Promise<BackendChoice> {
  const forced = opts.backend ?? parseOverride(process.env.FLOWLM_BACKEND);
  const order: readonly BackendName[] = forced ? [forced] : BACKENDS;
  const skipped: string[] = [];
  for (const name of order) {
    try {
      const loaded = await tryBackend(name);
      const { tfName } = loaded;
      let { detail } = loaded;
      if (name === 'wasm' && (opts.headThread ?? headHelperWanted()) && (await startHeadHelper()))
        detail += ' + 1 head thread';
      const why = forced ? [opts.backend ? 'chosen by the caller' : 'forced by FLOWLM_BACKEND'] : skipped;
      const line = `flowlm: tfjs backend ${name} (${detail})${why.length ? ` — ${why.join(', ')}` : ''}`;
      const announce = opts.announce ?? ((l: string) => process.stderr.write(`${l}\n`));
      if (announce) announce(line);
      return { name, tfName, detail, skipped, line };
    } catch (err) {
      const reason =
        name === 'node-gpu' || name === 'node'
          ? describeFailure(PACKAGES[name], err)
          : `${name} failed (${err instanceof Error ? err.message : String(err)})`;
      if (forced)
        throw new Error(
          `flowlm: backend ${name}${opts.backend ? '' : ' (FLOWLM_BACKEND)'} cannot be used: ${reason}. Unset FLOWLM_BACKEND to choose automatically.`,
          { cause: err },
        );
      skipped.push(reason);
    }
  }
  throw new Error(`flowlm: no tfjs backend could be initialised: ${skipped.join('; ')}`);
}

/** True where tensors live in this process's memory, so small JS kernels over typed arrays are cheap
 * (wasm, cpu); false for the native and GPU backends, where tf ops avoid copies. */
export function jsKernelsPreferred(): boolean {
  const b = tf.getBackend();
  return b === 'wasm' || b === 'cpu';
}
