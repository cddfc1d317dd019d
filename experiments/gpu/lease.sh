#!/bin/bash
# One time-boxed training lease on a lent GPU machine (the workplace's `device` tool; $OUT comes back).
#   .gpu/ holds: data.tar (pack_train_data.py), whl/ (jsonargparse, docstring_parser, typeshed_client
#   wheels: the machine has torch + lightning but not these), optionally ckpt/last.ckpt to resume.
#   usage (on the device, repo root):  experiments/gpu/lease.sh MAX_TIME [extra adain-train args]
#   MAX_TIME counts the time already trained when resuming (Lightning's Timer state is restored);
#   keep it ~60 s under the limit the device reports for the call.
set -u
export PYTHONUNBUFFERED=1
REPO=$PWD
tar xf .gpu/data.tar -C .gpu || exit 1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$REPO
RESUME=""; [ -f .gpu/ckpt/last.ckpt ] && RESUME="--ckpt_path $REPO/.gpu/ckpt/last.ckpt"
CK=runs/small16x_gpu/checkpoints
# copy the newest checkpoint to $OUT every minute, so a lease cut short still returns its model
( while sleep 60; do
    f=$(ls -t $CK/step*.ckpt 2>/dev/null | head -1)
    [ -n "$f" ] && sleep 5 && cp "$f" $OUT/.last.tmp && mv $OUT/.last.tmp $OUT/last.ckpt
  done ) &
SAVER=$!
python3 train.py fit --config configs/small16x.yaml --config configs/small16x_gpu.yaml \
  --data.content_dir $REPO/.gpu/data/content --data.style_dir $REPO/.gpu/data/style \
  --data.num_workers 14 --trainer.max_time "$1" $RESUME "${@:2}" > $OUT/train.log 2>&1
echo "train rc $?"
kill $SAVER
cp $CK/last.ckpt $OUT/last.ckpt
cp "$(ls -d runs/small16x_gpu/csv/version_* | tail -1)/metrics.csv" $OUT/metrics.csv
cp "$(ls runs/small16x_gpu/csv/version_*/samples/*.jpg | sort | tail -1)" $OUT/grid.jpg
grep -iv warn $OUT/train.log | tail -c 1000
