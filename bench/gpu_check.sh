#!/usr/bin/env bash
# GPU check of the timing core: the suite's GPU tests (pytest -m gpu), then the overhead,
# fidelity (per-batch timers, forward_time against a bare forward loop) and warm-up benchmarks
# on a BERT-base-sized model built from a config, and an end-to-end local-agent sweep of the GLUE
# program (BERT-base-sized, random weights, the demo tokenizer, bf16, 4 runs) with each run's
# wall / on-clock split, and the energy of every fine-tuning iteration of the BERT-base-sized
# workload (NVML's counter; needs nvidia-ml-py: without it the row says so). Nothing to download;
# the limits below cap it at 7 min 50 s (about 5.5 expected on an H100). Prints a short table
# last. Figures (and the raw JSON) are written to $OUT when set, else a temp folder.
# Then one row per fine-tuning mode (issue 19, bench/modes.py): the GLUE program on a
# BERT-base-sized and a ModernBERT-base-sized model built from a config (bf16, RTE, length 128,
# batch 32): eager (the baseline), sdpa, flash_attention_2 (a row saying why not where flash_attn
# is missing), LoRA r=8 (a row saying so where peft is missing), padding_free (refused in one
# line where the model cannot classify a flattened batch), torch_compile (last: the slowest, its
# compilation cold; a step cut by its limit keeps the rows before); capped at 4 min more
# (7 on a CPU rehearsal), timed apart from the 7 min 50 s. GPU_CHECK_MODES=0 leaves the modes
# out. The table is also in $OUT/modes.md, ready for bench/RESULTS.md.
# A machine without nvidia-ml-py: put its wheel (nvidia_ml_py-*.whl) into $GPU_CHECK_WHEELS
# (default .whl/) and it is installed into a temporary folder for this script only.
set -uo pipefail
cd "$(dirname "$0")/.."
START=$(date +%s)
WARMUP_ARGS=""
export WANDB_MODE=disabled HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export TOKENIZERS_PARALLELISM=false
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"

# GPU_CHECK_REHEARSAL=1 runs the whole script on a CPU machine (small models, GPU tests skipped),
# so that the script itself is known to work before device time is spent on it.
if ! python3 -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    if [ "${GPU_CHECK_REHEARSAL:-0}" != "1" ]; then
        echo "gpu_check: no CUDA device visible to torch (GPU_CHECK_REHEARSAL=1 rehearses on CPU)" >&2
        exit 2
    fi
    echo "CPU rehearsal (no GPU): $(python3 -c 'import platform; print(platform.processor() or platform.machine())')" | tee "$OUT/gpu.txt"
    WARMUP_ARGS="--rounds 1"  # small shapes come from the benchmarks' CPU defaults
    MODES_ARGS="--size tiny --precision fp32 --iters 1 --run-timeout 100"
    MODES_LIMIT=420  # CPU: a process start and torch.compile each cost more than on a GPU host
else
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
    MODES_ARGS="--size base --precision bf16 --length 128 --batch-size 32 --iters 2 --run-timeout 110"
    MODES_LIMIT=240
fi

if ! python3 -c "import pynvml" 2>/dev/null; then
    for wheel in "${GPU_CHECK_WHEELS:-.whl}"/nvidia_ml_py-*.whl; do
        [ -f "$wheel" ] || continue
        SITE=$(mktemp -d)
        python3 -m pip install -q --no-index --no-deps --target "$SITE" "$wheel" \
            && export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
        break
    done
fi
python3 -c "import pynvml" 2>/dev/null || echo "gpu_check: nvidia-ml-py not installed: the energy row will be null"

echo "== pytest -m gpu =="
timeout 100 python3 -m pytest -q -m gpu tests -p no:cacheprovider 2>&1 | tee "$OUT/pytest_gpu.txt"
pytest_rc=${PIPESTATUS[0]}

