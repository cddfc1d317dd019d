// AdaIN in the browser (Huang & Belongie, ICCV 2017): ONNX Runtime Web runs the model's `encode`
// and `decode` graphs; the maths between them runs here, the same definitions as the Python
// package (adain.ops.mixing, adain.pipeline.step, adain.pipeline.tiling, adain.ops.color):
//
//   channel statistics  std = sqrt(biased var + 1e-5), accumulated in float64
//   AdaIN + alpha       t = (f(c) - mean_c) / std_c * std_s + mean_s;  code = a t + (1 - a) f(c)
//   blends              one AdaIN with the weighted mean and the weighted std of the styles
//   padding             bottom/right to a multiple of the stride and at least 2 strides,
//                       reflection (numpy "reflect"), or edge replication for images too small
//   tiles               two passes: the whole image's content statistics, then each tile with
//                       `margin` pixels of real context, tile offsets multiples of the stride
//   colour              keep the output's luminance, the photo's chroma (full-range BT.601 YCbCr)
//
// Nothing here touches the page: images go in and out as planar float32 RGB in [0, 1]
// (`{data, h, w}`, `data` of length 3·h·w), so the app (app.js) and tests share one engine.

export const EPS = 1e-5;

/** (H, W) after scaling the shorter side to `size` (0 keeps it); adain.io.images.resized_shape. */
export function resizedShape(h, w, size) {
  if (size <= 0 || Math.min(h, w) === size) return [h, w];
  const scale = size / Math.min(h, w);
  return [Math.max(1, roundHalfEven(h * scale)), Math.max(1, roundHalfEven(w * scale))];
}

/** Python's round(): halves to even. */
export function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Pad `{data, h, w}` (3 planes) bottom/right like adain.pipeline.step.pad_to_multiple. */
export function padToMultiple(img, m) {
  const { h, w } = img;
  const ph = Math.max(mod(-h, m), 2 * m - h);
  const pw = Math.max(mod(-w, m), 2 * m - w);
  if (!ph && !pw) return img;
  const H = h + ph;
  const W = w + pw;
  const reflect = ph < h && pw < w;
  const src = (i, n) => (i < n ? i : reflect ? 2 * (n - 1) - i : n - 1);
  const out = new Float32Array(3 * H * W);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < H; y++) {
      const sy = src(y, h);
      const row = c * h * w + sy * w;
      const orow = c * H * W + y * W;
      for (let x = 0; x < W; x++) out[orow + x] = img.data[row + src(x, w)];
    }
  }
  return { data: out, h: H, w: W };
}

function mod(a, m) {
  return ((a % m) + m) % m;
}

/** Crop planes `{data, h, w}` to the box [y0, y0+h) × [x0, x0+w). */
export function crop(img, y0, x0, h, w, channels = 3) {
  const out = new Float32Array(channels * h * w);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < h; y++) {
      const s = c * img.h * img.w + (y0 + y) * img.w + x0;
      out.set(img.data.subarray(s, s + w), c * h * w + y * w);
    }
  }
  return { data: out, h, w };
}

/** Per-channel {mean, std} of a code (C planes of n values), float64 sums. */
export function channelStats(code, channels, n) {
  const mean = new Float32Array(channels);
  const std = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let s1 = 0;
    let s2 = 0;
    const off = c * n;
    for (let i = 0; i < n; i++) {
      const v = code[off + i];
      s1 += v;
      s2 += v * v;
    }
    const m = s1 / n;
    mean[c] = m;
    std[c] = Math.sqrt(Math.max(s2 / n - m * m, 0) + EPS);
  }
  return { mean, std };
}

/** Weights validated and scaled to sum to one (adain.ops.mixing.normalize_weights). */
export function normalizeWeights(weights) {
  if (!weights.length) throw new Error("at least one style is needed");
  if (weights.some((v) => !Number.isFinite(v) || v < 0)) throw new Error("style weights must be finite and >= 0");
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new Error("style weights must not sum to zero");
  return weights.map((v) => v / total);
}

