// This process's place in a multi-process run: --rank/--world-size/--master flags, or the variables
// torchrun (and Slurm/Kubernetes wrappers written for it) set: RANK, WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT, LOCAL_RANK. Flags win over variables, field by field.
import { z } from 'zod';

export interface Master {
  host: string;
  port: number;
}

export interface RankSpec {
  rank: number;
  worldSize: number;
  master: Master;
  /** rank among the processes on this machine (torchrun's LOCAL_RANK), when known */
  localRank?: number;
  /** where the values came from, for messages */
  source: 'flags' | 'env' | 'flags+env';
}

export interface RankFlags {
  rank?: string;
  worldSize?: string;
  master?: string;
}

/** Bad rank settings: the CLI reports them as bad usage (exit 2). */
export class RankSpecError extends Error {
  override readonly name = 'RankSpecError';
}

const int = (what: string, min: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `${what} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${what} must be at least ${min}`).max(65_535, `${what} is too large`));

/** `host:port`, `[v6addr]:port`; the port 1-65535. */
export function parseMaster(text: string, what = '--master'): Master {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text.trim()) ?? /^([^:\s]+):(\d+)$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < 1 || port > 65_535)
    throw new RankSpecError(`${what} expects ADDR:PORT (e.g. 127.0.0.1:29500), got "${text}"`);
  return { host: m[1]!, port };
}

const check = (schema: z.ZodType<number>, text: string): number => {
  const r = schema.safeParse(text);
  if (!r.success) throw new RankSpecError(`${r.error.issues[0]?.message ?? 'invalid'}, got "${text}"`);
  return r.data;
};

/** The rank settings from flags and environment; undefined when neither names a rank or world size
 * (a single-process run). Incomplete or inconsistent settings throw a RankSpecError naming what to set. */
export function rankSpec(flags: RankFlags, env: NodeJS.ProcessEnv = process.env): RankSpec | undefined {
  const fromFlags = flags.rank !== undefined || flags.worldSize !== undefined || flags.master !== undefined;
  const fromEnv = env.RANK !== undefined || env.WORLD_SIZE !== undefined;
  if (!fromFlags && !fromEnv) return undefined;
  let usedEnv = false;
  /** [text, the name it came by]: the flag, else the variable */
  const pick = (flag: string | undefined, flagName: string, name: string): [string, string] | undefined => {
    if (flag !== undefined) return [flag, flagName];
    const v = env[name];
    if (v === undefined) return undefined;
    usedEnv = true;
    return [v, name];
  };
  const rankText = pick(flags.rank, '--rank', 'RANK');
  const worldText = pick(flags.worldSize, '--world-size', 'WORLD_SIZE');
  if (!rankText || !worldText) {
    throw new RankSpecError(
      `a multi-process run needs both the rank and the world size: give --rank R --world-size W (or RANK and WORLD_SIZE); missing ${!rankText ? '--rank/RANK' : '--world-size/WORLD_SIZE'}`,
    );
  }
  const rank = check(int(rankText[1], 0), rankText[0]);
  const worldSize = check(int(worldText[1], 1), worldText[0]);
  if (rank >= worldSize)
    throw new RankSpecError(
      `${rankText[1]} ${rank} must be below ${worldText[1]} ${worldSize} (ranks are 0 to ${worldSize - 1})`,
    );
  let master: Master;
  if (flags.master !== undefined) master = parseMaster(flags.master);
  else if (env.MASTER_ADDR !== undefined || env.MASTER_PORT !== undefined) {
    usedEnv = true;
    if (!env.MASTER_ADDR || !env.MASTER_PORT)
      throw new RankSpecError(
        `MASTER_ADDR and MASTER_PORT go together; set both (got MASTER_ADDR=${env.MASTER_ADDR ?? ''} MASTER_PORT=${env.MASTER_PORT ?? ''})`,
      );
    master = parseMaster(
      `${env.MASTER_ADDR.includes(':') ? `[${env.MASTER_ADDR}]` : env.MASTER_ADDR}:${env.MASTER_PORT}`,
      'MASTER_ADDR:MASTER_PORT',
    );
  } else if (worldSize === 1)
    master = { host: '127.0.0.1', port: 29_500 }; // unused: nothing to meet
  else
    throw new RankSpecError(
      `rank ${rank} of ${worldSize} needs the master's address: --master ADDR:PORT (or MASTER_ADDR and MASTER_PORT)`,
    );
  const localRank = env.LOCAL_RANK !== undefined ? check(int('LOCAL_RANK', 0), env.LOCAL_RANK) : undefined;
  return { rank, worldSize, master, localRank, source: fromFlags ? (usedEnv ? 'flags+env' : 'flags') : 'env' };
}
