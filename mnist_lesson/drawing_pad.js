// The drawing pad: draw a digit, see what a small Keras model reads, live, in plain JavaScript.
//
// mnist_lesson/drawing_pad.py inlines this file into a standalone page or a notebook output and
// appends one call, DigitPad.mount(document.currentScript, model, standalone). No server, no
// network, no build step. The preprocessing below is the algorithm described in the docstring
// of mnist_lesson/drawing_pad.py, the same as mnist_lesson/handwriting.py's to_mnist; the tests
// run both on the same pixels.
(function () {
  "use strict";

  const FIELD = 28; // MNIST: a 28x28 field...
  const BOX = 20; // ...with the digit scaled to fit 20x20
  const INK_LEVEL = 0.25;
  const MIN_CONTRAST = 0.15;
  const TRIM = 0.002;
  const SIZE = 280; // the drawing surface's own resolution, whatever its size on screen
  const PEN = 18; // stroke width in canvas pixels
  const f32 = Math.fround; // Python does these steps in float32: round like it does

  // Python's round(): halves go to the even neighbour.
  function roundHalfEven(x) {
    const floor = Math.floor(x);
    const diff = x - floor;
    if (diff === 0.5) return floor % 2 === 0 ? floor : floor + 1;
    return Math.round(x);
  }

  // The k-th smallest value (0-based) of many values. A canvas has only 256 grey levels, so a
  // count per level is exact and much faster than sorting; other input falls back to a sort.
  function orderStatistics(values) {
    const count = new Int32Array(256);
    const value = new Float32Array(256);
    let counted = true;
    for (let i = 0; i < values.length && counted; i++) {
      const v = values[i];
      const level = Math.round(v * 255);
      if (!(level >= 0 && level <= 255)) counted = false;
      else if (count[level] === 0) value[level] = v;
      else if (value[level] !== v) counted = false;
      count[level]++;
    }
    if (!counted) {
      const sorted = Float32Array.from(values).sort();
      return (k) => sorted[k];
    }
    return (k) => {
      let seen = 0;
      for (let level = 0; level < 256; level++) {
        seen += count[level];
        if (k < seen) return value[level];
      }
      return value[255];
    };
  }

  // numpy.percentile(values, q) with its default linear interpolation.
  function percentile(values, q) {
    const kth = orderStatistics(values);
    const n = values.length;
    const quantile = q / 100;
    const index = n * quantile + (1 - quantile) - 1;
    const below = Math.floor(index);
    const t = index - below;
    const a = kth(below);
    const b = kth(Math.min(below + 1, n - 1));
    return f32(t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t);
  }

  function median(values) {
    const sorted = Float32Array.from(values).sort();
    const n = sorted.length;
    return n % 2 ? sorted[(n - 1) / 2] : f32((sorted[n / 2 - 1] + sorted[n / 2]) / 2);
  }

  // Pillow's Lanczos filter (Resample.c): sinc(x) * sinc(x / 3) on [-3, 3).
  function sinc(x) {
    if (x === 0) return 1;
    x *= Math.PI;
    return Math.sin(x) / x;
  }
  function lanczos(x) {
    return x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0;
  }

  // Pillow's precompute_coeffs: for each output pixel, the first input pixel it reads and the
  // normalised weights of the input pixels it reads.
  function coefficients(inSize, outSize) {
    const scale = inSize / outSize;
    const filterScale = Math.max(scale, 1);
    const support = 3 * filterScale;
    const result = [];
    for (let out = 0; out < outSize; out++) {
      const centre = (out + 0.5) * scale;
      const first = Math.max(Math.trunc(centre - support + 0.5), 0);
      const last = Math.min(Math.trunc(centre + support + 0.5), inSize);
      const weights = new Float64Array(last - first);
      const inverse = 1 / filterScale; // Pillow multiplies by the inverse: same rounding
      let total = 0;
      for (let x = 0; x < weights.length; x++) {
        weights[x] = lanczos((x + first - centre + 0.5) * inverse);
        total += weights[x];
      }
      if (total !== 0) for (let x = 0; x < weights.length; x++) weights[x] /= total;
      result.push({ first, weights });
    }
    return result;
  }

  // Image.fromarray(image, "F").resize((outWidth, outHeight), LANCZOS): a horizontal pass, then a
  // vertical one, each skipped when its size does not change; float32 between and after.
  function resizeLanczos(image, width, height, outWidth, outHeight) {
    let data = image;
    let w = width;
    if (outWidth !== width) {
      const coeffs = coefficients(width, outWidth);
      const next = new Float32Array(outWidth * height);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < outWidth; x++) {
          const { first, weights } = coeffs[x];
          let sum = 0;
          for (let k = 0; k < weights.length; k++) sum += data[y * w + first + k] * weights[k];
          next[y * outWidth + x] = sum;
        }
      }
      data = next;
      w = outWidth;
    }
    if (outHeight !== height) {
      const coeffs = coefficients(height, outHeight);
      const next = new Float32Array(w * outHeight);
      for (let y = 0; y < outHeight; y++) {
        const { first, weights } = coeffs[y];
        for (let x = 0; x < w; x++) {
          let sum = 0;
          for (let k = 0; k < weights.length; k++) sum += data[(first + k) * w + x] * weights[k];
          next[y * w + x] = sum;
        }
      }
      data = next;
    }
    return data;
  }

  // handwriting.to_mnist: brightness (0 black .. 1 white, row-major) to the 28x28 MNIST-style
  // input, with where the steps put the digit; null where Python raises "no ink found".
  function toMnist(gray, width, height) {
    const n = width * height;
    // ink_intensity: the paper is the border's median; dark ink on light paper is inverted.
    const border = [];
    for (let x = 0; x < width; x++) border.push(gray[x], gray[(height - 1) * width + x]);
    for (let y = 0; y < height; y++) border.push(gray[y * width], gray[y * width + width - 1]);
    const paper = median(border);
    const invert = paper > 0.5;
    const ink = new Float32Array(n);
    for (let i = 0; i < n; i++) ink[i] = invert ? 1 - gray[i] : gray[i];
    const paperInk = invert ? 1 - paper : paper;
    let strongest;
    if (n > 1000) strongest = percentile(ink, 99.9);
    else strongest = ink.reduce((a, b) => Math.max(a, b), -Infinity);
    if (strongest - paperInk < MIN_CONTRAST) return null;
    const shift = f32(paperInk);
    const range = f32(strongest - paperInk);
    for (let i = 0; i < n; i++) ink[i] = Math.min(Math.max(f32(ink[i] - shift) / range, 0), 1);

    // ink_bounding_box: rows and columns holding all but TRIM of the ink at each side.
    const rowCounts = new Float64Array(height);
    const colCounts = new Float64Array(width);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (ink[y * width + x] >= INK_LEVEL) {
          rowCounts[y]++;
          colCounts[x]++;
        }
      }
    }
    const rows = span(rowCounts);
    const cols = span(colCounts);
    if (!rows) return null;

    // The box, with paper grain inside it dropped.
    const boxHeight = rows[1] - rows[0];
    const boxWidth = cols[1] - cols[0];
    const digit = new Float32Array(boxHeight * boxWidth);
    for (let y = 0; y < boxHeight; y++) {
      for (let x = 0; x < boxWidth; x++) {
        const v = ink[(y + rows[0]) * width + x + cols[0]];
        digit[y * boxWidth + x] = v >= INK_LEVEL ? v : 0;
      }
    }

    // fit_in_box: the longer side becomes BOX pixels; then the brightest pixel becomes 1.
    const scale = BOX / Math.max(boxHeight, boxWidth);
    const outWidth = Math.max(1, roundHalfEven(boxWidth * scale));
    const outHeight = Math.max(1, roundHalfEven(boxHeight * scale));
    const scaled = resizeLanczos(digit, boxWidth, boxHeight, outWidth, outHeight);
    let peak = 0;
    for (let i = 0; i < scaled.length; i++) {
      scaled[i] = Math.min(Math.max(scaled[i], 0), 1);
      peak = Math.max(peak, scaled[i]);
    }
    if (peak <= 0) return null;

    // centre_by_mass: the centre of mass goes to the field's centre, as far as the field allows.
    let mass = 0;
    let rowMoment = 0;
    let colMoment = 0;
    for (let y = 0; y < outHeight; y++) {
      for (let x = 0; x < outWidth; x++) {
        const v = (scaled[y * outWidth + x] = f32(scaled[y * outWidth + x] / peak));
        mass += v;
        rowMoment += y * v;
        colMoment += x * v;
      }
    }
    const clip = (v, hi) => Math.min(Math.max(v, 0), hi);
    const top = clip(roundHalfEven(FIELD / 2 - rowMoment / mass), FIELD - outHeight);
    const left = clip(roundHalfEven(FIELD / 2 - colMoment / mass), FIELD - outWidth);
    const pixels = new Float32Array(FIELD * FIELD);
    for (let y = 0; y < outHeight; y++) {
      for (let x = 0; x < outWidth; x++) {
        pixels[(y + top) * FIELD + x + left] = scaled[y * outWidth + x];
      }
    }
    return { pixels, rows, cols, size: [outHeight, outWidth], top, left };
  }

  // ink_bounding_box's span(): [start, stop) from counts per row or column, null when empty.
  function span(counts) {
    let total = 0;
    for (const c of counts) total += c;
    if (total === 0) return null;
    let start = 0;
    let stop = 0;
    let cumulative = 0;
    for (const c of counts) {
      cumulative += c;
      const share = cumulative / total;
      if (share <= TRIM) start++; // searchsorted(cumulative, TRIM, side="right")
      if (share < 1 - TRIM) stop++; // searchsorted(cumulative, 1 - TRIM, side="left")
    }
    return [start, Math.max(stop + 1, start + 1)];
  }

  // Brightness as Pillow's convert("L") computes it, from canvas RGBA (opaque) pixels.
  function grayFromRgba(rgba) {
    const gray = new Float32Array(rgba.length / 4);
    for (let i = 0; i < gray.length; i++) {
      const r = rgba[4 * i];
      const g = rgba[4 * i + 1];
      const b = rgba[4 * i + 2];
      gray[i] = ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16) / 255;
    }
    return gray;
  }

  // ---- The model: Dense layers, float16 weights shipped as base64 ----

  function decodeHalfs(base64) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const view = new DataView(bytes.buffer);
    const out = new Float32Array(bytes.length / 2);
    for (let i = 0; i < out.length; i++) {
      const h = view.getUint16(2 * i, true);
      const exponent = (h >> 10) & 0x1f;
      const fraction = h & 0x3ff;
      const sign = h & 0x8000 ? -1 : 1;
      if (exponent === 0) out[i] = sign * fraction * 2 ** -24;
      else if (exponent === 31) out[i] = fraction ? NaN : sign * Infinity;
      else out[i] = sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
    }
    return out;
  }

  const ACTIVATIONS = {
    relu: (v) => v.map((x) => Math.max(x, 0)),
    sigmoid: (v) => v.map((x) => 1 / (1 + Math.exp(-x))),
    softmax: (v) => {
      const top = Math.max(...v);
      const e = v.map((x) => Math.exp(x - top));
      const total = e.reduce((a, b) => a + b, 0);
      return e.map((x) => x / total);
    },
  };

  function loadModel(spec) {
    const layers = spec.layers.map((layer) => ({
      inputs: layer.inputs,
      units: layer.units,
      kernel: decodeHalfs(layer.kernel), // row-major (inputs, units), as Keras stores it
      bias: decodeHalfs(layer.bias),
      activation: ACTIVATIONS[layer.activation],
    }));
    return function predict(input) {
      let x = Float64Array.from(input);
      for (const layer of layers) {
        const out = Float64Array.from(layer.bias);
        for (let i = 0; i < layer.inputs; i++) {
          const xi = x[i];
          if (xi === 0) continue; // most of a digit's pixels and many relu outputs are 0
          const row = i * layer.units;
          for (let j = 0; j < layer.units; j++) out[j] += xi * layer.kernel[row + j];
        }
        x = layer.activation(out);
      }
      return Array.from(x);
    };
  }

  // ---- The page ----

  const STYLE = `
.digit-pad{font-family:system-ui,sans-serif;color:#222;display:flex;flex-wrap:wrap;gap:16px;
  align-items:flex-start;max-width:100%;box-sizing:border-box}
.digit-pad *{box-sizing:border-box}
.digit-pad-surface{display:block;width:300px;max-width:100%;height:auto;aspect-ratio:1;
  touch-action:none;background:#fff;outline:2px solid #888;margin:2px;cursor:crosshair}
.digit-pad-side{display:flex;flex-direction:column;gap:8px;min-width:200px}
.digit-pad-answer{margin:0;font-size:1rem;display:flex;align-items:center;gap:12px}
.digit-pad-digit{font-size:4rem;font-weight:bold;line-height:1;min-width:1ch;min-height:1em}
.digit-pad-seen{width:84px;height:84px;image-rendering:pixelated;background:#000}
.digit-pad-bar{display:flex;align-items:center;gap:6px;font-variant-numeric:tabular-nums}
.digit-pad-track{display:block;width:150px;height:12px;background:#eee}
.digit-pad-fill{display:block;height:100%;width:0;background:#3a6fb0}
.digit-pad button{font:inherit;padding:6px 16px;align-self:flex-start}
.digit-pad-hint{margin:0;font-size:.85rem;color:#555}`;

  function element(tag, attributes, parent) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (parent) parent.appendChild(node);
    return node;
  }

  // Builds a pad next to `script` (the <script> element running this code, so that a notebook
  // with several outputs in one page never mixes them up) and returns its API. The standalone
  // page uses the plain ids pad, prediction, clear and seen; notebook outputs add a suffix.
  function mount(script, spec, standalone) {
    if (!script) throw new Error("DigitPad.mount needs the <script> element that runs it");
    const container = script.parentElement;
    container.querySelectorAll(".digit-pad-picture").forEach((node) => node.remove());
    let suffix = "";
    while (!standalone && (!suffix || document.getElementById(`pad${suffix}`))) {
      suffix = `-${Math.random().toString(36).slice(2, 8)}`; // unique among the page's pads
    }
    const predictDigits = loadModel(spec);

    const root = element("div", { class: "digit-pad" });
    element("style", {}, root).textContent = STYLE;
    const canvas = element("canvas", {
      id: `pad${suffix}`,
      class: "digit-pad-surface",
      width: SIZE,
      height: SIZE,
      tabindex: "0",
      role: "img",
      "aria-label": "Drawing pad: draw one digit with the mouse, a finger or a pen",
    });
    root.appendChild(canvas);
    const side = element("div", { class: "digit-pad-side" }, root);
    const answer = element("p", { class: "digit-pad-answer", "aria-live": "polite" }, side);
    element("span", {}, answer).textContent = "Prediction";
    const prediction = element("span", { id: `prediction${suffix}`, class: "digit-pad-digit" });
    answer.appendChild(prediction);
    const seen = element("canvas", {
      id: `seen${suffix}`,
      class: "digit-pad-seen",
      width: FIELD,
      height: FIELD,
      role: "img",
      "aria-label": "What the model sees: the drawing as a 28 by 28 MNIST-style input",
      title: "What the model sees",
    });
    element("p", { class: "digit-pad-hint" }, side).textContent = "What the model sees:";
    side.appendChild(seen);
    const bars = element("div", { class: "digit-pad-bars", role: "group" }, side);
    bars.setAttribute("aria-label", "The model's probability for each digit");
    const barRows = [];
    for (let d = 0; d < 10; d++) {
      const row = element("div", { class: "digit-pad-bar", "data-digit": d }, bars);
      element("span", {}, row).textContent = String(d);
      const track = element("span", { class: "digit-pad-track" }, row);
      const fill = element("span", { class: "digit-pad-fill" }, track);
      const value = element("span", {}, row);
      barRows.push({ row, fill, value });
    }
    const clearButton = element("button", { id: `clear${suffix}`, type: "button" }, side);
    clearButton.textContent = "Clear";
    element("p", { class: "digit-pad-hint" }, side).textContent = "Escape clears too.";
    container.appendChild(root);

    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const seenCtx = seen.getContext("2d");
    const api = { root, updateMs: [] };

    function showNothing() {
      seenCtx.fillStyle = "#000";
      seenCtx.fillRect(0, 0, FIELD, FIELD);
      prediction.textContent = "";
      for (const { row, fill, value } of barRows) {
        row.setAttribute("data-probability", "");
        fill.style.width = "0";
        value.textContent = "";
      }
    }

    function preprocess() {
      const gray = grayFromRgba(ctx.getImageData(0, 0, SIZE, SIZE).data);
      return toMnist(gray, SIZE, SIZE);
    }

    function update() {
      const start = performance.now();
      const result = preprocess();
      if (!result) {
        showNothing(); // a blank pad, or nothing dark enough to be a stroke
        return;
      }
      const probabilities = predictDigits(result.pixels);
      const best = probabilities.indexOf(Math.max(...probabilities));
      prediction.textContent = String(best);
      probabilities.forEach((p, d) => {
        barRows[d].row.setAttribute("data-probability", p.toFixed(6));
        barRows[d].fill.style.width = `${(100 * p).toFixed(1)}%`;
        barRows[d].value.textContent = `${(100 * p).toFixed(1)}%`;
      });
      const image = seenCtx.createImageData(FIELD, FIELD);
      result.pixels.forEach((v, i) => {
        image.data.fill(Math.round(255 * v), 4 * i, 4 * i + 3);
        image.data[4 * i + 3] = 255;
      });
      seenCtx.putImageData(image, 0, 0);
      api.updateMs.push(performance.now() - start);
      if (api.updateMs.length > 1000) api.updateMs.shift();
    }

    // Pointer Events cover mouse, touch and pen alike.
    let last = null; // where the pen is, while a stroke goes on
    let pen = null; // the pointer drawing it: a second finger does not draw
    function point(event) {
      const rect = canvas.getBoundingClientRect(); // the canvas may be scaled down by CSS
      return [
        ((event.clientX - rect.left) * SIZE) / rect.width,
        ((event.clientY - rect.top) * SIZE) / rect.height,
      ];
    }
    function setPen() {
      ctx.strokeStyle = ctx.fillStyle = "#000";
      ctx.lineWidth = PEN;
      ctx.lineCap = ctx.lineJoin = "round";
    }
    canvas.addEventListener("pointerdown", (event) => {
      if (event.button !== 0 || pen !== null) return;
      // No text selection while drawing with a mouse. (Not for touch: touch-action already stops
      // scrolling, and Chromium then drops the click of a quick tap on Clear.)
      if (event.pointerType === "mouse") event.preventDefault();
      canvas.focus({ preventScroll: true });
      canvas.setPointerCapture(event.pointerId);
      pen = event.pointerId;
      last = point(event);
      setPen();
      ctx.beginPath();
      ctx.arc(last[0], last[1], PEN / 2, 0, 2 * Math.PI);
      ctx.fill();
      update();
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!last || event.pointerId !== pen) return;
      setPen();
      const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      for (const e of events.length ? events : [event]) {
        const next = point(e);
        ctx.beginPath();
        ctx.moveTo(last[0], last[1]);
        ctx.lineTo(next[0], next[1]);
        ctx.stroke();
        last = next;
      }
      update(); // while drawing, not only when the stroke ends
    });
    const end = (event) => {
      if (event.pointerId !== pen) return;
      last = pen = null;
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    clearButton.addEventListener("click", () => api.clear());
    // A tap right after a fast stroke is taken by Chromium as stopping a fling: no click.
    clearButton.addEventListener("pointerup", (event) => {
      if (event.pointerType !== "mouse") api.clear();
    });
    // Escape clears the pad in use; the standalone page has one pad, so anywhere on it.
    (standalone ? document : root).addEventListener("keydown", (event) => {
      if (event.key === "Escape") api.clear();
    });

    // The API (see drawing_pad.py): window.digitPad is the latest pad, root.digitPad each one.
    api.predict = (pixels) => {
      const scale = pixels instanceof Uint8Array || pixels instanceof Uint8ClampedArray ? 255 : 1;
      if (pixels.length !== FIELD * FIELD) {
        throw new Error(`expected ${FIELD * FIELD} pixels, got ${pixels.length}`);
      }
      return predictDigits(Array.from(pixels, (v) => v / scale));
    };
    api.preprocess = () => {
      const result = preprocess();
      return result && Array.from(result.pixels);
    };
    api.preprocessGray = (gray, width, height) => {
      const result = toMnist(gray, width, height);
      return result && { ...result, pixels: Array.from(result.pixels) };
    };
    api.clear = () => {
      last = pen = null;
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, SIZE, SIZE);
      showNothing();
    };
    api.clear();
    root.digitPad = api;
    window.digitPad = api;
    return api;
  }

  window.DigitPad = { mount, toMnist, FIELD, SIZE, PEN };
})();
