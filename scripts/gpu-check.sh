#!/usr/bin/env bash
# One command for a GPU machine (an H200/H100; see ../shared/device/README.md for its recipe):
# configures and builds forgeflow with the CUDA backend (FORGEFLOW_CUDA=ON, sm_90, the C++ tests;
# dependencies through CMAKE_PREFIX_PATH from .deps.tar.xz beside the working tree when there,
# cuDNN from the nvidia.cudnn Python package), then runs, each under `timeout` within one time
# budget (8 minutes by default), every log into OUTDIR:
#   cuda-tests       forgeflow_tests "[cuda]~[nvjpeg]~[nccl]" (the CUDA-versus-CPU parity suite)
#   pytest-gpu       pytest -m gpu                         (Python tests that need a GPU)
#   memcheck         compute-sanitizer --tool memcheck on the [cuda] tests (or --sanitize SPEC)
#   cuda-nccl        forgeflow_tests "[nccl]" (ff.distribute's NCCL gradient reducer with one
#                    worker, inside captured steps; needs NCCL: the toolkit's or the
#                    nvidia-nccl wheel's, found through NCCL_ROOT)
#   bench-mlp        benchmarks/bench_mlp.py --device cuda (skipped if it has no --device yet)
#   suite-on-gpu     FORGEFLOW_DEVICE=cuda forgeflow_tests "~[cuda]" (the whole C++ suite with
#                    the GPU as default backend: counted, reported apart, never failing the check,
#                    since a few CPU-kernel tests hand host memory straight to kernels)
#   bench-cnn        benchmarks/bench_cnn.py --device cuda --repeats 1 (small CNN, with peers)
#   bench-resnet18   benchmarks/bench_resnet18.py --device cuda: short epochs (5,120 images),
#                    --repeats 1, Keras with steps_per_execution 1 only (its compiles are slow)
#   cuda-nvjpeg      forgeflow_tests "[nvjpeg]" (decode_device="gpu" against the CPU decoder;
#                    needs nvJPEG: the toolkit's, or the nvidia-nvjpeg wheel carried along)
#   bench-gpu-feed   benchmarks/bench_gpu_feed.py --device cuda: GPU busy share of an epoch fed
#                    from NumPy, make_csv_dataset and a JPEG folder, with PyTorch's DataLoader
# (the benchmarks last, with what is left of the budget, so they never starve a required
# step; each prints its rows as it measures them, so a run cut short still shows figures)
# and prints a short pass/fail and figures table last (also OUTDIR/summary.txt). Exit status 0
# when the build, cuda-tests, pytest-gpu and memcheck passed; the benchmarks, cuda-nccl,
# cuda-nvjpeg and suite-on-gpu are informational.
#
#   scripts/gpu-check.sh OUTDIR [--dry-run] [--build-dir DIR] [--budget SECONDS]
#                               [--sanitize CATCH_SPEC] [--skip-build]
#   --dry-run   check the arguments and print every step's command and time limit; runs nothing
#               (no GPU or toolkit needed: what the CPU test suite checks)
#   --build-dir the CMake build folder (default /tmp/forgeflow-gpu-build: outside the tree)
#   --budget    seconds for everything (default 470); a step gets at most what is left
#   --sanitize  the Catch2 test spec run under memcheck (default "[cuda]~[nvjpeg]~[nccl]"; narrow it to one
#               kernel family when time is short)
#   --skip-build  reuse the build folder as it is
set -uo pipefail

usage() {
  echo "usage: scripts/gpu-check.sh OUTDIR [--dry-run] [--build-dir DIR] [--budget SECONDS]" \
       "[--sanitize CATCH_SPEC] [--skip-build]" >&2
  exit 2
}

