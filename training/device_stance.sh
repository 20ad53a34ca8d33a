#!/usr/bin/env bash
# The stance recipe in one call to a lent GPU machine (issue 24), and the steps around the call.
#
#   training/device_stance.sh prepare     here: what the call needs, under training/.device/ (ignored, carried)
#   training/device_stance.sh run         there: the sweep of $ONLY (default d and h: without and with the turned-round
#                                          direction pairs), then the final model of $FINAL, which must be named (h,
#                                          trained in full on CPU, lost seed and development verdicts: docs/stance.md,
#                                          "Variant h in full"); all in $OUT
#   training/device_stance.sh restore     here, after the call: models/ tracked again
#   training/device_stance.sh unpack DIR  here: the returned files (DIR: the tool's files_at) into training/stance/,
#                                          ready for training.stance_encoder_package (docs/stance.md)
#
# What travels to the machine is at most 64 MiB: the working tree (tracked and not-ignored files) and the paths
# named in `carry`. The ONNX graphs and spaCy packages under models/ are about 250 MB, so `prepare` untracks
# models/ for the call (git rm --cached; the files stay on disk) and `restore` tracks it again. The carried folder
# holds HealthVer and SciFact (about 5 MB) and the base encoder as fp16 safetensors (about 45 MB).
#
# The call (device tool): command "FINAL=<variant> bash training/device_stance.sh run", carry ["training/.device"]. Files come
# back from $OUT (at most 8, 16 MiB each): results.json, logits.npz and the final model as a tar cut in 15 MiB parts
# (its own files are seven).
# `DEVICE=cpu LIMIT=24 EPOCHS=1 FINAL=h_direction_flips training/device_stance.sh run` is the same recipe as a smoke run on this machine.
set -euo pipefail
here=training/.device
case "${1:-}" in
  prepare)
    corpora=${CORPORA:-../shared/corpora}
    rm -rf "$here" && mkdir -p "$here/corpora"
    cp -r "$corpora/healthver" "$corpora/scifact" "$here/corpora/"
    .venv/bin/python -m training.stance_encoder_train --export-base-fp16 "$here/base"
    git rm -r -q --cached models
    grep -qx '/models/' .git/info/exclude || echo '/models/' >> .git/info/exclude
    du -sh "$here"
    ;;
  run)
    out=${OUT:?the device tool sets OUT}
    final=${FINAL:?name the variant to train in full, e.g. FINAL=d_plus_scifact_5ep (h failed the verdicts: docs/stance.md)}
    args=(--base "$here/base" --device "${DEVICE:-cuda}")
    [ -n "${LIMIT:-}" ] && args+=(--limit "$LIMIT" --max-length 64)
    [ -n "${EPOCHS:-}" ] && args+=(--epochs "$EPOCHS")
    python3 -m training.stance_encoder_train "$here/corpora" "$out/stance" --variants \
      --only "${ONLY:-d_plus_scifact_5ep,h_direction_flips}" "${args[@]}"
    python3 -m training.stance_encoder_train "$here/corpora" "$out/stance" --final "$final" "${args[@]}"
    (cd "$out/stance" && tar cf - model | split -b 15m - model.tar.part- && rm -rf model .base)
    ls -la "$out/stance"
    ;;
  unpack)
    from=${2:?give the folder the returned files are under}
    mkdir -p training/stance
    cp "$from/stance/results.json" "$from/stance/logits.npz" training/stance/
    cat "$from"/stance/model.tar.part-* | tar xf - -C training/stance
    ls training/stance/model
    ;;
  restore)
    git reset -q models
    sed -i '\#^/models/$#d' .git/info/exclude
    git status --short models | head -3
    ;;
  *)
    echo "usage: $0 prepare|run|restore|unpack DIR" >&2
    exit 2
    ;;
esac