/** The weighted mean and weighted std of several styles' statistics (one AdaIN for a blend). */
export function mixStats(stats, weights) {
  const w = normalizeWeights(weights ?? stats.map(() => 1));
  if (stats.length === 1) return stats[0];
  const channels = stats[0].mean.length;
  const mean = new Float32Array(channels);
  const std = new Float32Array(channels);
  stats.forEach((s, k) => {
    for (let c = 0; c < channels; c++) {
      mean[c] += w[k] * s.mean[c];
      std[c] += w[k] * s.std[c];
    }
  });
  return { mean, std };
}

/** alpha · AdaIN(code; content stats, style stats) + (1 − alpha) · code, as a new array. */
export function adainMix(code, channels, n, contentStats, styleStats, alpha) {
  const out = new Float32Array(channels * n);
  for (let c = 0; c < channels; c++) {
    const scale = styleStats.std[c] / contentStats.std[c];
    const shift = styleStats.mean[c] - contentStats.mean[c] * scale;
    const off = c * n;
    if (alpha === 1) {
      for (let i = 0; i < n; i++) out[off + i] = code[off + i] * scale + shift;
    } else {
      for (let i = 0; i < n; i++) {
        const v = code[off + i];
        out[off + i] = alpha * (v * scale + shift) + (1 - alpha) * v;
      }
    }
  }
  return out;
}

/** Top-left corners of the tiles covering H × W (adain.pipeline.tiling.tile_boxes). */
export function tileBoxes(H, W, tile) {
  const boxes = [];
  for (let y = 0; y < H; y += tile) for (let x = 0; x < W; x += tile) boxes.push([y, x]);
  return boxes;
}

// full-range BT.601, Cb/Cr centred on 0.5 (adain.ops.color.rgb_to_ycbcr) and its exact inverse
const RGB2YCC = [
  [0.299, 0.587, 0.114],
  [-0.168736, -0.331264, 0.5],
  [0.5, -0.418688, -0.081312],
];
const YCC2RGB = invert3(RGB2YCC);

function invert3(m) {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}

/** The stylized image's luminance with the photo's chroma (adain.ops.color.luminance_transfer). */
export function luminanceTransfer(stylized, content) {
  if (stylized.h !== content.h || stylized.w !== content.w) throw new Error("shapes differ");
  const n = stylized.h * stylized.w;
  const s = stylized.data;
  const p = content.data;
  const out = new Float32Array(3 * n);
  const [Y, CB, CR] = RGB2YCC;
  for (let i = 0; i < n; i++) {
    const y = Y[0] * s[i] + Y[1] * s[n + i] + Y[2] * s[2 * n + i];
    const cb = CB[0] * p[i] + CB[1] * p[n + i] + CB[2] * p[2 * n + i];
    const cr = CR[0] * p[i] + CR[1] * p[n + i] + CR[2] * p[2 * n + i];
    for (let c = 0; c < 3; c++) out[c * n + i] = YCC2RGB[c][0] * y + YCC2RGB[c][1] * cb + YCC2RGB[c][2] * cr;
  }
  return { data: out, h: stylized.h, w: stylized.w };
}

function clamp01(img) {
  for (let i = 0; i < img.data.length; i++) img.data[i] = Math.min(1, Math.max(0, img.data[i]));
  return img;
}

/** RGBA bytes (ImageData.data) → planar float32 RGB in [0, 1]. */
export function fromRGBA(rgba, h, w) {
  const n = h * w;
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    out[i] = rgba[4 * i] / 255;
    out[n + i] = rgba[4 * i + 1] / 255;
    out[2 * n + i] = rgba[4 * i + 2] / 255;
  }
  return { data: out, h, w };
}

/** Planar float RGB → opaque RGBA bytes, clamped and rounded (as adain.io.images.to_pil). */
export function toRGBA(img) {
  const n = img.h * img.w;
  const out = new Uint8ClampedArray(4 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[4 * i + c] = roundHalfEven(Math.min(1, Math.max(0, img.data[c * n + i])) * 255);
    out[4 * i + 3] = 255;
  }
  return out;
}

