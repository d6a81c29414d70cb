// The drawing pad: draw a digit, see what a small Keras model reads, live, in plain JavaScript.
//
// handwriting/drawing_pad.py inlines this file into a standalone page or a notebook output and
// appends one call, DigitPad.mount(document.currentScript, model, standalone). No server, no
// network, no build step. The preprocessing below is the algorithm of "Preprocessing, shared by
// both implementations" in docs/drawing_pad.md, the same as handwriting/__init__.py's to_mnist;
// the tests run both on the same pixels.
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

  // ---- The models: Dense layers, Rice-coded weights (see drawing_pad.py) ----

  // One tensor: integers k, zigzag-mapped and Rice-coded, each weight being k * 2^exponent.
  function decodeTensor({ exponent, rice, data }, count) {
    const text = atob(data);
    const bytes = new Uint8Array(text.length + 4); // zeros after the end for the look-ahead
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    const values = new Float32Array(count);
    const scale = 2 ** exponent;
    const base = 2 ** rice;
    let bit = 0;
    for (let i = 0; i < count; i++) {
      let quotient = 0; // in unary: 1 bits up to a 0
      while ((bytes[bit >> 3] >> (7 - (bit & 7))) & 1) {
        quotient++;
        bit++;
      }
      bit++;
      let remainder = 0; // `rice` bits (at most 24), read from the 32 bits around them
      if (rice) {
        const at = bit >> 3;
        const word =
          (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
        remainder = (word << (bit & 7)) >>> (32 - rice);
        bit += rice;
      }
      const z = quotient * base + remainder;
      values[i] = (z % 2 ? -(z + 1) / 2 : z / 2) * scale;
    }
    return values;
  }

  function loadModel(spec) {
    const layers = spec.layers.map((layer) => ({
      inputs: layer.inputs,
      units: layer.units,
      activation: layer.activation,
      kernel: decodeTensor(layer.kernel, layer.inputs * layer.units), // row-major (inputs, units)
      bias: decodeTensor(layer.bias, layer.units),
    }));
    const last = layers[layers.length - 1];
    return { name: spec.name, layers, kind: last.activation };
  }

  function activate(activation, z) {
    if (activation === "relu") return z.map((v) => (v > 0 ? v : 0));
    if (activation === "sigmoid") return z.map((v) => 1 / (1 + Math.exp(-v)));
    const top = Math.max(...z);
    const e = z.map((v) => Math.exp(v - top));
    const total = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / total);
  }

  // The model on one input (float64): each layer's output after its activation; the last one
  // is the model's answer.
  function run(model, input) {
    let x = input;
    const activations = [];
    for (const { inputs, units, kernel, bias, activation } of model.layers) {
      const z = Float64Array.from(bias);
      for (let i = 0; i < inputs; i++) {
        const xi = x[i];
        if (xi === 0) continue; // most of a digit's pixels and many relu outputs are 0
        const row = i * units;
        for (let j = 0; j < units; j++) z[j] += xi * kernel[row + j];
      }
      x = activate(activation, z);
      activations.push(x);
    }
    return activations;
  }

  // The gradient of the logit (the score before the last activation) of `digit` with respect
  // to each input: backpropagation through the layers, from the last one's kernel column.
  function saliency(model, activations, digit) {
    const layers = model.layers;
    const top = layers[layers.length - 1];
    let grad = new Float64Array(top.inputs);
    for (let i = 0; i < top.inputs; i++) grad[i] = top.kernel[i * top.units + digit];
    for (let l = layers.length - 2; l >= 0; l--) {
      const { inputs, units, kernel, activation } = layers[l];
      const a = activations[l];
      if (activation === "softmax") {
        let dot = 0;
        for (let j = 0; j < units; j++) dot += grad[j] * a[j];
        for (let j = 0; j < units; j++) grad[j] = a[j] * (grad[j] - dot);
      } else {
        for (let j = 0; j < units; j++) {
          grad[j] *= activation === "relu" ? (a[j] > 0 ? 1 : 0) : a[j] * (1 - a[j]);
        }
      }
      const live = []; // the units a gradient comes back through: an inactive relu passes none
      for (let j = 0; j < units; j++) if (grad[j] !== 0) live.push(j);
      const next = new Float64Array(inputs);
      for (let i = 0; i < inputs; i++) {
        const row = i * units;
        let sum = 0;
        for (let n = 0; n < live.length; n++) sum += kernel[row + live[n]] * grad[live[n]];
        next[i] = sum;
      }
      grad = next;
    }
    return grad;
  }

  function argmax(values) {
    let best = 0;
    for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
    return best;
  }

  // ---- The page ----

  const TOWARDS = [230, 97, 1]; // orange: more ink here pushes towards the answer
  const AWAY = [94, 60, 153]; // purple: pushes away from it
  const STYLE = `
.digit-pad{font-family:system-ui,sans-serif;color:#222;display:flex;flex-wrap:wrap;
  gap:14px 24px;align-items:flex-start;max-width:100%;box-sizing:border-box;font-size:14px}
.digit-pad *{box-sizing:border-box}
.digit-pad figure{margin:0}
.digit-pad figcaption,.digit-pad-hint,.digit-pad-note{font-size:12.5px;color:#555;margin:0}
.digit-pad-left{display:flex;flex-direction:column;gap:8px;max-width:100%}
.digit-pad-surface{display:block;width:300px;max-width:100%;height:auto;aspect-ratio:1;
  touch-action:none;background:#fff;outline:2px solid #888;margin:2px;cursor:crosshair}
.digit-pad-controls{display:flex;align-items:center;gap:12px}
.digit-pad button{font:inherit;padding:6px 16px}
.digit-pad-side{display:flex;flex-direction:column;gap:10px;min-width:0;max-width:100%}
.digit-pad-answer{margin:0;display:flex;align-items:center;gap:10px;flex-wrap:wrap}
.digit-pad-digit{font-size:3.6rem;font-weight:bold;line-height:1;width:1ch;height:1em;
  flex:none;text-align:center;font-variant-numeric:tabular-nums}
.digit-pad-who{display:flex;flex-direction:column;color:#555;font-size:13px;line-height:1.2;
  flex:1 1 auto;width:0;min-width:10em}
.digit-pad-second{min-height:2.4em}
.digit-pad-second[data-differs="true"]{color:#b3261e;font-weight:600}
.digit-pad-pictures{display:flex;gap:14px;flex-wrap:wrap}
.digit-pad-pictures canvas{display:block;width:140px;height:140px;image-rendering:pixelated;
  margin-bottom:3px}
.digit-pad-seen{background:#000}
.digit-pad-saliency{background:#fff;outline:1px solid #bbb}
.digit-pad-legend{display:flex;flex-direction:column;font-size:12.5px;color:#555}
.digit-pad-swatch{display:inline-block;width:10px;height:10px;margin-right:4px;
  vertical-align:-1px}
.digit-pad-bars{display:grid;grid-template-columns:auto repeat(var(--models),minmax(0,150px));
  max-width:100%;gap:2px 10px;align-items:center;font-variant-numeric:tabular-nums}
.digit-pad-bar{display:contents}
.digit-pad-head{font-size:12.5px;color:#555;line-height:1.2}
.digit-pad-head b{color:#222;font-size:14px}
.digit-pad-cell{display:flex;align-items:center;gap:6px}
.digit-pad-track{display:block;flex:1;min-width:40px;height:11px;background:#eee}
.digit-pad-fill{display:block;height:100%;width:0;background:#3a6fb0}
[data-model-index="1"] .digit-pad-fill{background:#2a8f7f}
.digit-pad-value{flex:none;width:2.6em;min-height:1.2em;line-height:1.2;text-align:right;
  font-size:13px}
.digit-pad-cell[data-best="true"] .digit-pad-value{font-weight:bold}
.digit-pad-sum{font-size:13px;line-height:1.2;min-height:calc(1.2em + 3px);padding-top:2px;
  border-top:1px solid #ccc}
.digit-pad-hidden{display:flex;flex-direction:column;gap:6px;flex:1 1 256px;max-width:100%}
.digit-pad-grids{display:flex;flex-wrap:wrap;gap:10px 20px}
.digit-pad-units{display:block;max-width:100%;height:auto;background:#111;margin-bottom:3px}
.digit-pad [data-active]{display:inline-block;text-align:right;font-variant-numeric:tabular-nums}`;

  function element(tag, attributes, parent) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(tag, attributes, parent, content) {
    const node = element(tag, attributes, parent);
    node.textContent = content;
    return node;
  }

  const KINDS = { softmax: "scores", sigmoid: "yes/no each" };

  // A hidden layer's grid: one cell per unit, `cell` pixels with a 1-pixel gap.
  function gridShape(units) {
    const columns = Math.min(64, 2 ** Math.ceil(Math.log2(Math.sqrt(2 * units))));
    const cell = Math.max(4, Math.min(16, Math.floor(256 / columns)));
    return { columns, rows: Math.ceil(units / columns), cell };
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
    const models = spec.models.map(loadModel);
    const main = models[0];
    const compared = models[1]; // undefined with one model
    const hiddenLayers = main.layers.slice(0, -1);

    const root = element("div", { class: "digit-pad" });
    element("style", {}, root).textContent = STYLE;

    // Left: the drawing surface and Clear.
    const left = element("div", { class: "digit-pad-left" }, root);
    const canvas = element("canvas", {
      id: `pad${suffix}`,
      class: "digit-pad-surface",
      width: SIZE,
      height: SIZE,
      tabindex: "0",
      role: "img",
      "aria-label": "Drawing pad: draw one digit with the mouse, a finger or a pen",
    });
    left.appendChild(canvas);
    const controls = element("div", { class: "digit-pad-controls" }, left);
    const clearButton = text("button", { id: `clear${suffix}`, type: "button" }, controls, "Clear");
    text("p", { class: "digit-pad-hint" }, controls, "Escape clears too.");

    // Right: the answers, what the model sees, where more ink pushes, every output.
    const side = element("div", { class: "digit-pad-side" }, root);
    const answer = element("p", { class: "digit-pad-answer", "aria-live": "polite" }, side);
    text("span", {}, answer, "Prediction");
    const prediction = element("span", { id: `prediction${suffix}`, class: "digit-pad-digit" });
    answer.appendChild(prediction);
    const who = element("span", { class: "digit-pad-who" }, answer);
    text("span", {}, who, `by the ${main.name} model`);
    const second = compared && text("span", { class: "digit-pad-second" }, who, "");

    const pictures = element("div", { class: "digit-pad-pictures" }, side);
    const seenFigure = element("figure", {}, pictures);
    const seen = element("canvas", {
      id: `seen${suffix}`,
      class: "digit-pad-seen",
      width: FIELD,
      height: FIELD,
      role: "img",
      "aria-label": "What the model sees: the drawing as a 28 by 28 MNIST-style input",
    });
    seenFigure.appendChild(seen);
    text("figcaption", {}, seenFigure, "What the models see");
    const decidedFigure = element("figure", {}, pictures);
    const decided = element("canvas", {
      class: "digit-pad-saliency",
      width: FIELD,
      height: FIELD,
      role: "img",
      "aria-label":
        `More ink here pushes: where more ink would raise (orange) or lower (purple) ` +
        `the ${main.name} model's score for its answer`,
    });
    decidedFigure.appendChild(decided);
    const decidedCaption = element("figcaption", { class: "digit-pad-legend" }, decidedFigure);
    text("span", {}, decidedCaption, "More ink here pushes:");
    const [towards, away] = [TOWARDS, AWAY].map((colour) => {
      const line = element("span", {}, decidedCaption);
      element("span", { class: "digit-pad-swatch", style: `background:rgb(${colour})` }, line);
      return text("span", {}, line, "");
    });

    const bars = element("div", { class: "digit-pad-bars", role: "group" }, side);
    bars.style.setProperty("--models", String(models.length));
    bars.setAttribute("aria-label", "Each model's output for each digit");
    element("span", {}, bars);
    models.forEach((model, m) => {
      const head = element("span", { class: "digit-pad-head", "data-model-index": m }, bars);
      text("b", {}, head, model.name);
      head.append(` · ${model.kind}`, element("br", {}), KINDS[model.kind]);
    });
    const rows = [];
    for (let d = 0; d < 10; d++) {
      const row = element("div", { class: "digit-pad-bar", "data-digit": d }, bars);
      text("span", {}, row, String(d));
      const cells = models.map((model, m) => {
        const cell = element("span", { class: "digit-pad-cell", "data-model-index": m }, row);
        const track = element("span", { class: "digit-pad-track" }, cell);
        const fill = element("span", { class: "digit-pad-fill" }, track);
        const value = element("span", { class: "digit-pad-value" }, cell);
        return { cell, fill, value };
      });
      rows.push({ row, cells });
    }
    text("span", { class: "digit-pad-sum" }, bars, "sum");
    const sums = models.map((model, m) =>
      element(
        "span",
        { class: "digit-pad-sum", "data-sum": "", "data-model": model.name, "data-model-index": m },
        bars,
      ),
    );

    // Below: the main model's hidden layers, one cell per unit.
    const hidden = element("div", { class: "digit-pad-hidden" }, root);
    const note =
      `Inside the ${main.name} model: each hidden unit is a cell, dark where the unit ` +
      "gives 0, brighter the more active.";
    text("p", { class: "digit-pad-note" }, hidden, note);
    const gridRow = element("div", { class: "digit-pad-grids" }, hidden);
    const grids = hiddenLayers.map((layer, l) => {
      const figure = element("figure", {}, gridRow);
      const shape = gridShape(layer.units);
      const gridCanvas = element("canvas", {
        class: "digit-pad-units",
        width: shape.columns * shape.cell - 1,
        height: shape.rows * shape.cell - 1,
        "data-columns": shape.columns,
        "data-cell": shape.cell,
        role: "img",
        "aria-label":
          `Hidden layer ${l + 1} of the ${main.name} model: one cell per unit, ` +
          "brighter where the unit is more active",
      });
      figure.appendChild(gridCanvas);
      const caption = element("figcaption", {}, figure);
      caption.append(`Hidden layer ${l + 1} (${layer.activation}): `);
      // Room for the largest count, so that the caption keeps its width as the count changes.
      const room = `width:${String(layer.units).length}ch`;
      const active = element("b", { "data-active": "", style: room }, caption);
      caption.append(` of ${layer.units} units active`);
      const ctx = gridCanvas.getContext("2d");
      const image = ctx.createImageData(gridCanvas.width, gridCanvas.height);
      return { ctx, shape, active, image };
    });
    if (!grids.length) hidden.remove();
    container.appendChild(root);

    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const seenCtx = seen.getContext("2d");
    const decidedCtx = decided.getContext("2d");
    const api = { root, updateMs: [] };

    function showNothing() {
      seenCtx.fillStyle = "#000";
      seenCtx.fillRect(0, 0, FIELD, FIELD);
      decidedCtx.clearRect(0, 0, FIELD, FIELD);
      prediction.textContent = "";
      if (second) second.textContent = "";
      towards.textContent = "towards the answer";
      away.textContent = "away from it";
      for (const { row, cells } of rows) {
        row.setAttribute("data-probability", "");
        if (compared) row.setAttribute("data-compare", "");
        for (const { cell, fill, value } of cells) {
          cell.setAttribute("data-best", "false");
          fill.style.width = "0";
          value.textContent = "";
        }
      }
      for (const sum of sums) sum.textContent = "";
      for (const grid of grids) {
        grid.active.textContent = "–";
        drawUnits(grid, null);
      }
    }

    // A hidden layer's activations as the brightness of its cells (black: inactive).
    function drawUnits(grid, values) {
      const { image, shape } = grid;
      const data = image.data;
      data.fill(0);
      let top = 0;
      if (values) for (const v of values) top = Math.max(top, v);
      const inner = shape.cell - 1;
      for (let u = 0; u < (values ? values.length : 0); u++) {
        const t = top > 0 ? Math.max(values[u], 0) / top : 0;
        const on = values[u] > 0;
        const r = on ? 70 + 185 * t : 40;
        const g = on ? 45 + 165 * t : 40;
        const b = on ? 10 + 50 * t : 40;
        const x0 = (u % shape.columns) * shape.cell;
        const y0 = Math.floor(u / shape.columns) * shape.cell;
        for (let y = y0; y < y0 + inner; y++) {
          for (let x = x0; x < x0 + inner; x++) {
            const p = 4 * (y * image.width + x);
            data[p] = r;
            data[p + 1] = g;
            data[p + 2] = b;
            data[p + 3] = 255;
          }
        }
      }
      grid.ctx.putImageData(image, 0, 0);
    }

    // The gradient over the input: orange and purple, darker where the digit's ink is.
    function drawSaliency(pixels, gradient) {
      let top = 0;
      for (const g of gradient) top = Math.max(top, Math.abs(g));
      const image = decidedCtx.createImageData(FIELD, FIELD);
      for (let i = 0; i < FIELD * FIELD; i++) {
        const t = top > 0 ? Math.min(1, (1.25 * Math.abs(gradient[i])) / top) : 0;
        const colour = gradient[i] > 0 ? TOWARDS : AWAY;
        const shade = 1 - 0.5 * pixels[i];
        for (let c = 0; c < 3; c++) image.data[4 * i + c] = (255 + (colour[c] - 255) * t) * shade;
        image.data[4 * i + 3] = 255;
      }
      decidedCtx.putImageData(image, 0, 0);
    }

    function preprocess() {
      const gray = grayFromRgba(ctx.getImageData(0, 0, SIZE, SIZE).data);
      return toMnist(gray, SIZE, SIZE);
    }

    // Every model on one input, the main model's hidden layers and its saliency.
    function inspect(input) {
      const runs = models.map((model) => run(model, input));
      const outputs = runs.map((activations) => activations[activations.length - 1]);
      const digit = argmax(outputs[0]);
      return {
        outputs,
        digit,
        hidden: runs[0].slice(0, -1),
        saliency: saliency(main, runs[0], digit),
      };
    }

    function update(start = performance.now()) {
      const result = preprocess();
      if (!result) {
        showNothing(); // a blank pad, or nothing dark enough to be a stroke
        return;
      }
      const seenBy = inspect(result.pixels);
      const digit = seenBy.digit;
      prediction.textContent = String(digit);
      const answers = seenBy.outputs.map(argmax);
      if (second) {
        const differs = answers[1] !== digit;
        const verdict = differs ? ": they differ" : " too";
        second.textContent = `the ${compared.name} model reads ${answers[1]}${verdict}`;
        second.setAttribute("data-differs", String(differs));
      }
      rows.forEach(({ row, cells }, d) => {
        row.setAttribute("data-probability", seenBy.outputs[0][d].toFixed(6));
        if (compared) row.setAttribute("data-compare", seenBy.outputs[1][d].toFixed(6));
        cells.forEach(({ cell, fill, value }, m) => {
          const p = seenBy.outputs[m][d];
          cell.setAttribute("data-best", String(answers[m] === d));
          fill.style.width = `${(100 * p).toFixed(1)}%`;
          value.textContent = p.toFixed(2);
        });
      });
      sums.forEach((sum, m) => {
        sum.textContent = seenBy.outputs[m].reduce((a, b) => a + b, 0).toFixed(2);
      });
      towards.textContent = `towards ${digit}`;
      away.textContent = `away from ${digit}`;
      grids.forEach((grid, l) => {
        const values = seenBy.hidden[l];
        let active = 0;
        for (const v of values) if (v > 0) active++;
        grid.active.textContent = String(active);
        drawUnits(grid, values);
      });
      const image = seenCtx.createImageData(FIELD, FIELD);
      result.pixels.forEach((v, i) => {
        image.data.fill(Math.round(255 * v), 4 * i, 4 * i + 3);
        image.data[4 * i + 3] = 255;
      });
      seenCtx.putImageData(image, 0, 0);
      drawSaliency(result.pixels, seenBy.saliency);
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
      const start = performance.now();
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
      update(start);
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!last || event.pointerId !== pen) return;
      const start = performance.now();
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
      update(start); // while drawing, not only when the stroke ends
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
    function inputs(pixels) {
      const scale = pixels instanceof Uint8Array || pixels instanceof Uint8ClampedArray ? 255 : 1;
      if (pixels.length !== FIELD * FIELD) {
        throw new Error(`expected ${FIELD * FIELD} pixels, got ${pixels.length}`);
      }
      return Float64Array.from(pixels, (v) => v / scale);
    }
    api.predict = (pixels) => {
      const activations = run(main, inputs(pixels));
      return Array.from(activations[activations.length - 1]);
    };
    api.inspect = (pixels) => {
      const seenBy = inspect(inputs(pixels));
      const byName = {};
      models.forEach((model, m) => {
        byName[model.name] = { outputs: Array.from(seenBy.outputs[m]) };
      });
      return {
        models: byName,
        hidden: seenBy.hidden.map((values) => Array.from(values)),
        saliency: Array.from(seenBy.saliency),
        digit: seenBy.digit,
      };
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
