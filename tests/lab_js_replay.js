// Replays a run recorded by gan_teach.instruments.lab.page.record_lab_run in the live lab's trainer (the very file the
// book's page loads) and prints what it computed, as JSON, for tests/test_lab_js_parity.py to compare.
// Usage: node tests/lab_js_replay.js ENGINE.js RECORD.json
"use strict";
const fs = require("fs");
const path = require("path");

const [enginePath, recordPath] = process.argv.slice(2);
if (!enginePath || !recordPath) {
  console.error("usage: node lab_js_replay.js ENGINE.js RECORD.json");
  process.exit(2);
}
const engine = require(path.resolve(enginePath));
const record = JSON.parse(fs.readFileSync(recordPath, "utf8"));
const s = record.settings;
const trainer = new engine.Trainer({
  loss: s.loss, optimizer: s.optimizer, lrGenerator: s.lr_generator, lrDiscriminator: s.lr_discriminator,
  beta1: s.beta1, beta2: s.beta2, dSteps: s.d_steps, width: s.width, latentDim: s.latent_dim,
  batchSize: s.batch_size, numHidden: s.num_hidden, gradientPenaltyWeight: s.gradient_penalty_weight,
  generatorBatchNorm: s.generator_batch_norm, seed: s.seed,
});
trainer.loadParameters(record.initial);

const toArrays = (list) => list.map((values) => Float64Array.from(values));
const updates = record.updates.map((update) => {
  const batches = toArrays(update.real_batches);
  const noise = update.noise.map((entry) => ({
    z: Float64Array.from(entry.z), epsilon: entry.epsilon ? Float64Array.from(entry.epsilon) : undefined,
  }));
  let metrics;
  if (update.action === "discriminator") metrics = trainer.discriminatorStep(batches[0], noise[0]);
  else if (update.action === "generator") metrics = trainer.generatorStep(s.batch_size, noise[0]);
  else if (update.action === "step") metrics = trainer.trainStep(batches, noise);
  else throw new Error("unknown action " + update.action);
  return { metrics, parameters: trainer.getParameters() };
});

const result = { updates };
if (record.fixed_noise) { // the pictures, recorded for float32 runs
  const fixedNoise = Float64Array.from(record.fixed_noise);
  const numFixed = fixedNoise.length / s.latent_dim;
  const tails = Float64Array.from(record.arrow_tails);
  const manifold = trainer.manifold(record.manifold.num_lines, record.manifold.points_per_line,
                                    record.manifold.latent_range);
  Object.assign(result, {
    heatmap: Array.from(trainer.heatmap(record.bounds, record.resolution, s.uses_sigmoid)),
    manifold: { rows: Array.from(manifold.rows), columns: Array.from(manifold.columns) },
    arrow_gradients: Array.from(trainer.pointGradients(tails, tails.length / 2)),
    toy_metrics: engine.toyMetrics(trainer.generate(fixedNoise, numFixed), numFixed, record.centers, record.std),
  });
}
process.stdout.write(JSON.stringify(result));
