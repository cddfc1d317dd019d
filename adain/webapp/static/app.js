// The page: wires the controls to the engine (engine.mjs). Every image stays on this device.
//
// What a change re-runs: a new photo or output size → encoder + decoder; a new style → that
// style's statistics (kept per style), then the decoder; alpha, a weight, colour → the decoder only.
// Query parameters, for automation: ?wasm (never WebGPU), ?tile=N&untiled=PIXELS (force tiles).

import { Engine, fromRGBA, mixStats, resizedShape, toRGBA } from "./engine.mjs";

const STYLE_SIZE = 512; // shorter side of style images (the Python package's --style-size)
const MAX_STYLES = 3;
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);

const state = {
  engine: null,
  backend: "",
  content: null, // {id, name, source, w, h}
  encoded: null,
  encodedKey: "",
  styles: [], // {id, name, source, w, h, weight, stats}
  busy: false,
  dirty: false,
  nextId: 1,
  renders: 0,
  timings: { encodeMs: null, renderMs: null, totalMs: null },
  downloadUrl: null,
};
window.adainApp = state; // for automation and benchmarks

function setStatus(text) {
  $("status").textContent = text;
}

function showError(text) {
  $("message").textContent = text;
}

function progress(label) {
  const bar = $("progress");
  return (done, total) => {
    bar.hidden = false;
    bar.max = total;
    bar.value = done;
    setStatus(total > 1 ? `${label} (${done} of ${total})…` : `${label}…`);
    return new Promise((resolve) => setTimeout(resolve, 0)); // let the bar paint
  };
}

