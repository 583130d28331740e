// `flowlm train --help`: the usage line and the options, data-parallel and model-parallel.
export const TRAIN_USAGE =
  'flowlm train <pipeline.ts> [--resume] [--set key=value ...] [--devices SPEC] [--json] [--every N]\n' +
  '                    [--time-limit S]\n' +
  '       flowlm train <pipeline.ts> --rank R --world-size W --master ADDR:PORT [same options]\n' +
  '       flowlm train <pipeline.ts> --tp N | --pp N [--micro-batches M] [--devices cpu:K] [--set ...] [--json]';

export function trainHelp(): string {
  return `Usage: ${TRAIN_USAGE}

Trains the model a training pipeline describes (e.g. pipelines/train-tiny.ts, whose default export builds
the run from its config, the shard dataset and src/nn/train/trainer.ts). Checkpoints, metrics.jsonl and
metrics.parquet go to the config's runDir (written by rank 0 only). flowlm plan shows the physical plan.

Options:
      --resume            continue from the run directory's latest checkpoint (bit for bit; at any
                          number of devices)
  -s, --set name.key=value  a node's or resource's config field; repeatable; dotted paths (trainer.steps=500,
                          optimizer.lr.max=3e-4, model.nLayer=2, data.dir=out/prep, optimizer.zero=true);
                          params.key=value for a spec module's parameters; values are JSON when they parse
      --devices SPEC      where the replicas run (default auto):
                            cpu:N       N worker threads of this process, one core and one rank each
                                        (cpu:1: this thread alone)
                            gpu:all     one process per GPU (nvidia-smi -L), CUDA_VISIBLE_DEVICES set;
                            gpu:0,1     needs @tensorflow/tfjs-node-gpu
                            auto        the GPUs when usable, else one CPU worker thread per core
                          Data parallel: a step consumes devices x gradAccum x batchSize rows.
      --rank R            run this process as rank R of a multi-process run (0 <= R < W) ...
      --world-size W      ... of W processes ...
      --master ADDR:PORT  ... meeting at rank 0, which listens there. Without the flags the torchrun
                          variables RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (LOCAL_RANK) are read.
                          Rank 0 prints progress and writes the run; other ranks print only errors.
      --tp N              tensor parallelism (Megatron): each layer split over N worker threads; with
                          --devices cpu:K (K a multiple of N, default cpu:N) a tp N x dp K/N grid. Needs
                          nHead and the MLP width divisible by N, no dropout, pre-LN, labelSmoothing 0
      --pp N              pipeline parallelism (1F1B): the blocks in N stages, one thread each; with
                          --devices cpu:K a pp N x dp K/N grid. Needs N <= nLayer and no dropout
      --micro-batches M   --pp: the step's gradAccum x batchSize rows in M micro-batches (default
                          gradAccum; more: a smaller bubble (N-1)/(M+N-1), the same global batch)
                          --tp/--pp read the rows a data-parallel run of the same global batch reads and
                          write metrics.jsonl and one unsharded checkpoint at the end; no --resume, no
                          stop checkpoint, no --rank processes, CPU threads only
      --json              one JSON summary object as the last stdout line (with devices, worldSize)
      --every N           a progress line every N steps (default 1)
      --time-limit S      a training-time budget: after S seconds every rank stops after the current step,
                          checkpoints and runs the final evaluation, as on SIGTERM, but exits 0 (a budget
                          reached is a normal end: flowlm tune's equal-time trials use it)
  -h, --help              show help

Progress (stderr): step, loss, lr, grad-norm, tokens/s, ETA. SIGINT/SIGTERM: every rank stops after the
same step, checkpoint, exit 130/143. A failing rank stops the run within seconds with an error naming
it; --resume continues from the last checkpoint. Exit codes: 0 done, 1 failed, 2 bad usage (also:
devices that are not available).`;
}