# bench TITLE SECONDS NAME [ARGS...]: bench/NAME.py under a time limit, its figures in
# $OUT/NAME.json and its printout in $OUT/NAME.txt (less the Trainer's log dicts and the
# checkpoint loader's shard lines).
bench() {
    local title=$1 limit=$2 name=$3
    shift 3
    echo "== $title =="
    timeout "$limit" python3 "bench/$name.py" "$@" --json "$OUT/$name.json" 2>&1 \
        | grep -v -e "^{" -e "shards" | tee "$OUT/$name.txt"
}
bench "overhead" 75 overhead
bench "fidelity" 55 fidelity
# shellcheck disable=SC2086
bench "warm-up" 80 warmup $WARMUP_ARGS
bench "local-agent sweep of the GLUE program" 110 sweep_e2e
bench "energy of every fine-tuning iteration" 50 energy
CORE_SECONDS=$(( $(date +%s) - START ))

MODES_START=$(date +%s)
if [ "${GPU_CHECK_MODES:-1}" != "0" ]; then
    # shellcheck disable=SC2086
    bench "modes: eager, sdpa, flash_attention_2, LoRA r=8, padding_free, torch_compile" "$MODES_LIMIT" \
        modes $MODES_ARGS --modes eager,sdpa,flash_attention_2,lora,padding_free,compile \
        --markdown "$OUT/modes.md"
fi
MODES_SECONDS=$(( $(date +%s) - MODES_START ))

python3 - "$OUT" "$pytest_rc" "$CORE_SECONDS" <<'PY'
import json, os, re, sys
out, pytest_rc, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(name):
    path = os.path.join(out, name)
    return json.load(open(path)) if os.path.exists(path) else None
tests = open(os.path.join(out, "pytest_gpu.txt")).read().strip().splitlines()
last = next((l for l in reversed(tests)
             if re.search(r"passed|failed|error|skipped|no tests", l)), "")
counts = dict((k, int(n)) for n, k in re.findall(r"(\d+) (passed|failed|errors?|skipped)", last))
bad = counts.get('failed', 0) + counts.get('error', 0) + counts.get('errors', 0)
summary = f"{counts.get('passed', 0)} ok {bad} bad {counts.get('skipped', 0)} skip"
ov, fi = load("overhead.json"), load("fidelity.json")
gpu = open(os.path.join(out, "gpu.txt")).read().strip()
print()
print(f"gpu_check on {gpu}")
print(f"{'check':<46}{'figure':>14}{'goal':>10}{'ok':>5}")
print(f"{'pytest -m gpu (exit ' + str(pytest_rc) + ')':<40}{summary:>20}{'pass':>10}"
      f"{'yes' if pytest_rc == 0 else 'NO':>5}")
if ov:
    r = ov["loop_ratio_min"]
    print(f"{'overhead: loop ratio TimingTrainer/Trainer':<46}{r:>14.4f}{'<= 1.01':>10}"
          f"{'yes' if r <= 1.01 else 'NO':>5}")
    print(f"{'overhead: whole train() ratio':<46}{ov['call_ratio_min']:>14.4f}{'-':>10}{'':>5}")
    print(f"{'overhead: hook cost per step (us)':<46}{ov['hook_us_per_step']:>14.1f}{'-':>10}{'':>5}")
    print(f"{'overhead: hook cost / step time':<46}{ov['hook_share_of_step']:>14.4%}{'<= 1%':>10}"
          f"{'yes' if ov['hook_share_of_step'] <= 0.01 else 'NO':>5}")
    er = ov.get("energy_reads")
    if er:
        print(f"{'energy read per boundary (us), ' + (er['own_source'] or 'none'):<46}"
              f"{er['own_read_us']:>14.2f}{'off clock':>10}{'':>5}")
else:
    print(f"{'overhead':<46}{'missing':>14}")
