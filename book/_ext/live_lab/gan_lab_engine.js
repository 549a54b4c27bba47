/* The live GAN lab's trainer: gan_teach's lab GAN, written out by hand in plain JavaScript.
 *
 * What it mirrors, piece by piece (and tests/test_lab_js_parity.py checks, step by step, against PyTorch):
 *   MLPGenerator      gan_teach.models: Linear -> ReLU, three times, then Linear (no batch norm: the lab's
 *                     LabSettings.to_config sets generator_batch_norm=False, and this file refuses it).
 *   MLPDiscriminator  gan_teach.models: Linear -> LeakyReLU(0.2), three times, then Linear to one logit.
 *   the losses        gan_teach.losses: minimax, non-saturating, lsgan, hinge, and wgan-gp with its gradient
 *                     penalty (the double backward written out: see gradientPenaltyBackward).
 *   the optimizers    torch.optim.Adam (bias correction, eps added after the square root) and plain SGD.
 *   the updates       gan_teach.train.discriminator_step, generator_step and train_step (k D steps, one G step).
 *   the pictures      gan_teach.instruments.lab: discriminator_heatmap, generator_manifold, generator_gradients, and
 *                     gan_teach.metrics.toy_metrics (modes covered, high-quality share).
 *
 * Everything is Float64Array and loops: no library, no DOM, so that the same file runs in the page (a
 * classic <script>, which works from file://) and under Node (the parity test). Arrays are row-major:
 * a batch of N points of dimension d is a Float64Array of N * d numbers; a weight matrix is (out, in),
 * as torch.nn.Linear stores it.
 */
