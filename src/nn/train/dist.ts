// Where this training process stands in a data-parallel run: its rank, the world size and the
// collective that averages gradients across ranks. One process alone is rank 0 of 1 with the identity
// collective, so the trainer has a single code path.
import { localCollective, type Collective } from '../../runtime/collectives/collective.ts';

export interface Dist {
  rank: number;
  worldSize: number;
  collective: Collective;
}

export const singleRank = (): Dist => ({ rank: 0, worldSize: 1, collective: localCollective() });