outdir="" dry=0 build="/tmp/forgeflow-gpu-build" budget=470 sanitize="[cuda]~[nvjpeg]~[nccl]" skip_build=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry=1 ;;
    --skip-build) skip_build=1 ;;
    --build-dir|--budget|--sanitize)
      [ $# -ge 2 ] && [ -n "$2" ] && [[ $2 != --* ]] || { echo "gpu-check: $1 needs a value" >&2; usage; }
      case "$1" in
        --build-dir) build=$2 ;;
        --budget) budget=$2 ;;
        --sanitize) sanitize=$2 ;;
      esac
      shift ;;
    -h|--help) sed -n '2,38p' "$0"; exit 0 ;;
    -*) echo "gpu-check: unknown option $1" >&2; usage ;;
    *) [ -z "$outdir" ] || { echo "gpu-check: one OUTDIR only (received $outdir and $1)" >&2; usage; }
       outdir=$1 ;;
  esac
  shift
done
[ -n "$outdir" ] || { echo "gpu-check: OUTDIR is missing" >&2; usage; }
case "$budget" in
  ''|*[!0-9]*) echo "gpu-check: --budget takes whole seconds; received \"$budget\"" >&2; usage ;;
esac
[ "$budget" -ge 60 ] || { echo "gpu-check: --budget must be at least 60 seconds" >&2; usage; }
if [ -e "$outdir" ] && [ ! -d "$outdir" ]; then
  echo "gpu-check: OUTDIR $outdir exists and is not a folder" >&2; exit 2
fi
mkdir -p "$outdir" || { echo "gpu-check: cannot create OUTDIR $outdir" >&2; exit 2; }
outdir=$(cd "$outdir" && pwd)

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
start=$(date +%s)
deadline=$((start + budget))
rows=()      # "step|result|figures|log"
failed=0

# ---- the environment of the recipe (../shared/device/README.md) ----
setup_environment() {
  if [ -f .deps.tar.xz ] && [ ! -d .deps ] && [ "$dry" = 0 ]; then tar -xJf .deps.tar.xz; fi
  cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DFORGEFLOW_CUDA=ON
              -DCMAKE_CUDA_ARCHITECTURES=90 -DFORGEFLOW_BUILD_TESTS=ON -DFORGEFLOW_TSAN_TESTS=OFF
              "-DPython_EXECUTABLE=$(command -v "$py")")
  local prefix pybind
  pybind=$("$py" -m pybind11 --cmakedir 2>/dev/null || true)
  prefix=$pybind
  if [ -d .deps ]; then
    local d=$root/.deps l=$root/.deps/usr/lib/x86_64-linux-gnu
    prefix="$d/usr${pybind:+:$pybind}"
    export LD_LIBRARY_PATH="$l:$l/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export CPATH="$d/usr/include" LIBRARY_PATH="$l"
    cmake_args+=("-DBLAS_LIBRARIES=$l/openblas-pthread/libblas.so.3" -DFORGEFLOW_ONEDNN=ON)
  fi
  export CMAKE_PREFIX_PATH="$prefix${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  local cudnn
  cudnn=$("$py" -c "import nvidia.cudnn as c; print(list(c.__path__)[0])" 2>/dev/null || true)
  if [ -n "$cudnn" ]; then
    export LD_LIBRARY_PATH="$cudnn/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    cmake_args+=("-DCUDNN_ROOT=$cudnn")
  fi
  # nvJPEG (decode_device="gpu"): the toolkit's, else the nvidia-nvjpeg wheel (nvidia/cu13).
  local nvjpeg
  nvjpeg=$("$py" -c "import nvidia, os; print(next(os.path.join(p, 'cu13') for p in nvidia.__path__ if os.path.exists(os.path.join(p, 'cu13', 'include', 'nvjpeg.h'))))" 2>/dev/null || true)
  if [ -n "$nvjpeg" ]; then
    export LD_LIBRARY_PATH="$nvjpeg/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    cmake_args+=("-DNVJPEG_ROOT=$nvjpeg")
  fi
  # NCCL (ff.distribute on GPUs): the nvidia-nccl wheel's, when there, else the toolkit's.
  local nccl
  nccl=$("$py" -c "import nvidia.nccl as n; print(list(n.__path__)[0])" 2>/dev/null || true)
  if [ -n "$nccl" ] && [ -f "$nccl/include/nccl.h" ]; then
    export LD_LIBRARY_PATH="$nccl/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    cmake_args+=("-DNCCL_ROOT=$nccl")
  fi
  [ -d .fm ] && export FORGEFLOW_DATA_DIR="$root/.fm"
  export PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}"
}