// ----------------------------------------------------------------------------- runtime
async function gunzip(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url.pathname}: HTTP ${response.status}`);
  return new Response(response.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
}

async function loadOrt(module, wasm) {
  const base = new URL("./ort/", import.meta.url);
  const ort = await import(new URL(module, base).href);
  ort.env.wasm.wasmPaths = base.href;
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  ort.env.wasm.wasmBinary = await gunzip(new URL(wasm, base)); // shipped gzipped: a quarter of the size
  return ort;
}

async function warmUp(engine) {
  // a tiny image through both graphs: a backend that loads but cannot run fails here, not later
  const img = { data: new Float32Array(3 * 32 * 32).fill(0.5), h: 32, w: 32 };
  const content = await engine.encodeContent(img);
  await engine.render(content, content.stats, 1);
}

async function startEngine() {
  const models = new URL("./models/", import.meta.url);
  const options = {};
  if (params.has("tile")) options.tile = Number(params.get("tile"));
  if (params.has("untiled")) options.maxUntiledPixels = Number(params.get("untiled"));
  if (navigator.gpu && !params.has("wasm")) {
    try {
      if (await navigator.gpu.requestAdapter()) {
        const ort = await loadOrt("ort.webgpu.min.mjs", "ort-wasm-simd-threaded.asyncify.wasm.gz");
        const engine = await Engine.create(ort, models, { executionProviders: ["webgpu"] }, options);
        await warmUp(engine);
        return [engine, "WebGPU"];
      }
    } catch (e) {
      console.warn("WebGPU unavailable, using WASM:", e);
    }
  }
  const ort = await loadOrt("ort.wasm.min.mjs", "ort-wasm-simd-threaded.wasm.gz");
  const engine = await Engine.create(ort, models, { executionProviders: ["wasm"], graphOptimizationLevel: "all" }, options);
  await warmUp(engine);
  const threads = ort.env.wasm.numThreads;
  return [engine, `WebAssembly, SIMD, ${threads} thread${threads > 1 ? "s" : ""}`];
}

// ----------------------------------------------------------------------------- images
function megapixels(w, h) {
  return ((w * h) / 1e6).toFixed(1);
}

/** A File/Blob → a decoded <img> with its size, or an Error naming the file. */
async function readImage(file) {
  const name = file.name || "image";
  const maxPixels = state.engine?.manifest.max_source_pixels ?? 100e6;
  if (file.type && !file.type.startsWith("image/")) {
    throw new Error(`${name}: not an image (${file.type}); choose a PNG, JPEG, WebP, GIF or AVIF file`);
  }
  const url = URL.createObjectURL(file);
  const img = new Image();
  img.decoding = "async";
  try {
    await new Promise((resolve, reject) => {
      img.onload = resolve;
      img.onerror = () => reject(new Error(`${name}: not an image this browser can read`));
      img.src = url;
    });
  } catch (e) {
    URL.revokeObjectURL(url);
    throw e;
  }
  const w = img.naturalWidth;
  const h = img.naturalHeight;
  if (!w || !h) throw new Error(`${name}: the image has no pixels`);
  if (w * h > maxPixels) {
    URL.revokeObjectURL(url);
    throw new Error(`${name}: ${w}×${h} (${megapixels(w, h)} MP) is larger than this page reads (${megapixels(maxPixels, 1)} MP)`);
  }
  return { id: state.nextId++, name, source: img, url, w, h };
}

/** An image resized so its shorter side is `size` (0 keeps it), as planar float RGB. */
function pixels(image, size) {
  const [h, w] = resizedShape(image.h, image.w, size);
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d", { willReadFrequently: true, colorSpace: "srgb" });
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(image.source, 0, 0, w, h);
  return fromRGBA(ctx.getImageData(0, 0, w, h, { colorSpace: "srgb" }).data, h, w);
}

// ----------------------------------------------------------------------------- rendering
function requestRender() {
  if (state.busy) {
    state.dirty = true; // the latest setting wins: render again when this one ends
    return;
  }
  state.busy = true;
  (async () => {
    try {
      do {
        state.dirty = false;
        await renderOnce();
      } while (state.dirty);
    } finally {
      state.busy = false;
      $("progress").hidden = true;
    }
  })();
}

async function renderOnce() {
  const { engine } = state;
  if (!engine) return;
  if (!state.content || !state.styles.length) {
    setStatus(state.content ? "Add a style." : "Choose a photo.");
    return;
  }
  showError("");
  const t0 = performance.now();
  const size = Number($("size").value);
  const key = `${state.content.id}:${size}`;
  try {
    if (state.encodedKey !== key) {
      const [h, w] = resizedShape(state.content.h, state.content.w, size);
      const limit = engine.manifest.max_working_pixels;
      if (h * w > limit) {
        throw new Error(
          `${state.content.name}: ${w}×${h} (${megapixels(w, h)} MP) is too large to stylize here (at most ` +
            `${megapixels(limit, 1)} MP); choose a smaller output size`,
        );
      }
      state.encoded = null;
      state.encodedKey = "";
      state.encoded = await engine.encodeContent(pixels(state.content, size), progress("Reading the photo"));
      state.encodedKey = key;
      state.timings.encodeMs = performance.now() - t0;
    }
    for (const style of state.styles) {
      if (!style.stats) style.stats = await engine.styleStats(pixels(style, STYLE_SIZE));
    }
    const mixed = mixStats(
      state.styles.map((s) => s.stats),
      state.styles.map((s) => s.weight),
    );
    const t1 = performance.now();
    const out = await engine.render(
      state.encoded,
      mixed,
      Number($("alpha").value),
      $("preserve-color").checked,
      progress("Stylizing"),
    );
    draw(out);
    const t2 = performance.now();
    state.timings.renderMs = t2 - t1;
    state.timings.totalMs = t2 - t0;
    state.renders += 1;
    $("result").dataset.renders = String(state.renders);
    setStatus(`Done in ${Math.round(t2 - t0)} ms · ${out.w}×${out.h}`);
  } catch (e) {
    console.error(e);
    showError(e.message || String(e));
    setStatus("");
  }
}

function draw(img) {
  const canvas = $("result");
  canvas.width = img.w;
  canvas.height = img.h;
  canvas.getContext("2d").putImageData(new ImageData(toRGBA(img), img.w, img.h), 0, 0);
  const link = $("download");
  link.setAttribute("aria-disabled", "true");
  const renders = state.renders;
  canvas.toBlob((blob) => {
    if (!blob || renders !== state.renders - 1) return; // a newer result is on its way
    if (state.downloadUrl) URL.revokeObjectURL(state.downloadUrl);
    state.downloadUrl = URL.createObjectURL(blob);
    link.href = state.downloadUrl;
    link.download = `${state.content.name.replace(/\.[^.]+$/, "")}-stylized.png`;
    link.setAttribute("aria-disabled", "false");
  }, "image/png");
}

// ----------------------------------------------------------------------------- controls
async function setContent(file) {
  try {
    const image = await readImage(file);
    if (state.content) URL.revokeObjectURL(state.content.url);
    state.content = image;
    const preview = $("content-preview");
    preview.src = image.url;
    preview.alt = `the photo: ${image.name}`;
    preview.hidden = false;
    requestRender();
  } catch (e) {
    showError(e.message);
  }
}

async function addStyle(file) {
  if (state.styles.length >= MAX_STYLES) {
    showError(`at most ${MAX_STYLES} styles; remove one first`);
    return;
  }
  try {
    const image = await readImage(file);
    state.styles.push({ ...image, weight: 1, stats: null });
    renderStyles();
    requestRender();
  } catch (e) {
    showError(e.message);
  }
}

function renderStyles() {
  const list = $("styles");
  list.replaceChildren();
  state.styles.forEach((style, k) => {
    const li = document.createElement("li");
    const thumb = document.createElement("img");
    thumb.src = style.url;
    thumb.alt = "";
    const body = document.createElement("div");
    const name = document.createElement("div");
    name.className = "name";
    name.textContent = style.name;
    const label = document.createElement("label");
    label.htmlFor = `weight-${k}`;
    label.textContent = "Weight";
    const weight = document.createElement("input");
    Object.assign(weight, { type: "range", id: `weight-${k}`, min: "0", max: "1", step: "0.01", value: String(style.weight) });
    weight.addEventListener("input", () => {
      style.weight = Number(weight.value);
      if (state.styles.every((s) => s.weight === 0)) {
        showError("at least one style needs a weight above 0");
        return;
      }
      requestRender();
    });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "secondary";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `remove style ${style.name}`);
    remove.addEventListener("click", () => {
      state.styles.splice(state.styles.indexOf(style), 1);
      URL.revokeObjectURL(style.url);
      renderStyles();
      requestRender();
    });
    body.append(name, label, weight);
    li.append(thumb, body, remove);
    list.append(li);
  });
}

function dropTarget(zone, onFiles) {
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    onFiles([...e.dataTransfer.files]);
  });
}

async function loadExamples() {
  const select = $("example");
  try {
    const response = await fetch(new URL("./examples/examples.json", import.meta.url));
    const examples = response.ok ? await response.json() : [];
    for (const ex of examples) select.append(new Option(ex.title, ex.file));
  } catch (e) {
    console.warn("no bundled examples", e);
  }
  $("example-add").disabled = !select.options.length;
}

async function addExample() {
  const select = $("example");
  const file = select.value;
  if (!file) return;
  const response = await fetch(new URL(`./examples/${file}`, import.meta.url));
  const blob = await response.blob();
  await addStyle(new File([blob], select.selectedOptions[0].text, { type: blob.type })); // shown by its title
}

let stream = null;
async function startCamera() {
  const video = $("camera-view");
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    video.srcObject = stream;
    video.hidden = false;
    $("camera-capture").hidden = false;
    await video.play();
  } catch (e) {
    showError(`camera: ${e.message || e.name}`);
  }
}

function capture() {
  const video = $("camera-view");
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  stream?.getTracks().forEach((t) => t.stop());
  video.hidden = true;
  $("camera-capture").hidden = true;
  canvas.toBlob((blob) => setContent(new File([blob], "camera.png", { type: "image/png" })), "image/png");
}

function wire() {
  $("content").addEventListener("change", (e) => e.target.files[0] && setContent(e.target.files[0]));
  $("style").addEventListener("change", async (e) => {
    for (const f of [...e.target.files]) await addStyle(f);
    e.target.value = "";
  });
  dropTarget($("content-drop"), (files) => files[0] && setContent(files[0]));
  dropTarget($("style-drop"), async (files) => {
    for (const f of files) await addStyle(f);
  });
  $("example-add").addEventListener("click", addExample);
  $("alpha").addEventListener("input", () => {
    $("alpha-value").textContent = Number($("alpha").value).toFixed(2);
    requestRender();
  });
  $("preserve-color").addEventListener("change", requestRender);
  $("size").addEventListener("change", requestRender);
  $("camera-start").addEventListener("click", startCamera);
  $("camera-capture").addEventListener("click", capture);
  if (!navigator.mediaDevices?.getUserMedia) $("camera-start").hidden = true;
}

async function main() {
  wire();
  loadExamples();
  try {
    const [engine, backend] = await startEngine();
    state.engine = engine;
    state.backend = backend;
    $("backend").textContent = backend;
    setStatus("Choose a photo and a style.");
    document.body.dataset.ready = "1";
    requestRender();
  } catch (e) {
    console.error(e);
    $("backend").textContent = "unavailable";
    showError(`the model could not be loaded: ${e.message || e}`);
    document.body.dataset.ready = "error";
  }
}

main();
