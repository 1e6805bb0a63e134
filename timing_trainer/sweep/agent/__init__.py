"""The local agent (`timing-trainer sweep FILE.yaml`): runs a sweep file's runs without a W&B
server, resumably. `local` is the agent; `plan` what it is asked, `attempt` one run's attempt,
`child` its process, `workers` one thread per GPU slot, `outcomes` what a finished child means,
`progress` what it prints, `runs_dir` its folder and lock, `stopping` its signals, `liveness`
whether a recorded child still runs, `walltime` where a run's wall time went.
"""
