/* The live GAN lab in the page: controls, the training loop, and the pictures on <canvas>.
 *
 * The training itself is gan_lab_engine.js (GanLabEngine), tested against gan_teach.train; every setting
 * (the toy distributions, the losses' Adam betas, the lab's defaults) comes from window.GAN_LAB_DATA,
 * which the book's live_lab extension writes from gan_teach.instruments.lab.page.page_data() at build time.
 * This file mirrors gan_teach.instruments.lab.LabSession (the updates, the log, the quality every 10 updates) and
 * draws what gan_teach.instruments.lab.draw_frame draws. A lab appears in every element with data-gan-live-lab.
 * Its words are English, or Chinese on a page of the Chinese edition (<html lang="zh-CN">).
 */
(function () {
  "use strict";

  // The page's language picks the lab's words: the Chinese edition's pages say lang="zh-CN".
  var CHINESE = /^zh/i.test(document.documentElement.lang || "");
  function say(english, chinese) { return CHINESE ? chinese : english; }

  var REAL_COLOR = "rgba(0, 0, 0, 0.5)", FAKE_COLOR = "#ff7f0e", ARROW_COLOR = "#9467bd";
  var D_COLOR = "#1f77b4", G_COLOR = "#2ca02c";
  var CURVES = [ // the keys of the log, as gan_teach.instruments.lab.draw_curves plots them
    { key: "d_real", label: "D(x)", color: "#000000" }, { key: "d_fake", label: "D(G(z))", color: FAKE_COLOR },
    { key: "d_loss", label: say("D loss", "D 损失"), color: D_COLOR }, { key: "g_loss", label: say("G loss", "G 损失"), color: G_COLOR },
  ];
  var LAYER_TITLES = CHINESE
    ? { heatmap: "D 的输出", manifold: "G 的流形", real: "真实点", fake: "假样本",
        gradients: "假样本上的箭头", curves: "损失曲线", modes: "模式" }
    : { heatmap: "D's output", manifold: "G's manifold", real: "real points", fake: "fakes",
        gradients: "arrows on fakes", curves: "loss curves", modes: "modes" };
  var WIDTHS = [8, 16, 32, 64, 128];
  var MAX_CURVE_POINTS = 400; // curves are drawn through at most this many points, however long the run

  function element(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") node.textContent = attributes[name];
      else node.setAttribute(name, attributes[name]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function labelled(text, control) {
    return element("label", { "class": "gan-lab-control" }, [element("span", { text: text }), control]);
  }

  function select(options, value) {
    var node = element("select");
    options.forEach(function (option) {
      var item = element("option", { value: String(option), text: String(option) });
      if (String(option) === String(value)) item.selected = true;
      node.appendChild(item);
    });
    return node;
  }

  /** One lab in one container: its own trainer, controls and canvases. */
  function LiveLab(container, data, engine) {
    this.container = container;
    this.data = data;
    this.engine = engine;
    this.playing = false;
    this.drawEnabled = true;
    this.stepsPerSecond = 0;
    this._build();
    this.reset();
    var lab = this;
    window.addEventListener("resize", function () { lab._resizeCanvases(); lab.draw(); });
  }

  LiveLab.prototype._build = function () {
    var d = this.data.defaults, lab = this;
    var lrRange = function (value) {
      return element("input", { type: "range", min: "-5", max: "0", step: "0.1", value: String(Math.log10(value)) });
    };
    this.controls = {
      dataset: select(Object.keys(this.data.datasets), d.dataset),
      loss: select(Object.keys(this.data.losses), d.loss),
      optimizer: select(this.data.optimizers, d.optimizer),
      width: select(WIDTHS.indexOf(d.width) < 0 ? WIDTHS.concat([d.width]) : WIDTHS, d.width),
      lrGenerator: lrRange(d.lr_generator),
      lrDiscriminator: lrRange(d.lr_discriminator),
      dSteps: element("input", { type: "range", min: "1", max: "10", step: "1", value: String(d.d_steps) }),
    };
    this.readouts = { lrGenerator: element("output"), lrDiscriminator: element("output"), dSteps: element("output") };
    this.buttons = {
      discriminator: element("button", { type: "button", text: say("D step", "D 一步"), title: say("one discriminator update; G frozen", "判别器更新一次；G 不动") }),
      generator: element("button", { type: "button", text: say("G step", "G 一步"), title: say("one generator update; D frozen", "生成器更新一次；D 不动") }),
      step: element("button", { type: "button", text: say("Step", "一步"), title: say("k D updates, then one G update (train_step)", "先更新 k 次 D，再更新一次 G（train_step）") }),
      play: element("button", { type: "button", text: say("Play", "运行"), title: say("run / pause", "运行 / 暂停") }),
      reset: element("button", { type: "button", text: say("Reset", "重置"), title: say("fresh networks with these settings", "按当前设置重新初始化网络") }),
    };
    this.layerBoxes = {};
    var layerRow = element("div", { "class": "gan-lab-row gan-lab-layers" });
    this.data.layers.forEach(function (name) {
      var box = element("input", { type: "checkbox" });
      box.checked = true;
      box.addEventListener("change", function () { lab.draw(); });
      lab.layerBoxes[name] = box;
      layerRow.appendChild(element("label", { "class": "gan-lab-check" }, [box, element("span", { text: LAYER_TITLES[name] || name })]));
    });
    var c = this.controls, r = this.readouts, b = this.buttons;
    this.plane = element("canvas", { "class": "gan-lab-plane", role: "img",
                                     "aria-label": say("real and generated points over D's output", "D 的输出之上的真实点与生成点") });
    this.curves = element("canvas", { "class": "gan-lab-curves", role: "img", "aria-label": say("losses and D's outputs", "损失与 D 的输出") });
    this.modes = element("canvas", { "class": "gan-lab-modes", role: "img", "aria-label": say("mode coverage", "模式覆盖") });
    this.status = element("div", { "class": "gan-lab-status", "aria-live": "polite" });
    this.counter = element("span", { "class": "gan-lab-counter", text: "0" });
    this.container.classList.add("gan-live-lab");
    this.container.appendChild(element("div", { "class": "gan-lab-row" }, [
      labelled(say("data", "数据"), c.dataset), labelled(say("loss", "损失"), c.loss),
      labelled(say("optimizer", "优化器"), c.optimizer), labelled(say("width", "宽度"), c.width)]));
    this.container.appendChild(element("div", { "class": "gan-lab-row" }, [
      labelled(say("G rate", "G 学习率"), element("span", {}, [c.lrGenerator, r.lrGenerator])),
      labelled(say("D rate", "D 学习率"), element("span", {}, [c.lrDiscriminator, r.lrDiscriminator])),
      labelled(say("k (D steps)", "k（D 步数）"), element("span", {}, [c.dSteps, r.dSteps]))]));
    this.container.appendChild(element("div", { "class": "gan-lab-row gan-lab-buttons" }, [
      b.discriminator, b.generator, b.step, b.play, b.reset,
      element("span", { "class": "gan-lab-updates" }, [this.counter, element("span", { text: say(" updates", " 次更新") })])]));
    this.container.appendChild(layerRow);
    this.container.appendChild(element("div", { "class": "gan-lab-views" }, [
      this.plane, element("div", { "class": "gan-lab-side" }, [this.curves, this.modes])]));
    this.container.appendChild(this.status);

    ["dataset", "loss", "optimizer", "width"].forEach(function (name) {
      c[name].addEventListener("change", function () { lab.reset(); }); // new networks: these change what is trained
    });
    ["lrGenerator", "lrDiscriminator"].forEach(function (name) {
      c[name].addEventListener("input", function () {
        lab._showReadouts();
        lab.trainer.setLearningRates(lab._rate("lrGenerator"), lab._rate("lrDiscriminator"));
      });
    });
    c.dSteps.addEventListener("input", function () { lab._showReadouts(); });
    b.discriminator.addEventListener("click", function () { lab.act("discriminator"); });
    b.generator.addEventListener("click", function () { lab.act("generator"); });
    b.step.addEventListener("click", function () { lab.act("step"); });
    b.play.addEventListener("click", function () { lab.setPlaying(!lab.playing); });
    b.reset.addEventListener("click", function () { lab.reset(); });
  };

  LiveLab.prototype._rate = function (name) {
    return Number(Math.pow(10, Number(this.controls[name].value)).toPrecision(2));
  };

  LiveLab.prototype._showReadouts = function () {
    this.readouts.lrGenerator.textContent = this._rate("lrGenerator").toExponential(0);
    this.readouts.lrDiscriminator.textContent = this._rate("lrDiscriminator").toExponential(0);
    this.readouts.dSteps.textContent = this.controls.dSteps.value;
  };

  /** Fresh networks with the settings the controls show (LabSession.reset). */
  LiveLab.prototype.reset = function () {
    var c = this.controls, data = this.data, d = data.defaults;
    var loss = data.losses[c.loss.value];
    this.settings = {
      dataset: c.dataset.value, loss: c.loss.value, optimizer: c.optimizer.value,
      lrGenerator: this._rate("lrGenerator"), lrDiscriminator: this._rate("lrDiscriminator"),
      beta1: d.beta1 === null ? loss.beta1 : d.beta1, beta2: d.beta2 === null ? loss.beta2 : d.beta2,
      width: Number(c.width.value), latentDim: d.latent_dim, batchSize: d.batch_size, dataDim: 2,
      numHidden: data.network.num_hidden, gradientPenaltyWeight: loss.gradient_penalty_weight,
      generatorBatchNorm: data.network.generator_batch_norm, seed: d.seed,
    };
    this.distribution = data.datasets[this.settings.dataset];
    this.usesSigmoid = loss.uses_sigmoid;
    this.trainer = new this.engine.Trainer(this.settings);
    this.dataRandom = new this.engine.Random(d.seed + 1); // real batches: their own stream, as in LabSession
    this.fixedNoise = new this.engine.Random(d.seed + 2).normals(data.num_fixed_samples * d.latent_dim);
    this.realPoints = this.engine.sampleMixture(new this.engine.Random(d.seed + 3), this.distribution.centers,
                                                this.distribution.std, data.pictures.num_real);
    this.updates = 0;
    this.diverged = false;
    this.log = { update: [], d_loss: [], g_loss: [], d_real: [], d_fake: [] };
    this.quality = [];
    this._recordQuality();
    this._showReadouts();
    this._resizeCanvases();
    this.draw();
  };

  LiveLab.prototype.realBatch = function () {
    return this.engine.sampleMixture(this.dataRandom, this.distribution.centers, this.distribution.std,
                                     this.settings.batchSize);
  };

  /** One update: "discriminator", "generator" or "step" (k D updates, then one G update). No drawing. */
  LiveLab.prototype.update = function (action) {
    var metrics;
    if (action === "discriminator") {
      metrics = this.trainer.discriminatorStep(this.realBatch());
    } else if (action === "generator") {
      metrics = this.trainer.generatorStep(this.settings.batchSize);
    } else {
      var batches = [], k = Number(this.controls.dSteps.value);
      for (var i = 0; i < k; i++) batches.push(this.realBatch()); // k fresh batches
      metrics = this.trainer.trainStep(batches);
    }
    this._record(metrics);
    return metrics;
  };

  LiveLab.prototype.act = function (action) {
    this.update(action);
    this.draw();
  };

  LiveLab.prototype._record = function (metrics) {
    var lab = this;
    if (("d_loss" in metrics && !isFinite(metrics.d_loss)) || ("g_loss" in metrics && !isFinite(metrics.g_loss))) {
      this.diverged = true;
      this.setPlaying(false);
    }
    this.updates += 1;
    this.log.update.push(this.updates);
    ["d_loss", "g_loss", "d_real", "d_fake"].forEach(function (key) {
      lab.log[key].push(key in metrics ? metrics[key] : NaN);
    });
    if (this.updates % this.data.quality_every === 0) this._recordQuality();
  };

  LiveLab.prototype.fixedFakes = function () {
    return this.trainer.generate(this.fixedNoise, this.data.num_fixed_samples);
  };

  LiveLab.prototype._recordQuality = function () {
    var scores = this.engine.toyMetrics(this.fixedFakes(), this.data.num_fixed_samples, this.distribution.centers,
                                        this.distribution.std);
    this.quality.push([this.updates, scores.modes_covered, scores.high_quality_share]);
  };

  LiveLab.prototype.setPlaying = function (playing) {
    this.playing = playing;
    this.buttons.play.textContent = playing ? say("Pause", "暂停") : say("Play", "运行");
    this.buttons.play.setAttribute("aria-pressed", playing ? "true" : "false");
    if (playing && !this._frameRequested) this._requestFrame();
  };

  LiveLab.prototype._requestFrame = function () {
    var lab = this;
    this._frameRequested = true;
    window.requestAnimationFrame(function () { lab._frameRequested = false; lab._tick(); });
  };

  /**
   * One animation frame of Play: full steps, then one picture. The steps get twice as long as the last
   * picture took (at least 12 ms), so that two thirds of the time trains and the picture still moves.
   * Returns how many steps were taken.
   */
  LiveLab.prototype._trainThenDraw = function (withDrawing) {
    var start = performance.now(), steps = 0, budget = Math.max(12, 2 * (this._drawMs || 0));
    do {
      this.update("step");
      steps += 1;
    } while (!this.diverged && performance.now() - start < budget);
    if (withDrawing) {
      var drawStart = performance.now();
      this.draw();
      this._drawMs = performance.now() - drawStart;
    }
    return steps;
  };

  LiveLab.prototype._tick = function () {
    if (!this.playing) return;
    var steps = this._trainThenDraw(true), now = performance.now();
    if (this._lastTick) {
      var rate = steps / ((now - this._lastTick) / 1000);
      this.stepsPerSecond = this.stepsPerSecond ? 0.8 * this.stepsPerSecond + 0.2 * rate : rate;
    }
    this._lastTick = now;
    if (this.playing) this._requestFrame();
    else this._lastTick = 0;
  };

  LiveLab.prototype.layers = function () {
    var lab = this;
    return this.data.layers.filter(function (name) { return lab.layerBoxes[name].checked; });
  };

  // ------------------------------------------------------------------------------------------------ drawing

  LiveLab.prototype._resizeCanvases = function () {
    var ratio = window.devicePixelRatio || 1;
    [this.plane, this.curves, this.modes].forEach(function (canvas) {
      var width = Math.max(120, canvas.clientWidth), height = Math.max(80, canvas.clientHeight);
      if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
        canvas.width = Math.round(width * ratio);
        canvas.height = Math.round(height * ratio);
      }
      canvas.getContext("2d").setTransform(ratio, 0, 0, ratio, 0, 0);
    });
  };

  LiveLab.prototype.draw = function () {
    if (!this.drawEnabled) return;
    var layers = this.layers();
    this._drawPlane(layers);
    this._drawCurves(layers);
    this._drawModes(layers);
    this.counter.textContent = String(this.updates);
    var last = {}, log = this.log;
    ["d_loss", "g_loss", "d_real", "d_fake"].forEach(function (key) {
      for (var i = log[key].length - 1; i >= 0; i--) if (!isNaN(log[key][i])) { last[key] = log[key][i]; break; }
    });
    var shown = Object.keys(last).map(function (key) { return key + " " + last[key].toFixed(3); }).join(", ");
    var quality = this.quality[this.quality.length - 1];
    this.status.textContent = CHINESE
      ? this.updates + " 次更新" + (shown ? "；" + shown : "") + "；覆盖模式 " + quality[1] + " / " +
        this.distribution.num_modes + "，高质量样本 " + (100 * quality[2]).toFixed(1) + "%" +
        (this.playing && this.stepsPerSecond ? "；每秒 " + this.stepsPerSecond.toFixed(0) + " 步" : "") +
        (this.diverged ? "。损失变成了 NaN 或无穷大：训练发散了。请调低学习率，再按“重置”。" : "")
      : this.updates + " updates" + (shown ? "; " + shown : "") + "; modes covered " +
        quality[1] + " of " + this.distribution.num_modes + ", high quality " + (100 * quality[2]).toFixed(1) + " %" +
        (this.playing && this.stepsPerSecond ? "; " + this.stepsPerSecond.toFixed(0) + " steps/s" : "") +
        (this.diverged ? ". The losses became NaN or infinite: the training diverged. Lower the learning rates " +
                         "and press Reset." : "");
  };

  /** RdBu_r-like: blue (low) through white to red (high), for t in [0, 1]. */
  function heatColor(t) {
    t = Math.min(1, Math.max(0, t));
    var low = [33, 102, 172], middle = [247, 247, 247], high = [178, 24, 43];
    var from = t < 0.5 ? low : middle, to = t < 0.5 ? middle : high, s = t < 0.5 ? 2 * t : 2 * t - 1;
    return [from[0] + (to[0] - from[0]) * s, from[1] + (to[1] - from[1]) * s, from[2] + (to[2] - from[2]) * s];
  }

  LiveLab.prototype._drawPlane = function (layers) {
    var canvas = this.plane, context = canvas.getContext("2d");
    var size = canvas.clientWidth, bounds = this.distribution.bounds, pictures = this.data.pictures;
    var toX = function (x) { return (x - bounds[0]) / (bounds[1] - bounds[0]) * size; };
    var toY = function (y) { return size - (y - bounds[2]) / (bounds[3] - bounds[2]) * size; };
    context.clearRect(0, 0, size, size);
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, size, size);
    var trainer = this.trainer;
    if (layers.indexOf("heatmap") >= 0) {
      var resolution = pictures.resolution;
      var values = trainer.heatmap(bounds, resolution, this.usesSigmoid), limit = 0;
      if (!this.usesSigmoid) for (var v = 0; v < values.length; v++) limit = Math.max(limit, Math.abs(values[v]) || 0);
      limit = limit || 1; // a critic's scores: a symmetric colour scale around 0
      if (!this._heatCanvas || this._heatCanvas.width !== resolution) {
        this._heatCanvas = document.createElement("canvas");
        this._heatCanvas.width = this._heatCanvas.height = resolution;
      }
      var heat = this._heatCanvas.getContext("2d"), image = heat.createImageData(resolution, resolution);
      for (var row = 0; row < resolution; row++) {
        for (var column = 0; column < resolution; column++) {
          var value = values[row * resolution + column];
          if (isNaN(value)) value = this.usesSigmoid ? 0.5 : 0;
          var color = heatColor(this.usesSigmoid ? value : 0.5 + 0.5 * value / limit);
          var index = 4 * ((resolution - 1 - row) * resolution + column); // row 0 is the bottom of the plane
          image.data[index] = color[0];
          image.data[index + 1] = color[1];
          image.data[index + 2] = color[2];
          image.data[index + 3] = 204; // alpha 0.8, as the Python lab draws it
        }
      }
      heat.putImageData(image, 0, 0);
      context.imageSmoothingEnabled = false;
      context.drawImage(this._heatCanvas, 0, 0, size, size);
    }
    if (layers.indexOf("manifold") >= 0) {
      var manifold = trainer.manifold(pictures.num_lines, pictures.points_per_line, pictures.latent_range);
      context.strokeStyle = "rgba(255, 127, 14, 0.5)";
      context.lineWidth = 0.8;
      context.beginPath();
      [manifold.rows, manifold.columns].forEach(function (family) {
        for (var line = 0; line < pictures.num_lines; line++) {
          for (var p = 0; p < pictures.points_per_line; p++) {
            var at = 2 * (line * pictures.points_per_line + p);
            if (p === 0) context.moveTo(toX(family[at]), toY(family[at + 1]));
            else context.lineTo(toX(family[at]), toY(family[at + 1]));
          }
        }
      });
      context.stroke();
    }
    var dots = function (points, count, color, radius) {
      context.fillStyle = color;
      context.beginPath();
      for (var n = 0; n < count; n++) {
        var x = toX(points[2 * n]), y = toY(points[2 * n + 1]);
        context.moveTo(x + radius, y);
        context.arc(x, y, radius, 0, 2 * Math.PI);
      }
      context.fill();
    };
    if (layers.indexOf("real") >= 0) dots(this.realPoints, pictures.num_real, REAL_COLOR, 1.5);
    var fakes = this.fixedFakes();
    if (layers.indexOf("fake") >= 0) dots(fakes, this.data.num_fixed_samples, FAKE_COLOR, 1.8);
    if (layers.indexOf("gradients") >= 0) this._drawArrows(context, fakes, toX, toY);
    context.fillStyle = "#333333";
    context.font = "11px sans-serif";
    context.fillText(this.settings.dataset + ", " + this.settings.loss + ", k=" + this.controls.dSteps.value + ": " +
                     this.updates + say(" updates", " 次更新"), 6, 14);
    context.fillText(this.usesSigmoid ? say("D(x): blue 0 (fake) to red 1 (real)", "D(x)：蓝 0（假）到红 1（真）")
                                      : say("critic score: blue low, red high", "critic 得分：蓝低，红高"),
                     6, size - 6);
  };

  /** Minus the gradient of each fake's own generator loss (gan_teach.instruments.lab.generator_gradients), cut to max_arrow. */
  LiveLab.prototype._drawArrows = function (context, fakes, toX, toY) {
    var pictures = this.data.pictures, count = pictures.num_arrows;
    var tails = fakes.subarray(0, 2 * count);
    var gradients = this.trainer.pointGradients(tails, count);
    context.strokeStyle = ARROW_COLOR;
    context.fillStyle = ARROW_COLOR;
    context.lineWidth = 1.2;
    for (var n = 0; n < count; n++) {
      var dx = -pictures.arrow_scale * gradients[2 * n], dy = -pictures.arrow_scale * gradients[2 * n + 1];
      if (!isFinite(dx) || !isFinite(dy)) continue;
      var length = Math.sqrt(dx * dx + dy * dy);
      var cut = Math.min(1, pictures.max_arrow / Math.max(length, 1e-12));
      var x0 = toX(tails[2 * n]), y0 = toY(tails[2 * n + 1]);
      var x1 = toX(tails[2 * n] + dx * cut), y1 = toY(tails[2 * n + 1] + dy * cut);
      context.beginPath();
      context.moveTo(x0, y0);
      context.lineTo(x1, y1);
      context.stroke();
      var angle = Math.atan2(y1 - y0, x1 - x0), head = Math.min(5, Math.hypot(x1 - x0, y1 - y0) / 2);
      context.beginPath();
      context.moveTo(x1, y1);
      context.lineTo(x1 - head * Math.cos(angle - 0.5), y1 - head * Math.sin(angle - 0.5));
      context.lineTo(x1 - head * Math.cos(angle + 0.5), y1 - head * Math.sin(angle + 0.5));
      context.fill();
    }
  };

  /** Axes with a title; returns a function that maps (update, value) to the canvas. */
  function chartFrame(canvas, title, xMax, yMin, yMax) {
    var context = canvas.getContext("2d"), width = canvas.clientWidth, height = canvas.clientHeight;
    var left = 34, right = 6, top = 16, bottom = 16;
    context.clearRect(0, 0, width, height);
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, width, height);
    context.strokeStyle = "#999999";
    context.lineWidth = 1;
    context.strokeRect(left, top, width - left - right, height - top - bottom);
    context.fillStyle = "#333333";
    context.font = "10px sans-serif";
    context.fillText(title, left, 11);
    context.fillText(yMax.toPrecision(2), 2, top + 8);
    context.fillText(yMin.toPrecision(2), 2, height - bottom);
    context.fillText(String(Math.round(xMax)), width - right - 24, height - 4);
    context.fillText("0", left, height - 4);
    return {
      context: context,
      x: function (update) { return left + update / Math.max(xMax, 1) * (width - left - right); },
      y: function (value) { return top + (yMax - value) / (yMax - yMin || 1) * (height - top - bottom); },
    };
  }

  function polyline(chart, xs, ys, color) {
    var context = chart.context, started = false, stride = Math.max(1, Math.floor(xs.length / MAX_CURVE_POINTS));
    context.strokeStyle = color;
    context.lineWidth = 1.2;
    context.beginPath();
    for (var i = 0; i < xs.length; i += stride) {
      if (!isFinite(ys[i])) continue;
      if (!started) { context.moveTo(chart.x(xs[i]), chart.y(ys[i])); started = true; }
      else context.lineTo(chart.x(xs[i]), chart.y(ys[i]));
    }
    context.stroke();
  }

  LiveLab.prototype._drawCurves = function (layers) {
    var log = this.log, low = Infinity, high = -Infinity;
    if (layers.indexOf("curves") < 0) { chartFrame(this.curves, say("losses and D's mean outputs", "损失与 D 的平均输出"), 1, 0, 1); return; }
    CURVES.forEach(function (curve) {
      log[curve.key].forEach(function (value) { if (isFinite(value)) { low = Math.min(low, value); high = Math.max(high, value); } });
    });
    if (!isFinite(low)) { low = 0; high = 1; }
    var chart = chartFrame(this.curves, say("losses and D's mean outputs", "损失与 D 的平均输出"), this.updates, low, high);
    CURVES.forEach(function (curve, index) {
      polyline(chart, log.update, log[curve.key], curve.color);
      chart.context.fillStyle = curve.color;
      chart.context.fillText(curve.label, 40 + 52 * index, 28);
    });
  };

  LiveLab.prototype._drawModes = function (layers) {
    var title = say("modes covered (black), high-quality share (orange)", "覆盖的模式（黑），高质量样本比例（橙）");
    var chart = chartFrame(this.modes, title, Math.max(this.updates, 1), 0, 1);
    if (layers.indexOf("modes") < 0) return;
    var updates = [], covered = [], share = [], modes = this.distribution.num_modes;
    this.quality.forEach(function (row) { updates.push(row[0]); covered.push(row[1] / modes); share.push(row[2]); });
    polyline(chart, updates, covered, "#000000");
    polyline(chart, updates, share, FAKE_COLOR);
  };

  /**
   * Measure full steps per second for about durationMs, drawing after each frame's worth of steps (as Play
   * does) or not at all. Used by benchmarks/live_lab.py; returns {steps, seconds, stepsPerSecond, drawMs}.
   */
  LiveLab.prototype.benchmark = function (durationMs, withDrawing) {
    var lab = this;
    return new Promise(function (resolve) {
      lab.setPlaying(false);
      var steps = 0, start = performance.now();
      function frame() {
        steps += lab._trainThenDraw(withDrawing);
        if (performance.now() - start < durationMs) window.requestAnimationFrame(frame);
        else {
          var seconds = (performance.now() - start) / 1000;
          lab.draw();
          resolve({ steps: steps, seconds: seconds, stepsPerSecond: steps / seconds, drawMs: lab._drawMs });
        }
      }
      window.requestAnimationFrame(frame);
    });
  };

  function start() {
    var containers = document.querySelectorAll("[data-gan-live-lab]");
    if (!containers.length) return;
    if (!window.GAN_LAB_DATA || !window.GanLabEngine) {
      containers.forEach(function (container) {
        container.textContent = say("The live lab could not start: its scripts (gan_lab_data.js, gan_lab_engine.js) " +
          "did not load. The recorded animation below shows the same lab.",
          "实时实验室无法启动：它的脚本（gan_lab_data.js、gan_lab_engine.js）没有加载。下方录制的动画展示的是同一个实验室。");
      });
      return;
    }
    window.ganLiveLabs = [];
    containers.forEach(function (container) {
      container.textContent = "";
      window.ganLiveLabs.push(new LiveLab(container, window.GAN_LAB_DATA, window.GanLabEngine));
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