if fi:
    d = fi["paired_rel_diff_median"]
    print(f"{'fidelity: events vs synced host (median)':<46}{d:>14.2%}{'<= 2%':>10}"
          f"{'yes' if d <= 0.02 else 'NO':>5}")
    print(f"{'fidelity: events vs synced host (max)':<46}{fi['paired_rel_diff_max']:>14.2%}"
          f"{'-':>10}{'':>5}")
    print(f"{'fidelity: trainer median / host median':<46}{fi['trainer_vs_host']:>14.4f}"
          f"{'-':>10}{'':>5}")
    print(f"{'thesis method: unsynced host / synced host':<46}{fi['unsynced_vs_host']:>14.4f}"
          f"{'-':>10}{'':>5}")
    if "forward_vs_bare" in fi:
        f = fi["forward_vs_bare"]
        print(f"{'forward: forward_time / bare forward (median)':<46}{f:>14.4f}{'+-3%':>10}"
              f"{'yes' if abs(f - 1) <= 0.03 else 'NO':>5}")
        print(f"{'forward: prediction_step / forward (median)':<46}"
              f"{fi['prediction_step_vs_forward']:>14.4f}{'-':>10}{'':>5}")
else:
    print(f"{'fidelity':<46}{'missing':>14}")
wu, e2e = load("warmup.json"), load("sweep_e2e.json")
if wu:
    print(f"{'warm-up: iter 1 / median rest, 0 steps':<46}{wu['without_median']:>14.4f}{'-':>10}"
          f"{'':>5}")
    w = wu["with_median"]
    print(f"{'warm-up: iter 1 / median rest, ' + str(wu['default_warmup_steps']) + ' steps':<46}"
          f"{w:>14.4f}{'<= 1.05':>10}{'yes' if w <= 1.05 else 'NO':>5}")
else:
    print(f"{'warm-up':<46}{'missing':>14}")
if e2e:
    ok = e2e["agent_exit"] == 0 and e2e["n_finished"] == len(e2e["runs"]) > 0
    print(f"{'sweep: runs finished (agent exit ' + str(e2e['agent_exit']) + ')':<46}"
          f"{str(e2e['n_finished']) + '/' + str(len(e2e['runs'])):>14}{'all':>10}"
          f"{'yes' if ok else 'NO':>5}")
    for r in e2e["runs"]:
        c = r["config"]
        label = f"  len {c['max_seq_length']} batch {c['per_device_train_batch_size']}: wall / clock s"
        print(f"{label:<46}{r['wall_s']:>7.1f} /{r['on_clock_s']:>5.1f}"
              f"{format(r['on_clock_share'], '.0%'):>10}{'':>5}")
else:
    print(f"{'sweep e2e':<46}{'missing':>14}")
en = load("energy.json")
if en and en["finetuning_energy_j_list"]:
    joules = en["finetuning_energy_j_list"]
    print(f"{'energy (' + en['energy_source'] + '): J per iteration, mean of ' + str(len(joules)):<46}"
          f"{sum(joules) / len(joules):>14.1f}{'-':>10}{'':>5}")
    print(f"{'energy: CV across iterations':<46}{en['energy_cv']:>14.2%}{'-':>10}{'':>5}")
    tdp = en["tdp_w"]
    print(f"{'energy: avg power (W) / TDP ' + (format(tdp, '.0f') + ' W' if tdp else 'unknown'):<46}"
          f"{en['finetuning_avg_power_w']:>14.1f}"
          f"{format(en['finetuning_avg_power_w'] / tdp, '.0%') if tdp else '-':>10}{'':>5}")
elif en:
    print(f"{'energy per iteration':<46}{'null':>14}{'-':>10}{'':>5}")
    print(f"  reason: {en['reason']}")
else:
    print(f"{'energy':<46}{'missing':>14}")
print(f"{'whole script before the modes (s)':<46}{seconds:>14d}{'< 480':>10}{'yes' if seconds < 480 else 'NO':>5}")
PY

if [ "${GPU_CHECK_MODES:-1}" != "0" ]; then
    python3 bench/modes_rows.py "$OUT/modes.json" "$MODES_SECONDS" "$MODES_LIMIT"
fi
