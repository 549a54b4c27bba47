#!/usr/bin/env bash
# Rebuilds the shipped generators (gan_teach/weights/*.pt and their cards in pretrained.json) with the
# commands their model cards record. mnist-dcgan was trained on a 2-core CPU with AMX (bfloat16 autocast,
# --cpu-bf16, which a GPU ignores): 99 minutes. The other two were trained side by side on one NVIDIA H200
# on 2026-11-26 (minutes there; on a 2-core CPU an epoch takes about 40 to 80 s). See README.md, "The shipped generators".
# Usage: GAN_TEACH_DATA=/path/to/data bash scripts/train_pretrained.sh [OUT_DIR]
set -euo pipefail
out=${1:-runs/pretrained}
gan_teach="${PYTHON:-python3} -m gan_teach"
$gan_teach train --dataset mnist --width 64 --epochs 100 --ema-decay 0.999 --r1-gamma 1.0 --r1-start-epoch 70 --cpu-bf16 \
  --out "$out/mnist-dcgan"
$gan_teach train --dataset fashion-mnist --width 64 --epochs 65 --ema-decay 0.999 --out "$out/fashion-mnist-dcgan"
$gan_teach train --dataset mnist --model conditional --loss hinge --spectral-norm --width 64 --epochs 16 \
  --ema-decay 0.999 --out "$out/mnist-conditional"
for name in mnist-dcgan fashion-mnist-dcgan mnist-conditional; do
  $gan_teach export --checkpoint "$out/$name/checkpoint.pt" --name "$name"   # float16 weights + model card
done
