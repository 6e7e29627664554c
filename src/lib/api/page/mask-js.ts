/**
 * Browser JS (served inside /page/app.js): COCO compressed RLE → mask, and the mask overlay drawn on a
 * canvas (tint inside, a solid outline at the edge). Kept free of DOM lookups so the unit test can
 * evaluate it with `new Function` and compare it with src/lib/masks/rle.ts. No template literals in
 * here: the whole file is one.
 */
export const MASK_JS = String.raw`
// pycocotools' rleFrString: each count is little-endian groups of 5 bits, one char (48 + bits) per
// group, 0x20 = more groups follow, 0x10 of the last group = sign; counts after the 3rd are deltas
// against the count two back. Arithmetic instead of bit shifts keeps counts above 2^31 exact.
function rleCounts(s) {
  var counts = [];
  var p = 0;
  while (p < s.length) {
    var x = 0, k = 0, more = true;
    while (more) {
      if (p >= s.length) throw new Error("RLE string ends inside a count");
      var c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new Error("RLE string has an invalid character");
      x += (c & 0x1f) * Math.pow(32, k);
      more = (c & 0x20) !== 0;
      p++; k++;
      if (!more && (c & 0x10)) x -= Math.pow(32, k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    if (x < 0) throw new Error("RLE string decodes to a negative run");
    counts.push(x);
  }
  return counts;
}

// Row-major [h, w] 0/1 mask; runs are column-major (pixel (y, x) is run position x*h + y), zeros first.
function decodeRle(rle) {
  var h = rle.size[0], w = rle.size[1];
  var mask = new Uint8Array(h * w);
  var counts = rleCounts(rle.counts);
  var pos = 0;
  for (var i = 0; i < counts.length; i++) {
    var run = counts[i];
    if (i % 2 === 1) {
      for (var n = pos; n < pos + run && n < h * w; n++) {
        var x = Math.floor(n / h);
        mask[(n - x * h) * w + x] = 1;
      }
    }
    pos += run;
  }
  return mask;
}

var TINT = [0, 190, 255, 80];
var OUTLINE = [255, 40, 160, 255];
var DIM = [0, 0, 0, 110];

// Draws the mask on the canvas at most maxSide pixels on its longest side (nearest sampling keeps the
// cost bounded for large photos): outside dimmed, inside tinted, the edge outlined thick enough to
// survive the card's downscaling. Returns the number of canvas pixels inside the mask.
function drawMaskOverlay(canvas, rle, maxSide) {
  var h = rle.size[0], w = rle.size[1];
  var mask = decodeRle(rle);
  var scale = Math.min(1, maxSide / Math.max(h, w));
  var cw = Math.max(1, Math.round(w * scale)), ch = Math.max(1, Math.round(h * scale));
  var inside = new Uint8Array(cw * ch);
  for (var cy = 0; cy < ch; cy++) {
    var sy = Math.min(h - 1, Math.floor((cy + 0.5) / scale));
    for (var cx = 0; cx < cw; cx++) {
      var sx = Math.min(w - 1, Math.floor((cx + 0.5) / scale));
      inside[cy * cw + cx] = mask[sy * w + sx];
    }
  }
  var outline = dilate(edges(inside, cw, ch), cw, ch, Math.max(1, Math.round(Math.max(cw, ch) / 200)));
  canvas.width = cw;
  canvas.height = ch;
  var ctx = canvas.getContext("2d");
  var img = ctx.createImageData(cw, ch);
  var count = 0;
  for (var i = 0; i < cw * ch; i++) {
    if (inside[i]) count++;
    img.data.set(outline[i] ? OUTLINE : inside[i] ? TINT : DIM, i * 4);
  }
  ctx.putImageData(img, 0, 0);
  return count;
}

function edges(inside, cw, ch) {
  var out = new Uint8Array(cw * ch);
  for (var y = 0; y < ch; y++) {
    for (var x = 0; x < cw; x++) out[y * cw + x] = inside[y * cw + x] && isEdge(inside, cw, ch, x, y) ? 1 : 0;
  }
  return out;
}

// Square dilation by r pixels, as two separable passes (rows, then columns).
function dilate(src, cw, ch, r) {
  var tmp = new Uint8Array(cw * ch), out = new Uint8Array(cw * ch);
  for (var y = 0; y < ch; y++) {
    for (var x = 0; x < cw; x++) {
      if (!src[y * cw + x]) continue;
      for (var dx = Math.max(0, x - r); dx <= Math.min(cw - 1, x + r); dx++) tmp[y * cw + dx] = 1;
    }
  }
  for (var x2 = 0; x2 < cw; x2++) {
    for (var y2 = 0; y2 < ch; y2++) {
      if (!tmp[y2 * cw + x2]) continue;
      for (var dy = Math.max(0, y2 - r); dy <= Math.min(ch - 1, y2 + r); dy++) out[dy * cw + x2] = 1;
    }
  }
  return out;
}

// An inside pixel with an outside 4-neighbour (image borders count as outside).
function isEdge(inside, cw, ch, x, y) {
  var v = inside[y * cw + x];
  var up = y > 0 ? inside[(y - 1) * cw + x] : 0;
  var down = y < ch - 1 ? inside[(y + 1) * cw + x] : 0;
  var left = x > 0 ? inside[y * cw + x - 1] : 0;
  var right = x < cw - 1 ? inside[y * cw + x + 1] : 0;
  return !!v && !(up && down && left && right);
}
`;