# The Catch2 summary as "P passed, F failed of T test cases".
catch_figures() {
  local line
  line=$(grep -E '^(All tests passed|test cases:)' "$1" | tail -n 1)
  if [[ $line =~ All\ tests\ passed\ \(([0-9]+)\ assertions?\ in\ ([0-9]+)\ test\ cases? ]]; then
    echo "${BASH_REMATCH[2]} passed, 0 failed"
  elif [[ $line =~ test\ cases:\ *([0-9]+)\ \|\ *([0-9]+)\ passed\ \|\ *([0-9]+)\ failed ]]; then
    echo "${BASH_REMATCH[2]} passed, ${BASH_REMATCH[3]} failed of ${BASH_REMATCH[1]}"
  elif [[ $line =~ test\ cases:\ *([0-9]+)\ \|\ *([0-9]+)\ failed ]]; then
    echo "0 passed, ${BASH_REMATCH[2]} failed of ${BASH_REMATCH[1]}"
  else
    grep -m1 -E 'No test cases matched' "$1" || echo "no summary"
  fi
}

pytest_figures() { grep -E '(passed|failed|skipped|error|no tests ran)' "$1" | tail -n 1 | tr -d '=' | sed 's/^ *//'; }
memcheck_figures() { grep -m1 -E 'ERROR SUMMARY' "$1" | sed 's/^=* *//' || echo "no summary"; }
bench_figures() {
  grep -iE '^forgeflow.*(cuda|gpu)|samples/s|first step' "$1" | head -n 3 | tr -s ' ' | paste -sd ';' -
}
# bench_cnn.py / bench_resnet18.py: their "summary:" line, or (a run cut short) forgeflow's rows
# as measured, or why there are none (the last line: e.g. "forgeflow has no GPU here").
bench_rows_figures() {
  local s
  s=$(grep -m1 '^summary: ' "$1" | cut -c10-)
  [ -z "$s" ] && s=$(grep -E '^measured: forgeflow' "$1" | cut -c11- | paste -sd ';' -)
  [ -z "$s" ] && s=$(tail -n 1 "$1")
  echo "$s"
}

# step NAME MAX_SECONDS REQUIRED FIGURES_FN -- command...: runs the command under timeout (at most
# what is left of the budget), its output into OUTDIR/NAME.log, and adds a row to the table.
step() {
  local name=$1 max=$2 required=$3 figures_fn=$4
  shift 5
  local log="$outdir/$name.log" now left limit rc result figures
  now=$(date +%s)
  left=$((deadline - now - 5))
  limit=$((max < left ? max : left))
  if [ "$dry" = 1 ]; then
    printf '%-14s timeout %4ss: %s\n' "$name" "$max" "$*"
    rows+=("$name|dry-run|timeout ${max}s|$log")
    return 0
  fi
  if [ "$limit" -lt 10 ]; then
    echo "no time left in the budget of ${budget}s" > "$log"
    rows+=("$name|SKIPPED|no time left|$log")
    [ "$required" = 1 ] && failed=1
    return 1
  fi
  echo "== $name (at most ${limit}s): $*"
  { echo "\$ $*"; echo; } > "$log"
  local t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" >> "$log" 2>&1
  rc=$?
  local took=$(( $(date +%s) - t0 ))
  if [ $rc -eq 0 ]; then result=PASS
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then result="TIMEOUT"
  else result="FAIL($rc)"
  fi
  figures=$($figures_fn "$log" 2>/dev/null | head -n 1)
  rows+=("$name|$result|${figures:+$figures, }${took}s|$log")
  if [ $rc -ne 0 ] && [ "$required" = 1 ]; then failed=1; fi
  return $rc
}

none() { :; }
build_figures() { grep -E '^\[[0-9]+/[0-9]+\]' "$1" | tail -n 1 | cut -d' ' -f1; }
configure_figures() { grep -E 'forgeflow: CUDA backend' "$1" | sed 's/^-- //'; }

setup_environment
tests_bin="$build/forgeflow_tests"

if [ "$skip_build" = 0 ] || [ "$dry" = 1 ]; then
  step configure 120 1 configure_figures -- cmake -S "$root" -B "$build" "${cmake_args[@]}"
  configured=$?
  if [ "$configured" = 0 ] || [ "$dry" = 1 ]; then
    step build 300 1 build_figures -- cmake --build "$build" -j "$(nproc)"
  fi
fi
if [ "$dry" = 0 ]; then
  if ls "$build"/_core*.so > /dev/null 2>&1; then
    ln -sf "$build"/_core*.so "$root/python/forgeflow/"
  else
    rows+=("python-module|FAIL|no $build/_core*.so|$outdir/build.log"); failed=1
  fi
fi

step cuda-tests 120 1 catch_figures -- "$tests_bin" "[cuda]~[nvjpeg]~[nccl]"
# Only the files with gpu-marked tests: the others may import what the GPU machine lacks.
mapfile -t gpu_test_files < <(grep -rlE 'pytest\.mark\.gpu|mark\.gpu\b' tests/python --include='test_*.py' | sort)
step pytest-gpu 200 1 pytest_figures -- "$py" -m pytest -m gpu -q -p no:cacheprovider "${gpu_test_files[@]}"
# compute-sanitizer from PATH, else from the toolkit's usual places (PATH may lack the toolkit).
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer \
            /usr/local/cuda/compute-sanitizer/compute-sanitizer 2>/dev/null | head -n 1)
