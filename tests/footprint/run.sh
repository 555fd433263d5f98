#!/usr/bin/env bash
# Weighs the telemetry crate on a host, and prints a Markdown table:
#   - stripped size of the release binary (a stripped copy; the build is untouched),
#   - clean release build time, from an empty target directory, on $FOOTPRINT_JOBS jobs,
#   - crates compiled by that build, and duplicated crate versions (`cargo tree -d -e normal`).
# Variants: a bare clap CLI (`bare-clap/`, without the dependency, compiled out, on
# without TLS, on with TLS) and the `minietl` example (compiled out, on without TLS, on).
# They are built one after the other (never in parallel: they would time each other).
# Each variant's target directory is removed after it is measured (FOOTPRINT_KEEP=1 keeps
# them). The registry is fetched first, so download time is not build time.
#
#   tests/footprint/run.sh                      # all variants (about 8 min on 2 cores)
#   FOOTPRINT_ONLY=bare-clap tests/footprint/run.sh   # variants whose name contains it
#   FOOTPRINT_JOBS=2 FOOTPRINT_TARGET=/tmp/fp tests/footprint/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${FOOTPRINT_TARGET:-$root/target/footprint}
jobs=${FOOTPRINT_JOBS:-2}
only=${FOOTPRINT_ONLY:-}
export CARGO_TERM_COLOR=never
mkdir -p "$out"

bare=$here/bare-clap/Cargo.toml
ws=$root/Cargo.toml
# name|manifest|cargo arguments|binary|what the size and build deltas compare with
variants=(
    "bare-clap: no dependency|$bare||bare-clap|"
    "bare-clap: compiled out|$bare|--features off|bare-clap|bare-clap: no dependency"
    "bare-clap: on, no TLS|$bare|--features on|bare-clap|bare-clap: compiled out"
    "bare-clap: on, TLS|$bare|--features tls|bare-clap|bare-clap: compiled out"
    "bare-clap: on, native-tls|$bare|--features native|bare-clap|bare-clap: compiled out"
    "minietl: compiled out|$ws|-p minietl --no-default-features|minietl|"
    "minietl: on, no TLS|$ws|-p minietl --no-default-features --features telemetry/enabled|minietl|minietl: compiled out"
    "minietl: on, TLS|$ws|-p minietl|minietl|minietl: compiled out"
)

cargo fetch --manifest-path "$bare" >/dev/null 2>&1
cargo fetch --manifest-path "$ws" >/dev/null 2>&1

declare -A size secs crates dups
rows=()
for variant in "${variants[@]}"; do
    IFS='|' read -r name manifest args binary base <<<"$variant"
    [[ -z $only || $name == *"$only"* ]] || continue
    dir=$out/$(echo "$name" | tr -c 'a-z0-9\n' '-')
    rm -rf "$dir"
    echo "building $name ..." >&2
    # shellcheck disable=SC2086
    start=$(date +%s.%N)
    cargo build --release -j "$jobs" --manifest-path "$manifest" --target-dir "$dir" $args \
        2>"$dir.log" || { cat "$dir.log" >&2; exit 1; }
    end=$(date +%s.%N)
    secs[$name]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    crates[$name]=$(grep -c '^ *Compiling ' "$dir.log" || true)
    cp "$dir/release/$binary" "$dir.stripped"
    strip "$dir.stripped"
    size[$name]=$(stat -c %s "$dir.stripped")
    # shellcheck disable=SC2086
    dups[$name]=$(cargo tree --manifest-path "$manifest" $args -e normal -d --depth 0 \
        --prefix none --format '{p}' 2>/dev/null |
        awk 'NF && $1 !~ /^\(/ { split($2, v, "."); sub(/^v/, "", v[1]);
                 ver = (v[1] == "0") ? v[1] "." v[2] : v[1];
                 seen[$1] = seen[$1] (seen[$1] ? "/" : "") ver }
             END { n = 0; for (k in seen) { out = out (n++ ? ", " : "") k " " seen[k] }
                   print (n ? out : "none") }')
    [[ ${FOOTPRINT_KEEP:-} == 1 ]] || rm -rf "$dir" "$dir.stripped"
    rows+=("$name|$base")
done

mb() { awk -v b="$1" 'BEGIN { printf "%.2f MB", b / 1e6 }'; }
delta_size() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; s = d < 0 ? "-" : "+"; d = d < 0 ? -d : d;
    if (d < 1e6) printf "%s%.0f KB", s, d / 1e3; else printf "%s%.2f MB", s, d / 1e6 }'; }
delta_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.0f s", a - b }'; }

echo
echo "Release builds, \`-j $jobs\`, $(rustc --version | cut -d' ' -f1-2), $(nproc) cores; sizes of a stripped copy (1 MB = 10^6 bytes)."
echo
echo "| Variant | Stripped binary | Δ size | Clean release build | Δ build | Crates compiled | Duplicated versions (normal deps) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
for row in "${rows[@]}"; do
    IFS='|' read -r name base <<<"$row"
    ds=""; dt=""
    if [[ -n $base && -n ${size[$base]:-} ]]; then
        ds="$(delta_size "${size[$name]}" "${size[$base]}") vs ${base#*: }"
        dt="$(delta_secs "${secs[$name]}" "${secs[$base]}")"
    fi
    # Build time also against the bare CLI without the dependency, where there is one.
    nodep="${name%%:*}: no dependency"
    if [[ $base != "$nodep" && -n ${secs[$nodep]:-} && $name != "$nodep" ]]; then
        dt="$(delta_secs "${secs[$name]}" "${secs[$nodep]}") vs no dependency"
    elif [[ -n $dt ]]; then
        dt="$dt vs ${base#*: }"
    fi
    echo "| $name | $(mb "${size[$name]}") | $ds | ${secs[$name]} s | $dt | ${crates[$name]} | ${dups[$name]} |"
done
