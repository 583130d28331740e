// Two ranks of a bench as two `node --import tsx` processes meeting over TCP on 127.0.0.1 (benches
// bf16-allreduce and overlap): the bench file runs itself as each rank, its arguments in an environment
// variable; rank 0 listens on an ephemeral port and says so on stdout, then rank 1 starts with that
// port; each rank prints one JSON line when done (or failed). Lines that are not JSON pass to stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export type RankLine<Done> =
  | { kind: 'listening'; port: number }
  | ({ kind: 'done'; rank: number } & Done)
  | { kind: 'failed'; rank: number; message: string };

/** A rank's stdout line. */
export const say = <Done>(l: RankLine<Done>): void => void process.stdout.write(`${JSON.stringify(l)}\n`);

/** This process's rank arguments when it was started as a rank, else undefined. */
export const rankArgs = <A>(env: string): A | undefined => {
  const v = process.env[env];
  return v ? (JSON.parse(v) as A) : undefined;
};

function spawnRank<Done>(file: string, env: string, args: unknown, onLine: (l: RankLine<Done>) => void): ChildProcess {
  const p = spawn(process.execPath, ['--import', 'tsx', file], {
    env: { ...process.env, [env]: JSON.stringify(args) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  createInterface({ input: p.stdout! }).on('line', (l) => {
    try {
      onLine(JSON.parse(l) as RankLine<Done>);
    } catch {
      process.stderr.write(`${l}\n`);
    }
  });
  return p;
}

/** Runs ranks 0 and 1 of `fileUrl` (import.meta.url) and returns their done lines, by rank. */
export async function twoTcpRanks<Done>(
  who: string,
  fileUrl: string,
  env: string,
  argsOf: (rank: 0 | 1, port: number) => unknown,
): Promise<Array<{ kind: 'done'; rank: number } & Done>> {
  const file = fileURLToPath(fileUrl);
  const done: Array<{ kind: 'done'; rank: number } & Done> = [];
  const procs: ChildProcess[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const onLine = (l: RankLine<Done>) => {
        if (l.kind === 'listening') procs.push(spawnRank(file, env, argsOf(1, l.port), onLine));
        else if (l.kind === 'failed') reject(new Error(`bench ${who}: rank ${l.rank}: ${l.message}`));
        else if (done.push(l) === 2) resolve();
      };
      procs.push(spawnRank(file, env, argsOf(0, 0), onLine));
      for (const p of procs)
        p.once('exit', (code) => code && reject(new Error(`bench ${who}: a rank exited with ${code}`)));
    });
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill();
  }
  return done.sort((x, y) => x.rank - y.rank);
}
