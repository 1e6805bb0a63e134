"""The process a timing runs in: how it starts, ends, writes and exits.

- `lifecycle`: a results file says `finished` only once its run has ended; the exit fallback.
- `signals`: SIGTERM as an interrupt, like Ctrl-C (schedulers, `docker stop`).
- `exit_codes`: every exit status of every program, declared once.
- `atomic`: writes that a kill never leaves half-done.
- `masking`: which argument names hold secrets, and their values masked wherever we write them.
- `processes`: what Linux's `/proc` says of a process (its start, its state), for `startup`
  and the sweep agent's liveness check.
- `startup`: how long the interpreter took to reach the program's `main`.
- `environment`: the machine and software versions a timing was taken on.
- `distributed`: ranks and the few collectives the clocks need, no-ops when not distributed.
"""