step memcheck 150 1 memcheck_figures -- "${sanitizer:-compute-sanitizer}" --tool memcheck --error-exitcode 1 \
  --leak-check no "$tests_bin" "$sanitize"
# NCCL's reducer with one worker: apart (it needs NCCL, which a machine may lack), informational.
step cuda-nccl 60 0 catch_figures -- "$tests_bin" "[nccl]"
if [ "$dry" = 1 ] || "$py" benchmarks/bench_mlp.py --help 2>/dev/null | grep -q -- '--device'; then
  step bench-mlp 150 0 bench_figures -- "$py" benchmarks/bench_mlp.py --device cuda \
    --torch-python "$py"
else
  echo "benchmarks/bench_mlp.py has no --device option yet" > "$outdir/bench-mlp.log"
  rows+=("bench-mlp|SKIPPED|no --device option|$outdir/bench-mlp.log")
fi
step suite-on-gpu 150 0 catch_figures -- env FORGEFLOW_DEVICE=cuda "$tests_bin" "~[cuda]"
step bench-cnn 120 0 bench_rows_figures -- "$py" benchmarks/bench_cnn.py --device cuda \
  --repeats 1 --torch-python "$py" --peer-timeout 60
step bench-resnet18 150 0 bench_rows_figures -- "$py" benchmarks/bench_resnet18.py --device cuda \
  --repeats 1 --samples 5120 --keras-spe 1 --torch-python "$py" --peer-timeout 60
step cuda-nvjpeg 60 0 catch_figures -- "$tests_bin" "[nvjpeg]"
step bench-gpu-feed 150 0 bench_rows_figures -- "$py" benchmarks/bench_gpu_feed.py --device cuda \
  --samples 100000 --csv-rows 50000 --images 1024 --torch-python "$py" --peer-timeout 60

# ---- the table, last ----
{
  echo
  echo "gpu-check $(date -u +%Y-%m-%dT%H:%MZ) $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)" \
       "$( [ "$dry" = 1 ] && echo '(dry run: nothing was run)')"
  printf '%-14s %-10s %s\n' step result figures
  for row in "${rows[@]}"; do
    IFS='|' read -r name result figures _ <<< "$row"
    printf '%-14s %-10s %s\n' "$name" "$result" "$figures"
  done
  echo "logs: $outdir; total $(( $(date +%s) - start ))s of ${budget}s;" \
       "$( [ $failed = 0 ] && echo PASSED || echo FAILED)" \
       "(suite-on-gpu, cuda-nccl, cuda-nvjpeg and the bench-* steps are informational)"
} | tee "$outdir/summary.txt"
exit $failed
