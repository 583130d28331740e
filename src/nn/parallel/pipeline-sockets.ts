// The groups of a dp x pp grid of processes over TCP: one socket collective per group of
// pipelineGroups this rank is in. A group's first member listens (on ports[group], 0 for an ephemeral
// port it reports through onListening); the others connect to ports[group], so a launcher starts the
// listening ranks first and passes their ports on (for two stages: stage 0 listens for every group).
import { socketCollective } from '../../runtime/collectives/socket-transport.ts';
import type { Collective } from '../../runtime/collectives/collective.ts';
import { gridRank, pipelineComms, pipelineGroups, type PipelineComms } from './pipeline-p2p.ts';

export interface SocketPipelineOptions {
  stages: number;
  dp: number;
  stage: number;
  dpRank: number;
  tiedHead: boolean;
  host: string;
  /** by group name: where its first member listens (omitted or 0 there: an ephemeral port) */
  ports: Readonly<Record<string, number>>;
  /** a group this rank listens for is ready, on `port` */
  onListening?: (group: string, port: number) => void;
  /** how long each rendezvous may take, ms */
  timeoutMs?: number;
}

/** This process's comms; resolves once every group it is in has joined. */
export async function socketPipelineComms(o: SocketPipelineOptions): Promise<PipelineComms> {
  const me = gridRank(o.stages, o.dpRank, o.stage);
  const mine = pipelineGroups(o.stages, o.dp).filter((g) => g.members.includes(me));
  const joined = await Promise.all(
    mine.map(async (g): Promise<[string, Collective]> => {
      const rank = g.members.indexOf(me);
      const port = o.ports[g.name] ?? 0;
      if (rank > 0 && port === 0)
        throw new Error(
          `socketPipelineComms: no port for group ${g.name}; start its first member (grid rank ${g.members[0]}) first and pass the port it reports`,
        );
      const c = await socketCollective({
        rank,
        worldSize: g.members.length,
        master: { host: o.host, port },
        timeoutMs: o.timeoutMs,
        onListening: g.members.length > 1 ? (a) => o.onListening?.(g.name, a.port) : undefined,
      });
      return [g.name, c];
    }),
  );
  return pipelineComms(o, new Map(joined));
}
