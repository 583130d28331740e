// Rank settings from --rank/--world-size/--master and from torchrun's variables.
import { describe, expect, it } from 'vitest';
import { parseMaster, rankSpec, RankSpecError } from '../../src/scheduler/rank-env.ts';

describe('rankSpec', () => {
  it('is undefined for a single-process run (no flags, no variables)', () => {
    expect(rankSpec({}, {})).toBeUndefined();
    expect(rankSpec({}, { MASTER_ADDR: 'x', LOCAL_RANK: '0' })).toBeUndefined();
  });

  it('reads the flags', () => {
    expect(rankSpec({ rank: '1', worldSize: '2', master: '127.0.0.1:29500' }, {})).toEqual({
      rank: 1,
      worldSize: 2,
      master: { host: '127.0.0.1', port: 29500 },
      localRank: undefined,
      source: 'flags',
    });
  });

  it('reads torchrun variables', () => {
    const env = { RANK: '3', WORLD_SIZE: '4', MASTER_ADDR: 'node-0.cluster', MASTER_PORT: '29400', LOCAL_RANK: '1' };
    expect(rankSpec({}, env)).toEqual({
      rank: 3,
      worldSize: 4,
      master: { host: 'node-0.cluster', port: 29400 },
      localRank: 1,
      source: 'env',
    });
    expect(rankSpec({}, { RANK: '0', WORLD_SIZE: '2', MASTER_ADDR: '::1', MASTER_PORT: '1234' })?.master).toEqual({
      host: '::1',
      port: 1234,
    });
  });

  it('flags win over variables, field by field', () => {
    const r = rankSpec({ rank: '1' }, { RANK: '0', WORLD_SIZE: '2', MASTER_ADDR: '10.0.0.2', MASTER_PORT: '29500' });
    expect(r).toMatchObject({ rank: 1, worldSize: 2, master: { host: '10.0.0.2', port: 29500 }, source: 'flags+env' });
    expect(
      rankSpec({ master: '127.0.0.1:4000' }, { RANK: '1', WORLD_SIZE: '2', MASTER_ADDR: 'a', MASTER_PORT: '1' })
        ?.master,
    ).toEqual({ host: '127.0.0.1', port: 4000 });
  });

  it('world size 1 needs no master', () => {
    expect(rankSpec({ rank: '0', worldSize: '1' }, {})).toMatchObject({ rank: 0, worldSize: 1 });
  });

  it('says what is wrong or missing', () => {
    const cases: Array<[Parameters<typeof rankSpec>[0], NodeJS.ProcessEnv, RegExp]> = [
      [{ rank: '2', worldSize: '2', master: 'h:1' }, {}, /--rank 2 must be below --world-size 2 \(ranks are 0 to 1\)/],
      [
        { rank: '0', worldSize: '2' },
        {},
        /needs the master's address: --master ADDR:PORT \(or MASTER_ADDR and MASTER_PORT\)/,
      ],
      [{ rank: '0' }, {}, /missing --world-size\/WORLD_SIZE/],
      [{}, { WORLD_SIZE: '2' }, /missing --rank\/RANK/],
      [{ rank: 'one', worldSize: '2', master: 'h:1' }, {}, /--rank must be a whole number, got "one"/],
      [{ rank: '0', worldSize: '0', master: 'h:1' }, {}, /--world-size must be at least 1, got "0"/],
      [{}, { RANK: '0', WORLD_SIZE: '2', MASTER_ADDR: 'h' }, /MASTER_ADDR and MASTER_PORT go together/],
      [
        {},
        { RANK: '0', WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: 'http' },
        /MASTER_ADDR:MASTER_PORT expects ADDR:PORT/,
      ],
      [
        { rank: '0', worldSize: '2', master: 'localhost' },
        {},
        /--master expects ADDR:PORT \(e.g. 127.0.0.1:29500\), got "localhost"/,
      ],
    ];
    for (const [flags, env, msg] of cases) {
      expect(() => rankSpec(flags, env), JSON.stringify([flags, env])).toThrow(RankSpecError);
      expect(() => rankSpec(flags, env)).toThrow(msg);
    }
  });
});

describe('parseMaster', () => {
  it('takes host:port and [ipv6]:port, ports 1-65535', () => {
    expect(parseMaster('127.0.0.1:29500')).toEqual({ host: '127.0.0.1', port: 29500 });
    expect(parseMaster('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseMaster('h:0')).toThrow(RankSpecError);
    expect(() => parseMaster('h:65536')).toThrow(RankSpecError);
    expect(() => parseMaster('::1:80')).toThrow(RankSpecError);
  });
});
