/* gan-teach live latent space: the book's generators, run in the page itself, with no kernel and no network.
 *
 * A classic script (no module, no fetch, no WebAssembly), so it works from file:// in any browser. The
 * generators arrive as classic scripts too, written by `gan-teach export --format web`
 * (gan_teach/instruments/webexport.py), each pushing one JSON object onto window.ganTeachWebGenerators. Everything a
 * generator needs (its layers, weights, principal directions and the latent vectors of its seeds) is in
 * that object; this file only knows how to run the layer types the export writes.
 *
 * Layout of activations: (C, B, H*W), channel-major with the batch inside, so that a linear layer and a
 * transposed convolution are each one matrix product over all B images at once.
 */
(function () {
  "use strict";

  // The page's language picks the widgets' words: the Chinese edition's pages say lang="zh-CN". The messages
  // about a malformed generator file stay English (they name the exporter's fields).
  const CHINESE = /^zh/i.test((typeof document !== "undefined" && document.documentElement.lang) || "");
  function say(english, chinese) { return CHINESE ? chinese : english; }

  // ---------------------------------------------------------------- decoding the exported tensors
  const HALF_TO_FLOAT = (function () {
    const table = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) {
      const sign = bits & 0x8000 ? -1 : 1, exponent = (bits >> 10) & 0x1f, fraction = bits & 0x3ff;
      if (exponent === 0) table[bits] = sign * fraction * Math.pow(2, -24);
      else if (exponent === 31) table[bits] = fraction ? NaN : sign * Infinity;
      else table[bits] = sign * (1 + fraction / 1024) * Math.pow(2, exponent - 15);
    }
    return table;
  })();

  function fail(message) { throw new Error(message); }

  function base64Bytes(text) {
    let binary;
    try { binary = atob(text); } catch (error) { fail("a tensor's data is not valid base64"); }
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  // An exported tensor {dtype, shape, data} as a Float32Array, checked against the shape the layer needs.
  function tensor(entry, expectedShape, what) {
    if (!entry || typeof entry.data !== "string" || !Array.isArray(entry.shape)) fail(what + " is missing");
    if (expectedShape && entry.shape.join("x") !== expectedShape.join("x"))
      fail(what + " has shape (" + entry.shape.join(", ") + "), expected (" + expectedShape.join(", ") + ")");
    const count = entry.shape.reduce(function (a, b) { return a * b; }, 1);
    const bytes = base64Bytes(entry.data);
    const values = new Float32Array(count);
    if (entry.dtype === "float16") {
      if (bytes.length !== 2 * count) fail(what + " holds " + bytes.length + " bytes, expected " + 2 * count);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < count; i++) values[i] = HALF_TO_FLOAT[view.getUint16(2 * i, true)];
    } else if (entry.dtype === "float32") {
      if (bytes.length !== 4 * count) fail(what + " holds " + bytes.length + " bytes, expected " + 4 * count);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < count; i++) values[i] = view.getFloat32(4 * i, true);
    } else fail(what + " has dtype " + entry.dtype + ", expected float16 or float32");
    return values;
  }

  // ---------------------------------------------------------------- the arithmetic
  // Y (M x N) = A (M x K) . X (K x N), row-major; 4 x 4 blocks of Y accumulate in registers.
  function matmul(A, X, Y, M, K, N) {
    let i = 0;
    for (; i + 4 <= M; i += 4) {
      const r0 = i * K, r1 = r0 + K, r2 = r1 + K, r3 = r2 + K;
      let j = 0;
      for (; j + 4 <= N; j += 4) {
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        for (let k = 0, x = j; k < K; k++, x += N) {
          const x0 = X[x], x1 = X[x + 1], x2 = X[x + 2], x3 = X[x + 3];
          const a0 = A[r0 + k], a1 = A[r1 + k], a2 = A[r2 + k], a3 = A[r3 + k];
          s00 += a0 * x0; s01 += a0 * x1; s02 += a0 * x2; s03 += a0 * x3;
          s10 += a1 * x0; s11 += a1 * x1; s12 += a1 * x2; s13 += a1 * x3;
          s20 += a2 * x0; s21 += a2 * x1; s22 += a2 * x2; s23 += a2 * x3;
          s30 += a3 * x0; s31 += a3 * x1; s32 += a3 * x2; s33 += a3 * x3;
        }
        let y = i * N + j;
        Y[y] = s00; Y[y + 1] = s01; Y[y + 2] = s02; Y[y + 3] = s03; y += N;
        Y[y] = s10; Y[y + 1] = s11; Y[y + 2] = s12; Y[y + 3] = s13; y += N;
        Y[y] = s20; Y[y + 1] = s21; Y[y + 2] = s22; Y[y + 3] = s23; y += N;
        Y[y] = s30; Y[y + 1] = s31; Y[y + 2] = s32; Y[y + 3] = s33;
      }
      for (; j < N; j++) {
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let k = 0, x = j; k < K; k++, x += N) {
          const v = X[x];
          s0 += A[r0 + k] * v; s1 += A[r1 + k] * v; s2 += A[r2 + k] * v; s3 += A[r3 + k] * v;
        }
        Y[i * N + j] = s0; Y[(i + 1) * N + j] = s1; Y[(i + 2) * N + j] = s2; Y[(i + 3) * N + j] = s3;
      }
    }
    for (; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0, x = j; k < K; k++, x += N) s += A[i * K + k] * X[x];
        Y[i * N + j] = s;
      }
    }
  }

  // ---------------------------------------------------------------- compiling the exported layers
  // Each compiled step maps {data, channels, side} (data: (C, B, side*side)) to the next, for a batch of B.
  function compile(payload) {
    const layers = payload.layers;
    if (!Array.isArray(layers) || layers.length === 0) fail("the file lists no layers");
    const steps = [];
    let features = payload.latent_dim + (payload.model === "conditional" ? payload.label_dim : 0);
    let shape = null; // null while the activations are flat vectors; then [C, side]
    for (let index = 0; index < layers.length; index++) {
      const layer = layers[index], what = "layer " + (index + 1) + " (" + layer.type + ")";
      if (layer.type === "linear") {
        if (shape) fail(what + " comes after the reshape; the page runs linear layers on vectors only");
        if (layer.in_features !== features) fail(what + " takes " + layer.in_features + " features, but gets " + features);
        const out = layer.out_features, inn = layer.in_features;
        const weight = tensor(layer.weight, [out, inn], what + "'s weight");
        const bias = layer.bias ? tensor(layer.bias, [out], what + "'s bias") : null;
        steps.push(function (state, batch) { // (in, B) -> (out, B)
          const result = new Float32Array(out * batch);
          matmul(weight, state.data, result, out, inn, batch);
          if (bias) for (let o = 0; o < out; o++) for (let b = 0; b < batch; b++) result[o * batch + b] += bias[o];
          return { data: result, channels: out, side: 1 };
        });
        features = out;
      } else if (layer.type === "reshape") {
        const channels = layer.shape[0], side = layer.shape[1];
        if (layer.shape[1] !== layer.shape[2] || channels * side * side !== features)
          fail(what + " makes (" + layer.shape.join(", ") + ") out of " + features + " features");
        steps.push(function (state, batch) { // (C * S * S, B) -> (C, B, S * S)
          const area = side * side, result = new Float32Array(features * batch), source = state.data;
          for (let c = 0; c < channels; c++)
            for (let p = 0; p < area; p++)
              for (let b = 0; b < batch; b++) result[(c * batch + b) * area + p] = source[(c * area + p) * batch + b];
          return { data: result, channels: channels, side: side };
        });
        shape = [channels, side];
      } else if (layer.type === "batchnorm") {
        // Eval mode: y = (x - mean) / sqrt(var + eps) * weight + bias, one scale and shift per channel.
        const channels = layer.num_features;
        if (!shape || shape[0] !== channels) fail(what + " normalises " + channels + " channels, but gets " + (shape ? shape[0] : "a vector"));
        const weight = tensor(layer.weight, [channels], what + "'s weight"), bias = tensor(layer.bias, [channels], what + "'s bias");
        const mean = tensor(layer.running_mean, [channels], what + "'s running mean");
        const variance = tensor(layer.running_var, [channels], what + "'s running variance");
        const scale = new Float32Array(channels), shift = new Float32Array(channels);
        for (let c = 0; c < channels; c++) {
          scale[c] = weight[c] / Math.sqrt(variance[c] + layer.eps);
          shift[c] = bias[c] - mean[c] * scale[c];
        }
        const reluFollows = index + 1 < layers.length && layers[index + 1].type === "relu";
        if (reluFollows) index++; // fused: one pass over the activations instead of two
        steps.push(function (state) {
          const data = state.data, block = data.length / channels;
          for (let c = 0; c < channels; c++) {
            const a = scale[c], s = shift[c], end = (c + 1) * block;
            for (let i = c * block; i < end; i++) { const v = data[i] * a + s; data[i] = reluFollows && v < 0 ? 0 : v; }
          }
          return state;
        });
      } else if (layer.type === "conv_transpose") {
        if (!shape || shape[0] !== layer.in_channels) fail(what + " takes " + layer.in_channels + " channels, but gets " + (shape ? shape[0] : "a vector"));
        const cin = layer.in_channels, cout = layer.out_channels, k = layer.kernel_size, stride = layer.stride, pad = layer.padding;
        const side = shape[1], outSide = (side - 1) * stride - 2 * pad + k;
        if (!(outSide > 0)) fail(what + " would make images of side " + outSide);
        const weight = tensor(layer.weight, [cin, cout, k, k], what + "'s weight");
        const bias = layer.bias ? tensor(layer.bias, [cout], what + "'s bias") : null;
        // (cin, cout, k, k) -> rows (cout, ky, kx), columns cin: the matrix of the product below.
        const rows = cout * k * k, matrix = new Float32Array(rows * cin);
        for (let i = 0; i < cin; i++) for (let r = 0; r < rows; r++) matrix[r * cin + i] = weight[i * rows + r];
        steps.push(function (state, batch) {
          const area = side * side, columns = batch * area, outArea = outSide * outSide;
          const products = new Float32Array(rows * columns); // (cout * k * k, B * side * side)
          matmul(matrix, state.data, products, rows, cin, columns);
          // Scatter: input pixel (y, x) through tap (ky, kx) lands on output (y * stride - pad + ky, x * stride - pad + kx).
          const result = new Float32Array(cout * batch * outArea);
          for (let o = 0; o < cout; o++) {
            for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
              const row = ((o * k + ky) * k + kx) * columns;
              for (let b = 0; b < batch; b++) {
                const source = row + b * area, target = (o * batch + b) * outArea;
                for (let y = 0; y < side; y++) {
                  const oy = y * stride - pad + ky;
                  if (oy < 0 || oy >= outSide) continue;
                  const line = target + oy * outSide, from = source + y * side;
                  for (let x = 0; x < side; x++) {
                    const ox = x * stride - pad + kx;
                    if (ox >= 0 && ox < outSide) result[line + ox] += products[from + x];
                  }
                }
              }
            }
            if (bias) { const v = bias[o], start = o * batch * outArea, end = start + batch * outArea; for (let i = start; i < end; i++) result[i] += v; }
          }
          return { data: result, channels: cout, side: outSide };
        });
        shape = [cout, outSide];
      } else if (layer.type === "relu" || layer.type === "leaky_relu" || layer.type === "tanh") {
        const slope = layer.type === "leaky_relu" ? layer.negative_slope : 0, tanh = layer.type === "tanh";
        steps.push(function (state) {
          const data = state.data;
          if (tanh) for (let i = 0; i < data.length; i++) data[i] = Math.tanh(data[i]);
          else for (let i = 0; i < data.length; i++) if (data[i] < 0) data[i] *= slope;
          return state;
        });
      } else fail(what + ": the page cannot run a layer of type " + JSON.stringify(layer.type));
    }
    if (!shape || shape[0] !== payload.channels || shape[1] !== payload.image_size)
      fail("the layers make " + (shape ? shape[0] + " x " + shape[1] + " x " + shape[1] : "vectors") + ", but the file promises "
        + payload.channels + " x " + payload.image_size + " x " + payload.image_size + " images");
    return steps;
  }

  // A generator the page can run, from the object a web generator file holds; throws one clear Error if it can't.
  function buildGenerator(payload) {
    if (!payload || typeof payload !== "object") fail("the file holds no generator object");
    if (payload.format !== "gan-teach-web-generator") fail("it is not a gan-teach web generator (write one with gan-teach export --format web)");
    if (payload.version !== 1) fail("it has format version " + payload.version + "; this page reads version 1");
    if (!(payload.latent_dim > 0)) fail("it has no latent_dim");
    if (payload.channels !== 1 && payload.channels !== 3) fail("it draws " + payload.channels + " channels; the page draws 1 (grey) or 3 (colour)");
    const conditional = payload.model === "conditional";
    let embedding = null, labelDim = 0;
    if (conditional) {
      if (!(payload.num_classes >= 2) || !payload.label_embedding) fail("a conditional generator needs num_classes and label_embedding");
      labelDim = payload.label_embedding.shape[1];
      embedding = tensor(payload.label_embedding, [payload.num_classes, labelDim], "the label embedding");
    }
    payload.label_dim = labelDim;
    const steps = compile(payload);
    const d = payload.latent_dim;
    const seeds = payload.seeds || {};
    if (!(seeds.count > 0) || !(seeds.rows > 0)) fail("it has no table of seeded latent vectors");
    const seedLatents = tensor(seeds.latents, [seeds.count, seeds.rows, d], "the seeds' latent vectors");
    const directionCount = payload.directions && payload.directions.vectors ? payload.directions.vectors.shape[0] : 0;
    const directions = directionCount ? tensor(payload.directions.vectors, [directionCount, d], "the principal directions") : new Float32Array(0);
    const explained = (payload.directions && payload.directions.explained) || [];
    return {
      name: String(payload.name || "your generator"), latentDim: d, conditional: conditional,
      numClasses: conditional ? payload.num_classes : 0, channels: payload.channels, imageSize: payload.image_size,
      card: payload.card || null, seedCount: seeds.count, seedRows: seeds.rows,
      directions: directions, directionCount: directionCount, explained: explained,
      // The latent vector of seed s, row r: sample_latents(d, rows, s)[r] in PyTorch.
      seedLatent: function (seed, row) { const start = (seed * seeds.rows + (row || 0)) * d; return seedLatents.slice(start, start + d); },
      // Images (B, C, S, S) in [-1, 1] for latents (B * d values) and, if conditional, labels (B).
      run: function (latents, labels) {
        const batch = latents.length / d, width = d + labelDim;
        if (!Number.isInteger(batch) || batch < 1) fail("latents must hold a multiple of " + d + " numbers");
        const input = new Float32Array(width * batch); // (features, B)
        for (let b = 0; b < batch; b++) {
          for (let i = 0; i < d; i++) input[i * batch + b] = latents[b * d + i];
          if (conditional) {
            const label = labels[b];
            if (!(label >= 0 && label < payload.num_classes)) fail("label " + label + " is not a class of this generator");
            for (let i = 0; i < labelDim; i++) input[(d + i) * batch + b] = embedding[label * labelDim + i];
          }
        }
        let state = { data: input, channels: width, side: 1 };
        for (let i = 0; i < steps.length; i++) state = steps[i](state, batch);
        const area = state.side * state.side, images = new Float32Array(batch * state.channels * area);
        for (let c = 0; c < state.channels; c++)
          for (let b = 0; b < batch; b++)
            images.set(state.data.subarray((c * batch + b) * area, (c * batch + b + 1) * area), (b * state.channels + c) * area);
        return images;
      },
    };
  }

  // The JSON object of a web generator file: the text between "push(" and the last ")", or a plain .json file.
  function parseGeneratorText(text) {
    const trimmed = String(text).trim();
    let json = trimmed;
    if (trimmed[0] !== "{") {
      const start = trimmed.indexOf(".push(\n"), end = trimmed.lastIndexOf(")");
      if (start < 0) fail("it is not a web generator file (make one with gan-teach export --format web --out NAME.js)");
      if (end < start) fail("it ends before its generator object does (was the file cut short?)");
      json = trimmed.slice(start + 7, end);
    }
    try { return JSON.parse(json); } catch (error) { fail("its generator object is not valid JSON (was the file cut short?)"); }
  }

  // ---------------------------------------------------------------- latent vectors
  function lerp(z0, z1, t) { const z = new Float32Array(z0.length); for (let i = 0; i < z.length; i++) z[i] = (1 - t) * z0[i] + t * z1[i]; return z; }
  function norm(z) { let s = 0; for (let i = 0; i < z.length; i++) s += z[i] * z[i]; return Math.sqrt(s); }
  // gan_teach.instruments.latent.slerp: unit directions along their great circle, the norm interpolated linearly.
  function slerp(z0, z1, t) {
    const n0 = norm(z0), n1 = norm(z1);
    let cosine = 0;
    for (let i = 0; i < z0.length; i++) cosine += (z0[i] / n0) * (z1[i] / n1);
    cosine = Math.min(1, Math.max(-1, cosine));
    if (cosine > 1 - 1e-6 || cosine < -1 + 1e-6) return lerp(z0, z1, t);
    const omega = Math.acos(cosine), a = Math.sin((1 - t) * omega) / Math.sin(omega), b = Math.sin(t * omega) / Math.sin(omega);
    const length = (1 - t) * n0 + t * n1, z = new Float32Array(z0.length);
    for (let i = 0; i < z.length; i++) z[i] = (a * z0[i] / n0 + b * z1[i] / n1) * length;
    return z;
  }
  function concat(vectors) {
    const d = vectors[0].length, all = new Float32Array(vectors.length * d);
    vectors.forEach(function (v, i) { all.set(v, i * d); });
    return all;
  }

  // ---------------------------------------------------------------- drawing
  // Images (B, C, S, S) in [-1, 1] as a grid with 2 black pixels between tiles (torchvision's make_grid).
  function drawGrid(canvas, images, count, columns, generator) {
    const size = generator.imageSize, channels = generator.channels, tile = size + 2;
    const rows = Math.ceil(count / columns), width = columns * tile + 2, height = rows * tile + 2;
    if (canvas.width !== width || canvas.height !== height) { canvas.width = width; canvas.height = height; }
    const context = canvas.getContext("2d"), picture = context.createImageData(width, height), pixels = picture.data;
    for (let i = 3; i < pixels.length; i += 4) pixels[i] = 255;
    for (let n = 0; n < count; n++) {
      const left = 2 + (n % columns) * tile, top = 2 + Math.floor(n / columns) * tile;
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
        const at = ((top + y) * width + left + x) * 4;
        for (let c = 0; c < 3; c++) {
          const v = images[((n * channels + (channels === 1 ? 0 : c)) * size + y) * size + x];
          pixels[at + c] = Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);
        }
      }
    }
    context.putImageData(picture, 0, 0);
  }

  // The latent norm along both paths, with sqrt(d) dashed and sqrt(d / 2) dotted (the chapter's figure).
  function drawNorms(canvas, paths, latentDim) {
    const context = canvas.getContext("2d"), width = canvas.width, height = canvas.height;
    const left = 40, right = 10, top = 10, bottom = 28;
    const all = paths.lerp.concat(paths.slerp).concat([Math.sqrt(latentDim), Math.sqrt(latentDim / 2)]);
    const low = Math.floor(Math.min.apply(null, all) - 0.5), high = Math.ceil(Math.max.apply(null, all) + 0.5);
    const x = function (t) { return left + t * (width - left - right); };
    const y = function (v) { return top + (high - v) / (high - low) * (height - top - bottom); };
    context.clearRect(0, 0, width, height);
    context.font = "11px sans-serif"; context.fillStyle = "#444"; context.strokeStyle = "#999"; context.lineWidth = 1;
    context.strokeRect(left, top, width - left - right, height - top - bottom);
    for (let v = low; v <= high; v++) { context.fillText(String(v), 4, y(v) + 4); }
    for (let t = 0; t <= 1.0001; t += 0.25) context.fillText(t.toFixed(2), x(t) - 12, height - 12);
    context.fillText("t", width / 2, height - 1);
    [[Math.sqrt(latentDim), [6, 4], "√d"], [Math.sqrt(latentDim / 2), [2, 3], "√(d/2)"]].forEach(function (line) {
      context.setLineDash(line[1]); context.beginPath(); context.moveTo(left, y(line[0])); context.lineTo(width - right, y(line[0])); context.stroke();
      context.fillText(line[2], width - right - 40, y(line[0]) - 3);
    });
    context.setLineDash([]);
    [["lerp", "#1f77b4"], ["slerp", "#ff7f0e"]].forEach(function (entry, index) {
      const values = paths[entry[0]], last = values.length - 1;
      context.strokeStyle = context.fillStyle = entry[1]; context.lineWidth = 2; context.beginPath();
      values.forEach(function (v, i) { const px = x(i / last), py = y(v); if (i) context.lineTo(px, py); else context.moveTo(px, py); });
      context.stroke();
      values.forEach(function (v, i) { context.beginPath(); context.arc(x(i / last), y(v), 3, 0, 2 * Math.PI); context.fill(); });
      context.fillText(entry[0], left + 8, top + 14 + 14 * index);
    });
  }

  // ---------------------------------------------------------------- the widgets
  const registry = new Map(); // name -> generator
  const widgets = [];
  // Shipped generators that load when picked: name -> {url, model} (written by the book's build).
  const onDemand = window.ganTeachLazyGenerators || {};
  const loading = new Map(); // name -> callbacks waiting for its script

  // Register what the generator scripts have pushed so far.
  function absorb() {
    const pushed = window.ganTeachWebGenerators || [];
    while (pushed.length) {
      const payload = pushed.shift();
      try { const generator = buildGenerator(payload); registry.set(generator.name, generator); }
      catch (error) { console.warn("gan-teach: a shipped generator could not be loaded: " + error.message); }
    }
  }

  // Make sure generator `name` is loaded, then call done(error or null). A classic script, so file:// is fine.
  function ensure(name, done) {
    if (registry.has(name)) { done(null); return; }
    if (!onDemand[name]) { done(new Error("no generator called " + name)); return; }
    if (loading.has(name)) { loading.get(name).push(done); return; }
    loading.set(name, [done]);
    const script = document.createElement("script");
    const finish = function (error) { const waiting = loading.get(name); loading.delete(name); waiting.forEach(function (f) { f(error); }); };
    script.onload = function () {
      absorb();
      finish(registry.has(name) ? null : new Error(onDemand[name].url + " holds no generator called " + name));
    };
    script.onerror = function () { finish(new Error("could not load " + onDemand[name].url)); };
    script.src = onDemand[name].url;
    document.head.appendChild(script);
  }

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      if (key === "text") node.textContent = attributes[key]; else node.setAttribute(key, attributes[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  // A labelled control: a range slider (with its value shown), a number field, or a select.
  function control(container, label, input, onChange, format) {
    const shown = element("output", { text: format ? format(input.value) : "" });
    const row = element("label", { class: "gan-live-control" }, [element("span", { text: label }), input].concat(format ? [shown] : []));
    input.addEventListener("input", function () { if (format) shown.textContent = format(input.value); onChange(); });
    container.appendChild(row);
    return { row: row, input: input, label: row.firstChild, shown: shown, format: format };
  }
  function range(min, max, step, value) { return element("input", { type: "range", min: min, max: max, step: step, value: value }); }
  function setRange(entry, value) { entry.input.value = value; if (entry.format) entry.shown.textContent = entry.format(entry.input.value); }

  function Widget(root) {
    this.root = root;
    this.kind = root.getAttribute("data-live");
    this.options = root.dataset;
    this.draws = 0;
    this.pending = false;
    root.classList.add("gan-live-ready");
    this.controls = element("div", { class: "gan-live-controls" });
    this.views = element("div", { class: "gan-live-views" });
    this.status = element("p", { class: "gan-live-status", role: "status" });
    this.caption = element("p", { class: "gan-live-caption" });
    const self = this;
    this.picker = control(this.controls, say("generator", "生成器"), element("select"), function () { self.useGenerator(self.picker.input.value); });
    this.build();
    const upload = element("input", { type: "file", accept: ".js,.json" });
    upload.addEventListener("change", function () { if (upload.files.length) self.loadFile(upload.files[0]); upload.value = ""; });
    const uploadRow = element("label", { class: "gan-live-upload" }, [element("span", { text: say("your own generator (gan-teach export --format web), or drop it here:", "你自己的生成器（gan-teach export --format web），也可以拖放到这里：") }), upload]);
    root.addEventListener("dragover", function (event) { event.preventDefault(); root.classList.add("gan-live-drop"); });
    root.addEventListener("dragleave", function () { root.classList.remove("gan-live-drop"); });
    root.addEventListener("drop", function (event) {
      event.preventDefault(); root.classList.remove("gan-live-drop");
      if (event.dataTransfer && event.dataTransfer.files.length) self.loadFile(event.dataTransfer.files[0]);
    });
    root.appendChild(element("div", { class: "gan-live-layout" }, [this.views, this.controls]));
    root.appendChild(this.caption);
    root.appendChild(uploadRow);
    root.appendChild(this.status);
    this.refreshPicker(this.options.generator);
  }

  Widget.prototype.suits = function (generator) { return this.kind !== "styles" || generator.conditional; };

  Widget.prototype.refreshPicker = function (selected) {
    const select = this.picker.input, self = this;
    const current = selected || select.value;
    select.textContent = "";
    const names = [];
    registry.forEach(function (generator, name) { if (self.suits(generator)) names.push(name); });
    Object.keys(onDemand).forEach(function (name) {
      if (!registry.has(name) && (self.kind !== "styles" || onDemand[name].model === "conditional")) names.push(name);
    });
    names.forEach(function (name) { select.appendChild(element("option", { value: name, text: name })); });
    if (names.indexOf(current) >= 0) select.value = current;
    if (!this.generator || this.generator.name !== select.value) this.useGenerator(select.value);
  };

  Widget.prototype.loadFile = function (file) {
    const self = this, reader = new FileReader();
    reader.onload = function () {
      try {
        const generator = buildGenerator(parseGeneratorText(reader.result));
        if (!self.suits(generator)) fail("this grid needs a conditional generator (gan-teach train --model conditional)");
        let name = generator.name;
        while (registry.has(name) || onDemand[name]) name += " (yours)"; // never shadow a shipped generator
        generator.name = name;
        registry.set(name, generator);
        widgets.forEach(function (widget) { widget.refreshPicker(widget === self ? name : null); });
        self.say(say("Loaded " + name + " from " + file.name + ".", "已从 " + file.name + " 载入 " + name + "。"), false);
      } catch (error) {
        self.say(say("Could not load " + file.name + ": ", "无法载入 " + file.name + "：") + error.message, true);
      }
    };
    reader.onerror = function () { self.say(say("Could not read " + file.name + ".", "无法读取 " + file.name + "。"), true); };
    reader.readAsText(file);
  };

  Widget.prototype.say = function (message, isError) {
    this.status.textContent = message;
    this.status.classList.toggle("gan-live-error", Boolean(isError));
  };

  Widget.prototype.seedControl = function (label, value) {
    const self = this, input = element("input", { type: "number", min: 0, step: 1, value: value, inputmode: "numeric" });
    return control(this.controls, label, input, function () { self.schedule(); });
  };
  Widget.prototype.seedValue = function (entry) {
    const value = Math.round(Number(entry.input.value)), count = this.generator.seedCount;
    if (!(value >= 0 && value < count)) { this.say(say("The page offers seeds 0 to " + (count - 1) + ": PyTorch draws their latent vectors at export.",
                   "本页提供种子 0 到 " + (count - 1) + "：它们的潜在向量在导出时由 PyTorch 抽取。"), true); return null; }
    return value;
  };

  Widget.prototype.build = function () {
    const self = this, o = this.options, redraw = function () { self.schedule(); };
    if (this.kind === "explorer") {
      this.seed = this.seedControl(say("seed", "种子"), o.seed || 0);
      // While a slider is dragged only the sample is redrawn (one image); the walks follow when it is let go.
      this.truncation = this.dragged(control(this.controls, say("truncation ψ", "截断 ψ"), range(0, 1.5, 0.05, 1), function () { self.schedule(false); },
        function (v) { return Number(v).toFixed(2); }));
      this.classPicker = control(this.controls, say("class", "类别"), element("select"), redraw);
      this.sliders = [];
      this.sliderBox = element("div");
      this.controls.appendChild(this.sliderBox);
      const centre = element("button", { type: "button", text: say("centre sliders", "滑块归中") });
      centre.addEventListener("click", function () { self.sliders.forEach(function (s) { setRange(s, 0); }); self.schedule(); });
      this.controls.appendChild(centre);
      this.sample = element("canvas", { class: "gan-live-sample", "aria-label": say("the current sample", "当前样本") });
      this.grid = element("canvas", { class: "gan-live-grid", "aria-label": say("walks along the principal directions", "沿主方向的游走") });
      this.views.appendChild(this.sample); this.views.appendChild(this.grid);
    } else if (this.kind === "interpolation") {
      this.start = this.seedControl(say("start seed", "起点种子"), o.start || 0);
      this.end = this.seedControl(say("end seed", "终点种子"), o.end || 1);
      this.steps = control(this.controls, say("steps", "步数"), range(3, 15, 1, o.steps || 9), redraw, function (v) { return v; });
      this.classPicker = control(this.controls, say("class", "类别"), element("select"), redraw);
      this.grid = element("canvas", { class: "gan-live-grid", "aria-label": say("lerp (top row) and slerp (bottom row)", "lerp（上排）与 slerp（下排）") });
      this.norms = element("canvas", { class: "gan-live-norms", width: 460, height: 200, "aria-label": say("the latent norm along both paths", "两条路径上潜在向量的范数") });
      this.views.appendChild(this.grid); this.views.appendChild(this.norms);
    } else if (this.kind === "styles") {
      this.seed = this.seedControl(say("seed", "种子"), o.seed || 0);
      this.rows = control(this.controls, say("styles", "风格数"), range(1, 8, 1, o.rows || 4), redraw, function (v) { return v; });
      this.grid = element("canvas", { class: "gan-live-grid", "aria-label": say("rows: styles, columns: classes", "行：风格，列：类别") });
      this.views.appendChild(this.grid);
    } else fail("unknown live widget " + this.kind);
  };

  Widget.prototype.useGenerator = function (name) {
    const self = this, generator = registry.get(name);
    if (!generator) {
      if (!onDemand[name]) return;
      this.say(say("Loading " + name + " ...", "正在载入 " + name + " ……"), false);
      ensure(name, function (error) {
        if (error) { self.say(say("Could not load " + name + ": ", "无法载入 " + name + "：") + error.message, true); return; }
        self.say("", false);
        widgets.forEach(function (widget) { widget.refreshPicker(); }); // each keeps its choice; this one now draws it
      });
      return;
    }
    this.generator = generator;
    if (this.classPicker) {
      const select = this.classPicker.input, previous = select.value || this.options.label || 0;
      select.textContent = "";
      for (let c = 0; c < generator.numClasses; c++) select.appendChild(element("option", { value: c, text: String(c) }));
      if (generator.conditional) select.value = Math.min(Number(previous), generator.numClasses - 1);
      this.classPicker.row.hidden = !generator.conditional;
    }
    [this.seed, this.start, this.end].forEach(function (entry) { if (entry) entry.input.max = generator.seedCount - 1; });
    if (this.rows) this.rows.input.max = Math.min(8, generator.seedRows);
    if (this.sliderBox) {
      this.sliderBox.textContent = "";
      this.sliders = [];
      for (let j = 0; j < generator.directionCount; j++) {
        const share = generator.explained[j] !== undefined ? " (" + Math.round(100 * generator.explained[j]) + "%)" : "";
        this.sliders.push(this.dragged(control(this.sliderBox, "PC" + (j + 1) + share, range(-4, 4, 0.1, 0), function () { self.schedule(false); },
          function (v) { return (Number(v) >= 0 ? "+" : "") + Number(v).toFixed(1); })));
      }
    }
    const card = generator.card;
    this.caption.textContent = card && card.fid !== undefined
      ? generator.name + ": FID " + card.fid + ", " + card.fid_ratio + " times its floor (" + card.dataset + ")."
      : generator.name + (card && card.dataset ? " (" + card.dataset + ")" : "") + ".";
    this.schedule();
  };

  // A slider's release (its change event) redraws everything.
  Widget.prototype.dragged = function (entry) {
    const self = this;
    entry.input.addEventListener("change", function () { self.schedule(true); });
    return entry;
  };

  // Redraw at the next frame (many input events in one frame make one redraw); full: false draws only the sample.
  Widget.prototype.schedule = function (full) {
    if (full !== false) this.wantFull = true;
    if (this.pending) return;
    this.pending = true;
    const self = this;
    requestAnimationFrame(function () { const whole = self.wantFull; self.pending = false; self.wantFull = false; self.redraw(whole); });
  };

  Widget.prototype.label = function () { return this.generator.conditional ? Number(this.classPicker.input.value) : 0; };

  Widget.prototype.redraw = function (full) {
    const generator = this.generator;
    if (!generator) return;
    const started = performance.now(), d = generator.latentDim;
    try {
      if (this.kind === "explorer") {
        const seed = this.seedValue(this.seed);
        if (seed === null) return;
        const psi = Number(this.truncation.input.value), base = generator.seedLatent(seed, 0), z = new Float32Array(d);
        for (let i = 0; i < d; i++) z[i] = psi * base[i]; // truncate(z_seed, psi)
        this.sliders.forEach(function (slider, j) {
          const amount = Number(slider.input.value);
          for (let i = 0; i < d; i++) z[i] += amount * generator.directions[j * d + i];
        });
        // Rows: each principal direction; columns: z + a v_j for a = -3 ... 3. The column a = 0 is the sample
        // itself in every row, so it is computed once: 1 + 6 k images for k directions.
        const amounts = [-3, -2, -1, 0, 1, 2, 3], latents = [z], tiles = [];
        if (full !== false) for (let j = 0; j < generator.directionCount; j++) amounts.forEach(function (a) {
          if (a === 0) { tiles.push(0); return; }
          const walked = new Float32Array(d);
          for (let i = 0; i < d; i++) walked[i] = z[i] + a * generator.directions[j * d + i];
          tiles.push(latents.length);
          latents.push(walked);
        });
        const images = generator.run(concat(latents), new Array(latents.length).fill(this.label()));
        const tile = generator.channels * generator.imageSize * generator.imageSize;
        drawGrid(this.sample, images, 1, 1, generator);
        if (tiles.length) {
          const grid = new Float32Array(tiles.length * tile);
          tiles.forEach(function (source, n) { grid.set(images.subarray(source * tile, (source + 1) * tile), n * tile); });
          drawGrid(this.grid, grid, tiles.length, amounts.length, generator);
        }
        this.grid.classList.toggle("gan-live-stale", full === false); // the walks of the sample before the drag
      } else if (this.kind === "interpolation") {
        const s0 = this.seedValue(this.start), s1 = this.seedValue(this.end);
        if (s0 === null || s1 === null) return;
        const z0 = generator.seedLatent(s0, 0), z1 = generator.seedLatent(s1, 0), steps = Number(this.steps.input.value);
        const paths = { lerp: [], slerp: [] };
        for (let i = 0; i < steps; i++) { const t = i / (steps - 1); paths.lerp.push(lerp(z0, z1, t)); paths.slerp.push(slerp(z0, z1, t)); }
        const images = generator.run(concat(paths.lerp.concat(paths.slerp)), new Array(2 * steps).fill(this.label()));
        drawGrid(this.grid, images, 2 * steps, steps, generator);
        drawNorms(this.norms, { lerp: paths.lerp.map(norm), slerp: paths.slerp.map(norm) }, d);
      } else {
        const seed = this.seedValue(this.seed);
        if (seed === null) return;
        const rows = Math.min(Number(this.rows.input.value), generator.seedRows), classes = generator.numClasses, latents = [], labels = [];
        for (let r = 0; r < rows; r++) for (let c = 0; c < classes; c++) { latents.push(generator.seedLatent(seed, r)); labels.push(c); }
        drawGrid(this.grid, generator.run(concat(latents), labels), latents.length, classes, generator);
      }
      if (this.status.classList.contains("gan-live-error")) this.say("", false);
    } catch (error) {
      this.say(say("Could not draw with " + generator.name + ": ", "无法用 " + generator.name + " 绘图：") + error.message, true);
      return;
    }
    this.lastRedrawMs = performance.now() - started;
    this.draws += 1;
    this.root.setAttribute("data-draws", this.draws);
  };

  // ---------------------------------------------------------------- start, and what tests and benchmarks call
  function start() {
    absorb();
    document.querySelectorAll("div.gan-live").forEach(function (root) {
      try { widgets.push(new Widget(root)); }
      catch (error) { root.textContent = say("The live explorer could not start: ", "实时探索器无法启动：") + error.message; }
    });
  }

  window.ganTeachLive = {
    names: function () { return Array.from(registry.keys()); }, // the generators loaded so far
    available: function () { return Array.from(registry.keys()).concat(Object.keys(onDemand).filter(function (n) { return !registry.has(n); })); },
    ensure: function (name, done) { ensure(name, function (error) { done(error ? error.message : null); }); },
    // Images for latents (a flat array of B * latent_dim numbers), as a plain array (B, C, S, S) in [-1, 1].
    render: function (name, latents, labels) { return Array.from(registry.get(name).run(Float32Array.from(latents), labels || [])); },
    seedLatent: function (name, seed, row) { return Array.from(registry.get(name).seedLatent(seed, row || 0)); },
    // Render latents and draw them as a grid into a canvas: what one redraw of a widget does (the benchmark times it).
    drawGrid: function (canvas, name, latents, labels, columns) {
      const generator = registry.get(name), images = generator.run(Float32Array.from(latents), labels || []);
      drawGrid(canvas, images, images.length / (generator.channels * generator.imageSize * generator.imageSize), columns, generator);
    },
    load: function (text) { const generator = buildGenerator(parseGeneratorText(text)); registry.set(generator.name, generator); return generator.name; },
    widgets: widgets,
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