/**
 * The model: two ONNX Runtime sessions and what model.json says about them.
 *
 * A content image is encoded once (`encodeContent`: one pass, or tiles with their codes kept
 * while they fit `codeCacheBytes`); `render` then mixes and decodes, so an alpha or weight move
 * runs only the decoder. Style statistics come from `styleStats` and are the caller's to keep.
 */
export class Engine {
  /**
   * @param {object} ort the onnxruntime-web module
   * @param {object} manifest model.json
   * @param {object} encoder InferenceSession
   * @param {object} decoder InferenceSession
   */
  constructor(ort, manifest, encoder, decoder, options = {}) {
    this.ort = ort;
    this.manifest = manifest;
    this.encoder = encoder;
    this.decoder = decoder;
    this.stride = manifest.stride;
    this.channels = manifest.channels;
    this.margin = manifest.tile_margin;
    const budget = options.budgetBytes ?? manifest.network_budget_bytes;
    // the same rule as adain.pipeline.core.Pipeline: untiled up to budget / bytes-per-pixel,
    // tiles the largest multiple of 64 whose extended tile fits the budget with the overhead
    this.maxUntiledPixels = options.maxUntiledPixels ?? Math.floor(budget / manifest.bytes_per_pixel);
    const tilePixels = Math.min(this.maxUntiledPixels, Math.floor(budget / (manifest.bytes_per_pixel * manifest.tile_overhead)));
    const side = Math.floor(Math.sqrt(tilePixels)) - 2 * this.margin;
    this.tile = options.tile ?? Math.min(2048, Math.max(256, Math.floor(side / 64) * 64));
    this.codeCacheBytes = options.codeCacheBytes ?? 256 * 2 ** 20;
    this.calls = { encode: 0, decode: 0 }; // graph runs so far (what a change re-ran)
  }

  /** Load model.json and both graphs from `base` (a URL ending in "/"). */
  static async create(ort, base, sessionOptions = {}, options = {}) {
    const response = await fetch(new URL("model.json", base));
    if (!response.ok) throw new Error(`model.json: HTTP ${response.status}`);
    const manifest = await response.json();
    const open = (name) => ort.InferenceSession.create(new URL(manifest.graphs[name], base).href, sessionOptions);
    const [encoder, decoder] = await Promise.all([open("encode"), open("decode")]);
    return new Engine(ort, manifest, encoder, decoder, options);
  }

  async _encode(img) {
    this.calls.encode += 1;
    const input = new this.ort.Tensor("float32", img.data, [1, 3, img.h, img.w]);
    const result = await this.encoder.run({ image: input });
    const code = result.code;
    const [, c, h, w] = code.dims;
    const data = code.data.slice();
    code.dispose?.();
    return { data, c, h, w };
  }

  async _decode(code, h, w) {
    this.calls.decode += 1;
    const input = new this.ort.Tensor("float32", code, [1, this.channels, h, w]);
    const result = await this.decoder.run({ code: input });
    const out = result.output;
    const img = { data: out.data.slice(), h: out.dims[2], w: out.dims[3] };
    out.dispose?.();
    return img;
  }

  /** A style image (planar RGB) → its code's {mean, std}. */
  async styleStats(img) {
    const code = await this._encode(padToMultiple(img, this.stride));
    return channelStats(code.data, code.c, code.h * code.w);
  }

  /** Whether `encodeContent` will tile an image of h × w. */
  tiles(h, w) {
    return h * w > this.maxUntiledPixels;
  }