(function (root) {
  "use strict";

  var LEAKY_SLOPE = 0.2; // nn.LeakyReLU(0.2) in MLPDiscriminator
  var SOFTPLUS_THRESHOLD = 20; // torch.nn.functional.softplus: x itself above 20

  // ------------------------------------------------------------------------------------------------ randomness

  /** A small seeded generator of uniform numbers in [0, 1) (mulberry32): the page's own randomness. */
  function Random(seed) {
    var state = seed >>> 0;
    var spare = null;
    this.uniform = function () {
      state = (state + 0x6d2b79f5) >>> 0;
      var t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    /** A standard normal number (Box-Muller; the second of each pair is kept for the next call). */
    this.normal = function () {
      if (spare !== null) { var value = spare; spare = null; return value; }
      var u = 0;
      while (u === 0) u = this.uniform();
      var radius = Math.sqrt(-2 * Math.log(u)), angle = 2 * Math.PI * this.uniform();
      spare = radius * Math.sin(angle);
      return radius * Math.cos(angle);
    };
    this.normals = function (count) {
      var out = new Float64Array(count);
      for (var i = 0; i < count; i++) out[i] = this.normal();
      return out;
    };
    this.uniforms = function (count) {
      var out = new Float64Array(count);
      for (var i = 0; i < count; i++) out[i] = this.uniform();
      return out;
    };
  }

  // ------------------------------------------------------------------------------------------------ the networks

  /** One nn.Linear(inputs, outputs): weight (outputs, inputs), bias (outputs,), with their gradients. */
  function Linear(inputs, outputs, random) {
    this.inputs = inputs;
    this.outputs = outputs;
    this.weight = new Float64Array(outputs * inputs);
    this.bias = new Float64Array(outputs);
    this.weightGrad = new Float64Array(outputs * inputs);
    this.biasGrad = new Float64Array(outputs);
    if (random) {
      // torch's default: kaiming_uniform_(a=sqrt(5)) and the bias alike, both U(-1/sqrt(inputs), 1/sqrt(inputs)).
      var bound = 1 / Math.sqrt(inputs);
      for (var i = 0; i < this.weight.length; i++) this.weight[i] = (2 * random.uniform() - 1) * bound;
      for (var o = 0; o < outputs; o++) this.bias[o] = (2 * random.uniform() - 1) * bound;
    }
  }

  /** y = x W^T + b: (N, inputs) -> (N, outputs). */
  Linear.prototype.forward = function (x, count) {
    var outputs = this.outputs, bias = this.bias;
    var y = new Float64Array(count * outputs);
    for (var n = 0; n < count; n++) y.set(bias, n * outputs);
    productTransposed(x, this.weight, count, outputs, this.inputs, y);
    return y;
  };

  /** (rows, columns) -> (columns, rows). */
  function transpose(matrix, rows, columns) {
    var out = new Float64Array(rows * columns);
    for (var r = 0; r < rows; r++) for (var c = 0; c < columns; c++) out[c * rows + r] = matrix[r * columns + c];
    return out;
  }

  /**
   * out += a b^T for a (rows, depth) and b (columns, depth), both row-major: out (rows, columns).
   * Two rows of a meet two rows of b at a time: four sums share each number loaded, which is twice as
   * fast as one dot product at a time.
   */
  function productTransposed(a, b, rows, columns, depth, out) {
    var n = 0, m, k;
    for (; n + 1 < rows; n += 2) {
      var a0 = n * depth, a1 = a0 + depth;
      for (m = 0; m + 1 < columns; m += 2) {
        var b0 = m * depth, b1 = b0 + depth, s00 = 0, s01 = 0, s10 = 0, s11 = 0;
        for (k = 0; k < depth; k++) {
          var x0 = a[a0 + k], x1 = a[a1 + k], y0 = b[b0 + k], y1 = b[b1 + k];
          s00 += x0 * y0; s01 += x0 * y1; s10 += x1 * y0; s11 += x1 * y1;
        }
        out[n * columns + m] += s00; out[n * columns + m + 1] += s01;
        out[(n + 1) * columns + m] += s10; out[(n + 1) * columns + m + 1] += s11;
      }
      for (; m < columns; m++) { // an odd last column
        var c0 = 0, c1 = 0;
        for (k = 0; k < depth; k++) { c0 += a[a0 + k] * b[m * depth + k]; c1 += a[a1 + k] * b[m * depth + k]; }
        out[n * columns + m] += c0; out[(n + 1) * columns + m] += c1;
      }
    }
    for (; n < rows; n++) { // an odd last row
      for (m = 0; m < columns; m++) {
        var sum = 0;
        for (k = 0; k < depth; k++) sum += a[n * depth + k] * b[m * depth + k];
        out[n * columns + m] += sum;
      }
    }
  }

  /** Adds dL/dW and dL/db to the gradients (if withParameters) and returns dL/dx, (N, inputs). */
  Linear.prototype.backward = function (x, dy, count, withParameters) {
    var inputs = this.inputs, outputs = this.outputs;
    var dx = new Float64Array(count * inputs);
    productTransposed(dy, transpose(this.weight, outputs, inputs), count, inputs, outputs, dx); // dx = dy W
    if (withParameters) {
      var dyT = transpose(dy, count, outputs); // (outputs, N): sums over the batch run along rows
      productTransposed(dyT, transpose(x, count, inputs), outputs, inputs, count, this.weightGrad); // dW += dy^T x
      var biasGrad = this.biasGrad;
      for (var o = 0; o < outputs; o++) {
        var sum = 0;
        for (var m = 0; m < count; m++) sum += dyT[o * count + m];
        biasGrad[o] += sum;
      }
    }
    return dx;
  };

  /**
   * A multilayer perceptron: numHidden x (Linear -> activation), then Linear.
   * activation "relu" is MLPGenerator's (slope 0 below zero), "leaky" MLPDiscriminator's (slope 0.2).
   */
  function MLP(sizes, activation, random) {
    this.sizes = sizes.slice();
    this.slope = activation === "leaky" ? LEAKY_SLOPE : 0;
    this.layers = [];
    for (var l = 0; l + 1 < sizes.length; l++) this.layers.push(new Linear(sizes[l], sizes[l + 1], random));
  }

  /** The parameters in PyTorch's order (net.0.weight, net.0.bias, net.2.weight, ...), with their gradients. */
  MLP.prototype.parameters = function () {
    var list = [];
    this.layers.forEach(function (layer) {
      list.push({ value: layer.weight, grad: layer.weightGrad });
      list.push({ value: layer.bias, grad: layer.biasGrad });
    });
    return list;
  };

  MLP.prototype.zeroGrad = function () {
    this.layers.forEach(function (layer) { layer.weightGrad.fill(0); layer.biasGrad.fill(0); });
  };

  /** Forward pass on (N, sizes[0]); returns the output (N, sizes[last]) and what backward needs. */
  MLP.prototype.forward = function (x, count) {
    var inputs = [x], preActivations = [], slope = this.slope, last = this.layers.length - 1;
    var h = x;
    for (var l = 0; l <= last; l++) {
      var a = this.layers[l].forward(h, count);
      if (l === last) { h = a; break; }
      preActivations.push(a);
      h = new Float64Array(a.length);
      for (var i = 0; i < a.length; i++) h[i] = a[i] > 0 ? a[i] : slope * a[i]; // torch: x > 0 ? x : slope * x
      inputs.push(h);
    }
    return { output: h, inputs: inputs, preActivations: preActivations, count: count };
  };

  /** Backward from dL/d(output); accumulates parameter gradients if withParameters; returns dL/dx. */
  MLP.prototype.backward = function (cache, dOutput, withParameters) {
    var slope = this.slope, d = dOutput;
    for (var l = this.layers.length - 1; l >= 0; l--) {
      d = this.layers[l].backward(cache.inputs[l], d, cache.count, withParameters);
      if (l > 0) {
        var a = cache.preActivations[l - 1];
        for (var i = 0; i < d.length; i++) if (!(a[i] > 0)) d[i] *= slope; // torch: gradient where x > 0, else slope
      }
    }
    return d;
  };

  /**
   * The gradient penalty's own backward: adds weight * d/dtheta of mean_n (|grad_x D(x_n)| - 1)^2.
   *
   * For a LeakyReLU network, grad_x D(x) = W1^T S1 W2^T S2 ... w_last^T, with S_l = diag(slopes at x) the
   * activation's derivative (1 or 0.2) at each unit. The slopes are piecewise constant in the weights, so
   * their own derivative is 0 (exactly what torch's double backward of LeakyReLU gives), and the penalty
   * is a product of the weight matrices: its gradient is a second backward pass through that product.
   * The biases get no gradient from the penalty. Returns the penalty.
   */
  MLP.prototype.gradientPenaltyBackward = function (x, count, weight) {
    if (this.sizes[this.sizes.length - 1] !== 1) throw new Error("the gradient penalty needs a scalar output");
    var cache = this.forward(x, count);
    var layers = this.layers, last = layers.length - 1, slope = this.slope;
    // Forward through the product: backs[l] is d score / d(pre-activation of layer l), (N, outputs of layer l).
    var backs = new Array(last + 1);
    var d = new Float64Array(count);
    d.fill(1); // d score / d score
    backs[last] = d;
    for (var l = last; l >= 1; l--) {
      d = layers[l].backward(null, d, count, false); // d score / d(input of layer l): d W_l
      var a = cache.preActivations[l - 1];
      for (var i = 0; i < d.length; i++) if (!(a[i] > 0)) d[i] *= slope;
      backs[l - 1] = d;
    }
    var gradients = layers[0].backward(null, backs[0], count, false); // (N, input dim): grad_x D
    var dimension = this.sizes[0], penalty = 0;
    var dGradients = new Float64Array(gradients.length);
    for (var n = 0; n < count; n++) {
      var squared = 0;
      for (var k = 0; k < dimension; k++) squared += gradients[n * dimension + k] * gradients[n * dimension + k];
      var norm = Math.sqrt(squared);
      penalty += (norm - 1) * (norm - 1) / count;
      // d/dg of (|g| - 1)^2 / N; torch's norm backward gives 0 where the norm is 0
      var scale = norm > 0 ? weight * 2 * (norm - 1) / (norm * count) : 0;
      for (var j = 0; j < dimension; j++) dGradients[n * dimension + j] = scale * gradients[n * dimension + j];
    }
    // Reverse through the product: gradients = backs[0] W_0, and backs[l-1] = (backs[l] W_l) * slopes.
    var dBack = this._productBackward(layers[0], backs[0], dGradients, count);
    for (var m = 1; m <= last; m++) {
      var pre = cache.preActivations[m - 1];
      for (var t = 0; t < dBack.length; t++) if (!(pre[t] > 0)) dBack[t] *= slope;
      dBack = this._productBackward(layers[m], backs[m], dBack, count);
    }
    return penalty;
  };

  /** For v = u W (u: (N, outputs), v: (N, inputs)): add dL/dW = sum_n u_n^T dv_n; return dL/du = dv W^T. */
  MLP.prototype._productBackward = function (layer, u, dv, count) {
    var inputs = layer.inputs, outputs = layer.outputs;
    var du = new Float64Array(count * outputs);
    productTransposed(dv, layer.weight, count, outputs, inputs, du); // du = dv W^T
    productTransposed(transpose(u, count, outputs), transpose(dv, count, inputs), outputs, inputs, count,
                      layer.weightGrad); // dW += u^T dv
    return du;
  };

  // ------------------------------------------------------------------------------------------------ the losses

  function softplus(x) { return x > SOFTPLUS_THRESHOLD ? x : Math.log1p(Math.exp(x)); }
  // torch's softplus backward: exp(x) / (exp(x) + 1), or 1 above the threshold
  function softplusGrad(x) { if (x > SOFTPLUS_THRESHOLD) return 1; var e = Math.exp(x); return e / (e + 1); }
  function sigmoid(x) { return 1 / (1 + Math.exp(-x)); }

  function mean(values) { var s = 0; for (var i = 0; i < values.length; i++) s += values[i]; return s / values.length; }

  /**
   * gan_teach.losses, each with its gradient. discriminator(real, fake) and generator(fake) take logits and
   * return {loss, dReal, dFake}: the loss (a mean over the batch) and its derivative in each logit.
   */
  var LOSSES = {
    "bce": function (real, fake) { // bce_discriminator_loss: softplus(-r).mean() + softplus(f).mean()
      var n = real.length, m = fake.length, loss = 0, dReal = new Float64Array(n), dFake = new Float64Array(m);
      for (var i = 0; i < n; i++) { loss += softplus(-real[i]) / n; dReal[i] = -softplusGrad(-real[i]) / n; }
      for (var j = 0; j < m; j++) { loss += softplus(fake[j]) / m; dFake[j] = softplusGrad(fake[j]) / m; }
      return { loss: loss, dReal: dReal, dFake: dFake };
    },
    "minimax-generator": function (fake) { // minimax_generator_loss: -softplus(f).mean()
      var m = fake.length, loss = 0, dFake = new Float64Array(m);
      for (var j = 0; j < m; j++) { loss -= softplus(fake[j]) / m; dFake[j] = -softplusGrad(fake[j]) / m; }
      return { loss: loss, dFake: dFake };
    },
    "non-saturating-generator": function (fake) { // non_saturating_generator_loss: softplus(-f).mean()
      var m = fake.length, loss = 0, dFake = new Float64Array(m);
      for (var j = 0; j < m; j++) { loss += softplus(-fake[j]) / m; dFake[j] = -softplusGrad(-fake[j]) / m; }
      return { loss: loss, dFake: dFake };
    },
    "lsgan": function (real, fake) { // 0.5 mean((r - 1)^2) + 0.5 mean(f^2)
      var n = real.length, m = fake.length, loss = 0, dReal = new Float64Array(n), dFake = new Float64Array(m);
      for (var i = 0; i < n; i++) { loss += 0.5 * (real[i] - 1) * (real[i] - 1) / n; dReal[i] = (real[i] - 1) / n; }
      for (var j = 0; j < m; j++) { loss += 0.5 * fake[j] * fake[j] / m; dFake[j] = fake[j] / m; }
      return { loss: loss, dReal: dReal, dFake: dFake };
    },
    "lsgan-generator": function (fake) { // 0.5 mean((f - 1)^2)
      var m = fake.length, loss = 0, dFake = new Float64Array(m);
      for (var j = 0; j < m; j++) { loss += 0.5 * (fake[j] - 1) * (fake[j] - 1) / m; dFake[j] = (fake[j] - 1) / m; }
      return { loss: loss, dFake: dFake };
    },
    "hinge": function (real, fake) { // relu(1 - r).mean() + relu(1 + f).mean(); relu's gradient at 0 is 0
      var n = real.length, m = fake.length, loss = 0, dReal = new Float64Array(n), dFake = new Float64Array(m);
      for (var i = 0; i < n; i++) { var a = 1 - real[i]; if (a > 0) { loss += a / n; dReal[i] = -1 / n; } }
      for (var j = 0; j < m; j++) { var b = 1 + fake[j]; if (b > 0) { loss += b / m; dFake[j] = 1 / m; } }
      return { loss: loss, dReal: dReal, dFake: dFake };
    },
    "wasserstein": function (real, fake) { // f.mean() - r.mean()
      var n = real.length, m = fake.length, dReal = new Float64Array(n), dFake = new Float64Array(m);
      dReal.fill(-1 / n);
      dFake.fill(1 / m);
      return { loss: mean(fake) - mean(real), dReal: dReal, dFake: dFake };
    },
    "wasserstein-generator": function (fake) { // -f.mean(); also the hinge GAN's generator loss
      var m = fake.length, dFake = new Float64Array(m);
      dFake.fill(-1 / m);
      return { loss: -mean(fake), dFake: dFake };
    },
  };

  /** gan_teach.losses.LOSSES: the discriminator's and the generator's loss of each named GAN loss. */
  var GAN_LOSSES = {
    "minimax": { discriminator: "bce", generator: "minimax-generator" },
    "non-saturating": { discriminator: "bce", generator: "non-saturating-generator" },
    "lsgan": { discriminator: "lsgan", generator: "lsgan-generator" },
    "hinge": { discriminator: "hinge", generator: "wasserstein-generator" },
    "wgan-gp": { discriminator: "wasserstein", generator: "wasserstein-generator" },
  };

  // ------------------------------------------------------------------------------------------------ the optimizers

  /** torch.optim.Adam (no weight decay, no amsgrad), over an MLP's parameters. */
  function Adam(network, learningRate, beta1, beta2) {
    this.parameters = network.parameters();
    this.learningRate = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = 1e-8; // torch's default
    this.steps = 0;
    this.firstMoments = this.parameters.map(function (p) { return new Float64Array(p.value.length); });
    this.secondMoments = this.parameters.map(function (p) { return new Float64Array(p.value.length); });
  }

  Adam.prototype.step = function () {
    this.steps += 1;
    var beta1 = this.beta1, beta2 = this.beta2, eps = this.eps;
    var biasCorrection1 = 1 - Math.pow(beta1, this.steps);
    var biasCorrection2 = 1 - Math.pow(beta2, this.steps);
    var stepSize = this.learningRate / biasCorrection1;
    var rootCorrection2 = Math.sqrt(biasCorrection2);
    for (var p = 0; p < this.parameters.length; p++) {
      var value = this.parameters[p].value, grad = this.parameters[p].grad;
      var m = this.firstMoments[p], v = this.secondMoments[p];
      for (var i = 0; i < value.length; i++) {
        var g = grad[i];
        m[i] += (g - m[i]) * (1 - beta1); // torch: exp_avg.lerp_(grad, 1 - beta1)
        v[i] = beta2 * v[i] + (1 - beta2) * g * g; // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
        // denom = sqrt(v) / sqrt(1 - beta2^t) + eps: eps is added after the bias correction of v
        value[i] -= stepSize * m[i] / (Math.sqrt(v[i]) / rootCorrection2 + eps);
      }
    }
  };

  /** torch.optim.SGD without momentum: p <- p - lr * grad. */
  function SGD(network, learningRate) {
    this.parameters = network.parameters();
    this.learningRate = learningRate;
  }

  SGD.prototype.step = function () {
    for (var p = 0; p < this.parameters.length; p++) {
      var value = this.parameters[p].value, grad = this.parameters[p].grad;
      for (var i = 0; i < value.length; i++) value[i] -= this.learningRate * grad[i];
    }
  };

  // ------------------------------------------------------------------------------------------------ the trainer

  /**
   * The lab's GAN and its two updates, as gan_teach.train does them.
   *
   * settings: {loss, optimizer ("adam" | "sgd"), lrGenerator, lrDiscriminator, beta1, beta2, dSteps, width,
   *            latentDim, batchSize, dataDim (2), numHidden (3), gradientPenaltyWeight, seed}.
   * The networks are initialised like torch's nn.Linear (from the page's own seeded randomness); a test
   * instead loads PyTorch's initial weights with loadParameters.
   */
  function Trainer(settings) {
    if (settings.generatorBatchNorm) {
      throw new Error("this trainer has no batch norm: the lab's generator is built without it " +
                      "(LabSettings.to_config sets generator_batch_norm=False)");
    }
    if (!GAN_LOSSES[settings.loss]) {
      throw new Error("unknown loss " + JSON.stringify(settings.loss) + "; choose one of: " +
                      Object.keys(GAN_LOSSES).join(", "));
    }
    if (settings.optimizer !== "adam" && settings.optimizer !== "sgd") {
      throw new Error("optimizer must be adam or sgd, got " + JSON.stringify(settings.optimizer));
    }
    this.settings = Object.assign({ dataDim: 2, numHidden: 3, gradientPenaltyWeight: 0, seed: 0 }, settings);
    var s = this.settings;
    this.random = new Random(s.seed);
    var hidden = [];
    for (var l = 0; l < s.numHidden; l++) hidden.push(s.width);
    this.generator = new MLP([s.latentDim].concat(hidden, [s.dataDim]), "relu", this.random);
    this.discriminator = new MLP([s.dataDim].concat(hidden, [1]), "leaky", this.random);
    this.loss = GAN_LOSSES[s.loss];
    this._makeOptimizers();
  }

  Trainer.prototype._makeOptimizers = function () {
    var s = this.settings;
    if (s.optimizer === "adam") {
      this.generatorOptimizer = new Adam(this.generator, s.lrGenerator, s.beta1, s.beta2);
      this.discriminatorOptimizer = new Adam(this.discriminator, s.lrDiscriminator, s.beta1, s.beta2);
    } else {
      this.generatorOptimizer = new SGD(this.generator, s.lrGenerator);
      this.discriminatorOptimizer = new SGD(this.discriminator, s.lrDiscriminator);
    }
  };

  /** Change both learning rates now, keeping the optimizers' moments (LabSession.set_learning_rates). */
  Trainer.prototype.setLearningRates = function (lrGenerator, lrDiscriminator) {
    this.settings.lrGenerator = this.generatorOptimizer.learningRate = lrGenerator;
    this.settings.lrDiscriminator = this.discriminatorOptimizer.learningRate = lrDiscriminator;
  };

  /** Load weights given as {generator: [[...], ...], discriminator: [...]}, in PyTorch's parameter order. */
  Trainer.prototype.loadParameters = function (weights) {
    [["generator", this.generator], ["discriminator", this.discriminator]].forEach(function (pair) {
      var parameters = pair[1].parameters(), given = weights[pair[0]];
      if (given.length !== parameters.length) {
        throw new Error(pair[0] + ": expected " + parameters.length + " parameter tensors, got " + given.length);
      }
      parameters.forEach(function (parameter, index) {
        if (given[index].length !== parameter.value.length) {
          throw new Error(pair[0] + " parameter " + index + ": expected " + parameter.value.length +
                          " numbers, got " + given[index].length);
        }
        parameter.value.set(given[index]);
      });
    });
    this._makeOptimizers(); // fresh moments, as a freshly made torch optimizer has
  };

  /** The weights, in the same form as loadParameters takes. */
  Trainer.prototype.getParameters = function () {
    function values(network) { return network.parameters().map(function (p) { return Array.from(p.value); }); }
    return { generator: values(this.generator), discriminator: values(this.discriminator) };
  };

  /** G(z) for (N, latentDim) noise: (N, 2). */
  Trainer.prototype.generate = function (z, count) { return this.generator.forward(z, count).output; };

  /** D's logits for (N, 2) points: (N,). */
  Trainer.prototype.score = function (x, count) { return this.discriminator.forward(x, count).output; };

  /**
   * Block (1) of Algorithm 1, as gan_teach.train.discriminator_step: one D update on a real batch; G is fixed.
   * real: (B, 2). noise (optional): {z: (B, latentDim), epsilon: (B,)}; drawn here when not given.
   * Returns {d_loss, d_real, d_fake, real_score, fake_score, gradient_penalty?}.
   */
  Trainer.prototype.discriminatorStep = function (real, noise) {
    var s = this.settings, count = real.length / s.dataDim;
    var z = noise && noise.z ? noise.z : this.random.normals(count * s.latentDim);
    var fake = this.generate(z, count); // without a graph: G is held fixed
    var discriminator = this.discriminator;
    discriminator.zeroGrad();
    var realPass = discriminator.forward(real, count), fakePass = discriminator.forward(fake, count);
    var terms = LOSSES[this.loss.discriminator](realPass.output, fakePass.output);
    discriminator.backward(realPass, terms.dReal, true);
    discriminator.backward(fakePass, terms.dFake, true);
    var metrics = {};
    var dLoss = terms.loss;
    if (s.gradientPenaltyWeight) {
      // gan_teach.losses.gradient_penalty: x_hat = e x + (1 - e) G(z), one uniform e per example
      var epsilon = noise && noise.epsilon ? noise.epsilon : this.random.uniforms(count);
      var mixed = new Float64Array(real.length);
      for (var n = 0; n < count; n++) {
        for (var k = 0; k < s.dataDim; k++) {
          var index = n * s.dataDim + k;
          mixed[index] = epsilon[n] * real[index] + (1 - epsilon[n]) * fake[index];
        }
      }
      var penalty = discriminator.gradientPenaltyBackward(mixed, count, s.gradientPenaltyWeight);
      dLoss += s.gradientPenaltyWeight * penalty;
      metrics.gradient_penalty = penalty;
    }
    this.discriminatorOptimizer.step();
    var sigmoidReal = 0, sigmoidFake = 0;
    for (var i = 0; i < count; i++) {
      sigmoidReal += sigmoid(realPass.output[i]) / count;
      sigmoidFake += sigmoid(fakePass.output[i]) / count;
    }
    metrics.d_loss = dLoss;
    metrics.d_real = sigmoidReal;
    metrics.d_fake = sigmoidFake;
    metrics.real_score = mean(realPass.output);
    metrics.fake_score = mean(fakePass.output);
    return metrics;
  };

  /**
   * Block (2) of Algorithm 1, as gan_teach.train.generator_step: one G update on fresh noise; D is fixed.
   * noise (optional): {z: (B, latentDim)}. Returns {g_loss}.
   */
  Trainer.prototype.generatorStep = function (batchSize, noise) {
    var s = this.settings;
    var z = noise && noise.z ? noise.z : this.random.normals(batchSize * s.latentDim);
    var generator = this.generator;
    generator.zeroGrad();
    var generated = generator.forward(z, batchSize);
    var scored = this.discriminator.forward(generated.output, batchSize);
    var terms = LOSSES[this.loss.generator](scored.output);
    // D's parameter gradients from this pass are never used (torch discards them at D's next update)
    var dPoints = this.discriminator.backward(scored, terms.dFake, false);
    generator.backward(generated, dPoints, true);
    this.generatorOptimizer.step();
    return { g_loss: terms.loss };
  };

  /** gan_teach.train.train_step: k = realBatches.length D updates, then one G update. noises: k + 1 entries. */
  Trainer.prototype.trainStep = function (realBatches, noises) {
    var metrics = {};
    for (var i = 0; i < realBatches.length; i++) metrics = this.discriminatorStep(realBatches[i], noises && noises[i]);
    var last = realBatches[realBatches.length - 1];
    var g = this.generatorStep(last.length / this.settings.dataDim, noises && noises[realBatches.length]);
    metrics.g_loss = g.g_loss;
    return metrics;
  };

  // ------------------------------------------------------------------------------------------------ the pictures

  /** gan_teach.instruments.lab.pictures._plane_grid: (R * R, 2), row by row from the bottom. */
  function planeGrid(bounds, resolution) {
    var points = new Float64Array(resolution * resolution * 2);
    for (var row = 0; row < resolution; row++) {
      var y = bounds[2] + (bounds[3] - bounds[2]) * row / (resolution - 1);
      for (var column = 0; column < resolution; column++) {
        var index = 2 * (row * resolution + column);
        points[index] = bounds[0] + (bounds[1] - bounds[0]) * column / (resolution - 1);
        points[index + 1] = y;
      }
    }
    return points;
  }

  /** gan_teach.instruments.lab.discriminator_heatmap: sigmoid(D) (or the raw score for critics) on the grid, (R * R,). */
  Trainer.prototype.heatmap = function (bounds, resolution, usesSigmoid) {
    var scores = this.score(planeGrid(bounds, resolution), resolution * resolution);
    if (usesSigmoid) for (var i = 0; i < scores.length; i++) scores[i] = sigmoid(scores[i]);
    return scores;
  };

  /** gan_teach.instruments.lab.generator_manifold: G on two families of latent lines; {rows, columns}, each (L * P, 2). */
  Trainer.prototype.manifold = function (numLines, pointsPerLine, latentRange) {
    var latentDim = this.settings.latentDim, count = numLines * pointsPerLine;
    var families = [];
    for (var family = 0; family < 2; family++) {
      var z = new Float64Array(count * latentDim);
      for (var l = 0; l < numLines; l++) {
        var across = -latentRange + 2 * latentRange * l / (numLines - 1);
        for (var p = 0; p < pointsPerLine; p++) {
          var along = -latentRange + 2 * latentRange * p / (pointsPerLine - 1);
          var offset = (l * pointsPerLine + p) * latentDim;
          z[offset] = family === 0 ? along : across; // rows: z_1 fixed, z_0 varies; columns the other way
          z[offset + 1] = family === 0 ? across : along;
        }
      }
      families.push(this.generate(z, count));
    }
    return { rows: families[0], columns: families[1] };
  };

  /**
   * gan_teach.instruments.lab.generator_gradients: the gradient of each point's own generator loss, (N, 2). The lab
   * draws minus it: where a generator step pushes each fake.
   */
  Trainer.prototype.pointGradients = function (points, count) {
    var scored = this.discriminator.forward(points, count);
    var terms = LOSSES[this.loss.generator](scored.output);
    for (var i = 0; i < count; i++) terms.dFake[i] *= count; // N times the batch gradient: each point's own
    return this.discriminator.backward(scored, terms.dFake, false);
  };

  /**
   * gan_teach.metrics.toy_metrics: each point goes to its nearest center; it is high quality if closer than
   * 3 std; a mode is covered if it holds at least a tenth of its fair share (N / K) of high-quality points.
   */
  function toyMetrics(points, count, centers, std) {
    var numModes = centers.length, counts = new Array(numModes).fill(0), highQuality = 0;
    for (var n = 0; n < count; n++) {
      var best = Infinity, nearest = 0;
      for (var k = 0; k < numModes; k++) {
        var dx = points[2 * n] - centers[k][0], dy = points[2 * n + 1] - centers[k][1];
        var distance = Math.sqrt(dx * dx + dy * dy);
        if (distance < best) { best = distance; nearest = k; }
      }
      if (best < 3 * std) { highQuality += 1; counts[nearest] += 1; }
    }
    var fairShare = count / numModes, covered = 0;
    counts.forEach(function (c) { if (c >= 0.1 * fairShare) covered += 1; });
    return { modes_covered: covered, num_modes: numModes, high_quality_share: highQuality / count, mode_counts: counts };
  }

  /** ToyDistribution.sample: (N, 2) points, a uniformly chosen center plus std-scaled normal noise. */
  function sampleMixture(random, centers, std, count) {
    var points = new Float64Array(2 * count);
    for (var n = 0; n < count; n++) {
      var center = centers[Math.floor(random.uniform() * centers.length)];
      points[2 * n] = center[0] + std * random.normal();
      points[2 * n + 1] = center[1] + std * random.normal();
    }
    return points;
  }

  var api = {
    Random: Random, Linear: Linear, MLP: MLP, Adam: Adam, SGD: SGD, Trainer: Trainer, LOSSES: LOSSES,
    GAN_LOSSES: GAN_LOSSES, planeGrid: planeGrid, toyMetrics: toyMetrics, sampleMixture: sampleMixture,
    sigmoid: sigmoid,
  };
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.GanLabEngine = api;
})(this);
