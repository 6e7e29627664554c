/**
 * SAM's prompt point grids (`build_point_grid`, `build_all_layer_point_grids`).
 */

/**
 * `nPerSide²` points at the cell centres of an `nPerSide × nPerSide` grid over `[0, 1]²`:
 * coordinates `(i + 0.5) / n` (numpy's `linspace(1/2n, 1 − 1/2n, n)`). Layout `[n·n, 2]` of
 * normalised `(x, y)`, row by row: x varies fastest (SAM's order). Multiply x by the crop width
 * and y by its height to get pixel prompts. `nPerSide = 0` gives an empty grid.
 */
export function buildPointGrid(nPerSide: number): Float32Array {
  if (!Number.isInteger(nPerSide) || nPerSide < 0) {
    throw new Error(`buildPointGrid: nPerSide must be a non-negative integer, got ${nPerSide}`);
  }
  const n = nPerSide;
  const side = new Float64Array(n);
  for (let i = 0; i < n; i++) side[i] = (2 * i + 1) / (2 * n);
  const points = new Float32Array(n * n * 2);
  for (let yi = 0; yi < n; yi++) {
    for (let xi = 0; xi < n; xi++) {
      const p = (yi * n + xi) * 2;
      points[p] = side[xi]!;
      points[p + 1] = side[yi]!;
    }
  }
  return points;
}

/**
 * One grid per crop layer `0..nLayers`: layer `i` has `floor(nPerSide / scaleFactor^i)` points per
 * side (SAM's `int(n_per_side / (scale_per_layer ** i))`).
 */
export function buildAllLayerPointGrids(
  nPerSide: number,
  nLayers: number,
  scaleFactor: number,
): Float32Array[] {
  const grids: Float32Array[] = [];
  for (let i = 0; i <= nLayers; i++)
    grids.push(buildPointGrid(Math.floor(nPerSide / scaleFactor ** i)));
  return grids;
}