  /**
   * Encode a content image for `render`: untiled, its code and statistics; tiled, the whole
   * image's statistics (pass 1 of adain.pipeline.tiling) and each tile's code where they fit.
   */
  async encodeContent(img, onProgress = () => {}) {
    const m = this.stride;
    const padded = padToMultiple(img, m);
    const content = { image: img, padded, h: img.h, w: img.w };
    if (!this.tiles(img.h, img.w)) {
      await onProgress(0, 1);
      const code = await this._encode(padded);
      content.tiles = [{ box: [0, 0, padded.h, padded.w], inner: [0, 0, padded.h, padded.w], code }];
      content.stats = channelStats(code.data, code.c, code.h * code.w);
      await onProgress(1, 1);
      return content;
    }
    const tile = this.tile - (this.tile % m);
    const margin = this.margin - (this.margin % m);
    const { h: H, w: W } = padded;
    const boxes = tileBoxes(H, W, tile);
    const s1 = new Float64Array(this.channels);
    const s2 = new Float64Array(this.channels);
    let total = 0;
    let kept = 0;
    content.tiles = [];
    for (const [k, [y0, x0]] of boxes.entries()) {
      await onProgress(k, 2 * boxes.length);
      const ey0 = Math.max(0, y0 - margin);
      const ex0 = Math.max(0, x0 - margin);
      const ey1 = Math.min(H, y0 + tile + margin);
      const ex1 = Math.min(W, x0 + tile + margin);
      const code = await this._encode(crop(padded, ey0, ex0, ey1 - ey0, ex1 - ex0));
      const iy = (y0 - ey0) / m;
      const ix = (x0 - ex0) / m;
      const ih = Math.min(tile, H - y0) / m;
      const iw = Math.min(tile, W - x0) / m;
      for (let c = 0; c < code.c; c++) {
        for (let y = iy; y < iy + ih; y++) {
          const row = c * code.h * code.w + y * code.w;
          for (let x = ix; x < ix + iw; x++) {
            const v = code.data[row + x];
            s1[c] += v;
            s2[c] += v * v;
          }
        }
      }
      total += ih * iw;
      kept += code.data.byteLength;
      content.tiles.push({
        box: [ey0, ex0, ey1, ex1],
        inner: [y0, x0, Math.min(tile, H - y0), Math.min(tile, W - x0)],
        code: kept <= this.codeCacheBytes ? code : null,
      });
    }
    const mean = new Float32Array(this.channels);
    const std = new Float32Array(this.channels);
    for (let c = 0; c < this.channels; c++) {
      const mu = s1[c] / total;
      mean[c] = mu;
      std[c] = Math.sqrt(Math.max(s2[c] / total - mu * mu, 0) + EPS);
    }
    content.stats = { mean, std };
    return content;
  }

  /**
   * Stylize an encoded content with mixed style statistics: only the decoder runs (and the
   * encoder again for tiles whose codes were not kept). Returns planar RGB of the content's size.
   */
  async render(content, styleStats, alpha, preserveColor = false, onProgress = () => {}) {
    if (!(alpha >= 0 && alpha <= 1)) throw new Error(`alpha must be in [0, 1], got ${alpha}`);
    const { padded } = content;
    const canvas = new Float32Array(3 * padded.h * padded.w);
    const n = content.tiles.length;
    const offset = n > 1 ? n : 0;
    for (const [k, t] of content.tiles.entries()) {
      await onProgress(offset + k, offset + n);
      const [ey0, ex0, ey1, ex1] = t.box;
      const code = t.code ?? (await this._encode(crop(padded, ey0, ex0, ey1 - ey0, ex1 - ex0)));
      const mixed = adainMix(code.data, code.c, code.h * code.w, content.stats, styleStats, alpha);
      const out = await this._decode(mixed, code.h, code.w);
      const [y0, x0, th, tw] = t.inner;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < th; y++) {
          const s = c * out.h * out.w + (y0 - ey0 + y) * out.w + (x0 - ex0);
          canvas.set(out.data.subarray(s, s + tw), c * padded.h * padded.w + (y0 + y) * padded.w + x0);
        }
      }
    }
    await onProgress(offset + n, offset + n);
    let result = clamp01(crop({ data: canvas, h: padded.h, w: padded.w }, 0, 0, content.h, content.w));
    if (preserveColor) result = clamp01(luminanceTransfer(result, content.image));
    return result;
  }
}
