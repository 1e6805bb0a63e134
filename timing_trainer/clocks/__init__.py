"""The clocks: what is on the clock and how it is read, around the Trainer's own loops.

- `stopwatch`: device-synchronized stopwatch, per-interval timers (CUDA events or the host
  clock), an injectable clock for tests, and peak device memory of a timed region.
- `training`: the clock of one fine-tuning iteration, hooked into the Trainer's callback events.
- `warmup`: a few optimizer steps off the clock, then the initial state again.
- `evaluation`: one evaluation loop timed three ways (whole loop, each `prediction_step`, each
  forward).
- `batches`: what the timed batches held (samples, padded and real tokens, FLOPs).
"""
