#!/usr/bin/env bash
# Rebuilds the shipped generators (gan_teach/weights/*.pt and their cards in pretrained.json) with the
# commands their model cards record. The two unconditional ones were trained on a 2-core CPU with bfloat16 units
# (bfloat16 autocast, --cpu-bf16, which a GPU ignores), one thread each: mnist-dcgan in about 2 hours 45 minutes
# (115 epochs at about a minute, then 25 with R1 at about 1.9 minutes), fashion-mnist-dcgan in about 1 hour 25
# minutes (35 and 25). mnist-conditional was trained on one NVIDIA H200 on 2026-11-26 (minutes there; on a 2-core
# CPU an epoch takes about 40 to 80 s). See README.md, "The shipped generators".
# Usage: GAN_TEACH_DATA=/path/to/data bash scripts/train_pretrained.sh [OUT_DIR]
set -euo pipefail
out=${1:-runs/pretrained}
gan_teach="${PYTHON:-python3} -m gan_teach"
$gan_teach train --dataset mnist --loss hinge --spectral-norm --width 64 --batch-size 64 --lr-generator 2e-4 \
  --lr-discriminator 2e-4 --beta1 0.5 --beta2 0.999 --discriminator-norm none --minibatch-std --ema-decay 0.999 \
  --lr-decay --lr-decay-start-epoch 115 --r1-gamma 1.0 --r1-start-epoch 115 --cpu-bf16 --epochs 140 \
  --out "$out/mnist-dcgan"
$gan_teach train --dataset fashion-mnist --loss hinge --spectral-norm --width 64 --batch-size 64 \
  --lr-generator 2e-4 --lr-discriminator 2e-4 --beta1 0.5 --beta2 0.999 --discriminator-norm none --minibatch-std \
  --ema-decay 0.999 --lr-decay --lr-decay-start-epoch 35 --r1-gamma 1.0 --r1-start-epoch 35 --cpu-bf16 --epochs 60 \
  --out "$out/fashion-mnist-dcgan"
$gan_teach train --dataset mnist --model conditional --loss hinge --spectral-norm --width 64 --epochs 16 \
  --ema-decay 0.999 --out "$out/mnist-conditional"
for name in mnist-dcgan fashion-mnist-dcgan mnist-conditional; do
  $gan_teach export --checkpoint "$out/$name/checkpoint.pt" --name "$name" --overwrite   # float16 weights + model card
done
