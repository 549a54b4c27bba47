#!/usr/bin/env bash
# Rebuilds the shipped generators (gan_teach/weights/*.pt and their cards in pretrained.json) with the
# commands their model cards record. On one GPU the three runs take minutes; on a 2-core CPU, hours (an
# unconditional width-64 epoch takes about 75 s there). They were trained side by side on one NVIDIA H200
# on 2026-11-26, together with the sweep that chose them (see README.md, "The shipped generators").
# Usage: GAN_TEACH_DATA=/path/to/data bash scripts/train_pretrained.sh [OUT_DIR]
set -euo pipefail
out=${1:-runs/pretrained}
gan_teach="${PYTHON:-python3} -m gan_teach"
$gan_teach train --dataset mnist --width 64 --epochs 65 --ema-decay 0.999 --out "$out/mnist-dcgan"
$gan_teach train --dataset fashion-mnist --width 64 --epochs 65 --ema-decay 0.999 --out "$out/fashion-mnist-dcgan"
$gan_teach train --dataset mnist --model conditional --loss hinge --spectral-norm --width 64 --epochs 16 \
  --ema-decay 0.999 --out "$out/mnist-conditional"
for name in mnist-dcgan fashion-mnist-dcgan mnist-conditional; do
  $gan_teach export --checkpoint "$out/$name/checkpoint.pt" --name "$name"   # float16 weights + model card
done
